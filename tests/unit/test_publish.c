/* util/publish in a scratch directory: after every stage, commit and free
 * the directory is listed and checked whole (the real names hold old or
 * new contents, never partial ones; how many of our temporaries exist);
 * failures at each step (create, write, rename, a slot begun but not
 * ended) leave the old files and, after free, no temporary; the
 * streaming calls, and those that keep a file found equal; the sweep of a dead writer's temporaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "fsfixture.h"
#include "util/fileio.h"
#include "util/publish.h"

static const unsigned int modes[] = { 0, PUBLISH_SYNC };

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One of our temporaries: ".NAME.<our pid>.<n>.tmp". */
static bool is_our_temp(const char *name)
{
	char pid[32];
	size_t len = strlen(name);

	snprintf(pid, sizeof(pid), ".%ld.", (long)getpid());
	return name[0] == '.' && len > 4 && strcmp(name + len - 4, ".tmp") == 0 &&
	       strstr(name, pid) != NULL;
}

/* The directory as text: "name=contents\n" per file (directories as
 * "name/"), sorted, our temporaries left out and counted. */
static char *list_dir(const char *dir, size_t *temps)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *names[64];
	size_t n = 0;
	struct strbuf out = STRBUF_INIT;

	assert_non_null(d);
	*temps = 0;
	while ((de = readdir(d))) {
		struct stat st;
		char *buf;
		size_t len;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (is_our_temp(de->d_name)) {
			(*temps)++;
			continue;
		}
		assert_true(n < 64);
		assert_int_equal(stat(fx_path(dir, de->d_name), &st), 0);
		if (S_ISDIR(st.st_mode)) {
			assert_true(asprintf(&names[n++], "%s/\n", de->d_name) > 0);
			continue;
		}
		assert_int_equal(read_file(fx_path(dir, de->d_name), 0, &buf, &len), 0);
		assert_true(asprintf(&names[n++], "%s=%s\n", de->d_name, buf) > 0);
		free(buf);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		strbuf_addstr(&out, names[i]);
		free(names[i]);
	}
	return strbuf_detach(&out, NULL);
}

static void check_dir(const char *dir, const char *want, size_t want_temps)
{
	size_t temps;
	char *got = list_dir(dir, &temps);

	assert_string_equal(got, want);
	assert_int_equal(temps, want_temps);
	free(got);
}

static int open_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static mode_t current_umask(void)
{
	mode_t m = umask(0);

	umask(m);
	return m;
}

/* A file already holding the bytes is kept (same inode, no temporary);
 * other bytes, another size, a symlink or no file at all: staged. */
