/* The lookup (kmod_module_new_from_lookup's seven sources in order, the
 * name lookup of modinfo -m) and the probe list, on a module directory
 * made here: index files written with the index writer, empty module
 * files, a modprobe.d directory. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fsfixture.h"
#include "index/index.h"
#include "query/query.h"
#include "util/strbuf.h"

struct kv {
	const char *key, *value;
	uint32_t prio;
};

static void write_index(const char *dir, const char *name, const struct kv *kv)
{
	struct index_trie *t = index_trie_new();
	struct strbuf sb = STRBUF_INIT;

	assert_non_null(t);
	for (; kv && kv->key; kv++)
		assert_true(index_trie_insert(t, kv->key, kv->value, kv->prio) >= 0);
	assert_int_equal(index_trie_write(t, INDEX_PREORDER, &sb), 0);
	assert_int_equal(fx_write(dir, name, sb.buf, sb.len), 0);
	strbuf_release(&sb);
	index_trie_free(t);
}

struct fx {
	char *root, *dir, *conf;
	struct query *q;
	struct query_session *s;
	struct strbuf msgs;
};

static void msg_fn(void *ud, enum query_site site, const char *msg)
{
	strbuf_addf(ud, "%d:%s\n", (int)site, msg);
}

static const char *const modules[] = {
	"kernel/a.ko", "kernel/b.ko", "kernel/c-d.ko", "kernel/e.ko", "kernel/snd.ko",
	"kernel/snd_pcm.ko", "kernel/soft.ko", "kernel/post.ko", NULL,
};

/* a needs b and c_d (modules.dep "a: b c_d"); snd_pcm needs snd */
static const struct kv deps[] = {
	{ "a", "kernel/a.ko: kernel/b.ko kernel/c-d.ko", 0 },
	{ "b", "kernel/b.ko:", 0 },
	{ "c_d", "kernel/c-d.ko:", 0 },
	{ "e", "kernel/e.ko:", 0 },
	{ "snd", "kernel/snd.ko:", 0 },
	{ "snd_pcm", "kernel/snd_pcm.ko: kernel/snd.ko", 0 },
	{ "soft", "kernel/soft.ko:", 0 },
	{ "post", "kernel/post.ko:", 0 },
	{ "gone", "kernel/gone.ko:", 0 },
	{ NULL, NULL, 0 },
};

static const struct kv aliases[] = {
	{ "pci:v00001234d*", "e", 3 },
	{ "pci:v0000*", "b", 1 },
	{ "pci:v0000*", "a", 2 },
	{ "pci:v00001234d0001", "b", 1 },
	{ "dev_[xy]", "c_d", 0 },
	{ "pinned", "b", 0 },
	{ NULL, NULL, 0 },
};

static void fx_open(struct fx *f, const char *conf, const char *cmdline, bool no_symbols)
{
	static const struct kv syms[] = { { "symbol:b_export", "b", 0 }, { NULL, NULL, 0 } };
	static const struct kv builtin[] = { { "unix", "", 0 }, { NULL, NULL, 0 } };
	static const struct kv balias[] = { { "net_pf_1", "unix", 0 }, { NULL, NULL, 0 } };
	const char *paths[1];
	struct query_opts o;

	memset(f, 0, sizeof(*f));
	strbuf_init(&f->msgs);
	f->root = fx_mkdtemp();
	assert_non_null(f->root);
	f->dir = strdup(fx_path(f->root, "lib/modules/1.0"));
	f->conf = strdup(fx_path(f->root, "conf"));
	assert_int_equal(fx_mkdirs(f->root, "lib/modules/1.0", 1), 0);
	assert_int_equal(fx_mkdirs(f->root, "conf", 1), 0);
	for (const char *const *m = modules; *m; m++)
		assert_int_equal(fx_writes(f->dir, *m, ""), 0);
	write_index(f->dir, "modules.dep.bin", deps);
	write_index(f->dir, "modules.alias.bin", aliases);
	if (!no_symbols)
		write_index(f->dir, "modules.symbols.bin", syms);
	write_index(f->dir, "modules.builtin.bin", builtin);
	write_index(f->dir, "modules.builtin.alias.bin", balias);
	assert_int_equal(fx_writes(f->conf, "t.conf", conf), 0);
	assert_int_equal(fx_writes(f->dir, "modules.softdep", "softdep e pre: soft\n"), 0);
	paths[0] = f->conf;
	o = (struct query_opts){
		.dirname = f->dir,
		.root = f->root,
		.kver = "1.0",
		.config_paths = paths,
		.n_config = 1,
		.cmdline = cmdline,
		.cmdline_len = cmdline ? strlen(cmdline) : 0,
		.index_mode = QUERY_INDEX_FILES,
		.no_cache = true,
		.msg = { msg_fn, &f->msgs },
	};
	assert_int_equal(query_open(&o, &f->q), 0);
	assert_int_equal(query_session_new(f->q, &f->s), 0);
}

static void fx_close(struct fx *f)
{
	query_session_free(f->s);
	query_free(f->q);
	fx_rmtree(f->root);
	free(f->root);
	free(f->dir);
	free(f->conf);
	strbuf_release(&f->msgs);
}

