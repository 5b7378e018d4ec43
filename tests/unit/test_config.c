#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fsfixture.h"
#include "tree/config.h"

#define KVER "6.1.0-56-amd64"

static struct depmod_cfg *parse(const char *text, struct fx_log *l)
{
	struct depmod_cfg *cfg = depmod_cfg_new(KVER);

	assert_non_null(cfg);
	assert_int_equal(depmod_cfg_parse(cfg, "t.conf", text, strlen(text), &l->log), 0);
	return cfg;
}

/* old_wins for two in-tree relative paths under /m. */
static bool rel_old_wins(const struct depmod_cfg *cfg, const char *newrel, const char *oldrel)
{
	char np[256], op[256];
	const char *b = strrchr(newrel, '/');
	size_t ml = strcspn(b ? b + 1 : newrel, ".");

	snprintf(np, sizeof(np), "/m/%s", newrel);
	snprintf(op, sizeof(op), "/m/%s", oldrel);
	return depmod_cfg_old_wins(cfg, ml, np, np + 3, op, op + 3);
}

static void test_excluded(void **state)
{
	struct fx_log l;
	struct depmod_cfg *cfg;

	(void)state;
	fx_log_init(&l);
	cfg = parse("exclude foo bar\nexclude a/b\n", &l);
	assert_true(depmod_cfg_excluded(cfg, "."));
	assert_true(depmod_cfg_excluded(cfg, ".."));
	assert_true(depmod_cfg_excluded(cfg, "build"));
	assert_true(depmod_cfg_excluded(cfg, "source"));
	assert_true(depmod_cfg_excluded(cfg, "foo"));
	assert_true(depmod_cfg_excluded(cfg, "bar"));
	assert_false(depmod_cfg_excluded(cfg, "b"));
	assert_false(depmod_cfg_excluded(cfg, "..."));
	assert_false(depmod_cfg_excluded(cfg, ".x"));
	assert_false(depmod_cfg_excluded(cfg, "kernel"));
	assert_false(depmod_cfg_excluded(cfg, "foo.ko"));
	assert_true(depmod_cfg_excluded(NULL, "build"));
	assert_false(depmod_cfg_excluded(NULL, "foo"));
	assert_int_equal(l.count[MA_LOG_ERR], 0);
	depmod_cfg_free(cfg);
	depmod_cfg_free(NULL);
	fx_log_release(&l);
}

static void test_messages(void **state)
{
	struct fx_log l;
	struct depmod_cfg *cfg;

	(void)state;
	fx_log_init(&l);
	cfg = parse("# comment\n"
		    "\n"
		    "   \t \n"
		    "  # indented comment is a bad line\n"
		    "bogus x\n"
		    "override onlytwo *\n"
		    "external *\n"
		    "include /etc/foo\n"
		    "make_map_files\n"
		    "override m ^5 extra\n"
		    "external ^7 /x\n",
		    &l);
	assert_true(fx_log_has(&l, MA_LOG_ERR, "t.conf:4: ignoring bad line starting with '#'"));
	assert_true(fx_log_has(&l, MA_LOG_ERR,
			       "t.conf:5: ignoring bad line starting with 'bogus'"));
	assert_true(fx_log_has(&l, MA_LOG_ERR,
			       "t.conf:6: ignoring bad line starting with 'override'"));
	assert_true(fx_log_has(&l, MA_LOG_ERR,
			       "t.conf:7: ignoring bad line starting with 'external'"));
	assert_true(fx_log_has(&l, MA_LOG_INFO, "t.conf:8: command include not implemented yet"));
	assert_true(fx_log_has(&l, MA_LOG_INFO,
			       "t.conf:9: command make_map_files not implemented yet"));
	assert_true(fx_log_has(&l, MA_LOG_INFO,
			       "t.conf:10: override kernel did not match ^5"));
	assert_true(fx_log_has(&l, MA_LOG_INFO, "t.conf:11: external directory did not match ^7"));
	assert_int_equal(l.count[MA_LOG_ERR], 4);
	assert_int_equal(depmod_cfg_n_external(cfg), 0);
	depmod_cfg_free(cfg);
	fx_log_release(&l);
}

