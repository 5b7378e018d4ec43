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

#define MA_CRYPTO_FN(f) __typeof__(f) *f

struct crypto_api {
	/* errors, memory, stacks */
	MA_CRYPTO_FN(ERR_get_error);
	MA_CRYPTO_FN(ERR_error_string_n);
	MA_CRYPTO_FN(ERR_clear_error);
	MA_CRYPTO_FN(CRYPTO_free);
	MA_CRYPTO_FN(OPENSSL_init_crypto);
	MA_CRYPTO_FN(OPENSSL_sk_num);
	MA_CRYPTO_FN(OPENSSL_sk_value);
	MA_CRYPTO_FN(OPENSSL_sk_new_null);
	MA_CRYPTO_FN(OPENSSL_sk_push);
	MA_CRYPTO_FN(OPENSSL_sk_free);
	/* objects, strings, numbers */
	MA_CRYPTO_FN(OBJ_obj2nid);
	MA_CRYPTO_FN(OBJ_nid2ln);
	MA_CRYPTO_FN(OBJ_obj2txt);
	MA_CRYPTO_FN(ASN1_STRING_get0_data);
	MA_CRYPTO_FN(ASN1_STRING_length);
	MA_CRYPTO_FN(ASN1_STRING_to_UTF8);
	MA_CRYPTO_FN(ASN1_INTEGER_to_BN);
	MA_CRYPTO_FN(BN_free);
	MA_CRYPTO_FN(BN_num_bits);
	MA_CRYPTO_FN(BN_bn2bin);
	/* certificates and names */
	MA_CRYPTO_FN(X509_free);
	MA_CRYPTO_FN(X509_NAME_entry_count);
	MA_CRYPTO_FN(X509_NAME_get_entry);
	MA_CRYPTO_FN(X509_NAME_get_index_by_NID);
	MA_CRYPTO_FN(X509_NAME_ENTRY_get_data);
	MA_CRYPTO_FN(X509_NAME_ENTRY_get_object);
	MA_CRYPTO_FN(X509_NAME_oneline);
	MA_CRYPTO_FN(BIO_new_file);
	MA_CRYPTO_FN(BIO_new_mem_buf);
	MA_CRYPTO_FN(BIO_ctrl);
	MA_CRYPTO_FN(BIO_free);
	MA_CRYPTO_FN(PEM_read_bio_X509);
	MA_CRYPTO_FN(d2i_X509_bio);
	/* CMS */
	MA_CRYPTO_FN(d2i_CMS_ContentInfo);
	MA_CRYPTO_FN(CMS_ContentInfo_free);
	MA_CRYPTO_FN(CMS_get0_SignerInfos);
	MA_CRYPTO_FN(CMS_SignerInfo_get0_algs);
	MA_CRYPTO_FN(CMS_SignerInfo_get0_signature);
	MA_CRYPTO_FN(CMS_SignerInfo_get0_signer_id);
	MA_CRYPTO_FN(CMS_SignerInfo_cert_cmp);
	MA_CRYPTO_FN(CMS_verify);
};

#undef MA_CRYPTO_FN

/* The functions, loaded once (thread-safe; the library is never closed);
 * NULL when libcrypto or one of its functions cannot be loaded, with *why
 * (when why is not NULL) set to dlerror's words, static storage. */
const struct crypto_api *crypto_api(const char **why);

#endif
