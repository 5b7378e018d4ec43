/* sig_cms_value_tail: the signature value is the DER's last bytes only
 * when a parse proves it, so that signatures compared by their prefix
 * (check's signature analyzer, diff) describe the same signer as a parse
 * would. Signatures are made here, with a fresh key, the way
 * scripts/sign-file makes them (detached, no certificates, no signed
 * attributes), then altered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "sig/sig_cms.h"
#include "sig/sig_info.h"

static EVP_PKEY *key;
static X509 *cert;

static int make_key(void **state)
{
	X509_NAME *name;

	(void)state;
	key = EVP_RSA_gen(2048);
	cert = X509_new();
	if (!key || !cert)
		return -1;
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 0x1234567);
	X509_gmtime_adj(X509_getm_notBefore(cert), 0);
	X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
	X509_set_pubkey(cert, key);
	name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"modatlas tail test", -1, -1, 0);
	X509_set_issuer_name(cert, name);
	return X509_sign(cert, key, EVP_sha256()) > 0 ? 0 : -1;
}

static int free_key(void **state)
{
	(void)state;
	X509_free(cert);
	EVP_PKEY_free(key);
	return 0;
}

/* A detached signature of data, as sign-file writes it; with
 * unsigned_copy, an unsigned attribute after the value holding a copy of
 * it (so the DER's last bytes equal the value without being it). */
static uint8_t *sign(const char *data, bool unsigned_copy, size_t *len)
{
	const int flags = CMS_NOCERTS | CMS_PARTIAL | CMS_BINARY | CMS_DETACHED | CMS_STREAM;
	BIO *in = BIO_new_mem_buf(data, (int)strlen(data));
	CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
	CMS_SignerInfo *si;
	unsigned char *der = NULL;
	int n;

	assert_non_null(in);
	assert_non_null(cms);
	si = CMS_add1_signer(cms, cert, key, EVP_sha256(),
			     CMS_NOCERTS | CMS_BINARY | CMS_NOSMIMECAP | CMS_NOATTR);
	assert_non_null(si);
	assert_int_equal(CMS_final(cms, in, NULL, CMS_NOCERTS | CMS_BINARY), 1);
	if (unsigned_copy) {
		ASN1_OCTET_STRING *v = CMS_SignerInfo_get0_signature(si);

		assert_int_equal(CMS_unsigned_add1_attr_by_NID(si, NID_pkcs9_unstructuredName,
							       V_ASN1_OCTET_STRING,
							       ASN1_STRING_get0_data(v),
							       ASN1_STRING_length(v)),
				 1);
	}
	n = i2d_CMS_ContentInfo(cms, &der);
	assert_true(n > 0);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	*len = (size_t)n;
	return der;
}

static size_t tail_of(const uint8_t *der, size_t len)
{
	struct sig_cms sc;
	char why[256];
	size_t vl;

	assert_int_equal(sig_cms_open(der, len, &sc, why, sizeof(why)), 0);
	vl = sig_cms_value_tail(&sc, der, len);
	sig_cms_release(&sc);
	return vl;
}

/* sign-file's layout: the value is the tail, and two signatures by one
 * key differ only there, describing the same signer. */
static void test_sign_file_layout(void **state)
{
	struct sig_info a = SIG_INFO_INIT, b = SIG_INFO_INIT;
	size_t la, lb, vl;
	uint8_t *x = sign("module one", false, &la), *y = sign("module two", false, &lb);

	(void)state;
	vl = tail_of(x, la);
	assert_int_equal(vl, 256); /* RSA-2048 */
	assert_int_equal(la, lb);
	assert_memory_equal(x, y, la - vl);
	assert_memory_not_equal(x + la - vl, y + lb - vl, vl);
	assert_int_equal(sig_info_from_der(x, la, &a), 0);
	assert_int_equal(sig_info_from_der(y, lb, &b), 0);
	assert_int_equal(a.value_len, vl);
	assert_string_equal(a.signer.buf, "modatlas tail test");
	assert_string_equal(a.signer.buf, b.signer.buf);
	assert_string_equal(a.key_id.buf, b.key_id.buf);
	assert_string_equal(a.hash, b.hash);
	sig_info_release(&a);
	sig_info_release(&b);
	OPENSSL_free(x);
	OPENSSL_free(y);
}

/* The last bytes equal the value but are an attribute's: no tail. */
static void test_copy_in_attribute(void **state)
{
	size_t len;
	uint8_t *x = sign("module one", true, &len);

	(void)state;
	assert_int_equal(tail_of(x, len), 0);
	OPENSSL_free(x);
}

/* The last bytes equal the value but lie after the DER (bytes no parse
 * reads): no tail. */
static void test_copy_after_der(void **state)
{
	size_t len, vl;
	uint8_t *x = sign("module one", false, &len), *y;

	(void)state;
	vl = tail_of(x, len);
	assert_int_equal(vl, 256);
	y = malloc(len + vl);
	assert_non_null(y);
	memcpy(y, x, len);
	memcpy(y + len, x + len - vl, vl);
	assert_int_equal(tail_of(y, len + vl), 0);
	free(y);
	OPENSSL_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_file_layout),
		cmocka_unit_test(test_copy_in_attribute),
		cmocka_unit_test(test_copy_after_der),
	};

	return cmocka_run_group_tests(tests, make_key, free_key);
}