/* freadline_wrapped: "\\\n" joins lines and the reported number is the
 * last physical line; a backslash before another byte disappears. */
static void test_continuation(void **state)
{
	struct fx_log l;
	struct depmod_cfg *cfg;

	(void)state;
	fx_log_init(&l);
	cfg = parse("exclude a \\\n b\\\n c\n"
		    "exc\\lude d\\e\n"
		    "bad\\\nline\n"
		    "exclude last", /* no final newline */
		    &l);
	assert_true(depmod_cfg_excluded(cfg, "a"));
	assert_true(depmod_cfg_excluded(cfg, "b"));
	assert_true(depmod_cfg_excluded(cfg, "c"));
	assert_true(depmod_cfg_excluded(cfg, "de"));
	assert_true(depmod_cfg_excluded(cfg, "last"));
	assert_true(fx_log_has(&l, MA_LOG_ERR,
			       "t.conf:6: ignoring bad line starting with 'badline'"));
	depmod_cfg_free(cfg);

	/* an embedded NUL ends the line */
	fx_log_reset(&l);
	cfg = depmod_cfg_new(KVER);
	static const char nul[] = "exclude x\0y z\nexclude w\n";

	assert_int_equal(depmod_cfg_parse(cfg, "n.conf", nul, sizeof(nul) - 1, &l.log), 0);
	assert_true(depmod_cfg_excluded(cfg, "x"));
	assert_false(depmod_cfg_excluded(cfg, "z"));
	assert_true(depmod_cfg_excluded(cfg, "w"));
	depmod_cfg_free(cfg);
	fx_log_release(&l);
}

static void test_externals(void **state)
{
	struct fx_log l;
	struct depmod_cfg *cfg;

	(void)state;
	fx_log_init(&l);
	/* kver: '*', unanchored ERE, anchored ERE, invalid regex */
	cfg = parse("external * /first\n"
		    "external 1\\.0-56 /second\n"
		    "external ^6\\.1 /third\n"
		    "external ^5 /nomatch\n"
		    "external ([ /invalid\n"
		    "external\t*\t/tabs\n"
		    /* the line reader drops a backslash and keeps the byte after
		     * it: one backslash never reaches regcomp, two reach it as
		     * one (bs3 then needs "6..1" literally) */
		    "external 6\\.1.0-5\\6 /bs1\n"
		    "external 6\\\\.1.0-56-amd64$ /bs2\n"
		    "external 6\\\\.\\\\.1 /bs3\n",
		    &l);
	assert_int_equal(depmod_cfg_n_external(cfg), 6);
	/* kmod's scan order is the reverse of declaration */
	assert_string_equal(depmod_cfg_external(cfg, 0), "/bs2");
	assert_string_equal(depmod_cfg_external(cfg, 1), "/bs1");
	assert_string_equal(depmod_cfg_external(cfg, 2), "/tabs");
	assert_string_equal(depmod_cfg_external(cfg, 3), "/third");
	assert_string_equal(depmod_cfg_external(cfg, 4), "/second");
	assert_string_equal(depmod_cfg_external(cfg, 5), "/first");
	assert_null(depmod_cfg_external(cfg, 6));
	assert_int_equal(l.count[MA_LOG_ERR], 0);
	depmod_cfg_free(cfg);
	fx_log_release(&l);
}

/* Patterns whose repetitions would make glibc's regcomp/regexec blow up
 * are refused with an error; ordinary ones still compile (found by
 * tests/fuzz/fuzz_depmod_cfg: 100 nested '+' took more than 2 GB, 16 took
 * 16 s in regexec, (((a*)*){0,9}){1,9}b never ends). */
