#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/time.h>

#include "fsfixture.h"
#include "tree/config.h"
#include "tree/walk.h"

#define KVER "6.1.0-56-amd64"

static struct depmod_cfg *cfg_from(const char *text)
{
	struct depmod_cfg *cfg = depmod_cfg_new(KVER);

	assert_non_null(cfg);
	assert_int_equal(depmod_cfg_parse(cfg, "t.conf", text, strlen(text), NULL), 0);
	return cfg;
}

static const struct tree_mod *find(const struct tree_scan *s, const char *modname)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->mods[i].modname, modname) == 0)
			return &s->mods[i];
	return NULL;
}

static void test_names(void **state)
{
	char *m;

	(void)state;
	assert_true(tree_is_module_name("a.ko"));
	assert_true(tree_is_module_name("a.ko.gz"));
	assert_true(tree_is_module_name("a.ko.xz"));
	assert_true(tree_is_module_name("a.ko.zst"));
	assert_true(tree_is_module_name("..ko"));
	assert_false(tree_is_module_name(".ko"));
	assert_false(tree_is_module_name(".ko.xz"));
	assert_false(tree_is_module_name("a.ko.bz2"));
	assert_false(tree_is_module_name("a.o"));
	assert_false(tree_is_module_name("a.ko.xz.orig"));
	assert_false(tree_is_module_name("ako"));

	m = tree_modname_from_path("a/b/foo-bar.ko.xz");
	assert_string_equal(m, "foo_bar");
	free(m);
	m = tree_modname_from_path("x.y-z.ko");
	assert_string_equal(m, "x");
	free(m);
	m = tree_modname_from_path("plain");
	assert_string_equal(m, "plain");
	free(m);
}

static void test_scan_basic(void **state)
{
	char *d = fx_mkdtemp(), msg[8192];
	struct tree_scan *s;
	struct fx_log l;
	struct stat st;
	const struct tree_mod *m;

	(void)state;
	fx_log_init(&l);
	assert_int_equal(fx_writes(d, "kernel/b/foo-bar.ko.xz", "12345"), 0);
	assert_int_equal(fx_writes(d, "kernel/a/z.ko", "z"), 0);
	assert_int_equal(fx_writes(d, "kernel/a/notmod.txt", "n"), 0);
	assert_int_equal(fx_writes(d, "kernel/a/.ko", "n"), 0);
	assert_int_equal(fx_writes(d, "kernel/dir.ko/inner.ko", "i"), 0); /* a dir named x.ko */
	assert_int_equal(fx_writes(d, "kernel/x.bar.ko", "q"), 0);
	assert_int_equal(fx_writes(d, "build/skip1.ko", "s"), 0);
	assert_int_equal(fx_writes(d, "kernel/source/skip2.ko", "s"), 0);
	assert_int_equal(fx_writes(d, "kernel/ex/skip3.ko", "s"), 0);
	assert_int_equal(fx_writes(d, "kernel/skip4.ko", "s"), 0);
	assert_int_equal(fx_writes(d, "top.ko.zst", "t"), 0);
	assert_int_equal(fx_writes(d, "modules.order", "kernel/a/z.ko\n"), 0);

	struct depmod_cfg *cfg = cfg_from("exclude ex skip4.ko\n");

	assert_int_equal(tree_scan(d, cfg, &l.log, &s), 0);
	assert_int_equal(s->n, 5);
	assert_int_equal(s->n_dropped, 0);
	assert_int_equal(s->n_errors, 0);
	assert_int_equal(l.count[MA_LOG_ERR], 0);
	/* strcmp order at every level: "kernel" < "top.ko.zst"; inside kernel
	 * "a" < "b" < "dir.ko" < "x.bar.ko" */
	assert_string_equal(s->mods[0].relpath, "kernel/a/z.ko");
	assert_string_equal(s->mods[1].relpath, "kernel/b/foo-bar.ko.xz");
	assert_string_equal(s->mods[2].relpath, "kernel/dir.ko/inner.ko");
	assert_string_equal(s->mods[3].relpath, "kernel/x.bar.ko");
	assert_string_equal(s->mods[4].relpath, "top.ko.zst");

	m = &s->mods[1];
	snprintf(msg, sizeof(msg), "%s/kernel/b/foo-bar.ko.xz", d);
	assert_string_equal(m->path, msg);
	assert_string_equal(m->modname, "foo_bar");
	assert_string_equal(m->uncrelpath, "kernel/b/foo-bar.ko"); /* dashes kept */
	/* A plain file known from d_type is not statted by the walk (kmod
	 * does not either); the reader takes the stat when it opens it. */
	assert_int_equal(stat(msg, &st), 0);
	if (m->has_stat) {
		assert_int_equal(m->size, 5);
		assert_int_equal(m->ino, st.st_ino);
		assert_int_equal(m->dev, st.st_dev);
		assert_int_equal(m->mtime.tv_sec, st.st_mtim.tv_sec);
		assert_int_equal(m->mtime.tv_nsec, st.st_mtim.tv_nsec);
		assert_int_equal(m->ctime.tv_nsec, st.st_ctim.tv_nsec);
	} else {
		assert_int_equal(m->size, 0);
	}
	/* kmod copies modname's length + 3 bytes of the basename */
	assert_string_equal(s->mods[3].uncrelpath, "kernel/x.ba");
	assert_string_equal(s->mods[4].uncrelpath, "top.ko");
	tree_scan_free(s);
	depmod_cfg_free(cfg);

	/* without a config only build/source are skipped */
	assert_int_equal(tree_scan(d, NULL, &l.log, &s), 0);
	assert_int_equal(s->n, 7);
	assert_non_null(find(s, "skip3"));
	assert_null(find(s, "skip1"));
	tree_scan_free(s);

	/* missing dirname: the error is returned, not logged */
	fx_log_reset(&l);
	s = (struct tree_scan *)1;
	assert_int_equal(tree_scan(fx_path(d, "nope"), NULL, &l.log, &s), -ENOENT);
	assert_null(s);
	assert_int_equal(l.count[MA_LOG_ERR], 0);
	tree_scan_free(NULL);

	fx_rmtree(d);
	free(d);
	fx_log_release(&l);
}

