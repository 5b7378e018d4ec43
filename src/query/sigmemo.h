/* What modinfo printed of each signature, kept between runs, so that a
 * run does not load libcrypto (about 5 ms a process here, more than the
 * rest of a modinfo) for a signature it has seen before.
 *
 * scripts/sign-file's PKCS#7 ends with the signature value, and the
 * signatures of one key share every byte before it. When OpenSSL has
 * proven the value to be the tail (sig_cms_value_tail), any DER of the
 * same length and the same prefix parses the same but for the value: the
 * entry keeps that prefix and the fields modinfo derived from it; the
 * value is then read from the new DER's tail. A DER that matches no
 * entry byte for byte goes to OpenSSL as before.
 *
 * The file is <cache dir>/signatures.modinfo (cache_side_save: checksum,
 * this format's key), shared by every tree: a key signs many kernels'
 * modules (DKMS's MOK), and a tree's modules share one. */
#ifndef MA_QUERY_SIGMEMO_H
#define MA_QUERY_SIGMEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/attr.h"
#include "util/strbuf.h"

#define SIGMEMO_MAX 32            /* entries; the oldest goes first */
#define SIGMEMO_MAX_PREFIX 16384  /* bytes before the value */
#define SIGMEMO_MAX_STR 4096

/* Owned by the memo once added (sigmemo_add copies). */
struct sigmemo_entry {
	uint32_t der_len;
	uint32_t prefix_len;      /* der_len minus the value's length */
	const uint8_t *prefix;
	const char *signer;             /* libkmod's x509_name_to_str, or NULL */
	const uint8_t *serial;    /* BN_bn2bin of the serial */
	uint32_t serial_len;
	const char *hash34;       /* kmod 34's sig_hashalgo, or NULL: no fields */
	const char *hash30;             /* kmod 30's, or NULL: no fields */
};

struct sigmemo {
	struct sigmemo_entry *v;
	size_t n;
	bool loaded, dirty;
};

void sigmemo_release(struct sigmemo *m);

/* The entry whose prefix der starts with, for a DER of exactly len
 * bytes; NULL when none. */
const struct sigmemo_entry *sigmemo_find(const struct sigmemo *m, const uint8_t *der,
					 size_t len);

/* Add (a copy of) e, dropping the oldest entry when full; its strings
 * and bytes are copied. 0, -EINVAL (out of bounds) or -ENOMEM. */
int sigmemo_add(struct sigmemo *m, const struct sigmemo_entry *e) MA_MUST_CHECK;

/* The payload: encode appends it to sb; decode reads one into m (empty),
 * 0 or -EINVAL when damaged (m then empty) or -ENOMEM. */
int sigmemo_encode(const struct sigmemo *m, struct strbuf *sb) MA_MUST_CHECK;
int sigmemo_decode(const void *data, size_t len, struct sigmemo *m) MA_MUST_CHECK;

/* The file under cache_dir (load: once; a missing or damaged file is an
 * empty memo). save writes it when entries were added. 0 or -errno. */
void sigmemo_load(struct sigmemo *m, const char *cache_dir);
int sigmemo_save(struct sigmemo *m, const char *cache_dir);

#endif
