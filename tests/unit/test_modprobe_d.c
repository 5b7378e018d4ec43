/* modprobe.d parser: commands, kmod's line rules (joins, backslashes,
 * NUL, comments), underscores, softdep pre/post, options quoting, bad
 * lines, and the file merging of modprobe_cfg_load. */
#include <errno.h>
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fsfixture.h"
#include "tree/modprobe_d.h"

static struct modprobe_cfg *parse(const char *text, size_t len)
{
	struct modprobe_cfg *cfg = modprobe_cfg_new();

	assert_non_null(cfg);
	assert_int_equal(modprobe_cfg_parse(cfg, "t.conf", text, len), 0);
	return cfg;
}

static void test_commands(void **state)
{
	static const char text[] =
		"# comment\n"
		"\n"
		"alias pci:v00008086d* e1000-e\n"
		"options snd-hda-intel model=auto  power_save=1\n"
		"install foo-bar /sbin/modprobe --ignore-install foo-bar; echo hi\n"
		"remove foo /bin/true\n"
		"blacklist pcspkr\n"
		"softdep a-b pre: x y post: z\n"
		"weakdep c d e\n";
	struct modprobe_cfg *cfg = parse(text, sizeof(text) - 1);
	const struct modprobe_entry *e = cfg->v;

	assert_int_equal(cfg->n, 7);
	assert_int_equal(e[0].kind, MP_ALIAS);
	assert_string_equal(e[0].name, "pci:v00008086d*");
	assert_string_equal(e[0].arg, "e1000_e");
	assert_int_equal(e[0].line, 3);
	assert_string_equal(e[0].file, "t.conf");

	assert_int_equal(e[1].kind, MP_OPTIONS);
	assert_string_equal(e[1].name, "snd_hda_intel");
	assert_string_equal(e[1].arg, "model=auto  power_save=1");
	assert_int_equal(e[1].n_words, 2);
	assert_string_equal(e[1].words[0], "model=auto");
	assert_string_equal(e[1].words[1], "power_save=1");

	assert_int_equal(e[2].kind, MP_INSTALL);
	assert_string_equal(e[2].name, "foo_bar");
	assert_string_equal(e[2].arg, "/sbin/modprobe --ignore-install foo-bar; echo hi");
	assert_int_equal(e[3].kind, MP_REMOVE);
	assert_int_equal(e[4].kind, MP_BLACKLIST);
	assert_string_equal(e[4].name, "pcspkr");

	assert_int_equal(e[5].kind, MP_SOFTDEP);
	assert_string_equal(e[5].name, "a_b");
	assert_int_equal(e[5].n_words, 3);
	assert_int_equal(e[5].n_pre, 2);
	assert_string_equal(e[5].words[0], "x");
	assert_string_equal(e[5].words[1], "y");
	assert_string_equal(e[5].words[2], "z");

	assert_int_equal(e[6].kind, MP_WEAKDEP);
	assert_int_equal(e[6].n_words, 2);
	assert_string_equal(e[6].words[1], "e");
	modprobe_cfg_free(cfg);
}

static void test_lines(void **state)
{
	/* a joined line keeps the number of its last physical line; a
	 * backslash before another byte is dropped; NUL ends the line */
	static const char text[] = "options m a=1 \\\n  b=2\n"
				   "blacklist x\\yz\n"
				   "blacklist q\0ignored\n"
				   "\t# indented comment is a bad line\n"
				   "softdep m post: p pre: q junk\n"
				   "options m \"s=a b\" t\n";
	struct modprobe_cfg *cfg = parse(text, sizeof(text) - 1);
	const struct modprobe_entry *e = cfg->v;

	assert_int_equal(cfg->n, 6);
	assert_int_equal(e[0].line, 2);
	assert_int_equal(e[0].n_words, 2);
	assert_string_equal(e[0].words[1], "b=2");
	assert_string_equal(e[1].name, "xyz");
	assert_int_equal(e[1].line, 3);
	assert_string_equal(e[2].name, "q");
	assert_int_equal(e[3].kind, MP_BAD);
	assert_string_equal(e[3].name, "#");
	/* pre words first whatever their order in the line */
	assert_int_equal(e[4].n_pre, 2);
	assert_string_equal(e[4].words[0], "q");
	assert_string_equal(e[4].words[1], "junk");
	assert_string_equal(e[4].words[2], "p");
	assert_int_equal(e[5].n_words, 2);
	assert_string_equal(e[5].words[0], "\"s=a b\"");
	modprobe_cfg_free(cfg);
}

