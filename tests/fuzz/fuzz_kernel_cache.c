/* The inferred kernel the cache keeps (model/kernel_cache.h): what
 * decodes must encode back to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "model/kernel.h"
#include "model/kernel_cache.h"
#include "util/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kernel_inferred k = { 0 };
	struct strbuf sb = STRBUF_INIT;

	if (kernel_inferred_decode(data, size, &k) == 0) {
		for (size_t i = 0; i < k.ks.n; i++)
			fuzz_touch(k.ks.v[i].name);
		if (kernel_inferred_encode(&k, &sb) == 0 &&
		    (sb.len != size || memcmp(sb.buf, data, size) != 0))
			abort(); /* a payload read back differently */
	}
	kernel_inferred_release(&k);
	strbuf_release(&sb);
	return 0;
}
