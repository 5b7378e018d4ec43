/* kmod_module_get_info offline: a module's .modinfo strings (a built-in
 * module's from modules.builtin.modinfo), then the signature fields libkmod
 * appends (libkmod-signature.c), formatted as kmod 34.2 or kmod 30 does.
 * The module's record comes from the tree model when it is loaded, else
 * from the cache (no decompression), else from the file. */
#include "query/query_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/objects.h>

#include "cache/cache.h"
#include "elf/decompress.h"
#include "elf/module.h"
#include "sig/crypto_load.h"
#include "sig/sig_cms.h"
#include "query/sigmemo.h"
#include "util/array.h"
#include "util/bytes.h"
#include "util/codeword.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/release.h"
#include "util/strbuf.h"

#define SIG_MAGIC "~Module signature appended~\n"
#define SIG_MAGIC_LEN (sizeof(SIG_MAGIC) - 1)
#define SIG_INFO_LEN 12

void query_info_release(struct query_info *info)
{
	free(info->v);
	arena_release(&info->strings);
	memset(info, 0, sizeof(*info));
}

static int info_add(struct query_info *info, const char *key, size_t klen, const char *value,
		    size_t vlen)
{
	struct query_info_item it = { arena_strndup(&info->strings, key, klen),
				      arena_strndup(&info->strings, value ? value : "", vlen) };

	if (!it.key || !it.value)
		return -ENOMEM;
	return ARRAY_PUSH(info->v, info->n, info->alloc, it);
}

/* kmod_module_get_info's split: at the first '=', the whole string as
 * the key (and no value) without one */
static int info_add_string(struct query_info *info, const char *s)
{
	const char *eq = strchr(s, '=');

	if (!eq)
		return info_add(info, s, strlen(s), NULL, 0);
	return info_add(info, s, (size_t)(eq - s), eq + 1, strlen(eq + 1));
}

/* kmod_module_hex_to_str: "01:AB:..." with "\n\t\t" after every 20th
 * byte but the last */
static int info_add_hex(struct query_info *info, const char *key, const unsigned char *p,
			size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	int err = strbuf_add_hex(&sb, p, n, 20, "\n\t\t");

	if (!err)
		err = info_add(info, key, strlen(key), sb.buf, sb.len);
	strbuf_release(&sb);
	return err;
}

/* ---- built-in modules: modules.builtin.modinfo ---- */

static int builtin_file(struct query *q, const char **buf, size_t *len)
{
	if (!q->binfo_read) {
		char *path;

		q->binfo_read = true;
		if (asprintf(&path, "%s/modules.builtin.modinfo", q->dirname) < 0)
			return -ENOMEM;
		q->binfo_err = read_file(path, 0, &q->binfo, &q->binfo_len);
		free(path);
	}
	*buf = q->binfo;
	*len = q->binfo_len;
	return q->binfo_err;
}

/* kmod_builtin_get_modinfo. kmod 34: the first run of strings whose
 * prefix is "name."; none is no error. kmod 30: the first block of
 * consecutive strings of one module that is this one; none is -ENOSYS.
 * Both stop at a string without a '.' with -EINVAL. */
static int builtin_info(struct query *q, const char *name, struct query_info *info)
{
	bool v30 = q->o.flavour == MP_KMOD30;
	size_t nlen = strlen(name), pos = 0, len;
	const char *buf;
	size_t count = 0;
	bool in_block = false;
	int err = builtin_file(q, &buf, &len);

	if (err < 0)
		return err;
	while (pos < len) {
		const char *s = buf + pos, *z = memchr(s, '\0', len - pos);
		size_t slen = z ? (size_t)(z - s) : len - pos;
		char *str = strndup(s, slen);
		const char *dot;

		if (!str)
			return -ENOMEM;
		pos += slen + 1;
		dot = strchr(str, '.');
		if (!dot) {
			q_msg(q, QS_BUILTIN_STRINGS,
			      v30 ? "kmod_builtin_iter_next: unexpected string without modname prefix"
				  : "get_strings: unexpected string without modname prefix");
			free(str);
			return v30 && count ? (int)count : -EINVAL;
		}
		if ((size_t)(dot - str) == nlen && !strncmp(str, name, nlen)) {
			in_block = true;
			err = info_add_string(info, dot + 1);
			free(str);
			if (err)
				return err;
			count++;
			continue;
		}
		free(str);
		if (in_block)
			break; /* the run is over */
	}
	if (!count && v30)
		return -ENOSYS;
	return (int)count;
}

/* ---- module records ---- */

