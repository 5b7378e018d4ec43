/* check_run() on the committed fixture trees: the right codes on the
 * right modules, nothing else at error level, the out-of-tree filter, and
 * fatal inputs. The shell suite (tests/scripts/test-check.sh) covers the
 * CLI, the three formats and the signing cases. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "check/check.h"
#include "fsfixture.h"
#include "report/report.h"

#define KVER "6.1.0-56-amd64"
#define DEF "tests/fixtures/defects"
#define DEFMODS DEF "/tree/lib/modules/" KVER "/kernel/drivers/ma/defects"

struct run {
	struct report *rep;
	struct fx_log log;
	int err;
};

static void run_check(struct run *r, struct check_opts *o)
{
	size_t n;
	const struct finding_kind *k = check_kinds(&n);
	char *root = realpath(o->src.root, NULL);

	fx_log_init(&r->log);
	r->log.log.max_prio = MA_LOG_WARNING;
	r->rep = report_new(k, n);
	assert_non_null(r->rep);
	assert_non_null(root);
	o->src.root = root;
	o->src.kver = o->src.kver ? o->src.kver : KVER;
	o->log = &r->log.log;
	o->jobs = 2;
	o->no_cache = true; /* the cache has its own suite (test-cache.sh) */
	r->err = check_run(o, r->rep);
	free(root);
}

static void run_release(struct run *r)
{
	report_free(r->rep);
	fx_log_release(&r->log);
}

/* Findings with this code (and module, when not NULL). */
static size_t count(const struct run *r, const char *code, const char *module)
{
	size_t n = 0;

	for (size_t i = 0; i < report_count(r->rep); i++) {
		const struct finding *f = report_get(r->rep, i);

		if (!strcmp(f->kind->code, code) && (!module || (f->module && !strcmp(f->module, module))))
			n++;
	}
	return n;
}

static const struct finding *first(const struct run *r, const char *code)
{
	for (size_t i = 0; i < report_count(r->rep); i++)
		if (!strcmp(report_get(r->rep, i)->kind->code, code))
			return report_get(r->rep, i);
	return NULL;
}

static const char *data_str(const struct finding *f, const char *key)
{
	struct json_object *v;

	if (!f || !f->data || !json_object_object_get_ex(f->data, key, &v))
		return NULL;
	return json_object_get_string(v);
}

static void test_tree_with_symvers(void **state)
{
	struct check_opts o = { .src.root = "tests/fixtures/tree",
				.src.symvers = (const char *const[]){ "tests/fixtures/tree/Module.symvers" },
				.src.n_symvers = 1 };
	struct run r;
	const struct finding *f;

	run_check(&r, &o);
	assert_int_equal(r.err, 0);
	assert_int_equal(count(&r, "MA-UNRESOLVED", "ma_missing"), 1);
	f = first(&r, "MA-UNRESOLVED");
	assert_string_equal(data_str(f, "symbol"), "modatlas_nonexistent_symbol");
	assert_int_equal(count(&r, "MA-CRC", "ma_stale_user"), 1);
	assert_string_equal(data_str(first(&r, "MA-CRC"), "symbol"), "ma_ver_func");
	assert_int_equal(count(&r, "MA-UNRESOLVED-WEAK", "ma_weak"), 1);
	/* updates/ma_dup.ko beats kernel/.../ma_dup.ko by search order: info */
	f = first(&r, "MA-DUPLICATE");
	assert_non_null(f);
	assert_int_equal(f->severity, SEV_INFO);
	assert_string_equal(data_str(f, "winner"), "updates/ma_dup.ko");
	assert_string_equal(data_str(f, "rule"), "priority");
	/* the namespaced user imports its namespace; nothing else is wrong */
	assert_int_equal(count(&r, "MA-NS-MISSING", NULL), 0);
	assert_int_equal(report_count_sev(r.rep, SEV_ERROR), 2);
	assert_int_equal(count(&r, "MA-KERNEL-UNKNOWN", NULL), 0);
	run_release(&r);
}

/* only: the named modules judged (verdicts, findings), the rest still
 * the tree whose exports they use; an empty list judges none. */
