/* util/dlapi: a library loaded at its first use, once, whatever the
 * thread; a library or symbol that cannot be loaded gives NULL and the
 * reason, every time, without a second try. And what a module read does
 * when a library is missing: a failure the cache does not keep. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#include <cmocka.h>

#include "elf/draft.h"
#include "elf/module.h"
#include "util/dlapi.h"
#include "util/strbuf.h"

struct crc_api {
	__typeof__(crc32_z) *crc32_z;
};

#define ROW(f) { #f, offsetof(struct crc_api, f) }
static const struct dlapi_sym crc_syms[] = { ROW(crc32_z) };
static const struct dlapi_sym bad_syms[] = { ROW(crc32_z), { "no_such_function_here", 0 } };
#undef ROW

static int inits;

static int count_init(void *api, char *err, size_t errsz)
{
	(void)api;
	(void)err;
	(void)errsz;
	__atomic_fetch_add(&inits, 1, __ATOMIC_RELAXED);
	return 0;
}

static int refusals;

static int refuse(void *api, char *err, size_t errsz)
{
	(void)api;
	refusals++;
	snprintf(err, errsz, "refused by init");
	return -1;
}

static void test_loads_once(void **state)
{
	static struct crc_api api;
	static struct dlapi_lib lib = DLAPI_LIB("libz.so.1", crc_syms, &api, count_init);
	const struct crc_api *a;
	const char *why = NULL;

	(void)state;
	inits = 0;
	a = dlapi_get(&lib, &why);
	assert_non_null(a);
	assert_null(why);
	assert_int_equal(a->crc32_z(0, (const Bytef *)"123456789", 9), 0xCBF43926);
	assert_ptr_equal(dlapi_get(&lib, NULL), a);
	assert_int_equal(inits, 1);
}

static void test_missing_library(void **state)
{
	static struct crc_api api;
	static struct dlapi_lib lib = DLAPI_LIB("libmodatlas-none.so.9", crc_syms, &api, count_init);
	const char *why = NULL, *again = NULL;

	(void)state;
	inits = 0;
	assert_null(dlapi_get(&lib, &why));
	assert_non_null(why);
	assert_non_null(strstr(why, "libmodatlas-none.so.9"));
	assert_null(dlapi_get(&lib, &again));
	assert_ptr_equal(why, again); /* kept, not tried again */
	assert_null(dlapi_get(&lib, NULL));
	assert_int_equal(inits, 0);
}

static void test_missing_symbol(void **state)
{
	static struct crc_api api[2];
	static struct dlapi_lib lib = DLAPI_LIB("libz.so.1", bad_syms, api, NULL);
	const char *why = NULL;

	(void)state;
	assert_null(dlapi_get(&lib, &why));
	assert_non_null(strstr(why, "no_such_function_here"));
}

static void test_init_refuses(void **state)
{
	static struct crc_api api;
	static struct dlapi_lib lib = DLAPI_LIB("libz.so.1", crc_syms, &api, refuse);
	const char *why = NULL;

	(void)state;
	assert_null(dlapi_get(&lib, &why));
	assert_string_equal(why, "refused by init");
	assert_null(dlapi_get(&lib, &why)); /* a failure is final */
	assert_int_equal(refusals, 1);
}

/* slow, so that every thread asks while the first is loading */
static int slow_init(void *api, char *err, size_t errsz)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	return count_init(api, err, errsz);
}

static struct crc_api race_api;
static struct dlapi_lib race_lib = DLAPI_LIB("libz.so.1", crc_syms, &race_api, slow_init);

static void *race(void *arg)
{
	(void)arg;
	return (void *)dlapi_get(&race_lib, NULL);
}

static void test_threads(void **state)
{
	pthread_t t[8];
	void *got[8];

	(void)state;
	inits = 0;
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, race, NULL), 0);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(pthread_join(t[i], &got[i]), 0);
		assert_ptr_equal(got[i], &race_api);
	}
	assert_int_equal(inits, 1);
}

/* A module whose library could not be loaded: reported, and nothing of
 * it goes to the cache (the blob the loader would keep is emptied and
 * dropped); any other failure is kept as the module's. */
static void test_draft_not_cached(void **state)
{
	struct strbuf blob = STRBUF_INIT;
	struct moddraft d;

	(void)state;
	moddraft_init(&d);
	assert_int_equal(strbuf_addstr(&blob, "an earlier module's record"), 0);
	d.blob = &blob;
	moddraft_fail(&d, MOD_ERR_BAD_ELF, -EINVAL, "elf: bad");
	assert_ptr_equal(d.blob, &blob);
	moddraft_fail(&d, MOD_ERR_IO, -ELIBACC, "elf: %s", "libelf.so.1: cannot open");
	assert_null(d.blob);
	assert_int_equal(blob.len, 0);
	assert_int_equal(d.rec.status, MOD_ERR_IO);
	assert_string_equal(d.reason, "elf: libelf.so.1: cannot open");
	moddraft_release(&d);
	strbuf_release(&blob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loads_once),      cmocka_unit_test(test_missing_library),
		cmocka_unit_test(test_missing_symbol),  cmocka_unit_test(test_init_refuses),
		cmocka_unit_test(test_threads),         cmocka_unit_test(test_draft_not_cached),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
