/* Who signed a module, as text: the signer (the issuer's CN, or "(by
 * subject key id)"), the key id (serial, or subject key id), the digest
 * and key algorithms, from the PKCS#7 sig_cms reads. check reports it
 * (MA-SIG-INFO); diff compares it between two trees. */
#ifndef MA_SIG_SIG_INFO_H
#define MA_SIG_SIG_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "util/attr.h"
#include "util/strbuf.h"

struct sig_cms;

struct sig_info {
	struct strbuf signer;  /* issuer CN, or "(by subject key id)" */
	struct strbuf key_id;  /* serial or SKID, colon-separated hex */
	const char *id_kind;   /* "serial" or "skid" */
	const char *hash;      /* "sha256" ... (OpenSSL's long names, static) */
	const char *pkey;      /* "rsaEncryption" ... */
	size_t value_len;      /* sig_info_from_der: the signature value's
				  length when it is, provably, the DER's last
				  bytes (sig_cms_value_tail), else 0: the
				  bytes before it say who signed, and how */
};

#define SIG_INFO_INIT { STRBUF_INIT, STRBUF_INIT, "serial", NULL, NULL, 0 }

void sig_info_release(struct sig_info *info);

/* Describe sc's signer into info (initialised). 0 or -ENOMEM. */
int sig_info_describe(const struct sig_cms *sc, struct sig_info *info) MA_MUST_CHECK;

/* The same from a signature's bytes (struct mod_sig's data, sig_len):
 * 0, -EBADMSG when they are not a CMS SignedData with a signer, -EINVAL
 * when it names no signer, -ENOMEM. */
int sig_info_from_der(const uint8_t *der, size_t len, struct sig_info *info) MA_MUST_CHECK;

#endif