static void test_scan_special_files(void **state)
{
	char *d = fx_mkdtemp(), msg[8192], other[4096];
	struct tree_scan *s;
	struct fx_log l;

	(void)state;
	fx_log_init(&l);
	snprintf(other, sizeof(other), "%s-other", d);
	assert_int_equal(mkdir(other, 0755), 0);
	assert_int_equal(fx_writes(other, "sub/linked.ko", "l"), 0);
	assert_int_equal(fx_writes(other, "file.ko", "f"), 0);

	assert_int_equal(fx_writes(d, "kernel/a.ko", "a"), 0);
	assert_int_equal(mkfifo(fx_path(d, "kernel/fifo.ko"), 0644), 0);
	assert_int_equal(symlink("/nonexistent/x.ko", fx_path(d, "kernel/dangling.ko")), 0);
	assert_int_equal(symlink(other, fx_path(d, "kernel/link")), 0);
	assert_int_equal(symlink(fx_path(other, "file.ko"), fx_path(d, "kernel/flink.ko")), 0);
	assert_int_equal(symlink("..", fx_path(d, "kernel/loop")), 0);
	assert_int_equal(symlink("/dev/null", fx_path(d, "kernel/null.ko")), 0);

	assert_int_equal(tree_scan(d, NULL, &l.log, &s), 0);
	/* a; flink, a regular file through a link; link, a directory through
	 * a link (paths keep the link's name) */
	assert_int_equal(s->n, 4);
	assert_string_equal(s->mods[0].relpath, "kernel/a.ko");
	assert_string_equal(s->mods[1].relpath, "kernel/flink.ko");
	assert_string_equal(s->mods[2].relpath, "kernel/link/file.ko");
	assert_string_equal(s->mods[3].relpath, "kernel/link/sub/linked.ko");
	assert_int_equal(s->mods[1].size, 1);

	snprintf(msg, sizeof(msg), "unsupported file type %s/kernel/fifo.ko: 10000", d);
	assert_true(fx_log_has(&l, MA_LOG_ERR, msg));
	snprintf(msg, sizeof(msg), "unsupported file type %s/kernel/null.ko: 20000", d);
	assert_true(fx_log_has(&l, MA_LOG_ERR, msg));
	snprintf(msg, sizeof(msg), "/kernel/dangling.ko): %s", strerror(ENOENT));
	assert_non_null(strstr(l.text.buf, msg));
	assert_non_null(strstr(l.text.buf, "3:fstatat("));
	snprintf(msg, sizeof(msg),
		 "%s/kernel/loop: directory loop (links back to a parent directory), skipped", d);
	assert_true(fx_log_has(&l, MA_LOG_ERR, msg));
	assert_int_equal(l.count[MA_LOG_ERR], 4);
	assert_int_equal(s->n_errors, 4);
	tree_scan_free(s);

	/* an unreadable subdirectory is reported and skipped (root reads it
	 * anyway, so only check when that cannot happen) */
	if (geteuid() != 0) {
		fx_log_reset(&l);
		assert_int_equal(fx_writes(d, "locked/x.ko", "x"), 0);
		assert_int_equal(chmod(fx_path(d, "locked"), 0), 0);
		assert_int_equal(tree_scan(d, NULL, &l.log, &s), 0);
		assert_null(find(s, "x"));
		snprintf(msg, sizeof(msg), "/locked, O_RDONLY): %s", strerror(EACCES));
		assert_non_null(strstr(l.text.buf, msg));
		tree_scan_free(s);
		chmod(fx_path(d, "locked"), 0755);
	}

	fx_rmtree(d);
	fx_rmtree(other);
	free(d);
	fx_log_release(&l);
}