static void test_keep_same(void **state)
{
	(void)state;
	for (size_t mi = 0; mi < 2; mi++) {
		char *d = fx_mkdtemp();
		int dfd = open_dir(d);
		struct publish *p;
		const char *step, *failed = NULL;
		struct stat before, after;
		bool kept;

		assert_int_equal(fx_writes(d, "same", "bytes"), 0);
		assert_int_equal(fx_writes(d, "other", "bytes"), 0);
		assert_int_equal(fx_writes(d, "short", "byte"), 0);
		assert_int_equal(fx_writes(d, "target", "bytes"), 0);
		assert_int_equal(symlink("target", fx_path(d, "link")), 0);
		assert_int_equal(stat(fx_path(d, "same"), &before), 0);
		p = publish_new(dfd, 6, modes[mi]);
		assert_non_null(p);
		assert_int_equal(publish_keep_same(p, 0, "same", "bytes", 5), 1);
		assert_int_equal(publish_keep_same(p, 1, "other", "BYTES", 5), 0);
		assert_int_equal(publish_keep_same(p, 2, "short", "bytes", 5), 0);
		assert_int_equal(publish_keep_same(p, 3, "link", "bytes", 5), 0);
		assert_int_equal(publish_keep_same(p, 4, "missing", "bytes", 5), 0);
		/* a kept slot is taken */
		assert_int_equal(publish_keep_same(p, 0, "same", "bytes", 5), -EINVAL);
		assert_int_equal(publish_stage(p, 1, "other", "BYTES", 5, &step), 0);
		assert_int_equal(publish_stage(p, 2, "short", "bytes", 5, &step), 0);
		assert_int_equal(publish_stage(p, 3, "link", "bytes", 5, &step), 0);
		assert_int_equal(publish_stage(p, 4, "missing", "bytes", 5, &step), 0);
		check_dir(d, "link=bytes\nother=bytes\nsame=bytes\nshort=byte\ntarget=bytes\n", 4);
		assert_false(publish_placed(p, 1, &after, &kept)); /* not yet */
		assert_int_equal(publish_commit(p, &failed, &step), 0);
		/* what is in place now: renamed by the commit, its stat then; kept,
		 * its stat before its bytes were compared; an unused slot, none */
		assert_true(publish_placed(p, 0, &after, &kept));
		assert_true(kept);
		assert_int_equal(after.st_ino, before.st_ino);
		assert_int_equal(after.st_ctim.tv_nsec, before.st_ctim.tv_nsec);
		assert_false(publish_placed(p, 5, &after, &kept));
		assert_false(publish_placed(p, 99, &after, &kept));
		for (size_t slot = 1; slot <= 4; slot++) {
			static const char *const names[] = { "", "other", "short", "link", "missing" };
			struct stat now;

			assert_true(publish_placed(p, slot, &after, &kept));
			assert_false(kept);
			assert_int_equal(lstat(fx_path(d, names[slot]), &now), 0);
			assert_int_equal(after.st_ino, now.st_ino);
			assert_int_equal(after.st_size, 5);
			assert_int_equal(after.st_ctim.tv_sec, now.st_ctim.tv_sec);
			assert_int_equal(after.st_ctim.tv_nsec, now.st_ctim.tv_nsec);
		}
		publish_free(p);
		check_dir(d, "link=bytes\nmissing=bytes\nother=BYTES\nsame=bytes\nshort=bytes\n"
			     "target=bytes\n", 0);
		assert_int_equal(stat(fx_path(d, "same"), &after), 0);
		assert_int_equal(before.st_ino, after.st_ino);
		assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
		assert_int_equal(lstat(fx_path(d, "link"), &after), 0);
		assert_true(S_ISREG(after.st_mode)); /* replaced, as a stage does */
		close(dfd);
		fx_rmtree(d);
		free(d);
	}
}

/* Stage slots out of order (one left empty), commit, free. */
static void test_stage_commit(void **state)
{
	(void)state;
	for (size_t mi = 0; mi < 2; mi++) {
		char *d = fx_mkdtemp();
		int dfd = open_dir(d);
		struct publish *p;
		const char *step, *failed = NULL;
		struct stat st;

		assert_int_equal(fx_writes(d, "b", "old b"), 0);
		check_dir(d, "b=old b\n", 0);
		p = publish_new(dfd, 4, modes[mi]);
		assert_non_null(p);
		assert_int_equal(publish_stage(p, 2, "c", "new c", 5, &step), 0);
		check_dir(d, "b=old b\n", 1);
		assert_int_equal(publish_stage(p, 0, "a", "new a", 5, &step), 0);
		check_dir(d, "b=old b\n", 2);
		assert_int_equal(publish_stage(p, 1, "b", "new b", 5, &step), 0);
		check_dir(d, "b=old b\n", 3);
		/* an empty file */
		assert_int_equal(publish_stage(p, 3, "empty", "", 0, &step), 0);
		check_dir(d, "b=old b\n", 4);
		assert_int_equal(publish_commit(p, &failed, &step), 0);
		check_dir(d, "a=new a\nb=new b\nc=new c\nempty=\n", 0);
		publish_free(p);
		check_dir(d, "a=new a\nb=new b\nc=new c\nempty=\n", 0);
		/* stage's files are 0644 less the umask */
		assert_int_equal(stat(fx_path(d, "a"), &st), 0);
		assert_int_equal(st.st_mode & 0777, 0644 & ~current_umask());
		close(dfd);
		fx_rmtree(d);
		free(d);
	}
	publish_free(NULL);
}

