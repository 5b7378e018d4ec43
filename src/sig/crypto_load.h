/* OpenSSL's libcrypto, loaded when a signature or a certificate is first
 * read. Linked, its relocations cost every run of modatlas about 1.4 MB of
 * resident memory, depmod's and the queries' too, which never use it.
 * Every OpenSSL call goes through this table, the ones OpenSSL's header
 * macros expand to as well: sk_X509_num is OPENSSL_sk_num, OPENSSL_free
 * CRYPTO_free, BIO_reset BIO_ctrl, BN_num_bytes BN_num_bits. */
#ifndef MA_SIG_CRYPTO_LOAD_H
#define MA_SIG_CRYPTO_LOAD_H

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/safestack.h>
#include <openssl/x509.h>

#include "util/dlapi.h"

struct crypto_api {
	/* errors, memory, stacks */
	DLAPI_FN(ERR_get_error);
	DLAPI_FN(ERR_error_string_n);
	DLAPI_FN(ERR_clear_error);
	DLAPI_FN(CRYPTO_free);
	DLAPI_FN(OPENSSL_init_crypto);
	DLAPI_FN(OPENSSL_sk_num);
	DLAPI_FN(OPENSSL_sk_value);
	DLAPI_FN(OPENSSL_sk_new_null);
	DLAPI_FN(OPENSSL_sk_push);
	DLAPI_FN(OPENSSL_sk_free);
	/* objects, strings, numbers */
	DLAPI_FN(OBJ_obj2nid);
	DLAPI_FN(OBJ_nid2ln);
	DLAPI_FN(OBJ_obj2txt);
	DLAPI_FN(ASN1_STRING_get0_data);
	DLAPI_FN(ASN1_STRING_length);
	DLAPI_FN(ASN1_STRING_to_UTF8);
	DLAPI_FN(ASN1_INTEGER_to_BN);
	DLAPI_FN(BN_free);
	DLAPI_FN(BN_num_bits);
	DLAPI_FN(BN_bn2bin);
	/* certificates and names */
	DLAPI_FN(X509_free);
	DLAPI_FN(X509_NAME_entry_count);
	DLAPI_FN(X509_NAME_get_entry);
	DLAPI_FN(X509_NAME_get_index_by_NID);
	DLAPI_FN(X509_NAME_ENTRY_get_data);
	DLAPI_FN(X509_NAME_ENTRY_get_object);
	DLAPI_FN(X509_NAME_oneline);
	DLAPI_FN(BIO_new_file);
	DLAPI_FN(BIO_new_mem_buf);
	DLAPI_FN(BIO_ctrl);
	DLAPI_FN(BIO_free);
	DLAPI_FN(PEM_read_bio_X509);
	DLAPI_FN(d2i_X509_bio);
	/* CMS */
	DLAPI_FN(d2i_CMS_ContentInfo);
	DLAPI_FN(CMS_ContentInfo_free);
	DLAPI_FN(CMS_get0_SignerInfos);
	DLAPI_FN(CMS_SignerInfo_get0_algs);
	DLAPI_FN(CMS_SignerInfo_get0_signature);
	DLAPI_FN(CMS_SignerInfo_get0_signer_id);
	DLAPI_FN(CMS_SignerInfo_cert_cmp);
	DLAPI_FN(CMS_verify);
};


/* The functions, loaded once (thread-safe; the library is never closed);
 * NULL when libcrypto or one of its functions cannot be loaded, with *why
 * (when why is not NULL) set to dlerror's words, static storage. */
const struct crypto_api *crypto_api(const char **why);

#endif
