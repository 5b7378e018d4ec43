/* Module signatures (kernel/module/signing.c, mod_verify_sig):
 *
 *   MA-SIG-INFO       each PKCS#7 signature: signer (issuer CN), key id
 *                     (serial or subject key id), hash algorithm
 *   MA-SIG-BAD        a trailer whose lengths lie, a PKCS#7 that does not
 *                     parse, non-zero fields the kernel requires to be 0
 *                     ("Bad message"), or, with --cert, a signature by a
 *                     given key that does not verify ("Key was rejected
 *                     by service"); errors even without enforcement
 *   MA-SIG-UNTRUSTED  with --cert: signed by a key none of them holds
 *                     ("Required key not available" where signatures are
 *                     enforced: module.sig_enforce, Secure Boot lockdown)
 *   MA-UNSIGNED       no signature in a signed tree (more than half of the
 *                     tree's modules signed): warning; error with --cert,
 *                     since giving the target's keys says it checks them
 *
 * Signatures are detached CMS SignedData without certificates (what
 * scripts/sign-file writes), so OpenSSL's CMS API reads them
 * (src/sig/sig_cms.c, shared with modinfo): it knows both signer
 * identifiers (issuer+serial, or subject key id with sign-file -k);
 * libcrypto is loaded then (src/sig/crypto_load.c). Verification needs
 * the signed bytes, which the record does not keep: the file is read
 * again (and decompressed), only with --cert. */
#include "check/check_int.h"

#include <errno.h>
#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf/decompress.h"
#include "elf/module.h"
#include "sig/crypto_load.h"
#include "sig/sig_cms.h"
#include "sig/sig_info.h"
#include "util/fileio.h"
#include "util/jobs.h"
#include "util/array.h"
#include "util/strbuf.h"

#define SIG_MAGIC_LEN 28   /* "~Module signature appended~\n" */
#define SIG_INFO_LEN 12    /* struct module_signature */
#define PKEY_ID_PKCS7 2

struct ck_certs {
	const struct crypto_api *ssl; /* set when n > 0 */
	X509 **v;
	size_t n, alloc;
};

