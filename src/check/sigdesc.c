#include "check/sigdesc.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <limits.h>
#include <string.h>

static int hex_colon(struct strbuf *sb, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strbuf_addf(sb, "%s%02X", i ? ":" : "", p[i]) < 0)
			return -ENOMEM;
	return 0;
}

/* CN of a name (else its one-line form) into sb. */
static int name_cn(struct strbuf *sb, X509_NAME *name)
{
	int idx = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
	unsigned char *utf8 = NULL;
	char *line;
	int n, err;

	if (idx >= 0) {
		n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
		if (n >= 0) {
			err = strbuf_add(sb, utf8, (size_t)n);
			OPENSSL_free(utf8);
			return err;
		}
	}
	if (!name)
		return strbuf_addstr(sb, "(none)");
	line = X509_NAME_oneline(name, NULL, 0);
	err = strbuf_addstr(sb, line ? line : "(unreadable)");
	OPENSSL_free(line);
	return err;
}

int sig_info_describe(CMS_SignerInfo *si, struct sig_info *info)
{
	ASN1_OCTET_STRING *keyid = NULL;
	X509_NAME *issuer = NULL;
	ASN1_INTEGER *sno = NULL;
	X509_ALGOR *dig = NULL, *sig = NULL;
	EVP_PKEY *pk = NULL;
	X509 *signer = NULL;
	int err;

	if (CMS_SignerInfo_get0_signer_id(si, &keyid, &issuer, &sno) != 1)
		return -EINVAL;
	CMS_SignerInfo_get0_algs(si, &pk, &signer, &dig, &sig);
	info->hash = dig ? OBJ_nid2ln(OBJ_obj2nid(dig->algorithm)) : NULL;
	info->pkey = sig ? OBJ_nid2ln(OBJ_obj2nid(sig->algorithm)) : NULL;
	if (!info->hash)
		info->hash = "unknown";
	if (!info->pkey)
		info->pkey = "unknown";
	if (keyid) {
		info->id_kind = "skid";
		err = strbuf_addstr(&info->signer, "(by subject key id)");
		if (!err)
			err = hex_colon(&info->key_id, ASN1_STRING_get0_data(keyid),
					(size_t)ASN1_STRING_length(keyid));
		return err;
	}
	info->id_kind = "serial";
	err = name_cn(&info->signer, issuer);
	if (!err && sno)
		err = hex_colon(&info->key_id, ASN1_STRING_get0_data(sno),
				(size_t)ASN1_STRING_length(sno));
	return err;
}

void sig_info_release(struct sig_info *info)
{
	strbuf_release(&info->signer);
	strbuf_release(&info->key_id);
}

int sig_info_from_der(const uint8_t *der, size_t len, struct sig_info *info)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = NULL;
	STACK_OF(CMS_SignerInfo) *sis;
	int err = -EBADMSG;

	if (der && len <= LONG_MAX && (cms = d2i_CMS_ContentInfo(NULL, &p, (long)len)) &&
	    (sis = CMS_get0_SignerInfos(cms)) && sk_CMS_SignerInfo_num(sis) >= 1) {
		CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, 0);
		ASN1_OCTET_STRING *value = CMS_SignerInfo_get0_signature(si);
		size_t vl = value ? (size_t)ASN1_STRING_length(value) : 0;

		err = sig_info_describe(si, info);
		/* the value's bytes the last of the DER, as sign-file writes it */
		info->value_len = vl && vl < len && !memcmp(der + len - vl, ASN1_STRING_get0_data(value), vl)
					  ? vl : 0;
	}
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return err;
}