/* "name/via name/via ..." of a lookup */
static const char *look(struct fx *f, const char *name)
{
	static char out[1024];
	struct query_hit *h;
	size_t n, len = 0;
	int err = query_lookup(f->s, name, &h, &n);

	if (err)
		snprintf(out, sizeof(out), "error %d", err);
	else
		out[0] = '\0';
	for (size_t i = 0; !err && i < n; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s/%s", i ? " " : "",
					query_mod_name(h[i].mod), query_via_name(h[i].via));
	return out;
}

static void test_order(void **state)
{
	struct fx f;

	fx_open(&f,
		"alias pci:v00001234d0002 snd\n" /* shadows the alias index */
		"alias b-alias b\n"
		"alias a e\n"                    /* shadows the module a */
		"install fake /bin/true\n"
		"install fake /bin/false\n"
		"remove fake /bin/x\n"
		"remove gone-remove /bin/true\n"
		"install b /bin/echo b\n",
		NULL, false);
	assert_string_equal(look(&f, "pci:v00001234d0002"), "snd/config-alias");
	assert_string_equal(look(&f, "a"), "e/config-alias");
	assert_string_equal(look(&f, "b"), "b/module");   /* modules.dep before install */
	assert_string_equal(look(&f, "c-d"), "c_d/module");
	assert_string_equal(look(&f, "symbol:b_export"), "b/symbol");
	assert_string_equal(look(&f, "fake"), "fake/install-command");
	assert_string_equal(look(&f, "gone_remove"), "gone_remove/remove-command");
	/* every match, by priority, newest first among equals, duplicates
	 * kept; a config alias for another device does not apply */
	assert_string_equal(look(&f, "pci:v00001234d0001"), "b/alias b/alias a/alias e/alias");
	assert_string_equal(look(&f, "dev-x"), "c_d/alias"); /* '-' normalised */
	assert_string_equal(look(&f, "unix"), "unix/builtin");
	assert_string_equal(look(&f, "net-pf-1"), "unix/builtin-alias");
	assert_string_equal(look(&f, "nothing"), "");
	assert_string_equal(look(&f, "bad]name"), "error -22");
	/* a ':' never finds a module by name */
	assert_string_equal(look(&f, "b:"), "");
	fx_close(&f);
}

static void test_name_lookup(void **state)
{
	struct query_hit h;
	struct fx f;

	fx_open(&f, "alias cfgonly b\n", NULL, false);
	assert_int_equal(query_lookup_name(f.s, "c-d.ko", &h), 0); /* cut at '.' */
	assert_string_equal(query_mod_name(h.mod), "c_d");
	assert_int_equal(query_lookup_name(f.s, "cfgonly", &h), 0);
	assert_null(h.mod);                                         /* no config */
	assert_int_equal(query_lookup_name(f.s, "pinned", &h), 0);
	assert_null(h.mod);                                         /* no alias index */
	assert_int_equal(query_lookup_name(f.s, "net-pf-1", &h), 0);
	assert_string_equal(query_mod_name(h.mod), "unix");
	assert_true(query_mod_builtin(h.mod));
	fx_close(&f);
}

/* A missing index is skipped (kmod: -ENOSYS), not an error. */
static void test_missing_index(void **state)
{
	struct fx f;

	fx_open(&f, "install symbol:b_export /bin/true\n", NULL, true);
	assert_string_equal(look(&f, "symbol:b_export"), "symbol:b_export/install-command");
	fx_close(&f);
}

static void test_corrupt_index(void **state)
{
	struct query_hit *h;
	size_t n;
	struct fx f;
	/* a header that opens, a root node pointing past the end */
	static const unsigned char bad[] = { 0xb0, 0x07, 0xf4, 0x57, 0, 2, 0, 1,
					     0x40, 0, 0, 0x0c, 0, 0, 0, 9 };

	fx_open(&f, "", NULL, false);
	query_session_free(f.s);
	query_free(f.q);
	assert_int_equal(fx_write(f.dir, "modules.alias.bin", bad, sizeof(bad)), 0);
	{
		const char *paths[1] = { f.conf };
		struct query_opts o = { .dirname = f.dir, .config_paths = paths, .n_config = 1,
					.index_mode = QUERY_INDEX_FILES, .no_cache = true };

		assert_int_equal(query_open(&o, &f.q), 0);
		assert_int_equal(query_session_new(f.q, &f.s), 0);
	}
	assert_int_equal(query_lookup(f.s, "pci:v1", &h, &n), -EBADMSG);
	assert_non_null(strstr(query_corrupt_index(f.s), "modules.alias.bin"));
	fx_close(&f);
}