static void test_bad_lines(void **state)
{
	static const char text[] = "frob x\n"
				   "alias onlyone\n"
				   "options nooptions\n"
				   "blacklist\n"
				   "alias a[b c\n"
				   "include /etc/foo.conf\n";
	struct modprobe_cfg *cfg = parse(text, sizeof(text) - 1);

	assert_int_equal(cfg->n, 6);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(cfg->v[i].kind, MP_BAD);
	assert_string_equal(cfg->v[0].name, "frob");
	assert_string_equal(cfg->v[1].name, "alias");
	assert_int_equal(cfg->v[5].kind, MP_DEPRECATED);
	assert_string_equal(cfg->v[5].name, "include");
	modprobe_cfg_free(cfg);
}

static void test_load_merge(void **state)
{
	char *d = fx_mkdtemp();
	struct fx_log l;
	struct modprobe_cfg *cfg = modprobe_cfg_new();
	const char *paths[4];

	fx_log_init(&l);
	assert_int_equal(fx_writes(d, "etc/b.conf", "blacklist etc_b\n"), 0);
	assert_int_equal(fx_writes(d, "etc/a.conf", "blacklist etc_a\n"), 0);
	assert_int_equal(fx_writes(d, "etc/skip.txt", "blacklist no\n"), 0);
	assert_int_equal(fx_writes(d, "etc/.hidden.conf", "blacklist no\n"), 0);
	assert_int_equal(fx_writes(d, "lib/a.conf", "blacklist lib_a\n"), 0);
	assert_int_equal(fx_writes(d, "lib/c.conf", "blacklist lib_c\n"), 0);
	assert_int_equal(fx_mkdirs(d, "lib/sub.conf", 1), 0);
	assert_int_equal(fx_writes(d, "single", "blacklist single\n"), 0);
	paths[0] = strdup(fx_path(d, "etc"));
	paths[1] = strdup(fx_path(d, "lib"));
	paths[2] = strdup(fx_path(d, "single"));
	paths[3] = strdup(fx_path(d, "missing"));
	/* the missing path is reported and returned, the rest still read */
	assert_int_equal(modprobe_cfg_load(cfg, paths, 4, &l.log), -ENOENT);
	assert_int_equal(cfg->n, 4);
	/* strcmp order of basenames; etc/a.conf shadows lib/a.conf */
	assert_string_equal(cfg->v[0].name, "etc_a");
	assert_string_equal(cfg->v[1].name, "etc_b");
	assert_string_equal(cfg->v[2].name, "lib_c");
	assert_string_equal(cfg->v[3].name, "single");
	assert_int_equal(cfg->n_files, 4);
	assert_non_null(strstr(l.text.buf, "directories inside directories"));
	assert_non_null(strstr(l.text.buf, "missing"));
	modprobe_cfg_free(cfg);
	modprobe_cfg_free(NULL);
	for (int i = 0; i < 4; i++)
		free((char *)paths[i]);
	fx_log_release(&l);
	fx_rmtree(d);
	free(d);
}

/* kmod_config_add_softdep's word loop: exactly one blank before the first
 * word glues it to that word (no marker: its words are dropped); two are
 * fine; weakdep keeps the glued word. Options: tabs become spaces. */
static void test_kmod_quirks(void **state)
{
	static const char text[] = "softdep a  pre: x post: y\n"
				   "softdep b   pre: x post: y\n"
				   "softdep c pre:x y post:\n"
				   "softdep d x pre: y\tpost: z \n"
				   "weakdep e  f g\n"
				   "options f a=1\t b=2\n"
				   "softdep g\n"
				   "softdep h  \n";
	struct modprobe_cfg *cfg = parse(text, sizeof(text) - 1);
	const struct modprobe_entry *e = cfg->v;

	assert_int_equal(cfg->n, 8);
	assert_int_equal(e[0].kind, MP_SOFTDEP);
	assert_int_equal(e[0].n_pre, 0);            /* " pre:" is no marker */
	assert_int_equal(e[0].n_words, 1);          /* but post: still is */
	assert_string_equal(e[0].words[0], "y");
	assert_int_equal(e[1].n_words, 2);          /* two blanks: fine */
	assert_int_equal(e[1].n_pre, 1);
	assert_int_equal(e[2].n_words, 0);          /* "pre:x" is no marker */
	assert_int_equal(e[3].n_pre, 1);            /* x dropped, y pre, z post */
	assert_int_equal(e[3].n_words, 2);
	assert_string_equal(e[3].words[0], "y");
	assert_string_equal(e[3].words[1], "z");
	assert_int_equal(e[4].kind, MP_WEAKDEP);
	assert_int_equal(e[4].n_words, 2);
	assert_string_equal(e[4].words[0], " f");   /* glued, kept */
	assert_string_equal(e[5].arg, "a=1  b=2");
	assert_int_equal(e[6].kind, MP_BAD);        /* nothing after the name */
	assert_int_equal(e[7].kind, MP_SOFTDEP);    /* " " is something */
	assert_string_equal(e[7].arg, " ");
	assert_int_equal(e[7].n_words, 0);
	/* bad lines are diagnostics too, with kmod's words */
	assert_int_equal(cfg->n_diags, 1);
	assert_int_equal(cfg->diags[0].kind, MPD_BAD_LINE);
	assert_string_equal(cfg->diags[0].text,
			    "t.conf line 7: ignoring bad line starting with 'softdep'");
	modprobe_cfg_free(cfg);
}

