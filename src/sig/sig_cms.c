#include "sig/sig_cms.h"

#include <errno.h>
#include <stdio.h>
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