static int load_cert_file(const char *path, struct ck_certs *cs, const struct ma_log *log)
{
	char why[256];
	const struct crypto_api *ssl = crypto_api(NULL);
	BIO *bio = ssl ? ssl->BIO_new_file(path, "rb") : NULL;
	size_t before = cs->n;
	X509 *x;

	/* without libcrypto, sig_ssl_reason says why */
	if (!bio) {
		ma_logf(log, MA_LOG_CRIT, "cannot read certificate %s: %s", path,
			sig_ssl_reason(why, sizeof(why)));
		return -ENOENT;
	}
	cs->ssl = ssl;
	while ((x = ssl->PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		if (ARRAY_PUSH(cs->v, cs->n, cs->alloc, x) < 0) {
			ssl->X509_free(x);
			ssl->BIO_free(bio);
			return -ENOMEM;
		}
	}
	ssl->ERR_clear_error(); /* the PEM loop ends with "no start line" */
	if (cs->n == before) {
		if (array_reserve((void **)&cs->v, &cs->alloc, cs->n, sizeof(*cs->v)) < 0) {
			ssl->BIO_free(bio);
			return -ENOMEM;
		}
		(void)ssl->BIO_ctrl(bio, BIO_CTRL_RESET, 0, NULL); /* BIO_reset */
		x = ssl->d2i_X509_bio(bio, NULL);
		if (!x) {
			ssl->BIO_free(bio);
			ma_logf(log, MA_LOG_CRIT,
				"cannot read certificate %s: neither PEM nor DER X.509 (%s)", path,
				sig_ssl_reason(why, sizeof(why)));
			return -EINVAL;
		}
		cs->v[cs->n++] = x;
	}
	ssl->BIO_free(bio);
	return 0;
}

void ck_certs_free(struct ck_certs *cs)
{
	if (!cs)
		return;
	for (size_t i = 0; i < cs->n; i++)
		cs->ssl->X509_free(cs->v[i]);
	free(cs->v);
	free(cs);
}

int ck_certs_load(struct check_ctx *c)
{
	int err = 0;

	c->certs = calloc(1, sizeof(*c->certs));
	if (!c->certs)
		return -ENOMEM;
	for (size_t i = 0; !err && i < c->o->n_certs; i++)
		err = load_cert_file(c->o->certs[i], c->certs, c->log);
	return err;
}

/* The bytes the signature covers: the (decompressed) file up to the
 * signature. malloc'd into *buf; *len is the signed length. */
static int signed_bytes(const struct ck_mod *m, void **buf, size_t *len, char *why, size_t whysz)
{
	const struct modrec *r = m->rec;
	char *raw;
	size_t rawlen, tail;
	int err = read_file(m->path, MODFILE_DEFAULT_MAX_SIZE, &raw, &rawlen);

	if (err < 0) {
		snprintf(why, whysz, "cannot read: %s", strerror(-err));
		return err;
	}
	if (r->comp != MOD_COMP_NONE) {
		void *out;
		size_t outlen;

		err = decompress_buf(r->comp, raw, rawlen, MODFILE_DEFAULT_MAX_SIZE, 0, NULL, &out, &outlen,
				     why, whysz);
		free(raw);
		if (err < 0)
			return err;
		raw = out;
		rawlen = outlen;
	}
	tail = SIG_MAGIC_LEN + SIG_INFO_LEN + r->sig.sig_len + r->sig.signer_len +
	       r->sig.key_id_len;
	if (rawlen < tail) {
		free(raw);
		snprintf(why, whysz, "file changed since it was read");
		return -EINVAL;
	}
	*buf = raw;
	*len = rawlen - tail;
	return 0;
}

/* What the reading of one signature found: worked out for every signed
 * module at once on the job pool (parsing, and with --cert reading the
 * file again and verifying), then reported in module order. */
enum sig_state {
	SIG_UNREAD = 0,
	SIG_NOT_PKCS7,    /* id_type is not PKCS#7 */
	SIG_NONZERO,      /* reserved trailer fields set */
	SIG_NOT_CMS,      /* the bytes are no CMS SignedData (why) */
	SIG_NO_SIGNER,
	SIG_DESCRIBED,    /* info */
};

enum sig_check {
	CHECK_NONE = 0,   /* no --cert */
	CHECK_NO_KEY,     /* no --cert holds the signer's key */
	CHECK_UNREAD,     /* the signed bytes could not be read (why) */
	CHECK_OK,
	CHECK_BAD,        /* does not verify (why) */
};

struct sig_result {
	enum sig_state state;
	enum sig_check check;
	struct sig_info info;
	char why[256];
	int err;          /* -ENOMEM */
};

struct sigctx {
	struct check_ctx *c;
	const struct ck_certs *certs;
	size_t n_verified;
	struct sig_result *res;   /* by module index */
	/* Without --cert: the first signature read, when the rest may be
	 * matched against it (sig_cms_value_tail): its module, its prefix. */
	const struct sig_result *model;
	const struct mod_sig *model_sig;
	size_t model_prefix;
};

/* module_sig_check(): a signature the kernel cannot trust (unsigned,
 * unsupported, unknown key) is refused only where signatures are
 * enforced (-EKEYREJECTED) or by lockdown (-EPERM); otherwise the module
 * loads and taints E. reason: the kernel's words for it. */
static void untrusted(struct check_ctx *c, size_t i, const char *reason, const char *cause,
		      const char *fix)
{
	if (c->o->sig_enforce)
		ck_refuse(c, (long)i, STAGE_SIGNATURE, EKEYREJECTED, cause,
			  ck_str(c, "Loading of %s is rejected", reason), fix);
	else if (c->o->lockdown)
		ck_refuse(c, (long)i, STAGE_SIGNATURE, EPERM, cause,
			  ck_str(c, "Lockdown: modprobe: unsigned module loading is restricted; "
				    "see man kernel_lockdown.7"),
			  fix);
	else
		c->mods[i].taint_e = true;
}

/* A signature the kernel rejects whatever the policy (mod_check_sig,
 * pkcs7 parsing or verification): err returned as is. */
static void rejected(struct check_ctx *c, size_t i, int err, const char *cause,
		     const char *dmesg)
{
	ck_refuse(c, (long)i, STAGE_SIGNATURE, err, cause, dmesg,
		  "sign it again with scripts/sign-file and a key the kernel trusts");
}

/* With --cert: which key signed it, and does the signature hold (on a
 * worker thread: nothing shared is written). */
static void verify(const struct sigctx *s, size_t i, const struct sig_cms *sc,
		   struct sig_result *res)
{
	const struct crypto_api *ssl = sc->ssl;
	const struct ck_mod *m = &s->c->mods[i];
	STACK_OF(X509) *st = NULL;
	X509 *cert = NULL;
	BIO *in = NULL;
	void *buf = NULL;
	size_t len = 0;

	for (size_t k = 0; k < s->certs->n && !cert; k++)
		if (ssl->CMS_SignerInfo_cert_cmp(sc->si, s->certs->v[k]) == 0)
			cert = s->certs->v[k];
	if (!cert) {
		res->check = CHECK_NO_KEY;
		return;
	}
	if (signed_bytes(m, &buf, &len, res->why, sizeof(res->why)) < 0) {
		res->check = CHECK_UNREAD;
		return;
	}
	/* sk_X509_new_null, sk_X509_push, sk_X509_free through the table */
	st = (STACK_OF(X509) *)ssl->OPENSSL_sk_new_null();
	in = ssl->BIO_new_mem_buf(buf, (int)len);
	if (!st || !in ||
	    !ssl->OPENSSL_sk_push(ossl_check_X509_sk_type(st), ossl_check_X509_type(cert)))
		res->err = -ENOMEM;
	/* No chain to build: the kernel trusts the key itself. */
	else if (ssl->CMS_verify(sc->cms, st, NULL, in, NULL,
				 CMS_DETACHED | CMS_BINARY | CMS_NOVERIFY | CMS_NOINTERN) == 1)
		res->check = CHECK_OK;
	else {
		res->check = CHECK_BAD;
		sig_ssl_reason(res->why, sizeof(res->why));
	}
	ssl->BIO_free(in);
	ssl->OPENSSL_sk_free(ossl_check_X509_sk_type(st)); /* the certs stay ours */
	free(buf);
}

/* A signature that differs from the model's only in its value: the
 * model's description, copied. */
static bool like_model(const struct sigctx *s, const struct mod_sig *sig, struct sig_result *res)
{
	const struct sig_result *m = s->model;

	if (!s->model_prefix || sig->sig_len != s->model_sig->sig_len ||
	    memcmp(sig->data, s->model_sig->data, s->model_prefix) != 0)
		return false;
	res->state = SIG_DESCRIBED;
	res->info.id_kind = m->info.id_kind;
	res->info.hash = m->info.hash;
	res->info.pkey = m->info.pkey;
	if (strbuf_addstr(&res->info.signer, m->info.signer.buf) < 0 ||
	    strbuf_addstr(&res->info.key_id, m->info.key_id.buf) < 0)
		res->err = -ENOMEM;
	return true;
}

/* One signed module, on a worker thread; the model's (be_model) before
 * the others, and on the caller's. */
static int read_signature(struct sigctx *s, size_t i, bool be_model)
{
	const struct mod_sig *sig = &s->c->mods[i].rec->sig;
	struct sig_result *res = &s->res[i];
	struct sig_cms sc;
	int err;

	if (sig->id_type != PKEY_ID_PKCS7) {
		res->state = SIG_NOT_PKCS7;
		return 0;
	}
	if (sig->algo || sig->hash || sig->signer_len || sig->key_id_len) {
		res->state = SIG_NONZERO;
		return 0;
	}
	if (like_model(s, sig, res))
		return 0;
	err = sig_cms_open(sig->data, sig->sig_len, &sc, res->why, sizeof(res->why));
	if (err == -EBADMSG) {
		res->state = SIG_NOT_CMS;
		sig_cms_release(&sc);
		return 0;
	}
	if (!err)
		err = sig_info_describe(&sc, &res->info);
	if (err == -EINVAL)
		res->state = SIG_NO_SIGNER;
	else if (err)
		res->err = err;
	else
		res->state = SIG_DESCRIBED;
	if (!err && s->certs->n)
		verify(s, i, &sc, res);
	if (!err && be_model) {
		size_t vl = sig_cms_value_tail(&sc, sig->data, sig->sig_len);

		s->model = res;
		s->model_sig = sig;
		s->model_prefix = vl ? sig->sig_len - vl : 0;
	}
	if (sc.ssl)
		sc.ssl->ERR_clear_error();
	sig_cms_release(&sc);
	return 0;
}

struct read_plan {
	struct sigctx *s;     /* (read-only while the pool runs) */
	const size_t *order;
};

static int read_one(void *ud, size_t k, const struct ma_log *log)
{
	const struct read_plan *ra = ud;

	(void)log;
	return read_signature(ra->s, ra->order[k], false);
}

/* What read_signature found, as findings and refusals. */
static int report_signed(struct sigctx *s, size_t i)
{
	struct check_ctx *c = s->c;
	const struct ck_mod *m = &c->mods[i];
	struct sig_result *res = &s->res[i];
	const struct sig_info *info = &res->info;
	struct finding *f, *sig_info;

	if (res->err)
		return res->err;
	switch (res->state) {
	case SIG_NOT_PKCS7:
		ck_add(c, K_SIG_BAD, SEV_WARNING, (long)i,
		       "%s: signature id_type %u is not PKCS#7: \"module with unsupported crypto\"",
		       m->modname, m->rec->sig.id_type);
		untrusted(c, i, "module with unsupported crypto",
			  ck_str(c, "signature id_type %u is not PKCS#7", m->rec->sig.id_type),
			  "sign it again with scripts/sign-file (PKCS#7)");
		return 0;
	case SIG_NONZERO:
		ck_add(c, K_SIG_BAD, SEV_ERROR, (long)i,
		       "%s: PKCS#7 signature trailer has non-zero algo/hash/signer/key id fields: "
		       "\"Bad message\"",
		       m->modname);
		rejected(c, i, EBADMSG, "the signature trailer has non-zero reserved fields",
			 ck_str(c, "%s: PKCS#7 signature info has unexpected non-zero params",
				m->modname));
		return 0;
	case SIG_NOT_CMS:
		ck_add(c, K_SIG_BAD, SEV_ERROR, (long)i,
		       "%s: signature is not a CMS SignedData (%s): \"Bad message\"", m->modname,
		       res->why);
		rejected(c, i, EBADMSG, "the signature is not a PKCS#7 message", NULL);
		return 0;
	case SIG_NO_SIGNER:
		ck_add(c, K_SIG_BAD, SEV_ERROR, (long)i, "%s: signature names no signer: \"Bad message\"",
		       m->modname);
		rejected(c, i, EBADMSG, "the signature names no signer", NULL);
		return 0;
	case SIG_DESCRIBED:
		break;
	default:
		return 0;
	}
	sig_info = ck_add(c, K_SIG_INFO, SEV_INFO, (long)i, "%s: signer \"%s\", %s %s, %s, %s",
			  m->modname, info->signer.buf, info->id_kind, info->key_id.buf, info->hash,
			  info->pkey);
	finding_set_str(c->rep, sig_info, "signer", info->signer.buf);
	finding_set_str(c->rep, sig_info, "key_id", info->key_id.buf);
	finding_set_str(c->rep, sig_info, "key_id_kind", info->id_kind);
	finding_set_str(c->rep, sig_info, "hash", info->hash);
	finding_set_str(c->rep, sig_info, "key_algorithm", info->pkey);
	switch (res->check) {
	case CHECK_NO_KEY:
		f = ck_add(c, K_SIG_UNTRUSTED, SEV_ERROR, (long)i,
			   "%s is signed by \"%s\" (%s %s), which no --cert holds: "
			   "\"Required key not available\" where signatures are enforced",
			   m->modname, info->signer.buf, info->id_kind, info->key_id.buf);
		finding_set_str(c->rep, f, "signer", info->signer.buf);
		finding_set_str(c->rep, f, "key_id", info->key_id.buf);
		untrusted(c, i, "module with unavailable key",
			  ck_str(c, "signed by \"%s\", a key the kernel does not hold",
				 info->signer.buf),
			  ck_str(c, "enrol the signer's certificate (mokutil --import CERT), or "
				    "sign it with a key the kernel trusts"));
		break;
	case CHECK_UNREAD:
		ck_add(c, K_SIG_BAD, SEV_ERROR, (long)i, "%s: signature not verified: %s", m->modname,
		       res->why);
		break;
	case CHECK_OK:
		s->n_verified++;
		finding_set_json(c->rep, sig_info, "verified", json_object_new_boolean(1));
		break;
	case CHECK_BAD:
		f = ck_add(c, K_SIG_BAD, SEV_ERROR, (long)i,
			   "%s: signature by \"%s\" does not verify (%s): \"Key was rejected by "
			   "service\"",
			   m->modname, info->signer.buf, res->why);
		finding_set_str(c->rep, f, "signer", info->signer.buf);
		rejected(c, i, EKEYREJECTED,
			 ck_str(c, "its signature by \"%s\" does not verify (modified after "
				   "signing?)",
				info->signer.buf),
			 NULL);
		break;
	default:
		break;
	}
	return 0;
}

/* The modules whose signature is read: wanted, readable, signed. */
static bool to_read(const struct ck_mod *m)
{
	return !m->broken && m->wanted && !(m->rec->notes & MOD_NOTE_SIG_BAD) &&
	       m->rec->sig.present;
}

/* Every signature read, on the job pool; results by module index. */
static int read_all(struct sigctx *s)
{
	struct check_ctx *c = s->c;
	struct jobs_cfg jc = { .threads = c->o->jobs };
	size_t *order, n = 0, first;
	int err;

	s->res = calloc(c->n + 1, sizeof(*s->res));
	order = malloc((c->n + 1) * sizeof(*order));
	if (!s->res || !order) {
		free(order);
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->n; i++) {
		s->res[i].info = (struct sig_info)SIG_INFO_INIT;
		if (to_read(&c->mods[i]))
			order[n++] = i;
	}
	/* Without --cert one signature is read first: those of the same key
	 * are then only compared with it (a tree is signed by one key). */
	first = n && !s->certs->n;
	if (first) {
		err = read_signature(s, order[0], true);
		if (err < 0) {
			free(order);
			return err;
		}
	}
	err = jobs_run(n - first, NULL, &jc, read_one, &(struct read_plan){ s, order + first });
	free(order);
	return err;
}

int ck_signatures(struct check_ctx *c)
{
	struct sigctx s = { .c = c, .certs = c->certs };
	size_t n_ok = 0, n_signed = 0;
	bool signed_tree, enforced = c->o->sig_enforce || c->o->lockdown;
	int err = 0;

	for (size_t i = 0; i < c->m->n_tree; i++) {
		if (c->mods[i].broken)
			continue;
		n_ok++;
		n_signed += c->mods[i].rec->sig.present;
	}
	signed_tree = n_signed * 2 > n_ok;
	err = read_all(&s);
	for (size_t i = 0; !err && i < c->n; i++) {
		const struct ck_mod *m = &c->mods[i];

		if (m->broken || !m->wanted)
			continue;
		if (m->rec->notes & MOD_NOTE_SIG_BAD) {
			ck_add(c, K_SIG_BAD, SEV_ERROR, (long)i,
			       "%s: signature trailer lengths do not fit the file: \"Bad message\"",
			       m->modname);
			rejected(c, i, EBADMSG, "the signature trailer's lengths do not fit the file",
				 NULL);
		} else if (!m->rec->sig.present) {
			if (signed_tree || s.certs->n || enforced)
				ck_add(c, K_UNSIGNED, s.certs->n || enforced ? SEV_ERROR : SEV_WARNING,
				       (long)i,
				       "%s is not signed, %s: the kernel taints, or refuses it where "
				       "signatures are enforced",
				       m->modname,
				       signed_tree ? "in a tree whose modules are signed"
				       : s.certs->n ? "and --cert says signatures are checked"
						    : "and signatures are enforced");
			if (signed_tree || s.certs->n || enforced)
				untrusted(c, i, "unsigned module", "not signed",
					  "sign it with the kernel's key (scripts/sign-file), or "
					  "with a key enrolled with mokutil --import");
		} else {
			err = report_signed(&s, i);
		}
	}
	if (!err && s.certs->n)
		ma_logf(c->log, MA_LOG_INFO, "%zu module signatures verified", s.n_verified);
	for (size_t i = 0; s.res && i < c->n; i++) {
		sig_info_release(&s.res[i].info);
	}
	free(s.res);
	return err;
}