static void test_flavour(void **state)
{
	static const char text[] = "weakdep a b\ninclude x\n";
	struct modprobe_cfg *cfg = modprobe_cfg_new();

	cfg->flavour = MP_KMOD30;
	assert_int_equal(modprobe_cfg_parse(cfg, "t.conf", text, sizeof(text) - 1), 0);
	assert_int_equal(cfg->v[0].kind, MP_BAD);
	assert_int_equal(cfg->n_diags, 2);
	assert_string_equal(cfg->diags[0].text,
			    "t.conf line 1: ignoring bad line starting with 'weakdep'");
	assert_string_equal(cfg->diags[1].text,
			    "t.conf: command include is deprecated and not parsed anymore");
	modprobe_cfg_free(cfg);
}

static const struct modprobe_entry *nth(const struct modprobe_cfg *cfg, size_t i)
{
	assert_true(i < cfg->n);
	return &cfg->v[i];
}

/* kmod_config_parse_kcmdline: mod.param[=value] words, modprobe.blacklist,
 * bad names, quoting by a bootloader, words that are not options. */
static void test_cmdline(void **state)
{
	static const char line[] = "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet "
				   "snd-hda.model=auto foo.bar modprobe.blacklist=a,b-c,,d "
				   "\"parport.dyndbg=file x.c +p\" x.y.z=1 a]b.c=1 "
				   "--opt 0.0.0.0:1 .p=1 e1000e.InterruptThrottleRate=3,3\n";
	struct modprobe_cfg *cfg = modprobe_cfg_new();
	size_t k = 0;

	assert_int_equal(modprobe_cfg_parse_cmdline(cfg, "cmdline", line, sizeof(line) - 1), 0);
	assert_int_equal(nth(cfg, k)->kind, MP_OPTIONS);
	assert_string_equal(nth(cfg, k)->name, "snd_hda");
	assert_string_equal(nth(cfg, k)->arg, "model=auto");
	assert_true(nth(cfg, k)->cmdline);
	assert_string_equal(nth(cfg, k)->file, "cmdline");
	k++;
	assert_string_equal(nth(cfg, k)->name, "foo");
	assert_string_equal(nth(cfg, k)->arg, "bar");
	k++;
	/* blacklist names are taken as written, empty ones too */
	assert_int_equal(nth(cfg, k)->kind, MP_BLACKLIST);
	assert_string_equal(nth(cfg, k++)->name, "a");
	assert_string_equal(nth(cfg, k++)->name, "b-c");
	assert_string_equal(nth(cfg, k++)->name, "");
	assert_string_equal(nth(cfg, k++)->name, "d");
	assert_string_equal(nth(cfg, k)->name, "parport");
	assert_string_equal(nth(cfg, k++)->arg, "dyndbg=\"file x.c +p\"");
	/* x.y.z=1 ignored (a second '.'); a]b.c=1 a bad name */
	assert_string_equal(nth(cfg, k)->name, "");
	assert_string_equal(nth(cfg, k++)->arg, "p=1");
	assert_string_equal(nth(cfg, k)->name, "e1000e");
	assert_string_equal(nth(cfg, k++)->arg, "InterruptThrottleRate=3,3");
	assert_int_equal(cfg->n, k);
	assert_int_equal(cfg->n_diags, 1);
	assert_string_equal(cfg->diags[0].text,
			    "Ignoring bad option on kernel command line while parsing module "
			    "name: 'a]b'");
	modprobe_cfg_free(cfg);
}

/* kmod_config_new: the module directory's modules.softdep takes its
 * sorted place and shadows a file of that name; a missing path, a
 * missing modules.weakdep are silent; *.alias only for kmod 30; a file
 * given by path is read whatever its name; the first of a name wins. */
