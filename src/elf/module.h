/* One kernel module, parsed. Bytes in, plain struct out: no paths, no
 * printing. This is what the tree walker, the cache, the check analyzer and
 * the fuzzers all consume.
 *
 *   modfile_load_mem()   bytes of a module file (possibly compressed, with
 *                        or without an appended signature) -> struct modrec
 *   modfile_load_path()  open + read/mmap + modfile_load_mem
 *
 * Rules follow kmod's libkmod-elf.c / libkmod-file.c, because depmod's
 * output depends on them (docs/compatibility.md: where modatlas differs).
 *
 * Every function here may be called from several threads at once: no
 * shared state beyond libelf's one-time initialisation. */
#ifndef MA_ELF_MODULE_H
#define MA_ELF_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <stdint.h>
#include <string.h>

struct mem_budget;
struct strbuf;

enum mod_compression {
	MOD_COMP_NONE = 0,
	MOD_COMP_GZIP,
	MOD_COMP_XZ,
	MOD_COMP_ZSTD,
	MOD_COMP_COUNT   /* formats: see elf/codec.h */
};

/* An exported symbol (from a __crc_<name> symbol, or from
 * __ksymtab_strings when the module has no __crc_ symbol at all). */
struct mod_export {
	const char *name;
	uint64_t crc;      /* (uint64_t)-1 when the CRC lies out of range */
	bool has_crc;      /* false for the __ksymtab_strings fallback */
	uint8_t license;   /* MOD_EXPORT_*: from the section of __ksymtab_<name> */
	const char *ns;    /* symbol namespace, or NULL (unknown or none) */
};

enum {
	MOD_EXPORT_UNKNOWN = 0,
	MOD_EXPORT_PLAIN,  /* __ksymtab */
	MOD_EXPORT_GPL,    /* __ksymtab_gpl */
};

/* A needed symbol: undefined .symtab entries in symtab order, then every
 * __versions entry no undefined symbol matched, in __versions order. */
struct mod_need {
	const char *name;
	uint32_t crc32;    /* the CRC's low half: mod_need_crc() for all of it */
	bool has_crc;      /* a __versions entry exists for it */
	bool weak;         /* STB_WEAK */
	/* The CRC's high half is not zero (a crafted 64-bit __versions
	 * entry): it is kept in the 4 bytes before name. 16 bytes, not 24,
	 * for each of the 200,000 needs of a tree. */
	bool crc_wide;
};

/* From __versions, 0 when absent. */
static inline uint64_t mod_need_crc(const struct mod_need *n)
{
	uint32_t hi = 0;

	if (n->crc_wide)
		memcpy(&hi, n->name - sizeof(hi), sizeof(hi));
	return (uint64_t)hi << 32 | n->crc32;
}

/* One .modinfo string split at its first '=' (value "" when none), in
 * section order, NULs collapsed as kmod does. */
struct mod_info {
	const char *key;
	const char *value;
};

/* The "~Module signature appended~" trailer, parsed (struct
 * module_signature), lengths validated against the file. */
struct mod_sig {
	bool present;
	uint8_t algo, hash, id_type; /* id_type 2 = PKCS#7 */
	uint8_t signer_len, key_id_len; /* added: bytes before the signature */
	uint32_t sig_len;
	const uint8_t *data;         /* sig_len bytes (the PKCS#7 DER), owned */
};
/* present is true when the magic is there and every length fits in the
 * module (sig_len > 0, signer_len + key_id_len + sig_len before the
 * 12-byte struct); the enum values are not checked (kmod's modinfo also
 * drops algo/hash/id_type past its tables; depmod never looks). When the
 * magic is there but the lengths lie, present is false and
 * MOD_NOTE_SIG_BAD is set. */

/* Added: things a parse met that did not stop it, as a bitmask in
 * modrec.notes. They tell the check analyzer (and the curious) where kmod's
 * rules quietly dropped or bounded something. */
enum {
	/* __versions size not a multiple of 64: ignored as a whole (kmod v30
	 * and v34 both do: no CRCs, no unmatched entries appended). */
	MOD_NOTE_VERSIONS_BAD_SIZE = 1u << 0,
	/* a __versions name has no NUL inside its entry: bounded to the entry
	 * (v30 reads on into the next entry; v34 drops all needs when such an
	 * entry matches no undefined symbol). */
	MOD_NOTE_VERSIONS_NAME_LONG = 1u << 1,
	/* .symtab/.strtab missing or .symtab size not a multiple of the
	 * entry size: no needs (has_symtab false), exports from the fallback */
	MOD_NOTE_SYMTAB_BAD = 1u << 2,
	/* an undefined symbol's st_name lies outside .strtab: kmod drops every
	 * need of the module; so do we */
	MOD_NOTE_NEEDS_BAD_NAME = 1u << 3,
	/* exports come from __ksymtab_strings (no usable __crc_ symbol, and
	 * the section has strings) */
	MOD_NOTE_EXPORTS_FALLBACK = 1u << 4,
	/* a string ran to the end of its section without NUL: bounded there */
	MOD_NOTE_UNTERMINATED = 1u << 5,
	/* a __crc_ symbol points outside its section: crc (uint64_t)-1 */
	MOD_NOTE_CRC_RANGE = 1u << 6,
	/* signature magic present, but the lengths do not fit */
	MOD_NOTE_SIG_BAD = 1u << 7,
	/* __ksymtab_strings does not end with NUL (v30 keeps the last string,
	 * v34 rejects the section: no exports) */
	MOD_NOTE_KSYMTAB_STRINGS_UNTERMINATED = 1u << 8,
	/* a section the parser looks for (.modinfo, .symtab, .strtab,
	 * __versions, __ksymtab_strings) lies partly outside the file: not
	 * used, as kmod does not use it */
	MOD_NOTE_SECTION_RANGE = 1u << 9,
	/* the file bytes of two sections, or of a section and the ELF header
	 * or the section table, overlap: parsed as they are (kmod does not
	 * check) */
	MOD_NOTE_OVERLAP = 1u << 10,
};

