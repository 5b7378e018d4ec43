/* Loading a module: bytes (or a path) in, struct modrec out.
 *
 * As kmod_file_open: the format is chosen by magic, not by name, and a
 * file shorter than the longest magic (6 bytes) is -EINVAL. Uncompressed
 * files are read section by section (only what is parsed), compressed
 * ones read and decompressed whole. The record
 * copies the strings it keeps, so the bytes go away right after parsing. */
#include "elf/module.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf/decompress.h"
#include "elf/draft.h"
#include "elf/elfparse.h"
#include "elf/sparse.h"

#define MAX_MAGIC_LEN 6 /* xz's; kmod reads this many bytes first */

static const struct {
	enum mod_compression comp;
	size_t len;
	const char *magic;
} magics[] = {
	/* kmod's order; no magic is a prefix of another anyway */
	{ MOD_COMP_ZSTD, 4, "\x28\xB5\x2F\xFD" },
	{ MOD_COMP_XZ, 6, "\xFD" "7zXZ\0" },
	{ MOD_COMP_GZIP, 2, "\x1F\x8B" },
};

enum mod_compression modfile_detect(const void *buf, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (len >= magics[i].len && memcmp(buf, magics[i].magic, magics[i].len) == 0)
			return magics[i].comp;
	return MOD_COMP_NONE;
}

static uint64_t max_size(const struct modfile_opts *opts)
{
	return opts && opts->max_size ? opts->max_size : MODFILE_DEFAULT_MAX_SIZE;
}

/* A huge compressed module: parse a sparse image (see sparse.h). */
static int load_sparse(struct moddraft *d, const uint8_t *buf, size_t len, uint64_t size,
		       const struct modfile_opts *opts, bool keep_sig, struct modrec **out)
{
	struct sparse_img img;
	char reason[sizeof(d->reason)];
	int err = sparse_load(d->comp, buf, len, size, max_size(opts),
			      opts && opts->ignore_check ? DECOMPRESS_IGNORE_CHECK : 0, &img, reason,
			      sizeof(reason));

	if (err == -ENOMEM)
		moddraft_fail(d, MOD_ERR_NOMEM, -ENOMEM, "%s", "out of memory");
	else if (err == -EFBIG)
		moddraft_fail(d, MOD_ERR_TOO_BIG, -EFBIG, "%s", reason);
	else if (err < 0)
		moddraft_fail(d, MOD_ERR_DECOMPRESS, -EINVAL, "%s", reason);
	if (!err) {
		d->elf_size = img.size;
		if (elfparse_module(d, img.p, img.size) < 0)
			moddraft_fail(d, MOD_ERR_NOMEM, -ENOMEM, "%s", "out of memory");
	}
	err = moddraft_finish(d, keep_sig, out);
	sparse_free(&img);
	return err;
}

/* Decompress if needed, then parse, into d. Returns 0 or -ENOMEM. */
static int load_bytes(struct moddraft *d, const uint8_t *buf, size_t len,
		      const struct modfile_opts *opts, bool keep_sig, struct modrec **out)
{
	void *plain = NULL;
	size_t plain_len = len;
	char reason[sizeof(d->reason)];
	int err;

	if (len < MAX_MAGIC_LEN) {
		moddraft_fail(d, MOD_ERR_EMPTY, -EINVAL, "file too short (%zu bytes)", len);
		goto pack;
	}
	d->comp = modfile_detect(buf, len);
	if (d->comp == MOD_COMP_XZ || d->comp == MOD_COMP_ZSTD) {
		uint64_t hint = decompress_size_hint(d->comp, buf, len);

		if (hint >= SPARSE_MIN_SIZE && hint <= max_size(opts))
			return load_sparse(d, buf, len, hint, opts, keep_sig, out);
	}
	if (d->comp != MOD_COMP_NONE) {
		err = decompress_buf(d->comp, buf, len, max_size(opts),
				     opts && opts->ignore_check ? DECOMPRESS_IGNORE_CHECK : 0,
				     &plain, &plain_len, reason, sizeof(reason));
		if (err == -ENOMEM)
			moddraft_fail(d, MOD_ERR_NOMEM, -ENOMEM, "%s", "out of memory");
		else if (err == -EFBIG)
			moddraft_fail(d, MOD_ERR_TOO_BIG, -EFBIG, "%s", reason);
		else if (err < 0)
			moddraft_fail(d, MOD_ERR_DECOMPRESS, -EINVAL, "%s", reason);
		if (err < 0)
			goto pack;
		buf = plain;
	}
	d->elf_size = plain_len;
	err = elfparse_module(d, buf, plain_len);
	if (err < 0)
		moddraft_fail(d, MOD_ERR_NOMEM, -ENOMEM, "%s", "out of memory");
pack:
	err = moddraft_finish(d, keep_sig, out);
	free(plain);
	return err;
}

