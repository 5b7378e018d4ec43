/* Report: adding findings and extras, render order, and the four
 * renderers (text grouped worst first; JSON parsed back with json-c; DOT
 * with cycle edges, severity fills and --focus; SVG through gvc). */
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

#include "report/report.h"
#include "util/strbuf.h"

/* graphviz's plugin loader (gvconfig, graphviz 2.43) and fontconfig keep
 * allocations for the life of the process; they are not ours to free.
 * Slow unwinding lets the suppressions see gvconfig in stacks that pass
 * through graphviz's frame-pointer-less code. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:gvconfig\nleak:libfontconfig\nleak:libpango\nleak:libcairo\n";
}

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

static const struct finding_kind kinds[] = {
	{ "T-A", SEV_ERROR, "kind a" },
	{ "T-B", SEV_WARNING, "kind b" },
	{ "T-C", SEV_INFO, "kind c" },
};

static const struct render_opts ropts = { .fail_on = SEV_ERROR, .min_shown = SEV_INFO,
					  .tool = "test" };

/* n0 -> n1 -> n2 -> n1 (cycle n1 <-> n2), n3 -> n0, n4 alone. */
__attribute__((format(printf, 7, 8)))
static struct finding *add(struct report *r, const struct finding_kind *kind, enum severity sev,
			   long node, const char *module, const char *path, const char *fmt, ...)
{
	struct finding *f;
	va_list ap;

	va_start(ap, fmt);
	f = report_vadd(r, kind, sev, node, module, path, fmt, ap);
	va_end(ap);
	return f;
}

static struct report *sample(void)
{
	struct report *r = report_new(kinds, 3);
	struct finding *f;

	assert_non_null(r);
	assert_int_equal(report_set_target(r, "6.1.0-test", "/x/lib/modules/6.1.0-test", 5), 0);
	for (int i = 0; i < 5; i++) {
		char name[8], path[32];

		snprintf(name, sizeof(name), "n%d", i);
		snprintf(path, sizeof(path), "kernel/n%d.ko", i);
		assert_int_equal(report_node(r, name, path), i);
	}
	assert_int_equal(report_edge(r, 0, 1, "sym01", false), 0);
	assert_int_equal(report_edge(r, 1, 2, "sym12", false), 0);
	assert_int_equal(report_edge(r, 2, 1, "sym21", false), 0);
	assert_int_equal(report_edge(r, 3, 0, "sym30", false), 0);
	report_edge_mark_cycle(r, 1, 2);
	report_edge_mark_cycle(r, 2, 1);
	/* insertion order deliberately not render order */
	f = add(r, &kinds[2], SEV_INFO, 4, "n4", "kernel/n4.ko", "info %d", 1);
	finding_set_str(r, f, "key", "value");
	f = add(r, &kinds[1], SEV_WARNING, 3, "n3", "kernel/n3.ko", "warn");
	finding_list_add(r, f, "list", "x");
	finding_list_add(r, f, "list", "y");
	finding_set_int(r, f, "n", 42);
	add(r, &kinds[0], SEV_ERROR, 1, "n1", "kernel/n1.ko", "cycle n1 n2");
	/* kind C with an error: the C group (worst: error) now goes before
	 * B (worst: warning), though C is last in the table */
	add(r, &kinds[2], SEV_ERROR, -1, NULL, NULL, "tree-level");
	assert_int_equal(report_err(r), 0);
	return r;
}

static void test_counts_and_order(void **state)
{
	struct report *r = sample();
	const struct finding *const *v;

	assert_int_equal(report_count(r), 4);
	assert_int_equal(report_count_sev(r, SEV_ERROR), 2);
	assert_int_equal(report_count_sev(r, SEV_WARNING), 1);
	assert_int_equal(report_count_sev(r, SEV_INFO), 1);
	assert_int_equal(report_worst(r), SEV_ERROR);
	v = report_sorted(r);
	assert_non_null(v);
	/* A and C (worst: error) in table order, then B (warning); inside C
	 * the error before the info */
	assert_string_equal(v[0]->kind->code, "T-A");
	assert_string_equal(v[1]->kind->code, "T-C");
	assert_string_equal(v[1]->detail, "tree-level");
	assert_string_equal(v[2]->kind->code, "T-C");
	assert_string_equal(v[2]->detail, "info 1");
	assert_string_equal(v[3]->kind->code, "T-B");
	assert_string_equal(v[3]->detail, "warn");
	report_free(r);
}

