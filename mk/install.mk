# Included by the Makefile: man pages, `make install`, `make uninstall`.
#
#   make install DESTDIR=/tmp/x PREFIX=/usr
#
# lays out, under DESTDIR:
#   BINDIR/modatlas                 the tool (every command)
#   SBINDIR/modatlas-depmod         the depmod drop-in (build/depmod) under a
#                                   name of its own: it replaces nothing
#   MANDIR/man8/*.8                 one page per man/*.scd
#   BASHCOMPDIR/{modatlas,modatlas-depmod}, ZSHCOMPDIR/_modatlas,
#   FISHCOMPDIR/{modatlas,modatlas-depmod}.fish
# Making modatlas the system's depmod is the Debian package
# modatlas-depmod's job (docs/packaging.md), never `make install`'s.

PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
SBINDIR     ?= $(PREFIX)/sbin
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
# Where Debian's shells look: bash-completion loads a file named after the
# command on first use; Debian's zsh has vendor-completions in its fpath
# (upstream zsh's default is site-functions, which /usr/local uses); fish
# reads vendor_completions.d under every XDG data dir, /usr/local/share too.
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ifeq ($(PREFIX),/usr)
ZSHCOMPDIR  ?= $(DATADIR)/zsh/vendor-completions
else
ZSHCOMPDIR  ?= $(DATADIR)/zsh/site-functions
endif
FISHCOMPDIR ?= $(DATADIR)/fish/vendor_completions.d

INSTALL     ?= install
SCDOC       ?= scdoc

# The version the pages print in their footer, from the source, so that it
# cannot drift from `modatlas --version`.
MA_VERSION  := $(shell grep -rhoE 'define MODATLAS_VERSION "[^"]+"' src | head -n1 | sed -E 's/.*"(.*)"/\1/')

MAN_SRCS    := $(sort $(wildcard man/*.scd))
MAN_PAGES   := $(MAN_SRCS:man/%.scd=$(BUILD)/man/%)

.PHONY: man install uninstall

man: $(MAN_PAGES)

# scdoc takes SOURCE_DATE_EPOCH for the page date when it is set
# (reproducible builds: dpkg sets it from debian/changelog).
$(BUILD)/man/%: man/%.scd
	@mkdir -p $(dir $@)
	sed -e 's/@VERSION@/$(MA_VERSION)/g' $< | $(SCDOC) > $@.tmp
	mv $@.tmp $@

install: all man
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	$(INSTALL) -m 755 $(BUILD)/modatlas $(DESTDIR)$(BINDIR)/modatlas
	$(INSTALL) -m 755 $(BUILD)/depmod $(DESTDIR)$(SBINDIR)/modatlas-depmod
	$(INSTALL) -m 644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 644 shell-completion/bash/modatlas $(DESTDIR)$(BASHCOMPDIR)/modatlas
	ln -sf modatlas $(DESTDIR)$(BASHCOMPDIR)/modatlas-depmod
	$(INSTALL) -m 644 shell-completion/zsh/_modatlas $(DESTDIR)$(ZSHCOMPDIR)/_modatlas
	$(INSTALL) -m 644 shell-completion/fish/modatlas.fish \
		shell-completion/fish/modatlas-depmod.fish $(DESTDIR)$(FISHCOMPDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/modatlas $(DESTDIR)$(SBINDIR)/modatlas-depmod
	rm -f $(MAN_SRCS:man/%.scd=$(DESTDIR)$(MANDIR)/man8/%)
	rm -f $(DESTDIR)$(BASHCOMPDIR)/modatlas $(DESTDIR)$(BASHCOMPDIR)/modatlas-depmod
	rm -f $(DESTDIR)$(ZSHCOMPDIR)/_modatlas
	rm -f $(DESTDIR)$(FISHCOMPDIR)/modatlas.fish $(DESTDIR)$(FISHCOMPDIR)/modatlas-depmod.fish
