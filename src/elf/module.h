/* One kernel module, parsed. Bytes in, plain struct out: no paths, no
 * printing. This is what the tree walker, the cache, the check analyzer and
 * the fuzzers all consume.
 *
 *   modfile_load_mem()   bytes of a module file (possibly compressed, with
 *                        or without an appended signature) -> struct modrec
 *   modfile_load_path()  open + read/mmap + modfile_load_mem
 *
 * Rules follow kmod's libkmod-elf.c / libkmod-file.c (see
 * docs/depmod-reference in the project's docs for the details), because
 * depmod's output depends on them. */
#ifndef MA_ELF_MODULE_H
#define MA_ELF_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;

enum mod_compression {
	MOD_COMP_NONE = 0,
	MOD_COMP_GZIP,
	MOD_COMP_XZ,
	MOD_COMP_ZSTD,
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
	uint64_t crc;      /* from __versions, 0 when absent */
	bool has_crc;      /* a __versions entry exists for it */
	bool weak;         /* STB_WEAK */
};

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
	uint32_t sig_len;
	const uint8_t *data;         /* sig_len bytes (the PKCS#7 DER), owned */
};

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
	int err;                 /* negative errno matching status, 0 if OK */
	const char *reason;      /* human reason when status != OK, else NULL */
	enum mod_compression comp;

	/* ELF identity (valid when status == MOD_OK or MOD_ERR_BAD_ELF past
	 * the identification bytes; else 0). */
	uint8_t elf_class;       /* ELFCLASS32 / ELFCLASS64 */
	uint8_t elf_data;        /* ELFDATA2LSB / ELFDATA2MSB */
	uint16_t elf_machine;    /* e_machine */
	bool has_symtab;         /* false: kmod finds no dependencies (silent) */

	size_t n_exports;
	struct mod_export *exports;
	size_t n_needs;
	struct mod_need *needs;
	size_t n_info;
	struct mod_info *info;
	struct mod_sig sig;

	uint64_t file_size;      /* bytes on disk (compressed size if any) */
	uint64_t elf_size;       /* bytes after decompression */
	/* Private: every pointer above points into storage owned by this
	 * record; modrec_free() releases all of it. */
	void *priv;
};

struct modfile_opts {
	/* Decompressed modules larger than this fail with MOD_ERR_TOO_BIG.
	 * 0 means the default, MODFILE_DEFAULT_MAX_SIZE. */
	uint64_t max_size;
	/* Accept gzip (kmod built without zlib, like Debian 12's, does not
	 * read .ko.gz at all; the walker decides by extension). */
	bool keep_signature;     /* copy sig.data; false leaves it NULL */
};

#define MODFILE_DEFAULT_MAX_SIZE (256ull << 20)

/* Parse a module held in memory. Never fails for bad input: the returned
 * record carries status/reason and whatever could be read (kmod lists a
 * module it cannot parse, with no symbols). Returns 0 and sets *out, or
 * -ENOMEM. buf is not modified and need not outlive the call. */
int modfile_load_mem(const void *buf, size_t len, const struct modfile_opts *opts,
		     struct modrec **out);

/* Open, read (mmap for uncompressed files) and parse path. Same contract;
 * I/O errors give a record with status MOD_ERR_IO. */
int modfile_load_path(const char *path, const struct modfile_opts *opts, struct modrec **out);

void modrec_free(struct modrec *rec);

/* First value of key in .modinfo, or NULL. */
const char *modrec_info_get(const struct modrec *rec, const char *key);

/* Cache support: a self-contained, versioned byte encoding of a record.
 * modrec_decode() validates every length and offset and returns -EINVAL on
 * anything malformed (a cache file is untrusted input too). */
int modrec_encode(const struct modrec *rec, struct strbuf *out);
int modrec_decode(const void *buf, size_t len, struct modrec **out);

/* Detect compression from the first bytes, by magic as kmod does. */
enum mod_compression modfile_detect(const void *buf, size_t len);

#endif