static void test_empty(void **state)
{
	struct report *r = report_new(kinds, 3);
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(report_worst(r), -1);
	assert_int_equal(render_text(&r, 1, &ropts, &sb), 0);
	assert_non_null(strstr(sb.buf, "0 errors, 0 warnings, 0 info; fail-on error: pass"));
	report_free(r);
	report_free(NULL);
	strbuf_release(&sb);
}

static void test_text(void **state)
{
	struct report *r = sample();
	struct render_opts o = ropts;
	struct strbuf sb = STRBUF_INIT;
	const char *b, *a, *c;

	assert_int_equal(render_text(&r, 1, &o, &sb), 0);
	a = strstr(sb.buf, "T-A: kind a (1)\n");
	c = strstr(sb.buf, "T-C: kind c (2)\n");
	b = strstr(sb.buf, "T-B: kind b (1)\n");
	assert_true(b && a && c && a < c && c < b);
	assert_non_null(strstr(sb.buf, "  error    (tree): tree-level\n"));
	assert_non_null(strstr(sb.buf, "  warning  kernel/n3.ko: warn\n"));
	assert_non_null(strstr(sb.buf, "2 errors, 1 warning, 1 info; fail-on error: FAIL\n"));
	assert_null(strstr(sb.buf, "\033["));
	/* info hidden, counted */
	strbuf_reset(&sb);
	o.min_shown = SEV_WARNING;
	assert_int_equal(render_text(&r, 1, &o, &sb), 0);
	assert_non_null(strstr(sb.buf, "T-C: kind c (1)\n"));
	assert_null(strstr(sb.buf, "info 1"));
	assert_non_null(strstr(sb.buf, "(1 below warning not listed"));
	/* colour only on request */
	strbuf_reset(&sb);
	o.color = true;
	assert_int_equal(render_text(&r, 1, &o, &sb), 0);
	assert_non_null(strstr(sb.buf, "\033[1;31merror"));
	strbuf_release(&sb);
	report_free(r);
}

static void test_json(void **state)
{
	struct report *r = sample();
	struct strbuf sb = STRBUF_INIT;
	struct json_object *root, *v, *f0, *f1, *d;

	struct json_object *k;

	assert_int_equal(report_add_error(r, "warning", "something odd"), 0);
	assert_int_equal(render_json(&r, 1, &ropts, &sb), 0);
	root = json_tokener_parse(sb.buf);
	assert_non_null(root);
	assert_true(json_object_object_get_ex(root, "schema", &v));
	assert_string_equal(json_object_get_string(v), "modatlas-check/2");
	assert_true(json_object_get_boolean(json_object_object_get(root, "failed")));
	assert_true(json_object_object_get_ex(root, "kernels", &v));
	assert_int_equal(json_object_array_length(v), 1);
	k = json_object_array_get_idx(v, 0);
	assert_true(json_object_object_get_ex(k, "version", &v));
	assert_string_equal(json_object_get_string(v), "6.1.0-test");
	assert_true(json_object_object_get_ex(k, "summary", &v));
	assert_int_equal(json_object_get_int(json_object_object_get(v, "error")), 2);
	assert_int_equal(json_object_get_int(json_object_object_get(v, "modules")), 5);
	assert_true(json_object_get_boolean(json_object_object_get(v, "failed")));
	assert_true(json_object_object_get_ex(k, "findings", &v));
	assert_int_equal(json_object_array_length(v), 4);
	f0 = json_object_array_get_idx(v, 1);
	assert_true(json_object_is_type(json_object_object_get(f0, "module"), json_type_null));
	f1 = json_object_array_get_idx(v, 3);
	assert_string_equal(json_object_get_string(json_object_object_get(f1, "code")), "T-B");
	assert_string_equal(json_object_get_string(json_object_object_get(f1, "path")),
			    "kernel/n3.ko");
	d = json_object_object_get(f1, "data");
	assert_int_equal(json_object_get_int(json_object_object_get(d, "n")), 42);
	assert_int_equal(json_object_array_length(json_object_object_get(d, "list")), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(
				    json_object_object_get(d, "list"), 1)), "y");
	assert_true(json_object_object_get_ex(root, "errors", &v));
	assert_int_equal(json_object_array_length(v), 1);
	assert_string_equal(json_object_get_string(json_object_object_get(
				    json_object_array_get_idx(v, 0), "level")), "warning");
	json_object_put(root);
	strbuf_release(&sb);
	report_free(r);
}