/* Renames go in slot order: of two slots with one name, the later wins. */
static void test_slot_order(void **state)
{
	(void)state;
	for (size_t mi = 0; mi < 2; mi++) {
		char *d = fx_mkdtemp();
		int dfd = open_dir(d);
		struct publish *p = publish_new(dfd, 3, modes[mi]);
		const char *step, *failed;

		assert_non_null(p);
		assert_int_equal(publish_stage(p, 2, "x", "third", 5, &step), 0);
		assert_int_equal(publish_stage(p, 0, "x", "first", 5, &step), 0);
		check_dir(d, "", 2);
		assert_int_equal(publish_commit(p, &failed, &step), 0);
		check_dir(d, "x=third\n", 0);
		publish_free(p);
		close(dfd);
		fx_rmtree(d);
		free(d);
	}
}

/* A rename that fails (a directory in the way) stops the commit there:
 * the slots before it are renamed, the ones after are not, and free
 * removes what is left. */
static void test_rename_fails(void **state)
{
	(void)state;
	for (size_t mi = 0; mi < 2; mi++) {
		char *d = fx_mkdtemp();
		int dfd = open_dir(d);
		struct publish *p = publish_new(dfd, 3, modes[mi]);
		const char *step, *failed = NULL;

		assert_non_null(p);
		assert_int_equal(fx_writes(d, "a", "old a"), 0);
		assert_int_equal(fx_writes(d, "d/keep", "kept"), 0);
		assert_int_equal(publish_stage(p, 0, "a", "new a", 5, &step), 0);
		assert_int_equal(publish_stage(p, 1, "d", "new d", 5, &step), 0);
		assert_int_equal(publish_stage(p, 2, "e", "new e", 5, &step), 0);
		check_dir(d, "a=old a\nd/\n", 3);
		assert_int_equal(publish_commit(p, &failed, &step), -EISDIR);
		assert_string_equal(failed, "d");
		assert_string_equal(step, "rename");
		check_dir(d, "a=new a\nd/\n", 2);
		publish_free(p);
		check_dir(d, "a=new a\nd/\n", 0);
		close(dfd);
		fx_rmtree(d);
		free(d);
	}
}

/* Stages that fail leave nothing behind once freed, and the old files as
 * they were. */
static void test_stage_fails(void **state)
{
	(void)state;
	for (size_t mi = 0; mi < 2; mi++) {
		char *d = fx_mkdtemp(), longname[300];
		int dfd = open_dir(d);
		struct publish *p = publish_new(dfd, 2, modes[mi]);
		const char *step = NULL;

		assert_non_null(p);
		assert_int_equal(fx_writes(d, "a", "old a"), 0);
		/* a slot out of range */
		assert_int_equal(publish_stage(p, 2, "a", "x", 1, &step), -EINVAL);
		assert_string_equal(step, "create");
		assert_int_equal(publish_stage(p, SIZE_MAX, "a", "x", 1, &step), -EINVAL);
		check_dir(d, "a=old a\n", 0);
		/* a slot staged twice: the second is refused */
		assert_int_equal(publish_stage(p, 0, "a", "new a", 5, &step), 0);
		assert_int_equal(publish_stage(p, 0, "b", "new b", 5, &step), -EINVAL);
		check_dir(d, "a=old a\n", 1);
		/* a name the file system refuses */
		memset(longname, 'n', 280);
		longname[280] = '\0';
		assert_int_equal(publish_stage(p, 1, longname, "x", 1, &step), -ENAMETOOLONG);
		assert_string_equal(step, "create");
		assert_int_equal(publish_stage(p, 1, "missing/x", "x", 1, &step), -ENOENT);
		check_dir(d, "a=old a\n", 1);
		publish_free(p);
		check_dir(d, "a=old a\n", 0);
		close(dfd);
		fx_rmtree(d);
		free(d);
	}
}

/* A write that fails half way (the file size limit: root cannot get
 * around it, as it can a read-only directory): "write", the error, and
 * after free no temporary and the old file intact. */
