#include "sig/crypto_load.h"

#include <stddef.h>
#include <stdio.h>

#include "util/dlapi.h"

#ifndef MA_CRYPTO_SONAME
#define MA_CRYPTO_SONAME "libcrypto.so.3"
#endif

static struct crypto_api api;

/* One row per function: its name, where it goes in api. */
static const struct dlapi_sym syms[] = {
#define F(f) { #f, offsetof(struct crypto_api, f) }
	F(ERR_get_error), F(ERR_error_string_n), F(ERR_clear_error), F(CRYPTO_free),
	F(OPENSSL_init_crypto),
	F(OPENSSL_sk_num), F(OPENSSL_sk_value), F(OPENSSL_sk_new_null), F(OPENSSL_sk_push),
	F(OPENSSL_sk_free),
	F(OBJ_obj2nid), F(OBJ_nid2ln), F(OBJ_obj2txt), F(ASN1_STRING_get0_data),
	F(ASN1_STRING_length), F(ASN1_STRING_to_UTF8), F(ASN1_INTEGER_to_BN), F(BN_free),
	F(BN_num_bits), F(BN_bn2bin),
	F(X509_free), F(X509_NAME_entry_count), F(X509_NAME_get_entry),
	F(X509_NAME_get_index_by_NID), F(X509_NAME_ENTRY_get_data), F(X509_NAME_ENTRY_get_object),
	F(X509_NAME_oneline), F(BIO_new_file), F(BIO_new_mem_buf), F(BIO_ctrl), F(BIO_free),
	F(PEM_read_bio_X509), F(d2i_X509_bio),
	F(d2i_CMS_ContentInfo), F(CMS_ContentInfo_free), F(CMS_get0_SignerInfos),
	F(CMS_SignerInfo_get0_algs), F(CMS_SignerInfo_get0_signature),
	F(CMS_SignerInfo_get0_signer_id), F(CMS_SignerInfo_cert_cmp), F(CMS_verify),
#undef F
};

DLAPI_ONE_ROW_EACH(syms, struct crypto_api);

/* The first call initialises OpenSSL, by default reading the host's
 * openssl.cnf: what a signature is, and whether the kernel takes it, does
 * not depend on this machine's configuration. Never closed: OpenSSL keeps
 * per-thread and global state until exit. */
static int init(void *a, char *err, size_t errsz)
{
	if (((struct crypto_api *)a)->OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL))
		return 0;
	snprintf(err, errsz, "OpenSSL could not be initialised");
	return -1;
}

static struct dlapi_lib lib = DLAPI_LIB(MA_CRYPTO_SONAME, syms, &api, init);

const struct crypto_api *crypto_api(const char **why)
{
	return dlapi_get(&lib, why);
}