/* Whether reading the record from the cache beats reading the file: a
 * compressed file (by its magic) of some size, or any compressed one once
 * the cache is open. Opening the cache costs about what decompressing a
 * 64 KiB xz module does. */
static bool cache_pays(const struct query *q, const char *path)
{
	unsigned char head[8];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, head, sizeof(head));
	if (fstat(fd, &st) < 0)
		n = 0;
	close(fd);
	if (n <= 0 || modfile_detect(head, (size_t)n) == MOD_COMP_NONE)
		return false;
	return q->rcache || st.st_size >= 64 * 1024;
}

/* The record of the module file at path: the model's (borrowed), the
 * cache's or the file's (owned: *owned set). */
static int record_of(struct query *q, const char *path, const struct modrec **rec,
		     struct modrec **owned)
{
	struct cache_stat cs;
	struct modfile_opts fo = { .keep_signature = true, .info_only = true };
	int err;

	*owned = NULL;
	if (q->m) {
		for (size_t i = 0; i < q->m->n; i++) {
			if (!strcmp(q->m->mods[i].path, path)) {
				*rec = q->m->mods[i].rec;
				return 0;
			}
		}
	}
	if (q->o.no_cache || !cache_pays(q, path))
		goto read;
	if (!q->rcache_tried) {
		char *dir = cache_dir_of(q->o.cache_dir);
		char *base = dir ? cache_file_path(dir, q->dirname) : NULL;

		q->rcache_tried = true;
		if (base && cache_load(base, q->dirname, NULL, &q->rcache) == -ENOMEM) {
			free(dir);
			free(base);
			return -ENOMEM;
		}
		free(dir);
		free(base);
	}
	if (q->rcache && cache_stat_path(path, &cs) == 0 && !cs.missing) {
		*owned = cache_lookup(q->rcache, path, &cs, NULL, true, NULL, NULL);
		if (*owned) {
			*rec = *owned;
			return 0;
		}
	}
read:
	err = modfile_load_path(path, &fo, owned);
	*rec = *owned;
	return err;
}

/* The signer, key id and signature before the trailer of a legacy
 * (PGP, X.509) signature: the record keeps only the signature, so the
 * file is read again. */
static int legacy_parts(const char *path, const struct mod_sig *sig, char **signer,
			unsigned char **key_id, unsigned char **sigbytes)
{
	char *raw, why[128];
	size_t len;
	void *img = NULL;
	size_t ilen;
	const unsigned char *end;
	int err = read_file(path, MODFILE_DEFAULT_MAX_SIZE, &raw, &len);

	if (err < 0)
		return err;
	if (modfile_detect(raw, len) != MOD_COMP_NONE) {
		err = decompress_buf(modfile_detect(raw, len), raw, len, MODFILE_DEFAULT_MAX_SIZE, 0,
				     NULL, &img, &ilen, why, sizeof(why));
		free(raw);
		if (err < 0)
			return err;
		raw = img;
		len = ilen;
	}
	if (len < SIG_MAGIC_LEN + SIG_INFO_LEN + sig->sig_len + sig->signer_len + sig->key_id_len) {
		free(raw);
		return -EINVAL;
	}
	end = (const unsigned char *)raw + len - SIG_MAGIC_LEN - SIG_INFO_LEN;
	*sigbytes = malloc(sig->sig_len ? sig->sig_len : 1);
	*key_id = malloc(sig->key_id_len ? sig->key_id_len : 1);
	*signer = strndup((const char *)end - sig->sig_len - sig->key_id_len - sig->signer_len,
			  sig->signer_len);
	if (!*sigbytes || !*key_id || !*signer) {
		free(raw);
		return -ENOMEM;
	}
	memcpy(*sigbytes, end - sig->sig_len, sig->sig_len);
	memcpy(*key_id, end - sig->sig_len - sig->key_id_len, sig->key_id_len);
	free(raw);
	return 0;
}

static const char *const pkey_hash_algo[] = {
	"md4", "md5", "sha1", "rmd160", "sha256", "sha384", "sha512", "sha224", "sm3",
};
static const char *const pkey_id_type[] = { "PGP", "X509", "PKCS#7" };

/* kmod 30's obj_to_hash_algo: its fixed table, NULL for anything else */
static const char *hash_v30(int nid)
{
	static const struct code_word names[] = {
		{ NID_md4, "md4" }, { NID_md5, "md5" }, { NID_sha1, "sha1" },
		{ NID_ripemd160, "rmd160" }, { NID_sha256, "sha256" }, { NID_sha384, "sha384" },
		{ NID_sha512, "sha512" }, { NID_sha224, "sha224" },
#ifndef OPENSSL_NO_SM3
		{ NID_sm3, "sm3" },
#endif
	};

	return code_word(names, sizeof(names) / sizeof(names[0]), nid);
}