/* "insmod NAME OPTS|install CMD OPTS|builtin NAME" per action */
static const char *probe(struct fx *f, const char *name, const struct query_probe_opts *o)
{
	static char out[2048];
	struct query_hit *h;
	struct query_probe p;
	size_t n, len = 0;

	out[0] = '\0';
	assert_int_equal(query_lookup(f->s, name, &h, &n), 0);
	assert_true(n >= 1);
	assert_int_equal(query_probe(f->s, h[0].mod, o, &p), 0);
	if (p.blacklisted)
		len += (size_t)snprintf(out, sizeof(out), "blacklisted");
	for (size_t i = 0; i < p.n; i++) {
		const struct query_action *a = &p.v[i];
		const char *kind = a->kind == QA_INSMOD    ? "insmod"
				   : a->kind == QA_INSTALL ? "install"
				   : a->kind == QA_BUILTIN ? "builtin"
							   : "nothing";

		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s %s[%s]", i ? "|" : "",
					kind, a->kind == QA_INSTALL ? a->command
								    : query_mod_name(a->mod),
					a->options ? a->options : "");
	}
	query_probe_release(&p);
	return out;
}

static void test_probe(void **state)
{
	struct query_probe_opts plain = { 0 }, ign = { .ignore_install = true },
				always = { .blacklist = QUERY_BL_ALWAYS },
				extra = { .extra_options = "x=1" };
	struct fx f;

	fx_open(&f,
		"softdep b pre: e post: post\n"
		"install snd* /bin/snd\n"
		"install b /bin/b\n"
		"options a o=1\n"
		"options a  p=2\n"
		"options my-a via=alias\n"
		"alias my-a a\n"
		"blacklist c_d\n"
		"blacklist a\n",
		"a.q=3\n", false);
	/* dependencies last on the line first; b's softdep: e's own pre
	 * softdep (modules.softdep: soft), e, b, post; b's install command
	 * ignored (it has softdeps); config options then the command line's,
	 * with kmod's trailing space */
	assert_string_equal(probe(&f, "a", &plain),
			    "insmod c_d[]|insmod soft[]|insmod e[]|insmod b[]|insmod post[]|"
			    "insmod a[o=1  p=2 q=3 ]");
	assert_string_equal(probe(&f, "a", &extra),
			    "insmod c_d[]|insmod soft[]|insmod e[]|insmod b[]|insmod post[]|"
			    "insmod a[o=1  p=2 q=3 x=1]");
	/* through an alias: blacklisted, nothing */
	assert_string_equal(probe(&f, "my-a", &plain), "blacklisted");
	/* -b: by name too */
	assert_string_equal(probe(&f, "a", &always), "blacklisted");
	/* install commands apply to dependencies; -i only to the target */
	assert_string_equal(probe(&f, "snd_pcm", &plain), "install /bin/snd[]|install /bin/snd[]");
	assert_string_equal(probe(&f, "snd_pcm", &ign), "install /bin/snd[]|insmod snd_pcm[]");
	/* -i: b's own softdeps are skipped */
	assert_string_equal(probe(&f, "b", &ign), "insmod b[]");
	assert_string_equal(probe(&f, "unix", &plain), "builtin unix[]");
	/* the lines the options came from: the name's, and through an alias
	 * the alias's too, in reading order */
	{
		const struct modprobe_entry *const *v;
		struct query_hit *h;
		size_t n, ne;

		assert_int_equal(query_lookup(f.s, "a", &h, &n), 0);
		assert_int_equal(query_mod_option_entries(h[0].mod, &v, &ne), 0);
		assert_int_equal(ne, 3);
		assert_string_equal(v[0]->arg, "o=1");
		assert_string_equal(v[1]->arg, " p=2");
		assert_true(v[2]->cmdline);
		assert_int_equal(query_lookup(f.s, "my-a", &h, &n), 0);
		assert_int_equal(query_mod_option_entries(h[0].mod, &v, &ne), 0);
		assert_int_equal(ne, 4);
		assert_string_equal(v[2]->arg, "via=alias");
		assert_true(v[3]->cmdline);
	}
	fx_close(&f);
}

/* kmod's duplicates: a dependency's softdep expansion is not guarded by
 * the visited mark. */
static void test_probe_duplicates(void **state)
{
	struct query_probe_opts plain = { 0 };
	struct fx f;

	fx_open(&f, "softdep a pre: c_d\n", NULL, false);
	assert_string_equal(probe(&f, "a", &plain),
			    "insmod c_d[]|insmod b[]|insmod c_d[]|insmod a[]");
	fx_close(&f);
}

/* a dependency whose file is missing: kmod logs and keeps no
 * dependency; the module itself still loads */
static void test_missing_dependency_file(void **state)
{
	struct query_probe_opts plain = { 0 };
	struct fx f;

	fx_open(&f, "", NULL, false);
	assert_int_equal(unlink(fx_path(f.dir, "kernel/b.ko")), 0);
	assert_string_equal(probe(&f, "a", &plain), "insmod a[]");
	assert_non_null(strstr(f.msgs.buf, "kernel/b.ko error=No such file or directory"));
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_name_lookup),
		cmocka_unit_test(test_missing_index),
		cmocka_unit_test(test_corrupt_index),
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_probe_duplicates),
		cmocka_unit_test(test_missing_dependency_file),
	};

	return cmocka_run_group_tests_name("lookup", tests, NULL, NULL);
}
