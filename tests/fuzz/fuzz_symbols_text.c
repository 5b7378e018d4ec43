/* modules.symbols edited in place (depmod_grow.c): depfile_symbols_add on
 * any text (a recorded modules.symbols is checked by its hash before it is
 * edited, but the parser must not trust it), then depfile_symbols_remove
 * of what was added. Where the add succeeds and the text held no line of
 * the module added, removing it gives the text back byte for byte. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "index/depfiles.h"
#include "util/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char mod[] = "fuzz_added_mod";
	struct depfile_add v[] = {
		{ .name = "fuzz_sym_a", .line = mod },
		{ .name = "b", .line = mod },
		{ .name = "fuzz_sym_zzzzzzzz", .line = mod },
	};

	struct strbuf added = STRBUF_INIT, back = STRBUF_INIT;
	size_t lines = 0;
	bool had = memmem(data, size, mod, sizeof(mod) - 1) != NULL;

	if (depfile_symbols_add((const char *)data, size, v, 3, &added) == 0 &&
	    depfile_symbols_remove(added.buf, added.len, v, 3, &back, &lines) == 0 && !had) {
		assert(lines == 3);
		assert(back.len == size && memcmp(back.buf, data, size) == 0);
	}
	fuzz_log_sink += added.len + back.len;
	strbuf_release(&added);
	strbuf_release(&back);
	return 0;
}