static void test_pattern_complexity(void **state)
{
	struct fx_log l;
	struct depmod_cfg *cfg;
	char text[512], plus[101];

	(void)state;
	fx_log_init(&l);
	memset(plus, '+', 100);
	plus[100] = '\0';
	snprintf(text, sizeof(text),
		 "external 6.1.-.%s* /bomb\n"
		 "external (.{1,255}){1,255}z /braces\n"
		 "external ^(6|7){1,3}\\\\.1.0-[0-9]+-amd64$ /ok\n"
		 "external 6.1.0-5+6+-+a+m+d+64 /sixplus\n"
		 "external 6.++++++++ates /eightplus\n"
		 "external (((a*)*){0,9}){1,9}b /nested\n"
		 "external ((a*)*){0,63}b /nestedok\n",
		 plus);
	cfg = parse(text, &l);
	assert_true(fx_log_has(&l, MA_LOG_ERR,
			       "t.conf:2: kernel version pattern too complex (repetition cost "
			       "over 4096), ignored: (.{1,255}){1,255}z"));
	assert_true(fx_log_has(&l, MA_LOG_ERR,
			       "t.conf:5: kernel version pattern too complex (repetition cost "
			       "over 4096), ignored: 6.++++++++ates"));
	assert_true(fx_log_has(&l, MA_LOG_ERR,
			       "t.conf:6: kernel version pattern too complex (repetition cost "
			       "over 4096), ignored: (((a*)*){0,9}){1,9}b"));
	assert_int_equal(l.count[MA_LOG_ERR], 4);
	/* the last one compiles, and does not match the version */
	assert_int_equal(depmod_cfg_n_external(cfg), 2);
	assert_string_equal(depmod_cfg_external(cfg, 0), "/sixplus");
	assert_string_equal(depmod_cfg_external(cfg, 1), "/ok");
	depmod_cfg_free(cfg);
	fx_log_release(&l);
}

static void test_priority_default(void **state)
{
	struct depmod_cfg *cfg = depmod_cfg_new(KVER);

	(void)state;
	/* updates beats the rest, whichever comes first */
	assert_true(rel_old_wins(cfg, "kernel/x.ko", "updates/x.ko"));
	assert_false(rel_old_wins(cfg, "updates/x.ko", "kernel/x.ko"));
	/* ties keep the first found */
	assert_true(rel_old_wins(cfg, "kernel/sub2/y.ko", "kernel/sub/y.ko"));
	assert_true(rel_old_wins(cfg, "foo.ko.xz", "foo.ko"));
	/* both under one search entry: only the new one is ranked, so the
	 * later one wins (kmod's else-if) */
	assert_false(rel_old_wins(cfg, "updates/b/z.ko", "updates/a/z.ko"));
	assert_false(rel_old_wins(cfg, "updates/a/z.ko", "updates/b/z.ko"));
	/* a prefix is a directory, not a string prefix */
	assert_true(rel_old_wins(cfg, "updatesx/x.ko", "kernel/x.ko"));
	/* NULL cfg behaves as the default */
	assert_false(depmod_cfg_old_wins(NULL, 1, "/m/updates/x.ko", "updates/x.ko",
					 "/m/kernel/x.ko", "kernel/x.ko"));
	depmod_cfg_free(cfg);

	/* "search" with no words is as if there were none */
	struct fx_log l;

	fx_log_init(&l);
	cfg = parse("search\n", &l);
	assert_false(rel_old_wins(cfg, "updates/x.ko", "kernel/x.ko"));
	depmod_cfg_free(cfg);
	fx_log_release(&l);
}

static void test_priority_search(void **state)
{
	struct fx_log l;
	struct depmod_cfg *cfg;

	(void)state;
	fx_log_init(&l);
	cfg = parse("search extra updates\nsearch built-in\n", &l);
	assert_false(rel_old_wins(cfg, "extra/x.ko", "updates/x.ko"));
	assert_true(rel_old_wins(cfg, "updates/x.ko", "extra/x.ko"));
	assert_false(rel_old_wins(cfg, "updates/x.ko", "kernel/x.ko"));
	assert_true(rel_old_wins(cfg, "kernel/x.ko", "extra/x.ko"));
	/* unlisted dirs rank as built-in: tie, first kept */
	assert_true(rel_old_wins(cfg, "other/x.ko", "kernel/x.ko"));
	depmod_cfg_free(cfg);

	/* without built-in, unlisted dirs rank lowest (-1) */
	cfg = parse("search updates\n", &l);
	assert_false(rel_old_wins(cfg, "updates/x.ko", "kernel/x.ko"));
	assert_true(rel_old_wins(cfg, "kernel/x.ko", "updates/x.ko"));
	depmod_cfg_free(cfg);

	/* built-in first: in-tree beats updates */
	cfg = parse("search built-in updates\n", &l);
	assert_true(rel_old_wins(cfg, "updates/x.ko", "kernel/x.ko"));
	depmod_cfg_free(cfg);

	/* nested search path */
	cfg = parse("search kernel/drivers built-in\n", &l);
	assert_false(rel_old_wins(cfg, "kernel/drivers/net/x.ko", "updates/x.ko"));
	depmod_cfg_free(cfg);
	fx_log_release(&l);
}