/* libkmod's x509_name_to_str: the commonName entry's bytes as they are,
 * or, with no commonName, the last entry's (its loop leaves it there);
 * NULL for an empty name. */
static const char *name_to_str(const struct crypto_api *ssl, X509_NAME *name)
{
	X509_NAME_ENTRY *e = NULL;
	int nid = -1;

	for (int i = 0; name && i < ssl->X509_NAME_entry_count(name); i++) {
		e = ssl->X509_NAME_get_entry(name, i);
		nid = ssl->OBJ_obj2nid(ssl->X509_NAME_ENTRY_get_object(e));
		if (nid == NID_commonName)
			break;
	}
	if (nid == -1 || !e)
		return NULL;
	return (const char *)ssl->ASN1_STRING_get0_data(ssl->X509_NAME_ENTRY_get_data(e));
}

/* The five fields of a PKCS#7 signature as e describes it, the value
 * (value, vlen) apart: 1 when added, 0 when kmod finds none (no hash
 * name in this flavour). */
static int emit_pkcs7(const struct query *q, const struct mod_sig *sig,
		      const struct sigmemo_entry *e, const uint8_t *value, size_t vlen,
		      struct query_info *info)
{
	const char *hash = q->o.flavour == MP_KMOD30 ? e->hash30 : e->hash34;
	const char *id = pkey_id_type[sig->id_type];
	int err;

	if (!hash)
		return 0;
	err = info_add(info, "sig_id", 6, id, strlen(id));
	if (!err)
		err = info_add(info, "signer", 6, e->signer, e->signer ? strlen(e->signer) : 0);
	if (!err)
		err = info_add_hex(info, "sig_key", e->serial, e->serial_len);
	if (!err)
		err = info_add(info, "sig_hashalgo", 12, hash, strlen(hash));
	if (!err)
		err = info_add_hex(info, "signature", value, vlen);
	return err < 0 ? err : 1;
}

/* The memo of signatures seen before (sigmemo.h), read on first use;
 * none with --no-cache. */
static struct sigmemo *memo(struct query *q)
{
	char *dir;

	if (q->o.no_cache)
		return NULL;
	if (!q->sigs.loaded) {
		dir = cache_dir_of(q->o.cache_dir);
		sigmemo_load(&q->sigs, dir);
		free(dir);
	}
	return &q->sigs;
}

void query_save_memo(struct query *q)
{
	char *dir;

	if (q->o.no_cache || !q->sigs.dirty)
		return;
	dir = cache_dir_of(q->o.cache_dir);
	if (!dir || sigmemo_save(&q->sigs, dir) < 0)
		ma_logf(q->o.log, MA_LOG_DEBUG, "could not write the signatures memo under %s",
			dir ? dir : "the cache directory");
	free(dir);
}

/* What OpenSSL reads of sc into e: the signer, the serial (malloc'd,
 * BN_bn2bin's), both flavours' hash names (hash34: a buffer of 128).
 * 0, or -EINVAL when kmod would find no fields, or -ENOMEM. */
static int describe(const struct sig_cms *sc, struct sigmemo_entry *e, char *hash34)
{
	const struct crypto_api *ssl = sc->ssl;
	uint8_t *serial;
	BIGNUM *bn = ssl->ASN1_INTEGER_to_BN(sc->serial, NULL);
	int n = ssl->OBJ_obj2txt(hash34, 128, sc->digest->algorithm, 0);

	e->hash34 = n < 0 || n >= 128 ? NULL : hash34;
	e->hash30 = hash_v30(ssl->OBJ_obj2nid(sc->digest->algorithm));
	e->signer = name_to_str(ssl, sc->issuer);
	if (!bn)
		return -EINVAL;
	n = (ssl->BN_num_bits(bn) + 7) / 8; /* BN_num_bytes */
	serial = malloc(n > 0 ? (size_t)n : 1);
	if (serial) {
		ssl->BN_bn2bin(bn, serial);
		e->serial = serial;
		e->serial_len = (uint32_t)n;
	}
	ssl->BN_free(bn);
	return serial ? 0 : -ENOMEM;
}

/* fill_pkcs7: 1 when the fields were added, 0 when kmod finds none. A
 * signature whose prefix the memo has needs no libcrypto; one OpenSSL
 * reads is added to it when its value is provably its tail. */