/* One line of text for one MOD_NOTE_* bit: what the file had and what the
 * parser did about it, e.g. "__versions size is not a multiple of 64: the
 * section is ignored (no symbol CRCs)". NULL for a bit that is not a
 * note. depmod logs them at INFO (-vv); kmod says nothing. */
const char *modrec_note_text(uint32_t note);

/* Parse status, coarse and stable: the cache stores it and check reports it. */
enum mod_status {
	MOD_OK = 0,
	MOD_ERR_EMPTY,        /* shorter than any magic */
	MOD_ERR_DECOMPRESS,   /* corrupt or truncated gz/xz/zst */
	MOD_ERR_TOO_BIG,      /* decompressed size over the limit */
	MOD_ERR_NOT_ELF,      /* no ELF magic */
	MOD_ERR_BAD_ELF,      /* ELF, but the header or a table is invalid */
	MOD_ERR_IO,           /* open/read failed (modfile_load_path only) */
	MOD_ERR_NOMEM,
};

struct modrec {
	enum mod_status status;
	int err;                 /* negative errno matching status, 0 if OK:
				  * EMPTY, DECOMPRESS, BAD_ELF -EINVAL (kmod's
				  * "Invalid argument"), NOT_ELF -ENOEXEC
				  * ("Exec format error"), TOO_BIG -EFBIG,
				  * IO the failing call's, NOMEM -ENOMEM */
	const char *reason;      /* human reason when status != OK, else NULL */
	enum mod_compression comp;

	/* ELF identity (valid when status == MOD_OK or MOD_ERR_BAD_ELF past
	 * the identification bytes; else 0). */
	uint8_t elf_class;       /* ELFCLASS32 / ELFCLASS64 */
	uint8_t elf_data;        /* ELFDATA2LSB / ELFDATA2MSB */
	uint16_t elf_machine;    /* e_machine */
	bool has_symtab;         /* false: kmod finds no dependencies (silent) */
	uint32_t notes;          /* MOD_NOTE_* (added) */

	size_t n_exports;
	struct mod_export *exports;
	size_t n_needs;
	struct mod_need *needs;
	size_t n_info;
	struct mod_info *info;
	struct mod_sig sig;

	uint64_t file_size;      /* bytes on disk (compressed size if any) */
	uint64_t elf_size;       /* bytes after decompression */
	uint64_t digest;         /* modrec_digest's, set when packed */
	uint64_t file_sum;       /* mod_file_sum of a compressed file's bytes
				  * (0: plain, or not read here); in neither the
				  * digest nor the encoding: it proves the file
				  * unchanged without decoding it (cache stamps) */
	/* Private: every pointer above points into storage owned by this
	 * record, one block: its own malloc'd one (NULL here), which
	 * modrec_free() releases, or the records' arena's (modrec_arena_use),
	 * which lives as long as the process. */
	const void *arena;
};

/* A compressed file's sum from the XXH3 of its bytes: never 0, which
 * stands for none. */
static inline uint64_t mod_file_sum(uint64_t xxh3)
{
	return xxh3 ? xxh3 : 1;
}

struct modfile_opts {
	/* Decompressed modules larger than this fail with MOD_ERR_TOO_BIG
	 * (so do compressed files larger than this, unread). 0 means the
	 * default, MODFILE_DEFAULT_MAX_SIZE. Uncompressed files are mapped
	 * and not limited. */
	uint64_t max_size;
	bool keep_signature;     /* copy sig.data; false leaves it NULL */
	/* .modinfo and the signature only, no symbols (what modinfo prints,
	 * as kmod's reads no more); ignored when blob is set. */
	bool info_only;
	/* Keep only these .modinfo keys (NULL-terminated); NULL keeps all.
	 * depmod needs three of them, and the rest is most of a record. */
	const char *const *info_keys;
	/* Added. xz only: skip the stream's integrity check (LZMA_IGNORE_CHECK),
	 * ~4% less CPU on an xz tree. Off by default; kmod verifies it. */
	bool ignore_check;
	/* The run's budget for decompressed bytes, shared by its readers
	 * (util/budget.h); NULL: none beyond max_size per module. */
	struct mem_budget *budget;
	/* When set, the full record's encoding (every .modinfo key, the
	 * signature's bytes: what the cache keeps) replaces its contents,
	 * whatever info_keys and keep_signature keep in the record itself;
	 * left empty when the record could not be encoded. */
	struct strbuf *blob;
};