static void test_only(void **state)
{
	struct check_opts o = { .src.root = "tests/fixtures/tree",
				.src.symvers = (const char *const[]){ "tests/fixtures/tree/Module.symvers" },
				.src.n_symvers = 1,
				.only = (const char *const[]){ "ma_stale_user", "ma_weak" },
				.n_only = 2 };
	struct check_opts none = o;
	struct run r;

	run_check(&r, &o);
	assert_int_equal(r.err, 0);
	assert_int_equal(report_n_verdicts(r.rep), 2);
	assert_string_equal(report_verdict(r.rep, 0)->module, "ma_stale_user");
	assert_string_equal(report_verdict(r.rep, 1)->module, "ma_weak");
	assert_int_equal(count(&r, "MA-CRC", "ma_stale_user"), 1);
	assert_int_equal(count(&r, "MA-UNRESOLVED-WEAK", "ma_weak"), 1);
	assert_int_equal(count(&r, "MA-UNRESOLVED", NULL), 0); /* ma_missing's */
	assert_int_equal(count(&r, "MA-DUPLICATE", NULL), 0);
	run_release(&r);

	none.only = (const char *const[]){ NULL };
	none.n_only = 0;
	run_check(&r, &none);
	assert_int_equal(r.err, 0);
	assert_int_equal(report_n_verdicts(r.rep), 0);
	assert_int_equal(report_count_sev(r.rep, SEV_ERROR), 0);
	run_release(&r);
}

static void test_tree_without_kernel(void **state)
{
	struct check_opts o = { .src.root = "tests/fixtures/tree" };
	struct run r;

	run_check(&r, &o);
	assert_int_equal(r.err, 0);
	/* kernel symbols cannot be judged: one info, no MA-UNRESOLVED */
	assert_int_equal(count(&r, "MA-KERNEL-UNKNOWN", NULL), 1);
	assert_int_equal(count(&r, "MA-UNRESOLVED", NULL), 0);
	assert_int_equal(count(&r, "MA-UNRESOLVED-WEAK", NULL), 0);
	/* module exports still carry CRCs */
	assert_int_equal(count(&r, "MA-CRC", "ma_stale_user"), 1);
	run_release(&r);
}

static void test_cycles(void **state)
{
	struct check_opts o = { .src.root = "tests/fixtures/cycle", .graph = true };
	struct check_opts o2 = { .src.root = "tests/fixtures/cycle-nested" };
	struct run r;
	const struct finding *f;
	struct json_object *edges, *syms;

	run_check(&r, &o);
	assert_int_equal(r.err, 0);
	assert_int_equal(count(&r, "MA-CYCLE", NULL), 1);
	f = first(&r, "MA-CYCLE");
	assert_int_equal(f->severity, SEV_ERROR);
	assert_string_equal(f->module, "ma_cyc_a");
	assert_true(json_object_object_get_ex(f->data, "edges", &edges));
	assert_int_equal(json_object_array_length(edges), 2);
	syms = json_object_object_get(json_object_array_get_idx(edges, 0), "symbols");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(syms, 0)),
			    "ma_cyc_b_func");
	assert_string_equal(f->detail,
			    "ma_cyc_a -[ma_cyc_b_func]-> ma_cyc_b -[ma_cyc_a_func]-> ma_cyc_a");
	run_release(&r);

	/* r->a, a->b, b->a, b->r: two elementary cycles, each once */
	run_check(&r, &o2);
	assert_int_equal(r.err, 0);
	assert_int_equal(count(&r, "MA-CYCLE", NULL), 2);
	run_release(&r);
}