static void test_scan_duplicates(void **state)
{
	char *d = fx_mkdtemp();
	struct tree_scan *s;
	struct fx_log l;

	(void)state;
	fx_log_init(&l);
	/* updates beats kernel, whichever is found first */
	assert_int_equal(fx_writes(d, "kernel/x.ko", "1"), 0);
	assert_int_equal(fx_writes(d, "updates/x.ko", "2"), 0);
	assert_int_equal(fx_writes(d, "aaa/updates-first.ko", "1"), 0);
	assert_int_equal(fx_writes(d, "updates/updates_first.ko", "2"), 0);
	assert_int_equal(fx_writes(d, "zzz/updates-first.ko", "3"), 0);
	/* tie: the first found (strcmp order) stays */
	assert_int_equal(fx_writes(d, "kernel/sub/y.ko", "1"), 0);
	assert_int_equal(fx_writes(d, "kernel/sub2/y.ko", "2"), 0);
	assert_int_equal(fx_writes(d, "kernel/foo.ko", "1"), 0);
	assert_int_equal(fx_writes(d, "kernel/foo.ko.xz", "2"), 0);
	/* both under updates: the later found wins */
	assert_int_equal(fx_writes(d, "updates/a/z.ko", "1"), 0);
	assert_int_equal(fx_writes(d, "updates/b/z.ko", "2"), 0);

	assert_int_equal(tree_scan(d, NULL, &l.log, &s), 0);
	assert_int_equal(s->n, 5);
	assert_int_equal(s->n_dropped, 6);
	assert_int_equal(l.count[MA_LOG_ERR], 0);
	assert_string_equal(find(s, "x")->relpath, "updates/x.ko");
	assert_string_equal(find(s, "updates_first")->relpath, "updates/updates_first.ko");
	assert_string_equal(find(s, "y")->relpath, "kernel/sub/y.ko");
	assert_string_equal(find(s, "foo")->relpath, "kernel/foo.ko");
	assert_string_equal(find(s, "z")->relpath, "updates/b/z.ko");
	/* walk order of the winners: each where it was found */
	assert_string_equal(s->mods[0].relpath, "kernel/foo.ko");
	assert_string_equal(s->mods[1].relpath, "kernel/sub/y.ko");
	assert_string_equal(s->mods[2].relpath, "updates/b/z.ko");
	assert_string_equal(s->mods[3].relpath, "updates/updates_first.ko");
	assert_string_equal(s->mods[4].relpath, "updates/x.ko");
	tree_scan_free(s);

	/* override beats search */
	struct depmod_cfg *cfg = cfg_from("override x * kernel\n");

	assert_int_equal(tree_scan(d, cfg, &l.log, &s), 0);
	assert_string_equal(find(s, "x")->relpath, "kernel/x.ko");
	tree_scan_free(s);
	depmod_cfg_free(cfg);

	fx_rmtree(d);
	free(d);
	fx_log_release(&l);
}