static void test_priority_external(void **state)
{
	struct fx_log l;
	struct depmod_cfg *cfg;

	(void)state;
	fx_log_init(&l);
	cfg = parse("search external updates built-in\nexternal * /abs/ext1\n", &l);
	/* external beats updates */
	assert_false(depmod_cfg_old_wins(cfg, 1, "/abs/ext1/x.ko", NULL, "/m/updates/x.ko",
					 "updates/x.ko"));
	assert_true(depmod_cfg_old_wins(cfg, 1, "/m/updates/x.ko", "updates/x.ko",
					"/abs/ext1/x.ko", NULL));
	/* an external dir not listed in the config ranks as built-in */
	assert_true(depmod_cfg_old_wins(cfg, 1, "/abs/other/x.ko", NULL, "/m/kernel/x.ko",
					"kernel/x.ko"));
	/* dir prefix only, not string prefix */
	assert_true(depmod_cfg_old_wins(cfg, 1, "/abs/ext10/x.ko", NULL, "/m/updates/x.ko",
					"updates/x.ko"));
	depmod_cfg_free(cfg);

	/* externals below updates */
	cfg = parse("search updates external built-in\nexternal * /e1\nexternal * /e2\n", &l);
	assert_true(depmod_cfg_old_wins(cfg, 1, "/e1/x.ko", NULL, "/m/updates/x.ko",
					"updates/x.ko"));
	assert_false(depmod_cfg_old_wins(cfg, 1, "/e1/x.ko", NULL, "/m/kernel/x.ko",
					 "kernel/x.ko"));
	/* among externals, i grows along kmod's reversed list: the first
	 * declared (/e1) ranks higher */
	assert_false(depmod_cfg_old_wins(cfg, 1, "/e1/x.ko", NULL, "/e2/x.ko", NULL));
	assert_true(depmod_cfg_old_wins(cfg, 1, "/e2/x.ko", NULL, "/e1/x.ko", NULL));
	depmod_cfg_free(cfg);
	fx_log_release(&l);
}

static void test_priority_override(void **state)
{
	struct fx_log l;
	struct depmod_cfg *cfg;

	(void)state;
	fx_log_init(&l);
	cfg = parse("override x 1.* kernel\n"
		    "override foo-bar * extra\n"
		    "override y 7\\. kernel\n",
		    &l);
	/* "1.*" matches "6.1.0..." unanchored */
	assert_false(rel_old_wins(cfg, "kernel/x.ko", "updates/x.ko"));
	assert_true(rel_old_wins(cfg, "updates/x.ko", "kernel/x.ko"));
	assert_true(rel_old_wins(cfg, "updates/x.ko.xz", "kernel/x.ko.zst"));
	/* the directory must match exactly, no recursion */
	assert_false(rel_old_wins(cfg, "updates/x.ko", "kernel/sub/x.ko"));
	/* the file's spelling: foo-bar matches, foo_bar does not */
	assert_false(rel_old_wins(cfg, "extra/foo-bar.ko", "updates/foo-bar.ko"));
	assert_false(rel_old_wins(cfg, "updates/foo_bar.ko", "extra/foo_bar.ko"));
	/* override whose kver does not match is ignored */
	assert_false(rel_old_wins(cfg, "updates/y.ko", "kernel/y.ko"));
	depmod_cfg_free(cfg);

	/* two overrides, one per side: the later-declared is checked first */
	cfg = parse("override z * a\noverride z * b\n", &l);
	assert_false(rel_old_wins(cfg, "b/z.ko", "a/z.ko"));
	assert_true(rel_old_wins(cfg, "a/z.ko", "b/z.ko"));
	depmod_cfg_free(cfg);
	fx_log_release(&l);
}

