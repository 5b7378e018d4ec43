/* The answers why's memo keeps (why/why_memo.h): what decodes must encode
 * back to the same bytes when its keys are distinct, and each key finds
 * its own answer. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "util/strbuf.h"
#include "why/why_memo.h"

static bool distinct(const struct why_memo *m)
{
	for (size_t i = 0; i < m->n; i++)
		for (size_t k = i + 1; k < m->n; k++)
			if (m->v[i].key_len == m->v[k].key_len &&
			    !memcmp(m->v[i].key, m->v[k].key, m->v[i].key_len))
				return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct why_memo m;
	struct strbuf sb = STRBUF_INIT;

	if (why_memo_decode(data, size, &m) == 0 && m.n && distinct(&m)) {
		for (size_t i = 0; i < m.n; i++) {
			char *k = strndup(m.v[i].key, m.v[i].key_len);

			if (k && why_memo_find(&m, k) != &m.v[i])
				abort(); /* a key that finds another answer */
			free(k);
			fuzz_touch_n(m.v[i].out, m.v[i].len);
		}
		if (why_memo_encode(&m, &m.v[0], &sb) == 0 &&
		    (sb.len != size || memcmp(sb.buf, data, size) != 0))
			abort(); /* the answers read back differently */
	}
	why_memo_release(&m);
	strbuf_release(&sb);
	return 0;
}