/* A run's budget for decompressed bytes in flight, whatever the thread
 * count: one module of the largest size allowed fits alone. */
#define MODFILE_RUN_BUDGET (MODFILE_DEFAULT_MAX_SIZE + (1ull << 20))

#define MODFILE_DEFAULT_MAX_SIZE (256ull << 20)

/* Compressed modules are recognised by magic and decoded whatever their
 * name says, gzip included: kmod built without zlib (Debian 12's) never
 * reads .ko.gz, so the walker decides by extension what to hand us. */

/* Parse a module held in memory. Never fails for bad input: the returned
 * record carries status/reason and whatever could be read (kmod lists a
 * module it cannot parse, with no symbols). Returns 0 and sets *out, or
 * -ENOMEM. buf is not modified and need not outlive the call. */
int modfile_load_mem(const void *buf, size_t len, const struct modfile_opts *opts,
		     struct modrec **out);

/* Open, read (mmap for uncompressed files) and parse path. Same contract;
 * I/O errors give a record with status MOD_ERR_IO (a path that is not a
 * regular file too: -EISDIR for a directory, else -EINVAL). */
int modfile_load_path(const char *path, const struct modfile_opts *opts, struct modrec **out);
/* Same, path opened relative to dirfd (AT_FDCWD or a directory); *st_out
 * (when not NULL) gets the opened file's fstat once it succeeded. */
int modfile_load_at(int dirfd, const char *path, const struct modfile_opts *opts,
		    struct modrec **out, struct stat *st_out);

void modrec_free(struct modrec *rec);
/* While on, the records of uncompressed modules are packed into one
 * arena for the whole process, 2 MiB huge pages past its first 2 MiB,
 * instead of a malloc block each: 1,700 page faults fewer in a full
 * depmod run of a plain tree (12 us each on the VMs of
 * docs/performance.md), which keeps every record to its end. Only for
 * a run like that: modrec_free leaves such a record in place. Not for
 * compressed modules: their runs are the decoder's, and their peak
 * memory the target's (hugemem.h). Never under AddressSanitizer. */
void modrec_arena_use(bool on);

/* A hash of everything a record says about the module except the file's
 * sizes and its signature: two records with the same digest make every
 * output the same (the .modinfo keys hashed are those the record kept).
 * Computed once, when the record is made. Never 0. */
uint64_t modrec_digest(const struct modrec *rec);

/* First value of key in .modinfo, or NULL. */
const char *modrec_info_get(const struct modrec *rec, const char *key);

/* Cache support: a self-contained, versioned byte encoding of a record
 * (format in src/elf/modrec_codec.c). modrec_encode() appends to out and
 * returns 0, or a negative errno leaving out as it was. modrec_decode()
 * validates every length, enum and the trailing CRC and returns -EINVAL on
 * anything malformed (a cache file is untrusted input too). The decoded
 * record keeps sig.data if it was encoded. */
int modrec_encode(const struct modrec *rec, struct strbuf *out);
int modrec_decode(const void *buf, size_t len, struct modrec **out);
/* The same, keeping only the .modinfo keys of keys (NULL: all) and the
 * signature's bytes only with keep_sig. */
int modrec_decode_keys(const void *buf, size_t len, const char *const *keys, bool keep_sig,
		       struct modrec **out);
/* The name of every symbol an encoded record (modrec_encode) exports
 * (exports true) or needs, in order, to fn (name and its length, not
 * NUL-terminated), without decoding the rest: 0, -EINVAL for a damaged
 * record, or fn's first nonzero return. */
int modrec_each_symbol(const void *buf, size_t len, bool exports,
		       int (*fn)(void *ud, const char *name, size_t len), void *ud);

/* One __versions entry (modprobe --show-modversions). */
struct mod_version {
	uint64_t crc;
	const char *name;  /* a leading '.' dropped */
};
/* The module's __versions entries in section order, read from the file
 * (decompressed by magic). *out is one allocation (free it). 0, or
 * -ENODATA (no __versions section), -ENOEXEC (not ELF), -EINVAL (its
 * size is no multiple of 64, a name without its NUL, a corrupt stream), -EFBIG, -ENOMEM,
 * or the read's -errno. */
int modfile_versions_mem(const void *buf, size_t len, struct mod_version **out, size_t *n);
int modfile_versions_path(const char *path, struct mod_version **out, size_t *n);

/* Detect compression from the first bytes, by magic as kmod does. */
enum mod_compression modfile_detect(const void *buf, size_t len);

#endif
