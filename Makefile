# modatlas - see README.md. `make` builds build/modatlas; `make check` runs
# every test (installing missing Debian packages first); `make bench` times
# modatlas against kmod's depmod.

CC      ?= cc
PKGS    := libelf zlib liblzma libzstd libxxhash json-c libcgraph libgvc libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# Loaded when first needed, not linked (src/util/dlapi.h): graphviz when a
# graph is drawn (src/report/gv_load.c), libcrypto when a signature is read
# (src/sig/crypto_load.c), libelf when a module is parsed (src/elf/elf_load.c),
# zlib, liblzma and libzstd when one is decompressed (src/elf/codec_load.c).
# Linked, graphviz costs every start-up 0.4 ms, libcrypto 1.4 MB of resident
# memory, libelf and the three codecs 0.4-0.6 ms (a depmod that finds nothing
# changed, a modprobe lookup: docs/performance.md, step 57).
# Their sonames (else libNAME.so.MAJOR; the third argument: the pkg-config
# name, when it differs); their headers are still used:
soname = $(or $(shell objdump -p $(shell pkg-config --variable=libdir $(or $(3),$(1)) 2>/dev/null)/$(1).so \
	 2>/dev/null | awk '/SONAME/ { print $$2 }'),$(1).so.$(2))
PKG_CFLAGS += -DMA_CGRAPH_SONAME='"$(call soname,libcgraph,6)"' -DMA_GVC_SONAME='"$(call soname,libgvc,6)"' \
	      -DMA_CRYPTO_SONAME='"$(call soname,libcrypto,3)"' -DMA_ELF_SONAME='"$(call soname,libelf,1)"' \
	      -DMA_Z_SONAME='"$(call soname,libz,1,zlib)"' -DMA_LZMA_SONAME='"$(call soname,liblzma,5)"' \
	      -DMA_ZSTD_SONAME='"$(call soname,libzstd,1)"'
DLOPENED   := libcgraph libgvc libcrypto libelf zlib liblzma libzstd
PKG_LIBS   := $(shell pkg-config --libs $(filter-out $(DLOPENED),$(PKGS)) 2>/dev/null)
# build/depmod, the drop-in, links only these (see src/cli/depmod_main.c)
DEPMOD_PKGS := libxxhash
DEPMOD_LIBS := $(shell pkg-config --libs $(DEPMOD_PKGS) 2>/dev/null)
# the unit tests that make their own compressed and ELF inputs
CODEC_LIBS := $(shell pkg-config --libs zlib liblzma libzstd libelf 2>/dev/null)

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wno-unused-parameter -Wformat=2 -Wvla -Wwrite-strings
CFLAGS  ?= -O2 -g
# The project's own flags come first and stay whatever CFLAGS says;
# CPPFLAGS, CFLAGS and LDFLAGS from the environment (dpkg-buildflags'
# hardening) are added, never replace them.
# src/util/banned.h: calls the code base does not make fail to compile.
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CPPFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) \
	     -Isrc -include src/util/banned.h $(PKG_CFLAGS) -MMD -MP
LDLIBS  += $(PKG_LIBS) -lpthread

# BUILD selects the output folder, so a sanitizer build lives beside the
# normal one: `make BUILD=build-asan SAN=1`.
BUILD   ?= build
ifeq ($(SAN),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS    += -fsanitize=address,undefined
endif
# The developer profile (on in `make check`): warnings are errors.
ifeq ($(DEV),1)
WERROR  := 1
endif
ifeq ($(WERROR),1)
ALL_CFLAGS += -Werror
endif

LIB_SRCS := $(sort $(wildcard src/util/*.c src/elf/*.c src/tree/*.c src/graph/*.c \
	      src/index/*.c src/report/*.c src/check/*.c src/cache/*.c src/model/*.c \
	      src/depmod/*.c src/match/*.c src/query/*.c src/sig/*.c src/why/*.c src/diff/*.c))
CLI_SRCS := $(sort $(filter-out src/cli/depmod_main.c,$(wildcard src/cli/*.c)))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
DEPMOD_OBJS := $(addprefix $(BUILD)/obj/src/cli/,depmod_main.o cmd_depmod.o log.o progress.o \
	       tree_opts.o)
LIBA     := $(BUILD)/libmodatlas.a

UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all check unit unit-bins clean run deps bench fuzz asan-check distclean FORCE

all: $(BUILD)/modatlas $(BUILD)/depmod

# Objects are rebuilt when the flags change (DEV=1, SAN=1, CFLAGS...).
FLAGS_STAMP := $(BUILD)/.flags
$(FLAGS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(CC) $(ALL_CFLAGS) $(LDFLAGS)' | cmp -s - $@ || echo '$(CC) $(ALL_CFLAGS) $(LDFLAGS)' > $@

$(BUILD)/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/modatlas: $(CLI_OBJS) $(LIBA)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIBA) $(LDLIBS)

$(BUILD)/depmod: $(DEPMOD_OBJS) $(LIBA)
	rm -f $@
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(DEPMOD_OBJS) $(LIBA) $(DEPMOD_LIBS) -lpthread

$(BUILD)/tests/%: tests/unit/%.c $(LIBA) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(LIBA) $(LDFLAGS) $(LDLIBS) -lcmocka

# makes its own signatures with OpenSSL (the library only reads them)
$(BUILD)/tests/test_sig_tail: LDLIBS += -lcrypto
$(BUILD)/tests/test_decompress $(BUILD)/tests/test_elf: LDLIBS += $(CODEC_LIBS)

unit-bins: $(UNIT_BINS)

unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do $$t || fail=1; done; exit $$fail

deps:
	@tests/scripts/install-deps.sh

# The README's first command: build and index the embedded fixture tree.
run: deps
	@$(MAKE) --no-print-directory all
	@tests/scripts/demo.sh $(BUILD)/modatlas

# make check builds with the developer profile (its sanitizer build too).
check: export DEV = 1
# The unit tests are built here and run (and counted, one check per cmocka
# test) by check.sh, with every suite and the sanitizer pass.
check: deps
	@$(MAKE) --no-print-directory all unit-bins
	@tests/scripts/check.sh $(BUILD)

bench: deps all
	@tests/scripts/bench.sh $(BUILD)/depmod

# libFuzzer harnesses (clang); FUZZ_TIME seconds per target.
FUZZ_TIME ?= 60
fuzz: deps
	@tests/fuzz/run.sh $(FUZZ_TIME)

clean:
	rm -rf build build-asan build-fuzz

# install, uninstall, man pages, shell completions
include mk/install.mk

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(DEPMOD_OBJS:.o=.d)