static void test_dot(void **state)
{
	struct report *r = sample();
	struct render_opts o = ropts;
	struct strbuf sb = STRBUF_INIT;
	const char *why = NULL;

	assert_int_equal(render_dot(r, &o, &sb, &why), 0);
	assert_non_null(strstr(sb.buf, "digraph modules {"));
	assert_non_null(strstr(sb.buf, "n0 -> n1"));
	assert_non_null(strstr(sb.buf, "label=sym01"));
	/* cycle edges red, cycle members filled as errors, n3 as warning */
	assert_non_null(strstr(sb.buf, "n1 -> n2\t[color=red"));
	assert_non_null(strstr(sb.buf, "n2 -> n1\t[color=red"));
	assert_null(strstr(sb.buf, "n0 -> n1\t[color=red"));
	assert_non_null(strstr(sb.buf, "n2\t[color=\"#c00000\""));
	assert_non_null(strstr(sb.buf, "n3\t[color=\"#d08000\""));
	assert_non_null(strstr(sb.buf, "n4"));

	/* focus n0: its dependencies n1, n2 and its user n3; not n4 */
	strbuf_reset(&sb);
	o.focus = (const char *const[]){ "n0" };
	o.n_focus = 1;
	assert_int_equal(render_dot(r, &o, &sb, &why), 0);
	assert_non_null(strstr(sb.buf, "n3 -> n0"));
	assert_non_null(strstr(sb.buf, "n2 -> n1"));
	assert_null(strstr(sb.buf, "n4"));
	/* focus n2: n1 (dep and user, via the cycle), n0 and n3 (users) */
	strbuf_reset(&sb);
	o.focus = (const char *const[]){ "n2" };
	assert_int_equal(render_dot(r, &o, &sb, &why), 0);
	assert_non_null(strstr(sb.buf, "n3 -> n0"));
	assert_null(strstr(sb.buf, "n4"));
	/* two foci: both closures (n4 alone has no edge) */
	strbuf_reset(&sb);
	o.focus = (const char *const[]){ "n2", "n4" };
	o.n_focus = 2;
	assert_int_equal(render_dot(r, &o, &sb, &why), 0);
	assert_non_null(strstr(sb.buf, "n3 -> n0"));
	assert_non_null(strstr(sb.buf, "\tn4"));
	/* every focus must name a node */
	o.focus = (const char *const[]){ "n0", "nobody" };
	assert_int_equal(render_dot(r, &o, &sb, &why), -ENOENT);
	strbuf_release(&sb);
	report_free(r);
}

/* Verdicts: the text lists what does not load cleanly (with the kernel's
 * messages), counts the rest; JSON lists every one; several kernels end
 * with which of them load each module. */