static void test_defects(void **state)
{
	const char *mp[] = { DEF "/modprobe.d" };
	struct check_opts o = { .src.root = DEF "/tree",
				.src.symvers = (const char *const[]){ DEF "/Module.symvers" },
				.src.n_symvers = 1,
				.src.modprobe_paths = mp, .src.n_modprobe = 1 };
	struct run r;
	const struct finding *f;

	run_check(&r, &o);
	assert_int_equal(r.err, 0);
	assert_int_equal(count(&r, "MA-CYCLE", "ma_def_cyc_a"), 1);
	assert_int_equal(count(&r, "MA-UNRESOLVED", "ma_def_missing"), 1);
	assert_int_equal(count(&r, "MA-SOFTDEP-MISSING", "ma_def_softdep"), 1);
	assert_int_equal(count(&r, "MA-SOFTDEP-MISSING", "ma_def_plain"), 1); /* modprobe.d */
	assert_int_equal(count(&r, "MA-WEAKDEP-MISSING", "ma_def_softdep"), 1);
	assert_int_equal(count(&r, "MA-FIRMWARE-MISSING", "ma_def_fw"), 1);
	assert_string_equal(data_str(first(&r, "MA-FIRMWARE-MISSING"), "firmware"),
			    "ma-defects/missing.bin");
	f = first(&r, "MA-DUPLICATE");
	assert_int_equal(f->severity, SEV_WARNING);
	assert_string_equal(data_str(f, "rule"), "order");
	assert_int_equal(count(&r, "MA-OPTION-UNKNOWN-PARAM", "ma_def_exporter"), 1);
	assert_string_equal(data_str(first(&r, "MA-OPTION-UNKNOWN-PARAM"), "parameter"),
			    "nosuch_param");
	assert_int_equal(count(&r, "MA-OPTION-UNKNOWN-MODULE", "ma_def_absent_module"), 1);
	assert_int_equal(count(&r, "MA-BLACKLISTED-NEEDED", "ma_def_exporter"), 1);
	assert_int_equal(count(&r, "MA-ALIAS-DANGLING", NULL), 1);
	assert_int_equal(count(&r, "MA-INSTALL-DANGLING", "ma_def_plain"), 1);
	assert_int_equal(count(&r, "MA-MODPROBE-SYNTAX", NULL), 1);
	assert_non_null(strstr(first(&r, "MA-MODPROBE-SYNTAX")->path, "defects.conf:21"));
	/* as built, the GPL-only user is GPL: clean */
	assert_int_equal(count(&r, "MA-GPL-ONLY", NULL), 0);
	assert_int_equal(report_count_sev(r.rep, SEV_ERROR), 2);
	run_release(&r);
}

static void test_out_of_tree(void **state)
{
	const char *files[] = { DEFMODS "/ma_def_plain.ko" };
	const char *s390[] = {
		"tests/fixtures/arch/s390x/lib/modules/6.1.0-50-s390x/kernel/lib/crc64.ko"
	};
	const char *mp[] = { DEF "/modprobe.d" };
	struct check_opts o = { .src.root = "tests/fixtures/arch/amd64", .files = files, .n_files = 1 };
	struct check_opts o2 = { .src.root = "tests/fixtures/arch/amd64", .files = s390, .n_files = 1 };
	struct check_opts o3 = { .src.root = DEF "/tree",
				 .src.symvers = (const char *const[]){ DEF "/Module.symvers" },
				 .src.n_symvers = 1,
				 .files = files, .n_files = 1, .src.modprobe_paths = mp,
				 .src.n_modprobe = 1 };
	struct run r;
	const struct finding *f;

	/* unsigned kbuild module into signed Debian modules: a warning, and
	 * only the given file is judged (the tree's own are all clean) */
	run_check(&r, &o);
	assert_int_equal(r.err, 0);
	assert_int_equal(count(&r, "MA-UNSIGNED", "ma_def_plain"), 1);
	assert_int_equal(first(&r, "MA-UNSIGNED")->severity, SEV_WARNING);
	assert_int_equal(count(&r, "MA-SIG-INFO", NULL), 0);
	for (size_t i = 0; i < report_count(r.rep); i++) {
		const char *m = report_get(r.rep, i)->module;

		assert_true(!m || !strcmp(m, "ma_def_plain"));
	}
	run_release(&r);

	/* ELF64 big-endian s390 into x86-64: MA-ARCH, and it replaces the
	 * tree's crc64 */
	run_check(&r, &o2);
	assert_int_equal(r.err, 0);
	f = first(&r, "MA-ARCH");
	assert_non_null(f);
	assert_string_equal(f->module, "crc64");
	assert_non_null(strstr(f->detail, "big-endian"));
	assert_int_equal(count(&r, "MA-DUPLICATE", "crc64"), 1);
	/* an unloadable module is judged no further */
	assert_int_equal(count(&r, "MA-SIG-INFO", NULL), 0);
	run_release(&r);

	/* modprobe.d findings about other modules, and the tree's cycle, are
	 * not the given file's */
	run_check(&r, &o3);
	assert_int_equal(r.err, 0);
	assert_int_equal(count(&r, "MA-CYCLE", NULL), 0);
	assert_int_equal(count(&r, "MA-OPTION-UNKNOWN-PARAM", NULL), 0);
	assert_int_equal(count(&r, "MA-ALIAS-DANGLING", NULL), 0);
	assert_int_equal(count(&r, "MA-INSTALL-DANGLING", "ma_def_plain"), 1);
	assert_int_equal(count(&r, "MA-SOFTDEP-MISSING", "ma_def_plain"), 1);
	run_release(&r);
}

