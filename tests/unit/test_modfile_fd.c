/* Plain modules are read section by section from the descriptor, others
 * from memory: both paths must give the same record. Checked on every
 * plain fixture module (all architectures) and on truncations of one. */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "elf/module.h"
#include "util/fileio.h"
#include "util/strbuf.h"

static int n_checked;

static void same_record(const char *path, const char *buf, size_t len)
{
	struct modfile_opts o = { .keep_signature = true };
	struct modrec *a = NULL, *b = NULL;
	struct strbuf ea = STRBUF_INIT, eb = STRBUF_INIT;

	assert_int_equal(modfile_load_path(path, &o, &a), 0);
	assert_int_equal(modfile_load_mem(buf, len, &o, &b), 0);
	assert_int_equal(a->status, b->status);
	assert_int_equal(modrec_encode(a, &ea), 0);
	assert_int_equal(modrec_encode(b, &eb), 0);
	if (ea.len != eb.len || memcmp(ea.buf, eb.buf, ea.len) != 0)
		fail_msg("records differ for %s (%zu bytes)", path, len);
	strbuf_release(&ea);
	strbuf_release(&eb);
	modrec_free(a);
	modrec_free(b);
	n_checked++;
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *f)
{
	size_t n = strlen(path);
	char *buf;
	size_t len;

	if (type != FTW_F || n < 3 || strcmp(path + n - 3, ".ko") != 0)
		return 0;
	assert_int_equal(read_file(path, 0, &buf, &len), 0);
	same_record(path, buf, len);
	free(buf);
	return 0;
}

static void test_all_fixtures(void **state)
{
	n_checked = 0;
	assert_int_equal(nftw("tests/fixtures", visit, 16, FTW_PHYS), 0);
	assert_true(n_checked >= 90);
}

/* Truncations at many lengths, including inside the header, the section
 * table and the signature trailer. */
static void test_truncations(void **state)
{
	const char *src = "tests/fixtures/arch/amd64/lib/modules/6.1.0-56-amd64/kernel/lib/crc64.ko";
	char tmpl[] = "/tmp/ma-trunc-XXXXXX";
	char *buf;
	size_t len;
	int fd;

	assert_int_equal(read_file(src, 0, &buf, &len), 0);
	fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	for (size_t cut = 0; cut <= len; cut += (cut < 128 ? 1 : cut < len - 1024 ? 97 : 7)) {
		assert_int_equal(ftruncate(fd, 0), 0);
		assert_int_equal(pwrite(fd, buf, cut, 0), (ssize_t)cut);
		same_record(tmpl, buf, cut);
	}
	close(fd);
	unlink(tmpl);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_fixtures),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests_name("modfile_fd", tests, NULL, NULL);
}
