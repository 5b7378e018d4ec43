#include "sig/sig_info.h"

#include <errno.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <string.h>

#include "sig/crypto_load.h"
#include "sig/sig_cms.h"

/* CN of a name (else its one-line form) into sb. */
static int name_cn(const struct crypto_api *ssl, struct strbuf *sb, X509_NAME *name)
{
	int idx = name ? ssl->X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
	unsigned char *utf8 = NULL;
	char *line;
	int n, err;

	if (idx >= 0) {
		n = ssl->ASN1_STRING_to_UTF8(&utf8, ssl->X509_NAME_ENTRY_get_data(
						     ssl->X509_NAME_get_entry(name, idx)));
		if (n >= 0) {
			err = strbuf_add(sb, utf8, (size_t)n);
			ssl->CRYPTO_free(utf8, OPENSSL_FILE, OPENSSL_LINE); /* OPENSSL_free */
			return err;
		}
	}
	if (!name)
		return strbuf_addstr(sb, "(none)");
	line = ssl->X509_NAME_oneline(name, NULL, 0);
	err = strbuf_addstr(sb, line ? line : "(unreadable)");
	ssl->CRYPTO_free(line, OPENSSL_FILE, OPENSSL_LINE);
	return err;
}

int sig_info_describe(const struct sig_cms *sc, struct sig_info *info)
{
	const struct crypto_api *ssl = sc->ssl;
	int err;

	info->hash = sc->digest ? ssl->OBJ_nid2ln(ssl->OBJ_obj2nid(sc->digest->algorithm)) : NULL;
	info->pkey = sc->sigalg ? ssl->OBJ_nid2ln(ssl->OBJ_obj2nid(sc->sigalg->algorithm)) : NULL;
	if (!info->hash)
		info->hash = "unknown";
	if (!info->pkey)
		info->pkey = "unknown";
	if (sc->skid) {
		info->id_kind = "skid";
		err = strbuf_addstr(&info->signer, "(by subject key id)");
		if (!err)
			err = strbuf_add_hex(&info->key_id, ssl->ASN1_STRING_get0_data(sc->skid),
					     (size_t)ssl->ASN1_STRING_length(sc->skid), 0, NULL);
		return err;
	}
	info->id_kind = "serial";
	err = name_cn(ssl, &info->signer, sc->issuer);
	if (!err && sc->serial)
		err = strbuf_add_hex(&info->key_id, ssl->ASN1_STRING_get0_data(sc->serial),
				     (size_t)ssl->ASN1_STRING_length(sc->serial), 0, NULL);
	return err;
}

void sig_info_release(struct sig_info *info)
{
	strbuf_release(&info->signer);
	strbuf_release(&info->key_id);
}

int sig_info_from_der(const uint8_t *der, size_t len, struct sig_info *info)
{
	struct sig_cms sc;
	char why[256];
	int err = sig_cms_open(der, len, &sc, why, sizeof(why));

	if (!err)
		err = sig_info_describe(&sc, info);
	if (!err)
		info->value_len = sig_cms_value_tail(&sc, der, len);
	sig_cms_release(&sc);
	return err;
}
