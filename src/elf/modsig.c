/* The signature trailer scripts/sign-file appends to a module:
 *
 *   ... ELF ... | signer | key id | signature (sig_len) | struct module_signature | magic
 *
 * struct module_signature is 12 bytes: algo, hash, id_type, signer_len,
 * key_id_len, 3 pad bytes, then sig_len as big-endian u32. For PKCS#7
 * (id_type 2) signer and key id are empty and the signature is the DER
 * blob, parsed later by an analyzer, not here. */
#include "elf/elfparse.h"

#include <string.h>

#include "util/bytes.h"

#define SIG_MAGIC "~Module signature appended~\n"
#define SIG_MAGIC_LEN (sizeof(SIG_MAGIC) - 1)
#define SIG_INFO_LEN 12

void modsig_parse(struct moddraft *d, const uint8_t *buf, size_t len)
{
	const uint8_t *ms;
	uint64_t sig_len, need;
	size_t size;

	memset(&d->rec.sig, 0, sizeof(d->rec.sig));
	if (len < SIG_MAGIC_LEN || memcmp(buf + len - SIG_MAGIC_LEN, SIG_MAGIC, SIG_MAGIC_LEN) != 0)
		return;
	size = len - SIG_MAGIC_LEN;
	if (size < SIG_INFO_LEN) {
		d->rec.notes |= MOD_NOTE_SIG_BAD;
		return;
	}
	size -= SIG_INFO_LEN;
	ms = buf + size;
	sig_len = get_be32(ms + 8);
	/* kmod's test: a signature, and everything it claims before it. */
	need = (uint64_t)ms[3] + ms[4] + sig_len;
	if (sig_len == 0 || need > size) {
		d->rec.notes |= MOD_NOTE_SIG_BAD;
		return;
	}
	d->rec.sig.present = true;
	d->rec.sig.algo = ms[0];
	d->rec.sig.hash = ms[1];
	d->rec.sig.id_type = ms[2];
	d->rec.sig.signer_len = ms[3];
	d->rec.sig.key_id_len = ms[4];
	d->rec.sig.sig_len = (uint32_t)sig_len;
	d->rec.sig.data = buf + size - sig_len;
}

uint64_t modsig_claimed(const uint8_t *buf, size_t len)
{
	const uint8_t *ms;
	uint64_t need;

	if (len < SIG_MAGIC_LEN + SIG_INFO_LEN ||
	    memcmp(buf + len - SIG_MAGIC_LEN, SIG_MAGIC, SIG_MAGIC_LEN) != 0)
		return 0;
	ms = buf + len - SIG_MAGIC_LEN - SIG_INFO_LEN;
	need = (uint64_t)ms[3] + ms[4] + get_be32(ms + 8);
	return need <= len - SIG_MAGIC_LEN - SIG_INFO_LEN ? need : 0;
}