static void test_scan_external(void **state)
{
	char *d = fx_mkdtemp(), ext[4096], cfgtext[16384], msg[8192];
	struct tree_scan *s;
	struct fx_log l;
	const struct tree_mod *m;

	(void)state;
	fx_log_init(&l);
	snprintf(ext, sizeof(ext), "%s-ext", d);
	assert_int_equal(mkdir(ext, 0755), 0);
	assert_int_equal(fx_writes(ext, "e.ko", "e"), 0);
	assert_int_equal(fx_writes(ext, "x.ko", "e"), 0);
	assert_int_equal(fx_writes(d, "updates/x.ko", "u"), 0);
	assert_int_equal(fx_writes(d, "kernel/k.ko", "k"), 0);
	assert_int_equal(fx_writes(d, "extra/in.ko", "i"), 0);

	/* external above updates; an external inside dirname keeps a
	 * relpath; a missing one is reported and skipped */
	snprintf(cfgtext, sizeof(cfgtext),
		 "search external updates built-in\n"
		 "exclude extra\n"
		 "external * %s\n"
		 "external * %s/extra\n"
		 "external * %s/missing\n",
		 ext, d, d);
	struct depmod_cfg *cfg = cfg_from(cfgtext);

	assert_int_equal(tree_scan(d, cfg, &l.log, &s), 0);
	assert_int_equal(s->n, 4);
	m = find(s, "x");
	snprintf(msg, sizeof(msg), "%s/x.ko", ext);
	assert_string_equal(m->path, msg);
	assert_null(m->relpath);
	assert_null(m->uncrelpath);
	m = find(s, "in");
	assert_string_equal(m->relpath, "extra/in.ko");
	assert_string_equal(m->uncrelpath, "extra/in.ko");
	/* main dir first, then externals in reverse declaration order */
	assert_string_equal(s->mods[0].modname, "k");
	assert_string_equal(s->mods[1].modname, "in");
	assert_string_equal(s->mods[2].modname, "e");
	assert_string_equal(s->mods[3].modname, "x");
	snprintf(msg, sizeof(msg), "could not open directory %s/missing: %s", d, strerror(ENOENT));
	assert_true(fx_log_has(&l, MA_LOG_ERR, msg));
	assert_int_equal(s->n_errors, 1);
	tree_scan_free(s);
	depmod_cfg_free(cfg);

	fx_rmtree(d);
	fx_rmtree(ext);
	free(d);
	fx_log_release(&l);
}

static void test_scan_files(void **state)
{
	char *d = fx_mkdtemp(), msg[8192], a[4096], b[4096], c[4096], out[4096];
	const char *files[3];
	struct tree_scan *s;
	struct fx_log l;

	(void)state;
	fx_log_init(&l);
	snprintf(out, sizeof(out), "%s-out", d);
	assert_int_equal(mkdir(out, 0755), 0);
	assert_int_equal(fx_writes(d, "kernel/a-1.ko", "a"), 0);
	assert_int_equal(fx_writes(d, "kernel/b.ko.xz", "b"), 0);
	assert_int_equal(fx_writes(out, "c.ko", "c"), 0);
	assert_int_equal(fx_writes(out, "a_1.ko", "a"), 0);
	snprintf(a, sizeof(a), "%s/kernel/a-1.ko", d);
	snprintf(b, sizeof(b), "%s/kernel/b.ko.xz", d);
	snprintf(c, sizeof(c), "%s/c.ko", out);

	files[0] = b;
	files[1] = a;
	files[2] = c;
	assert_int_equal(tree_scan_files(d, files, 3, &l.log, &s), 0);
	assert_int_equal(s->n, 3);
	assert_string_equal(s->mods[0].relpath, "kernel/b.ko.xz"); /* argument order */
	assert_string_equal(s->mods[0].uncrelpath, "kernel/b.ko");
	assert_string_equal(s->mods[1].modname, "a_1");
	assert_null(s->mods[2].relpath);
	tree_scan_free(s);

	files[0] = "kernel/a.ko";
	s = (struct tree_scan *)1;
	assert_int_equal(tree_scan_files(d, files, 1, &l.log, &s), -EINVAL);
	assert_null(s);
	assert_true(fx_log_has(&l, MA_LOG_CRIT, "kernel/a.ko: not absolute path."));

	files[0] = fx_path(d, "missing.ko");
	assert_int_equal(tree_scan_files(d, files, 1, &l.log, &s), -ENOENT);
	snprintf(msg, sizeof(msg), "could not create module %s/missing.ko: %s", d,
		 strerror(ENOENT));
	assert_true(fx_log_has(&l, MA_LOG_CRIT, msg));

	files[0] = a;
	files[1] = fx_path(out, "a_1.ko");
	assert_int_equal(tree_scan_files(d, files, 2, &l.log, &s), -EEXIST);
	snprintf(msg, sizeof(msg),
		 "kmod_module 'a_1' already exists with different path: new-path='%s/a_1.ko' "
		 "old-path='%s'",
		 out, a);
	assert_true(fx_log_has(&l, MA_LOG_ERR, msg));
	snprintf(msg, sizeof(msg), "could not create module %s/a_1.ko: %s", out, strerror(EEXIST));
	assert_true(fx_log_has(&l, MA_LOG_CRIT, msg));

	files[1] = a;
	assert_int_equal(tree_scan_files(d, files, 2, &l.log, &s), -EEXIST);
	snprintf(msg, sizeof(msg), "hash_add_unique a_1: %s", strerror(EEXIST));
	assert_true(fx_log_has(&l, MA_LOG_ERR, msg));
	snprintf(msg, sizeof(msg), "could not add module %s: %s", a, strerror(EEXIST));
	assert_true(fx_log_has(&l, MA_LOG_CRIT, msg));

	assert_int_equal(tree_scan_files(d, files, 0, &l.log, &s), 0);
	assert_int_equal(s->n, 0);
	tree_scan_free(s);

	fx_rmtree(d);
	fx_rmtree(out);
	free(d);
	fx_log_release(&l);
}