static void test_bad_modules(void **state)
{
	char *d = fx_mkdtemp();
	char *mods;
	const char *files[2];
	struct check_opts o = { .src.root = "tests/fixtures/arch/amd64", .files = files, .n_files = 2 };
	struct run r;

	assert_int_equal(asprintf(&mods, "%s/m", d), (int)strlen(d) + 2);
	assert_int_equal(fx_writes(d, "m/empty.ko", ""), 0);
	assert_int_equal(fx_writes(d, "m/text.ko", "not a module at all, just some text\n"), 0);
	files[0] = fx_path(mods, "empty.ko");
	files[1] = fx_path(mods, "text.ko");
	run_check(&r, &o);
	assert_int_equal(r.err, 0);
	assert_int_equal(count(&r, "MA-FORMAT", "empty"), 1);
	assert_int_equal(count(&r, "MA-FORMAT", "text"), 1);
	/* no "failed to load symbols" error logged: they are findings */
	assert_int_equal(r.log.count[MA_LOG_ERR], 0);
	run_release(&r);
	free(mods);
	fx_rmtree(d);
	free(d);
}

static void test_fatal(void **state)
{
	const char *missing[] = { "tests/fixtures/defects/no-such.ko" };
	const char *twice[] = { DEFMODS "/ma_def_plain.ko", DEFMODS "/ma_def_plain.ko" };
	const char *nocert[] = { "/nonexistent/cert.pem" };
	struct check_opts o1 = { .src.root = "tests/fixtures/tree",
				 .src.symvers = (const char *const[]){ "/nonexistent/Module.symvers" },
				 .src.n_symvers = 1 };
	struct check_opts o2 = { .src.root = "tests/fixtures/tree", .files = missing, .n_files = 1 };
	struct check_opts o3 = { .src.root = "tests/fixtures/tree", .files = twice, .n_files = 2 };
	struct check_opts o4 = { .src.root = "tests/fixtures/tree", .src.kver = "9.9.9-none" };
	struct check_opts o5 = { .src.root = "tests/fixtures/tree", .certs = nocert, .n_certs = 1 };
	struct run r;

	run_check(&r, &o1);
	assert_int_equal(r.err, -ENOENT);
	assert_int_equal(r.log.count[MA_LOG_CRIT], 1);
	run_release(&r);
	run_check(&r, &o2);
	assert_int_equal(r.err, -ENOENT);
	run_release(&r);
	run_check(&r, &o3);
	assert_int_equal(r.err, -EEXIST);
	run_release(&r);
	run_check(&r, &o4);
	assert_int_equal(r.err, -ENOENT);
	assert_non_null(strstr(r.log.text.buf, "cannot read module directory"));
	run_release(&r);
	run_check(&r, &o5);
	assert_true(r.err < 0);
	assert_non_null(strstr(r.log.text.buf, "cannot read certificate /nonexistent/cert.pem"));
	run_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree_with_symvers),
		cmocka_unit_test(test_only),
		cmocka_unit_test(test_tree_without_kernel),
		cmocka_unit_test(test_cycles),
		cmocka_unit_test(test_defects),
		cmocka_unit_test(test_out_of_tree),
		cmocka_unit_test(test_bad_modules),
		cmocka_unit_test(test_fatal),
	};

	return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
