/* The PKCS#7 message scripts/sign-file appends to a module: a detached
 * CMS SignedData without certificates. One reader for every command that
 * looks at signatures (check verifies them; modinfo prints kmod's fields):
 * the first signer's identifier (issuer and serial number, or subject key
 * id with sign-file -k), its digest and signature algorithms, the
 * signature value. OpenSSL's CMS API parses it (libcrypto loaded then:
 * sig/crypto_load.h). */
#ifndef MA_SIG_SIG_CMS_H
#define MA_SIG_SIG_CMS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/cms.h>
#include <openssl/x509.h>

#include "sig/crypto_load.h"
#include "util/attr.h"

struct sig_cms {
	const struct crypto_api *ssl; /* for the fields below; set when cms is */
	CMS_ContentInfo *cms;      /* owned */
	CMS_SignerInfo *si;        /* the first signer (inside cms) */
	/* how the signer is named: skid, or issuer and serial */
	ASN1_OCTET_STRING *skid;
	X509_NAME *issuer;
	ASN1_INTEGER *serial;
	X509_ALGOR *digest;        /* digest algorithm, or NULL */
	X509_ALGOR *sigalg;        /* signature algorithm, or NULL */
	ASN1_OCTET_STRING *signature; /* the signature value, or NULL */
};

/* Parse der. 0; -EBADMSG: not a CMS SignedData with a signer (why gets
 * OpenSSL's reason), or libcrypto cannot be loaded (why says so);
 * -EINVAL: the signer info names no signer (cms kept: release it all the
 * same); -ENOMEM. The OpenSSL error queue is left empty. Release with
 * sig_cms_release in every case. */
int sig_cms_open(const uint8_t *der, size_t len, struct sig_cms *s, char *why, size_t whysz)
	MA_MUST_CHECK;
void sig_cms_release(struct sig_cms *s);
/* The signature value's length when its bytes are, provably, the last of
 * der (which s parsed), as scripts/sign-file writes them; else 0. Then
 * any bytes of that length with der's prefix parse to what s holds but
 * the value: the signatures of one key share all the rest, so comparing
 * their prefixes replaces parsing them. */
size_t sig_cms_value_tail(const struct sig_cms *s, const uint8_t *der, size_t len);

/* "the last OpenSSL error" into buf, clearing the queue; why libcrypto
 * cannot be loaded when it cannot. */
const char *sig_ssl_reason(char *buf, size_t size);

#endif
