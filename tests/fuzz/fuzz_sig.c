/* A module's PKCS#7 signature (sig/sig_info.h): OpenSSL's parse, the
 * description, and sig_cms_value_tail's promise that what follows the
 * prefix it finds is only the value: any other bytes there describe the
 * same signer. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "sig/sig_info.h"

static bool same(const struct sig_info *a, const struct sig_info *b)
{
	return !strcmp(a->signer.buf, b->signer.buf) && !strcmp(a->key_id.buf, b->key_id.buf) &&
	       !strcmp(a->id_kind, b->id_kind) && !strcmp(a->hash, b->hash) &&
	       !strcmp(a->pkey, b->pkey);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sig_info a = SIG_INFO_INIT, b = SIG_INFO_INIT;
	uint8_t *alt;

	if (sig_info_from_der(data, size, &a) == 0 && a.value_len) {
		alt = malloc(size);
		if (!alt)
			abort();
		memcpy(alt, data, size);
		/* another value: bytes of the input, reversed */
		for (size_t i = 0; i < a.value_len; i++)
			alt[size - 1 - i] = (uint8_t)(data[size - a.value_len + i] + 0x5b);
		if (sig_info_from_der(alt, size, &b) != 0 || !same(&a, &b))
			abort(); /* the prefix did not decide the description */
		free(alt);
	}
	fuzz_touch(a.signer.buf);
	sig_info_release(&a);
	sig_info_release(&b);
	return 0;
}
