/* modprobe.d parser: commands, kmod's line rules (joins, backslashes,
 * NUL, comments), underscores, softdep pre/post, options quoting, bad
 * lines, and the file merging of modprobe_cfg_load. */
#include <errno.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_load_merge),
	};

	return cmocka_run_group_tests_name("modprobe_d", tests, NULL, NULL);
}