static void test_write_fails(void **state)
{
	(void)state;
	for (size_t mi = 0; mi < 2; mi++) {
		char *d = fx_mkdtemp(), data[4096];
		int dfd = open_dir(d);
		struct publish *p = publish_new(dfd, 2, modes[mi]);
		struct rlimit old, small;
		void (*old_handler)(int);
		const char *step = NULL;
		int r;

		assert_non_null(p);
		assert_int_equal(fx_writes(d, "a", "old a"), 0);
		memset(data, 'z', sizeof(data));
		assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
		small = old;
		small.rlim_cur = 1000;
		old_handler = signal(SIGXFSZ, SIG_IGN);
		assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
		r = publish_stage(p, 0, "a", data, sizeof(data), &step);
		/* the same fed in pieces: it fails where it first differs */
		assert_int_equal(publish_same_begin(p, 1, "a", 0644), 0);
		assert_int_equal(publish_same_feed(p, 1, "old", 3, &step), 0);
		assert_int_equal(publish_same_feed(p, 1, data, sizeof(data), &step), -EFBIG);
		assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
		signal(SIGXFSZ, old_handler);
		assert_int_equal(r, -EFBIG);
		assert_string_equal(step, "write");
		check_dir(d, "a=old a\n", 2);
		publish_free(p);
		check_dir(d, "a=old a\n", 0);
		close(dfd);
		fx_rmtree(d);
		free(d);
	}
}

/* A read-only directory refuses the temporary. Root writes anyway, so
 * as root this case is skipped (test_write_fails covers a failure root
 * cannot avoid). */