static void test_load_kmod(void **state)
{
	char *d = fx_mkdtemp();
	const char *paths[4];
	struct modprobe_cfg *cfg;
	struct modprobe_load_opts o = { .paths = paths, .n_paths = 4 };

	assert_int_equal(fx_writes(d, "moddir/modules.softdep", "softdep m pre: sd\n"), 0);
	assert_int_equal(fx_writes(d, "etc/modules.softdep", "blacklist shadowed\n"), 0);
	assert_int_equal(fx_writes(d, "etc/a.conf", "blacklist a\n"), 0);
	assert_int_equal(fx_writes(d, "etc/z.alias", "blacklist z_alias\n"), 0);
	assert_int_equal(fx_writes(d, "lib/n.conf", "blacklist n\n"), 0);
	assert_int_equal(fx_writes(d, "lib/a.conf", "blacklist lib_a\n"), 0);
	assert_int_equal(fx_mkdirs(d, "lib/sub.conf", 1), 0);
	assert_int_equal(fx_writes(d, "single.txt", "blacklist single\n"), 0);
	paths[0] = strdup(fx_path(d, "etc"));
	paths[1] = strdup(fx_path(d, "missing"));
	paths[2] = strdup(fx_path(d, "lib"));
	paths[3] = strdup(fx_path(d, "single.txt"));
	o.moddir = strdup(fx_path(d, "moddir"));

	for (int f = 0; f < 2; f++) {
		cfg = modprobe_cfg_new();
		cfg->flavour = f ? MP_KMOD30 : MP_KMOD34;
		assert_int_equal(modprobe_cfg_load_opts(cfg, &o), 0);
		/* a.conf, modules.softdep, n.conf, single.txt, [z.alias] */
		assert_int_equal(cfg->n, f ? 5 : 4);
		assert_string_equal(cfg->v[0].name, "a");
		assert_int_equal(cfg->v[1].kind, MP_SOFTDEP);
		assert_string_equal(cfg->v[2].name, "n");
		assert_string_equal(cfg->v[3].name, "single");
		if (f)
			assert_string_equal(cfg->v[4].name, "z_alias");
		assert_int_equal(cfg->n_diags, 1);
		assert_int_equal(cfg->diags[0].kind, MPD_SUBDIR);
		assert_non_null(strstr(cfg->diags[0].text,
				       "Directories inside directories are not supported: "));
		assert_non_null(strstr(cfg->diags[0].text, "/lib/sub.conf"));
		modprobe_cfg_free(cfg);
	}
	for (int i = 0; i < 4; i++)
		free((char *)paths[i]);
	free((char *)o.moddir);
	fx_rmtree(d);
	free(d);
}

static void test_matches(void **state)
{
	static const char text[] = "install snd* /bin/a\ninstall snd_foo /bin/b\n"
				   "softdep e1000* pre: x\nblacklist pcspkr\n";
	struct modprobe_cfg *cfg = parse(text, sizeof(text) - 1);
	const struct modprobe_entry *e;

	e = modprobe_cfg_first_match(cfg, MP_INSTALL, "snd_foo");
	assert_non_null(e);
	assert_string_equal(e->arg, "/bin/a");
	assert_null(modprobe_cfg_first_match(cfg, MP_INSTALL, "xsnd"));
	assert_non_null(modprobe_cfg_first_match(cfg, MP_SOFTDEP, "e1000e"));
	assert_true(modprobe_cfg_blacklisted(cfg, "pcspkr"));
	assert_false(modprobe_cfg_blacklisted(cfg, "pcspk"));
	assert_int_equal(modprobe_default_dirs(MP_KMOD30)[3][1], 'l');
	assert_string_equal(modprobe_default_dirs(MP_KMOD34)[3], "/usr/lib/modprobe.d");
	modprobe_cfg_free(cfg);
}

/* A name without a pattern character is compared, not fnmatch'ed: the
 * same answer as fnmatch(3) for every name. A backslash escapes, so it
 * makes a pattern too (a line's two backslashes leave one in the name). */
static void test_matches_literal(void **state)
{
	static const char text[] = "softdep snd_foo pre: x\nsoftdep a\\\\b pre: x\n"
				   "softdep x?y pre: x\nsoftdep [ab]c pre: x\nsoftdep e1000* pre: x\n";
	static const char *const names[] = { "snd_foo", "snd_fo", "snd_foox", "ab", "a\\b",
					     "xzy", "x?y", "ac", "[ab]c", "e1000e", "e1000*" };
	struct modprobe_cfg *cfg = parse(text, sizeof(text) - 1);

	(void)state;
	assert_int_equal(cfg->n, 5);
	assert_true(cfg->v[0].literal);
	for (size_t i = 1; i < cfg->n; i++)
		assert_false(cfg->v[i].literal);
	for (size_t i = 0; i < cfg->n; i++)
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			assert_int_equal(modprobe_entry_matches(&cfg->v[i], names[k]),
					 fnmatch(cfg->v[i].name, names[k], 0) == 0);
	modprobe_cfg_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_load_merge),
		cmocka_unit_test(test_kmod_quirks),
		cmocka_unit_test(test_flavour),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_load_kmod),
		cmocka_unit_test(test_matches),
		cmocka_unit_test(test_matches_literal),
	};

	return cmocka_run_group_tests_name("modprobe_d", tests, NULL, NULL);
}
