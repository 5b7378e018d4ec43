/* The signature trailer scripts/sign-file appends to a module:
 *
 *   ... ELF ... | signer | key id | signature (sig_len) | struct module_signature | magic
 *
 * struct module_signature is 12 bytes: algo, hash, id_type, signer_len,
 * key_id_len, 3 pad bytes, then sig_len as big-endian u32. For PKCS#7
 * (id_type 2) signer and key id are empty and the signature is the DER
 * blob, parsed later by an analyzer, not here. */
#include "elf/elfparse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIG_MAGIC "~Module signature appended~\n"
#define SIG_MAGIC_LEN (sizeof(SIG_MAGIC) - 1)
#define SIG_INFO_LEN 12

void modsig_parse(struct moddraft *d, const uint8_t *buf, size_t len)
{
	const uint8_t *ms;
	uint64_t sig_len, need;
	size_t size;

	memset(&d->sig, 0, sizeof(d->sig));
	if (len < SIG_MAGIC_LEN || memcmp(buf + len - SIG_MAGIC_LEN, SIG_MAGIC, SIG_MAGIC_LEN) != 0)
		return;
	size = len - SIG_MAGIC_LEN;
	if (size < SIG_INFO_LEN) {
		d->notes |= MOD_NOTE_SIG_BAD;
		return;
	}
	size -= SIG_INFO_LEN;
	ms = buf + size;
	sig_len = (uint64_t)ms[8] << 24 | (uint64_t)ms[9] << 16 | (uint64_t)ms[10] << 8 | ms[11];
	/* kmod's test: a signature, and everything it claims before it. */
	need = (uint64_t)ms[3] + ms[4] + sig_len;
	if (sig_len == 0 || need > size) {
		d->notes |= MOD_NOTE_SIG_BAD;
		return;
	}
	d->sig.present = true;
	d->sig.algo = ms[0];
	d->sig.hash = ms[1];
	d->sig.id_type = ms[2];
	d->sig.signer_len = ms[3];
	d->sig.key_id_len = ms[4];
	d->sig.sig_len = (uint32_t)sig_len;
	d->sig.data = buf + size - sig_len;
}

/* Read just the trailer: the fixed tail, then what it claims lies before
 * it when that fits in the file; modsig_parse judges the copy as it
 * judges a whole image (a claim that does not fit gives only the tail,
 * which it rejects). */
int modsig_parse_fd(struct moddraft *d, int fd, size_t len, struct elfkeep *keep)
{
	uint8_t tail[SIG_INFO_LEN + SIG_MAGIC_LEN];
	const uint8_t *ms = tail;
	uint64_t need;
	size_t n;

	memset(&d->sig, 0, sizeof(d->sig));
	if (len < sizeof(tail)) {
		modsig_parse(d, (const uint8_t *)"", 0);
		return 0;
	}
	if (pread(fd, tail, sizeof(tail), (off_t)(len - sizeof(tail))) != (ssize_t)sizeof(tail))
		return 0; /* unreadable tail: no signature, as with a short file */
	if (memcmp(tail + SIG_INFO_LEN, SIG_MAGIC, SIG_MAGIC_LEN) != 0)
		return 0;
	need = (uint64_t)ms[3] + ms[4] +
	       ((uint64_t)ms[8] << 24 | (uint64_t)ms[9] << 16 | (uint64_t)ms[10] << 8 | ms[11]);
	if (need > len - sizeof(tail))
		need = 0;
	n = (size_t)need + sizeof(tail);
	keep->sig = malloc(n);
	if (!keep->sig)
		return -ENOMEM;
	if (pread(fd, keep->sig, n, (off_t)(len - n)) != (ssize_t)n) {
		memcpy(keep->sig, tail, sizeof(tail));
		n = sizeof(tail);
		keep->sig = realloc(keep->sig, n) ?: keep->sig;
	}
	modsig_parse(d, keep->sig, n);
	return 0;
}