static void test_readonly_dir(void **state)
{
	char *d, *sub;
	int dfd;
	struct publish *p;
	const char *step;

	(void)state;
	d = fx_mkdtemp();
	assert_int_equal(fx_writes(d, "ro/a", "old a"), 0);
	sub = strdup(fx_path(d, "ro"));
	assert_int_equal(chmod(sub, 0500), 0);
	dfd = open_dir(sub);
	if (geteuid() == 0) {
		/* root writes anywhere: the stage is tried as nobody */
		pid_t pid;
		int status;

		assert_int_equal(chmod(d, 0755), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			int ok = setgid(65534) == 0 && setuid(65534) == 0;

			p = ok ? publish_new(dfd, 1, 0) : NULL;
			ok = p && publish_stage(p, 0, "a", "new a", 5, &step) == -EACCES &&
			     !strcmp(step, "create");
			publish_free(p);
			_exit(ok ? 0 : 1);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	} else {
		p = publish_new(dfd, 1, 0);
		assert_non_null(p);
		assert_int_equal(publish_stage(p, 0, "a", "new a", 5, &step), -EACCES);
		assert_string_equal(step, "create");
		publish_free(p);
	}
	check_dir(sub, "a=old a\n", 0);
	close(dfd);
	fx_rmtree(d);
	free(sub);
	free(d);
}

/* Free without commit: the old files stay, the temporaries go. */
static void test_free_without_commit(void **state)
{
	(void)state;
	for (size_t mi = 0; mi < 2; mi++) {
		char *d = fx_mkdtemp();
		int dfd = open_dir(d);
		struct publish *p = publish_new(dfd, 3, modes[mi]);
		const char *step;

		assert_non_null(p);
		assert_int_equal(fx_writes(d, "a", "old a"), 0);
		assert_int_equal(publish_stage(p, 0, "a", "new a", 5, &step), 0);
		assert_int_equal(publish_stage(p, 1, "b", "new b", 5, &step), 0);
		assert_int_equal(publish_begin(p, 2, "c", 0644), 0); /* never ended */
		assert_int_equal(publish_append(p, 2, "c", 1), 0);
		check_dir(d, "a=old a\n", 3);
		publish_free(p);
		check_dir(d, "a=old a\n", 0);
		close(dfd);
		fx_rmtree(d);
		free(d);
	}
}

/* begin/append/patch/end: the bytes, the mode; the calls on a slot not
 * begun, ended or out of range fail with -EBADF. */
static void test_streaming(void **state)
{
	(void)state;
	for (size_t mi = 0; mi < 2; mi++) {
		char *d = fx_mkdtemp();
		int dfd = open_dir(d);
		struct publish *p = publish_new(dfd, 2, modes[mi]);
		const char *step, *failed;
		struct stat st;

		assert_non_null(p);
		assert_int_equal(publish_append(p, 0, "x", 1), -EBADF);
		assert_int_equal(publish_patch(p, 0, "x", 1, 0), -EBADF);
		assert_int_equal(publish_end(p, 0), -EBADF);
		assert_int_equal(publish_append(p, 5, "x", 1), -EBADF);
		assert_int_equal(publish_patch(p, 5, "x", 1, 0), -EBADF);
		assert_int_equal(publish_end(p, 5), -EBADF);
		assert_int_equal(publish_begin(p, 5, "s", 0600), -EINVAL);
		assert_int_equal(publish_begin(p, 0, "s", 0600), 0);
		check_dir(d, "", 1);
		assert_int_equal(publish_begin(p, 0, "t", 0600), -EINVAL); /* taken */
		assert_int_equal(publish_append(p, 0, "????? ", 6), 0);
		assert_int_equal(publish_append(p, 0, "", 0), 0);
		assert_int_equal(publish_append(p, 0, "world", 5), 0);
		assert_int_equal(publish_patch(p, 0, "hello", 5, 0), 0);
		assert_int_equal(publish_patch(p, 0, "W", 1, 6), 0);
		assert_int_equal(publish_append(p, 0, "!", 1), 0); /* after the end */
		assert_int_equal(publish_end(p, 0), 0);
		assert_int_equal(publish_append(p, 0, "x", 1), -EBADF);
		assert_int_equal(publish_patch(p, 0, "x", 1, 0), -EBADF);
		assert_int_equal(publish_end(p, 0), -EBADF);
		check_dir(d, "", 1);
		assert_int_equal(publish_commit(p, &failed, &step), 0);
		check_dir(d, "s=hello World!\n", 0);
		assert_int_equal(stat(fx_path(d, "s"), &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600 & ~current_umask());
		publish_free(p);
		close(dfd);
		fx_rmtree(d);
		free(d);
	}
}

/* Feed name the pieces of s, cut at each '|'; what same_end returns. */
static int feed_same(struct publish *p, size_t slot, const char *name, const char *s)
{
	const char *step;

	assert_int_equal(publish_same_begin(p, slot, name, 0644), 0);
	while (*s) {
		size_t n = strcspn(s, "|");

		assert_int_equal(publish_same_feed(p, slot, s, n, &step), 0);
		s += n + (s[n] == '|');
	}
	return publish_same_end(p, slot, &step);
}

/* publish_same_*: the bytes fed in pieces equal to the file in place keep
 * it (same inode, nothing renamed); a piece that differs, a file longer
 * or shorter, a symlink, none at all: a temporary with the old bytes up
 * to there and the new ones after, renamed at commit. A long file that
 * differs late is copied up to there and comes out whole. */
static void test_same_streamed(void **state)
{
	(void)state;
	for (size_t mi = 0; mi < 2; mi++) {
		char *d = fx_mkdtemp();
		int dfd = open_dir(d);
		struct publish *p = publish_new(dfd, 10, modes[mi]);
		const char *step, *failed = NULL;
		struct stat before, after;
		size_t big = 300 * 1024;
		char *old = malloc(big), *neu = malloc(big), *got;
		size_t len;
		bool kept;

		assert_non_null(p);
		for (size_t i = 0; i < big; i++)
			old[i] = neu[i] = (char)('a' + i % 26);
		neu[big - 1000] = '#';
		assert_int_equal(fx_writes(d, "same", "hello world"), 0);
		assert_int_equal(fx_writes(d, "late", "hello world"), 0);
		assert_int_equal(fx_writes(d, "longer", "hello world!!"), 0);
		assert_int_equal(fx_writes(d, "shorter", "hello"), 0);
		assert_int_equal(fx_writes(d, "target", "hello world"), 0);
		assert_int_equal(symlink("target", fx_path(d, "link")), 0);
		assert_int_equal(fx_writes(d, "empty", ""), 0);
		assert_int_equal(fx_write(d, "big", old, big), 0);
		assert_int_equal(fx_write(d, "bigsame", old, big), 0);
		assert_int_equal(stat(fx_path(d, "same"), &before), 0);

		assert_int_equal(feed_same(p, 0, "same", "hel|lo |world"), 1);
		assert_int_equal(feed_same(p, 1, "late", "hello |World"), 0);
		assert_int_equal(feed_same(p, 2, "longer", "hello |world"), 0);
		assert_int_equal(feed_same(p, 3, "shorter", "hel|lo world"), 0);
		assert_int_equal(feed_same(p, 4, "link", "hello world"), 0);
		assert_int_equal(feed_same(p, 5, "missing", "hello |world"), 0);
		assert_int_equal(feed_same(p, 6, "empty", ""), 1);
		/* taken slots */
		assert_int_equal(publish_same_begin(p, 0, "same", 0644), -EINVAL);
		assert_int_equal(publish_same_begin(p, 1, "late", 0644), -EINVAL);
		/* in pieces of 64 KiB, the last one differing */
		assert_int_equal(publish_same_begin(p, 7, "big", 0644), 0);
		assert_int_equal(publish_same_begin(p, 8, "bigsame", 0644), 0);
		for (size_t at = 0; at < big; at += 65536) {
			size_t n = big - at < 65536 ? big - at : 65536;

			assert_int_equal(publish_same_feed(p, 7, neu + at, n, &step), 0);
			assert_int_equal(publish_same_feed(p, 8, old + at, n, &step), 0);
		}
		assert_int_equal(publish_same_end(p, 7, &step), 0);
		assert_int_equal(publish_same_end(p, 8, &step), 1);
		/* nothing is in place before the commit */
		assert_int_equal(read_file(fx_path(d, "late"), 0, &got, &len), 0);
		assert_string_equal(got, "hello world");
		free(got);
		assert_int_equal(publish_commit(p, &failed, &step), 0);
		assert_true(publish_placed(p, 0, &after, &kept));
		assert_true(kept);
		assert_int_equal(after.st_ino, before.st_ino);
		assert_true(publish_placed(p, 1, &after, &kept));
		assert_false(kept);
		assert_true(publish_placed(p, 8, &after, &kept));
		assert_true(kept);
		publish_free(p);
		assert_int_equal(read_file(fx_path(d, "big"), 0, &got, &len), 0);
		assert_int_equal(len, big);
		assert_memory_equal(got, neu, big);
		free(got);
		assert_int_equal(unlink(fx_path(d, "big")), 0);
		assert_int_equal(unlink(fx_path(d, "bigsame")), 0);
		check_dir(d, "empty=\nlate=hello World\nlink=hello world\nlonger=hello world\n"
			     "missing=hello world\nsame=hello world\nshorter=hello world\n"
			     "target=hello world\n", 0);
		assert_int_equal(lstat(fx_path(d, "link"), &after), 0);
		assert_true(S_ISREG(after.st_mode));
		assert_int_equal(stat(fx_path(d, "same"), &after), 0);
		assert_int_equal(after.st_ino, before.st_ino);
		free(old);
		free(neu);
		close(dfd);
		fx_rmtree(d);
		free(d);
	}
}

/* A slot begun and not ended: commit refuses it and renames nothing. */
static void test_commit_without_end(void **state)
{
	(void)state;
	for (size_t mi = 0; mi < 2; mi++) {
		char *d = fx_mkdtemp();
		int dfd = open_dir(d);
		struct publish *p = publish_new(dfd, 3, modes[mi]);
		const char *step, *failed;

		assert_non_null(p);
		assert_int_equal(fx_writes(d, "b", "old b"), 0);
		assert_int_equal(publish_stage(p, 0, "a", "new a", 5, &step), 0);
		assert_int_equal(publish_begin(p, 1, "b", 0644), 0);
		assert_int_equal(publish_append(p, 1, "new b", 5), 0);
		assert_int_equal(publish_stage(p, 2, "c", "new c", 5, &step), 0);
		assert_int_equal(publish_commit(p, &failed, &step), -EINVAL);
		check_dir(d, "b=old b\n", 3);
		publish_free(p);
		check_dir(d, "b=old b\n", 0);
		close(dfd);
		fx_rmtree(d);
		free(d);
	}
}

static pid_t dead_pid(void)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return pid;
}

/* A child that lives until *wfd is closed. */
static pid_t live_pid(int *wfd)
{
	int fds[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[1]);
		while (read(fds[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(fds[0]);
	*wfd = fds[1];
	return pid;
}

/* The sweep removes a dead writer's temporaries (one DEBUG message each)
 * and keeps a live writer's, our own, and every name that merely looks
 * like one. */
static void test_sweep(void **state)
{
	char *d = fx_mkdtemp();
	int dfd = open_dir(d), wfd, status;
	pid_t dead = dead_pid(), live = live_pid(&wfd);
	long me = (long)getpid();
	char gone[8][128], kept[24][128], *msg;
	size_t ngone = 0, nkept = 0;
	struct fx_log log;

	(void)state;
	fx_log_init(&log);
#define GONE(...) snprintf(gone[ngone++], 128, __VA_ARGS__)
#define KEPT(...) snprintf(kept[nkept++], 128, __VA_ARGS__)
	GONE(".modules.dep.%ld.123456000.tmp", (long)dead);
	GONE(".x.%ld.5.tmp", (long)dead);
	GONE(".a.b.c.%ld.0.tmp", (long)dead);
	KEPT(".modules.dep.%ld.123456000.tmp", (long)live);
	KEPT(".modules.dep.%ld.1.tmp", me);
	KEPT("modules.dep.%ld.1.tmp", (long)dead);      /* not hidden */
	KEPT(".modules.dep.%ld.1.tmp~", (long)dead);    /* not .tmp */
	KEPT(".modules.dep.%ld.1.TMP", (long)dead);
	KEPT(".modules.dep.%ld.tmp", (long)dead);       /* one number */
	KEPT(".modules.dep.%ldx.1.tmp", (long)dead);
	KEPT(".modules.dep.x%ld.1.tmp", (long)dead);
	KEPT(".modules.dep.%ld.1x.tmp", (long)dead);
	KEPT(".modules.dep.%ld..tmp", (long)dead);
	KEPT(".modules.dep..%ld.tmp", (long)dead);
	KEPT(".%ld.1.tmp", (long)dead);                 /* no name */
	KEPT(".m.0.1.tmp");                             /* pid 0 */
	KEPT(".tmp");
	KEPT("..tmp");
	KEPT(".%ld.tmp", (long)dead);
	KEPT("modules.dep");
	for (size_t i = 0; i < ngone; i++)
		assert_int_equal(fx_writes(d, gone[i], "x"), 0);
	for (size_t i = 0; i < nkept; i++)
		assert_int_equal(fx_writes(d, kept[i], "x"), 0);
	/* a directory by a dead writer's name is not unlinked */
	snprintf(kept[nkept], 128, ".dir.%ld.1.tmp", (long)dead);
	assert_int_equal(mkdir(fx_path(d, kept[nkept++]), 0755), 0);

	publish_sweep(dfd, d, &log.log);
	for (size_t i = 0; i < ngone; i++) {
		assert_int_equal(access(fx_path(d, gone[i]), F_OK), -1);
		assert_true(asprintf(&msg, "removed %s/%s, left by an interrupted run", d, gone[i]) > 0);
		assert_true(fx_log_has(&log, MA_LOG_DEBUG, msg));
		free(msg);
	}
	for (size_t i = 0; i < nkept; i++)
		if (access(fx_path(d, kept[i]), F_OK) != 0)
			fail_msg("the sweep removed %s", kept[i]);
	assert_int_equal(log.count[MA_LOG_DEBUG], (int)ngone);

	/* again: nothing more to do; a NULL log is fine */
	fx_log_reset(&log);
	publish_sweep(dfd, d, &log.log);
	publish_sweep(dfd, d, NULL);
	assert_string_equal(log.text.buf, "\n");
	/* a descriptor that is no directory: nothing happens */
	publish_sweep(-1, d, &log.log);

	close(wfd);
	assert_int_equal(waitpid(live, &status, 0), live);
	fx_log_release(&log);
	close(dfd);
	fx_rmtree(d);
	free(d);
#undef GONE
#undef KEPT
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stage_commit),
		cmocka_unit_test(test_keep_same),
		cmocka_unit_test(test_slot_order),
		cmocka_unit_test(test_rename_fails),
		cmocka_unit_test(test_stage_fails),
		cmocka_unit_test(test_write_fails),
		cmocka_unit_test(test_readonly_dir),
		cmocka_unit_test(test_free_without_commit),
		cmocka_unit_test(test_streaming),
		cmocka_unit_test(test_same_streamed),
		cmocka_unit_test(test_commit_without_end),
		cmocka_unit_test(test_sweep),
	};

	return cmocka_run_group_tests_name("publish", tests, NULL, NULL);
}
