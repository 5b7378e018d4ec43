#include "sig/sig_cms.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sig_ssl_reason(char *buf, size_t size)
{
	const char *nolib;
	const struct crypto_api *ssl = crypto_api(&nolib);
	unsigned long e;

	if (!ssl) {
		snprintf(buf, size, "%s", nolib);
		return buf;
	}
	e = ssl->ERR_get_error();
	if (!e)
		snprintf(buf, size, "unknown reason");
	else
		ssl->ERR_error_string_n(e, buf, size);
	ssl->ERR_clear_error();
	return buf;
}

int sig_cms_open(const uint8_t *der, size_t len, struct sig_cms *s, char *why, size_t whysz)
{
	const unsigned char *p = der;
	STACK_OF(CMS_SignerInfo) *sis;
	EVP_PKEY *pk = NULL;
	X509 *signer = NULL;
	const struct crypto_api *ssl;
	const char *nolib;

	memset(s, 0, sizeof(*s));
	if (!der || len > 0x7fffffff) {
		snprintf(why, whysz, "%s", der ? "too long" : "not kept");
		return -EBADMSG;
	}
	ssl = s->ssl = crypto_api(&nolib);
	if (!ssl) {
		snprintf(why, whysz, "%s", nolib);
		return -EBADMSG;
	}
	s->cms = ssl->d2i_CMS_ContentInfo(NULL, &p, (long)len);
	/* sk_CMS_SignerInfo_num and _value, through the table */
	if (!s->cms || !(sis = ssl->CMS_get0_SignerInfos(s->cms)) ||
	    ssl->OPENSSL_sk_num(ossl_check_const_CMS_SignerInfo_sk_type(sis)) < 1) {
		sig_ssl_reason(why, whysz);
		return -EBADMSG;
	}
	s->si = ssl->OPENSSL_sk_value(ossl_check_const_CMS_SignerInfo_sk_type(sis), 0);
	ssl->CMS_SignerInfo_get0_algs(s->si, &pk, &signer, &s->digest, &s->sigalg);
	s->signature = ssl->CMS_SignerInfo_get0_signature(s->si);
	if (ssl->CMS_SignerInfo_get0_signer_id(s->si, &s->skid, &s->issuer, &s->serial) != 1) {
		ssl->ERR_clear_error();
		snprintf(why, whysz, "no signer identifier");
		return -EINVAL;
	}
	ssl->ERR_clear_error();
	return 0;
}

void sig_cms_release(struct sig_cms *s)
{
	if (s->cms)
		s->ssl->CMS_ContentInfo_free(s->cms);
	memset(s, 0, sizeof(*s));
}

/* Equal bytes need not be the same bytes: the tail could equal the
 * value by construction and be, say, an attribute. So the tail is
 * flipped and parsed again: when the value follows it byte for byte, the
 * tail holds no header, only the value's content, which no parse looks
 * into; every header lies in the prefix, and a prefix parses the same
 * whatever follows it. */
size_t sig_cms_value_tail(const struct sig_cms *s, const uint8_t *der, size_t len)
{
	const struct crypto_api *ssl = s->ssl;
	size_t vl = s->signature ? (size_t)ssl->ASN1_STRING_length(s->signature) : 0;
	struct sig_cms alt;
	uint8_t *flipped;
	char why[64];
	bool same;

	if (!vl || vl >= len ||
	    memcmp(der + len - vl, ssl->ASN1_STRING_get0_data(s->signature), vl) != 0)
		return 0;
	flipped = malloc(len);
	if (!flipped)
		return 0;
	memcpy(flipped, der, len);
	for (size_t i = len - vl; i < len; i++)
		flipped[i] ^= 0xff;
	same = sig_cms_open(flipped, len, &alt, why, sizeof(why)) == 0 && alt.signature &&
	       (size_t)ssl->ASN1_STRING_length(alt.signature) == vl &&
	       !memcmp(ssl->ASN1_STRING_get0_data(alt.signature), flipped + len - vl, vl);
	sig_cms_release(&alt);
	free(flipped);
	return same ? vl : 0;
}