static void set_mtime(const char *path, time_t t)
{
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };

	assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static void test_any_newer(void **state)
{
	char *d = fx_mkdtemp(), other[4096];
	time_t ref = 1700000000;
	struct fx_log l;

	(void)state;
	fx_log_init(&l);
	snprintf(other, sizeof(other), "%s-other", d);
	assert_int_equal(mkdir(other, 0755), 0);
	assert_int_equal(fx_writes(d, "kernel/a.ko", "a"), 0);
	assert_int_equal(fx_writes(d, "kernel/notmod.txt", "n"), 0);
	assert_int_equal(fx_writes(d, "build/b.ko", "b"), 0);
	assert_int_equal(fx_writes(d, "extra/c.ko", "c"), 0);
	assert_int_equal(fx_writes(other, "t.ko", "t"), 0);
	assert_int_equal(symlink(fx_path(other, "t.ko"), fx_path(d, "kernel/l.ko")), 0);
	set_mtime(fx_path(d, "kernel/a.ko"), ref);
	set_mtime(fx_path(d, "extra/c.ko"), ref - 10);
	set_mtime(fx_path(other, "t.ko"), ref - 10);
	set_mtime(fx_path(d, "kernel/notmod.txt"), ref + 100); /* not a module */
	set_mtime(fx_path(d, "build/b.ko"), ref + 100);        /* skipped */
	set_mtime(fx_path(d, "kernel/l.ko"), ref + 100);       /* the link itself */

	/* equal seconds are not newer */
	assert_false(tree_any_newer(d, ref, &l.log));
	assert_true(tree_any_newer(d, ref - 1, NULL));
	assert_int_equal(l.count[MA_LOG_ERR], 0);

	/* links are followed: the target's mtime counts */
	set_mtime(fx_path(other, "t.ko"), ref + 1);
	assert_true(tree_any_newer(d, ref, NULL));
	set_mtime(fx_path(other, "t.ko"), ref - 10);

	/* whole seconds: a sub-second newer file is not newer */
	struct timespec ts[2] = { { ref, 999999999 }, { ref, 999999999 } };

	assert_int_equal(utimensat(AT_FDCWD, fx_path(d, "kernel/a.ko"), ts, 0), 0);
	assert_false(tree_any_newer(d, ref, NULL));

	/* a directory that cannot be read means "regenerate" */
	assert_true(tree_any_newer(fx_path(d, "nope"), ref, &l.log));
	assert_int_equal(l.count[MA_LOG_ERR], 1);

	fx_rmtree(d);
	fx_rmtree(other);
	free(d);
	fx_log_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_scan_basic),
		cmocka_unit_test(test_scan_special_files),
		cmocka_unit_test(test_scan_duplicates),
		cmocka_unit_test(test_scan_external),
		cmocka_unit_test(test_scan_files),
		cmocka_unit_test(test_any_newer),
	};

	return cmocka_run_group_tests_name("walk", tests, NULL, NULL);
}