static void test_verdicts(void **state)
{
	struct report *r[2] = { sample(), sample() };
	struct verdict ok = { .module = "a", .path = "a.ko", .state = VERDICT_LOADS };
	struct verdict t = { .module = "b", .path = "b.ko", .state = VERDICT_TAINTED,
			     .taints = "OE" };
	struct verdict x = { .module = "b", .path = "b.ko", .state = VERDICT_REFUSED,
			     .stage = "module_layout", .err = ENOEXEC, .cause = "built for another kernel",
			     .dmesg = "b: disagrees about version of symbol module_layout",
			     .modprobe = "modprobe: ERROR: could not insert 'b': Exec format error",
			     .fix = "rebuild" };
	struct render_opts o = ropts;
	struct strbuf sb = STRBUF_INIT;
	struct json_object *root, *v, *k;

	assert_int_equal(report_add_verdict(r[0], &ok), 0);
	assert_int_equal(report_add_verdict(r[0], &t), 0);
	assert_int_equal(report_add_verdict(r[1], &ok), 0);
	assert_int_equal(report_add_verdict(r[1], &x), 0);
	assert_int_equal(report_count_verdicts(r[0], VERDICT_TAINTED), 1);
	assert_int_equal(report_count_verdicts(r[1], VERDICT_REFUSED), 1);
	assert_string_equal(verdict_state_name(VERDICT_TAINTED), "loads-tainted");

	assert_int_equal(render_text(r, 2, &o, &sb), 0);
	assert_non_null(strstr(sb.buf, "loads-tainted  b         taints OE\n"));
	assert_non_null(strstr(sb.buf, "refused        b         module_layout: built for another kernel\n"));
	assert_non_null(strstr(sb.buf, "      dmesg:    b: disagrees about version of symbol module_layout\n"));
	assert_non_null(strstr(sb.buf, "  1 module load without tainting the kernel (not listed)\n"));
	assert_non_null(strstr(sb.buf, "Which kernels load them:\n  a\n"));
	assert_non_null(strstr(sb.buf, "refused (module_layout)\n"));
	/* --summary: the verdicts and the closing line, no findings */
	strbuf_reset(&sb);
	o.summary = true;
	assert_int_equal(render_text(r, 1, &o, &sb), 0);
	assert_null(strstr(sb.buf, "T-A:"));
	assert_non_null(strstr(sb.buf, "fail-on error: FAIL\n"));

	strbuf_reset(&sb);
	assert_int_equal(render_json(r, 2, &ropts, &sb), 0);
	root = json_tokener_parse(sb.buf);
	assert_non_null(root);
	assert_true(json_object_object_get_ex(root, "kernels", &v));
	assert_int_equal(json_object_array_length(v), 2);
	k = json_object_array_get_idx(v, 1);
	assert_true(json_object_object_get_ex(k, "verdicts", &v));
	assert_int_equal(json_object_array_length(v), 2);
	v = json_object_array_get_idx(v, 1);
	assert_string_equal(json_object_get_string(json_object_object_get(v, "verdict")), "refused");
	assert_string_equal(json_object_get_string(json_object_object_get(v, "stage")),
			    "module_layout");
	assert_int_equal(json_object_get_int(json_object_object_get(v, "errno")), ENOEXEC);
	assert_string_equal(json_object_get_string(json_object_object_get(v, "errno_name")),
			    "ENOEXEC");
	assert_true(json_object_is_type(json_object_object_get(v, "insmod"), json_type_null));
	assert_int_equal(json_object_get_int(json_object_object_get(
				 json_object_object_get(k, "summary"), "refused")), 1);
	json_object_put(root);
	strbuf_release(&sb);
	report_free(r[0]);
	report_free(r[1]);
}

static void test_svg(void **state)
{
	struct report *r = sample();
	struct strbuf sb = STRBUF_INIT;
	const char *why = NULL;
	int err = render_svg(r, &ropts, &sb, &why);

	if (err == -EIO) {
		/* no graphviz plugins on this host: say so, do not fail */
		print_message("svg not rendered: %s\n", why);
	} else {
		assert_int_equal(err, 0);
		assert_non_null(strstr(sb.buf, "<svg"));
		assert_non_null(strstr(sb.buf, "sym12"));
	}
	strbuf_release(&sb);
	report_free(r);
}

static void test_severity_names(void **state)
{
	enum severity s;

	assert_string_equal(severity_name(SEV_WARNING), "warning");
	assert_int_equal(severity_parse("info", &s), 0);
	assert_int_equal(s, SEV_INFO);
	assert_int_equal(severity_parse("fatal", &s), -EINVAL);
}

static void test_null_finding(void **state)
{
	struct report *r = report_new(kinds, 3);

	/* extras on a failed (NULL) finding are ignored; a json value handed
	 * over is released, so nothing leaks */
	finding_set_str(r, NULL, "k", "v");
	finding_set_int(r, NULL, "k", 1);
	finding_list_add(r, NULL, "k", "v");
	finding_set_json(r, NULL, "k", json_object_new_string("x"));
	assert_int_equal(report_err(r), 0);
	report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_and_order),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_dot),
		cmocka_unit_test(test_svg),
		cmocka_unit_test(test_severity_names),
		cmocka_unit_test(test_null_finding),
	};

	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