int modfile_load_mem(const void *buf, size_t len, const struct modfile_opts *opts,
		     struct modrec **out)
{
	struct moddraft d;
	int err;

	moddraft_init(&d);
	d.file_size = len;
	err = load_bytes(&d, buf, len, opts, opts && opts->keep_signature, out);
	moddraft_release(&d);
	return err;
}

static int io_fail(struct moddraft *d, const char *step, int err, bool keep_sig,
		   struct modrec **out)
{
	moddraft_fail(d, MOD_ERR_IO, err, "%s: %s", step, strerror(-err));
	return moddraft_finish(d, keep_sig, out);
}

/* Read exactly len bytes from offset 0. */
static int read_all(int fd, uint8_t *p, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pread(fd, p + done, len - done, (off_t)done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO; /* shrank under us */
		done += (size_t)r;
	}
	return 0;
}

int modfile_load_path(const char *path, const struct modfile_opts *opts, struct modrec **out)
{
	const bool keep_sig = opts && opts->keep_signature;
	struct moddraft d;
	struct stat st;
	uint8_t head[MAX_MAGIC_LEN];
	uint8_t *buf = NULL;
	size_t len;
	int fd, err;

	moddraft_init(&d);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = io_fail(&d, "open", -errno, keep_sig, out);
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		err = io_fail(&d, "fstat", -errno, keep_sig, out);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = io_fail(&d, "not a regular file", S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL,
			      keep_sig, out);
		goto out;
	}
	d.file_size = (uint64_t)st.st_size;
	if ((uint64_t)st.st_size > SIZE_MAX) {
		err = io_fail(&d, "size", -EFBIG, keep_sig, out);
		goto out;
	}
	len = (size_t)st.st_size;
	if (len < MAX_MAGIC_LEN) {
		err = load_bytes(&d, (const uint8_t *)"", len, opts, keep_sig, out);
		goto out;
	}
	err = read_all(fd, head, sizeof(head));
	if (err < 0) {
		err = io_fail(&d, "read", err, keep_sig, out);
		goto out;
	}
	if (modfile_detect(head, sizeof(head)) == MOD_COMP_NONE) {
		/* Plain module: read only the sections parsed (a fraction of
		 * the file), never map it: no page faults, no mmap_lock
		 * contention between reader threads, no SIGBUS if the file
		 * shrinks while we read. */
		struct elfkeep keep;

		d.elf_size = len;
		err = elfparse_module_fd(&d, fd, len, &keep);
		if (err == -ENOMEM)
			moddraft_fail(&d, MOD_ERR_NOMEM, -ENOMEM, "%s", "out of memory");
		err = moddraft_finish(&d, keep_sig, out);
		elfkeep_release(&keep);
		goto out;
	}
	if ((uint64_t)len > max_size(opts)) {
		moddraft_fail(&d, MOD_ERR_TOO_BIG, -EFBIG, "compressed file larger than %llu bytes",
			      (unsigned long long)max_size(opts));
		err = moddraft_finish(&d, keep_sig, out);
		goto out;
	}
	buf = malloc(len);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	err = read_all(fd, buf, len);
	if (err < 0) {
		err = io_fail(&d, "read", err, keep_sig, out);
		goto out;
	}
	err = load_bytes(&d, buf, len, opts, keep_sig, out);
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	moddraft_release(&d);
	return err;
}
