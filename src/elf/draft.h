/* A module record under construction. The parser and the cache decoder
 * fill a draft whose strings are (pointer, length) views into the bytes they
 * read; moddraft_pack() then copies exactly those strings, once, into a
 * single allocation that becomes the struct modrec. So the record never
 * keeps the module bytes, and modrec_free() is one free().
 *
 * Internal to src/elf/. */
#ifndef MA_ELF_DRAFT_H
#define MA_ELF_DRAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf/module.h"
#include "util/strmap.h"

/* struct strref (util/strmap.h): here p == NULL means "no string"
 * (packed as a NULL pointer), which differs from the empty string. */

struct draft_export {
	struct strref name, ns;
	uint64_t crc;
	bool has_crc;
	uint8_t license;
};

struct draft_need {
	struct strref name;
	uint64_t crc;
	bool has_crc, weak;
};

struct draft_info {
	struct strref key, value;
};

struct moddraft {
	/* The record's own fields, set as the parse meets them: status, err,
	 * comp, the ELF identity, has_symtab, notes, sig (sig.data a view),
	 * the sizes. Its other pointers, counts and digest are pack's. */
	struct modrec rec;
	char reason[200];        /* "" when none */

	/* Arrays owned by the draft (moddraft_release frees them). */
	struct draft_export *exports;
	size_t n_exports, a_exports;
	struct draft_need *needs;
	size_t n_needs, a_needs;
	struct draft_info *info;
	size_t n_info, a_info;

	/* .modinfo keys the parser collects (NULL-terminated), or NULL for
	 * all; keep_keys: those the packed record keeps (NULL: all). */
	const char *const *info_keys;
	const char *const *keep_keys;
	bool info_only;   /* no symbols read (modfile_opts) */
	/* When set, moddraft_finish also appends the full record's encoding
	 * (every key collected, the signature's bytes) here: the cache's. */
	struct strbuf *blob;
};

void moddraft_init(struct moddraft *d);
void moddraft_release(struct moddraft *d);

/* Record a failure: status, its errno, and a printf reason. Also drops
 * whatever symbols were gathered, so a failed record is never half-full
 * unless the caller adds to it afterwards. */
void moddraft_fail(struct moddraft *d, enum mod_status st, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Is key one of keys (NULL-terminated)? Every key is when keys is NULL:
 * the info_keys and keep_keys rule. */
bool moddraft_key_in(const char *const *keys, struct strref key);

/* Room for n more entries (growth is geometric, so reserving one at a time
 * is fine). Return 0 or -ENOMEM. */
int moddraft_reserve_exports(struct moddraft *d, size_t n);
int moddraft_reserve_needs(struct moddraft *d, size_t n);
int moddraft_reserve_info(struct moddraft *d, size_t n);

/* Copy the draft into one allocation, with the .modinfo keys of
 * keep_keys only. sig.data is kept only when keep_sig. Returns 0 or
 * -ENOMEM (*out untouched then). */
int moddraft_pack(const struct moddraft *d, bool keep_sig, struct modrec **out);

/* moddraft_pack, falling back to a bare MOD_ERR_NOMEM record when the
 * full one does not fit in memory. -ENOMEM only if even that fails. */
int moddraft_finish(const struct moddraft *d, bool keep_sig, struct modrec **out);

#endif
