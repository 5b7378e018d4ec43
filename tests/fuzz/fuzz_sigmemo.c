/* The signatures memo modinfo keeps (query/sigmemo.h): what decodes must
 * encode back to the same bytes, and a lookup of the payload's own bytes
 * reads only inside each entry. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "query/sigmemo.h"
#include "util/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sigmemo m;
	struct strbuf sb = STRBUF_INIT;

	if (sigmemo_decode(data, size, &m) == 0) {
		for (size_t i = 0; i < m.n; i++) {
			fuzz_touch(m.v[i].signer);
			fuzz_touch(m.v[i].hash34);
			fuzz_touch(m.v[i].hash30);
		}
		(void)sigmemo_find(&m, data, size);
		if (sigmemo_encode(&m, &sb) == 0 &&
		    (sb.len != size || memcmp(sb.buf, data, size) != 0))
			abort(); /* a payload read back differently */
	}
	sigmemo_release(&m);
	strbuf_release(&sb);
	return 0;
}