static void test_load(void **state)
{
	char *d = fx_mkdtemp();
	struct fx_log l;
	struct depmod_cfg *cfg;
	char d1[4096], d2[4096], f3[4096], msg[8192];
	const char *paths[3];

	(void)state;
	fx_log_init(&l);
	snprintf(d1, sizeof(d1), "%s/d1", d);
	snprintf(d2, sizeof(d2), "%s/d2", d);
	snprintf(f3, sizeof(f3), "%s/single/zz-file", d);
	assert_int_equal(fx_writes(d, "d1/b.conf", "external * /B\n"), 0);
	assert_int_equal(fx_writes(d, "d1/.hidden.conf", "external * /HIDDEN\n"), 0);
	assert_int_equal(fx_writes(d, "d1/notes.txt", "external * /TXT\n"), 0);
	assert_int_equal(fx_writes(d, "d1/.conf", "external * /DOT\n"), 0);
	assert_int_equal(fx_mkdirs(d, "d1/sub.conf", 1), 0);
	assert_int_equal(fx_writes(d, "d2/a.conf", "external * /A\n"), 0);
	assert_int_equal(fx_writes(d, "d2/b.conf", "external * /B2\n"), 0);
	assert_int_equal(fx_writes(d, "d2/c.conf", "bad\n"), 0);
	assert_int_equal(symlink("/nonexistent/x", fx_path(d, "d2/dangling.conf")), 0);
	/* a file given directly needs no .conf; merged under its basename */
	assert_int_equal(fx_writes(d, "single/zz-file", "external * /Z\n"), 0);

	paths[0] = d1;
	paths[1] = d2;
	paths[2] = f3;
	cfg = depmod_cfg_new(KVER);
	assert_int_equal(depmod_cfg_load(cfg, paths, 3, &l.log), 0);
	/* parse order a, b (d1 wins over d2), zz-file: reversed here */
	assert_int_equal(depmod_cfg_n_external(cfg), 3);
	assert_string_equal(depmod_cfg_external(cfg, 0), "/Z");
	assert_string_equal(depmod_cfg_external(cfg, 1), "/B");
	assert_string_equal(depmod_cfg_external(cfg, 2), "/A");

	snprintf(msg, sizeof(msg), "All cfg files need .conf: %s/notes.txt", d1);
	assert_true(fx_log_has(&l, MA_LOG_INFO, msg));
	snprintf(msg, sizeof(msg), "All cfg files need .conf: %s/.conf", d1);
	assert_false(fx_log_has(&l, MA_LOG_INFO, msg)); /* dot files are skipped first */
	snprintf(msg, sizeof(msg), "Directories inside directories are not supported: %s/sub.conf",
		 d1);
	assert_true(fx_log_has(&l, MA_LOG_ERR, msg));
	snprintf(msg, sizeof(msg), "%s/c.conf:1: ignoring bad line starting with 'bad'", d2);
	assert_true(fx_log_has(&l, MA_LOG_ERR, msg));
	snprintf(msg, sizeof(msg), "Cannot stat directory entry: %s/dangling.conf: %s", d2,
		 strerror(ENOENT));
	assert_true(fx_log_has(&l, MA_LOG_ERR, msg));
	assert_int_equal(l.count[MA_LOG_ERR], 3);
	depmod_cfg_free(cfg);

	/* a missing path is silent; an unreadable file is reported */
	fx_log_reset(&l);
	paths[0] = fx_path(d, "missing");
	cfg = depmod_cfg_new(KVER);
	assert_int_equal(depmod_cfg_load(cfg, paths, 1, &l.log), 0);
	assert_int_equal(l.count[MA_LOG_ERR], 0);
	assert_int_equal(depmod_cfg_n_external(cfg), 0);
	depmod_cfg_free(cfg);

	fx_rmtree(d);
	free(d);
	fx_log_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_excluded),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_continuation),
		cmocka_unit_test(test_externals),
		cmocka_unit_test(test_pattern_complexity),
		cmocka_unit_test(test_priority_default),
		cmocka_unit_test(test_priority_search),
		cmocka_unit_test(test_priority_external),
		cmocka_unit_test(test_priority_override),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
