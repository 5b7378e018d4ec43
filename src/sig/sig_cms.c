#include "sig/sig_cms.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

const char *sig_ssl_reason(char *buf, size_t size)
{
	unsigned long e = ERR_get_error();

	if (!e)
		snprintf(buf, size, "unknown reason");
	else
		ERR_error_string_n(e, buf, size);
	ERR_clear_error();
	return buf;
}

int sig_cms_open(const uint8_t *der, size_t len, struct sig_cms *s, char *why, size_t whysz)
{
	const unsigned char *p = der;
	STACK_OF(CMS_SignerInfo) *sis;
	EVP_PKEY *pk = NULL;
	X509 *signer = NULL;

	memset(s, 0, sizeof(*s));
	if (!der || len > 0x7fffffff) {
		snprintf(why, whysz, "%s", der ? "too long" : "not kept");
		return -EBADMSG;
	}
	s->cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	if (!s->cms || !(sis = CMS_get0_SignerInfos(s->cms)) || sk_CMS_SignerInfo_num(sis) < 1) {
		sig_ssl_reason(why, whysz);
		return -EBADMSG;
	}
	s->si = sk_CMS_SignerInfo_value(sis, 0);
	CMS_SignerInfo_get0_algs(s->si, &pk, &signer, &s->digest, &s->sigalg);
	s->signature = CMS_SignerInfo_get0_signature(s->si);
	if (CMS_SignerInfo_get0_signer_id(s->si, &s->skid, &s->issuer, &s->serial) != 1) {
		ERR_clear_error();
		snprintf(why, whysz, "no signer identifier");
		return -EINVAL;
	}
	ERR_clear_error();
	return 0;
}

void sig_cms_release(struct sig_cms *s)
{
	CMS_ContentInfo_free(s->cms);
	memset(s, 0, sizeof(*s));
}