static int pkcs7_fields(struct query *q, const struct mod_sig *sig, struct query_info *info)
{
	struct sigmemo *sm = memo(q);
	const struct sigmemo_entry *hit = sm ? sigmemo_find(sm, sig->data, sig->sig_len) : NULL;
	struct sigmemo_entry e = { 0 };
	struct sig_cms sc;
	char why[128], hash34[128];
	size_t vl;
	int err;

	if (hit)
		return emit_pkcs7(q, sig, hit, sig->data + hit->prefix_len,
				  sig->sig_len - hit->prefix_len, info);
	err = sig_cms_open(sig->data, sig->sig_len, &sc, why, sizeof(why));
	/* kmod reads it with d2i_PKCS7: a signer named by subject key id
	 * does not parse there, and a signer info without an issuer and
	 * serial or a signature gives no fields either */
	if (err == -ENOMEM) {
		sig_cms_release(&sc);
		return err;
	}
	if (err || sc.skid || !sc.issuer || !sc.serial || !sc.signature || !sc.digest) {
		sig_cms_release(&sc);
		return 0;
	}
	err = describe(&sc, &e, hash34);
	if (!err) {
		err = emit_pkcs7(q, sig, &e, sc.ssl->ASN1_STRING_get0_data(sc.signature),
				 (size_t)sc.ssl->ASN1_STRING_length(sc.signature), info);
		vl = sig_cms_value_tail(&sc, sig->data, sig->sig_len);
		e.der_len = (uint32_t)sig->sig_len;
		e.prefix_len = (uint32_t)(sig->sig_len - vl);
		e.prefix = sig->data;
		/* a memo that cannot grow costs a parse next time, nothing more */
		if (err >= 0 && sm && vl && sigmemo_add(sm, &e) < 0)
			ma_logf(q->o.log, MA_LOG_DEBUG, "signatures memo: an entry not kept");
	}
	free((void *)e.serial);
	sig_cms_release(&sc);
	return err == -EINVAL ? 0 : err;
}

/* Whether field is one of the five below (modinfo -F of another needs
 * none of them worked out). */
static bool signature_field(const char *field)
{
	static const char *const names[] = { "sig_id", "signer", "sig_key", "sig_hashalgo",
					     "signature" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(field, names[i]))
			return true;
	return false;
}

/* kmod_module_signature_info, then the five fields */
static int sig_fields(struct query *q, const char *path, const struct modrec *rec,
		      struct query_info *info)
{
	const struct mod_sig *sig = &rec->sig;
	char *signer = NULL;
	unsigned char *key_id = NULL, *sigbytes = NULL;
	int err;

	if (!sig->present || sig->algo >= 2 || sig->hash >= 9 || sig->id_type >= 3)
		return 0;
	if (sig->id_type == 2)
		return pkcs7_fields(q, sig, info);
	/* fill_default: the parts the trailer's lengths cut out */
	err = legacy_parts(path, sig, &signer, &key_id, &sigbytes);
	if (!err)
		err = info_add(info, "sig_id", 6, pkey_id_type[sig->id_type],
			       strlen(pkey_id_type[sig->id_type]));
	if (!err)
		err = info_add(info, "signer", 6, signer, strlen(signer));
	if (!err)
		err = info_add_hex(info, "sig_key", key_id, sig->key_id_len);
	if (!err)
		err = info_add(info, "sig_hashalgo", 12, pkey_hash_algo[sig->hash],
			       strlen(pkey_hash_algo[sig->hash]));
	if (!err)
		err = info_add_hex(info, "signature", sigbytes, sig->sig_len);
	FREE_ALL(signer, key_id, sigbytes);
	return err == -ENOMEM ? err : 0;
}

int query_mod_info(struct query *q, struct query_mod *m, struct query_info *info)
{
	const struct modrec *rec;
	struct modrec *owned;
	const char *path;
	int err;

	memset(info, 0, sizeof(*info));
	if (query_mod_builtin(m)) {
		err = builtin_info(q, m->name, info);
		if (err < 0)
			query_info_release(info);
		return err;
	}
	path = query_mod_path(m);
	if (!path)
		return -ENOENT;
	err = record_of(q, path, &rec, &owned);
	if (!err && rec->status != MOD_OK)
		err = rec->err ? rec->err : -EINVAL;
	for (size_t i = 0; !err && i < rec->n_info; i++) {
		const struct mod_info *mi = &rec->info[i];

		err = info_add(info, mi->key, strlen(mi->key), mi->value, strlen(mi->value));
	}
	if (!err && (!q->o.field || signature_field(q->o.field)))
		err = sig_fields(q, path, rec, info);
	modrec_free(owned);
	if (err < 0) {
		query_info_release(info);
		return err;
	}
	return (int)info->n;
}
