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
#include <sys/mman.h>
#include <unistd.h>
#include <xxhash.h>

#include <elf.h>

#include "elf/decompress.h"
#include "elf/draft.h"
#include "elf/elfparse.h"
#include "elf/sparse.h"
#include "util/bigbuf.h"
#include "util/budget.h"
#include "util/bytes.h"
#include "util/hugepool.h"
#include "util/threadlocal.h"

#define MAX_MAGIC_LEN 6 /* xz's; kmod reads this many bytes first */

static uint64_t max_size(const struct modfile_opts *opts)
{
	return opts && opts->max_size ? opts->max_size : MODFILE_DEFAULT_MAX_SIZE;
}

/* The status a decompression error gives the record (none for 0). */
static void fail_decompress(struct moddraft *d, int err, const char *reason)
{
	if (err == -ENOMEM)
		moddraft_fail(d, MOD_ERR_NOMEM, -ENOMEM, "%s", "out of memory");
	else if (err == -EFBIG)
		moddraft_fail(d, MOD_ERR_TOO_BIG, -EFBIG, "%s", reason);
	else if (err == -ELIBACC) /* the codec's library: this machine's */
		moddraft_fail(d, MOD_ERR_IO, -ELIBACC, "%s", reason);
	else if (err < 0)
		moddraft_fail(d, MOD_ERR_DECOMPRESS, -EINVAL, "%s", reason);
}

/* A huge compressed module: parse a sparse image (see sparse.h). */
static int load_sparse(struct moddraft *d, const uint8_t *buf, size_t len, uint64_t size,
		       const struct modfile_opts *opts, bool keep_sig, struct modrec **out)
{
	struct sparse_img img;
	char reason[sizeof(d->reason)];
	struct mem_hold hold = MEM_HOLD_INIT(opts ? opts->budget : NULL);
	unsigned flags = opts && opts->ignore_check ? DECOMPRESS_IGNORE_CHECK : 0;
	int err = sparse_load(d->rec.comp, buf, len, size, max_size(opts), flags, &hold, &img, reason,
			      sizeof(reason));

	if (err == -EAGAIN) {
		/* the run's budget is held by others: wait, read alone */
		mem_hold_release(&hold);
		mem_hold_solo(&hold);
		err = sparse_load(d->rec.comp, buf, len, size, max_size(opts), flags, &hold, &img,
				  reason, sizeof(reason));
	}
	fail_decompress(d, err, reason);
	if (!err) {
		d->rec.elf_size = img.size;
		if (elfparse_module(d, img.p, img.size) < 0)
			moddraft_fail(d, MOD_ERR_NOMEM, -ENOMEM, "%s", "out of memory");
	}
	err = moddraft_finish(d, keep_sig, out);
	sparse_free(&img);
	mem_hold_release(&hold);
	return err;
}

/* Decompress if needed, then parse, into d. Returns 0 or -ENOMEM. */
static int load_bytes(struct moddraft *d, const uint8_t *buf, size_t len,
		      const struct modfile_opts *opts, bool keep_sig, struct modrec **out)
{
	void *plain = NULL;
	size_t plain_len = len;
	char reason[sizeof(d->reason)];
	const struct mod_codec *codec;
	struct mem_hold hold = MEM_HOLD_INIT(opts ? opts->budget : NULL);
	unsigned flags = DECOMPRESS_BIGBUF | (opts && opts->ignore_check ? DECOMPRESS_IGNORE_CHECK : 0);
	int err;

	if (len < MAX_MAGIC_LEN) {
		moddraft_fail(d, MOD_ERR_EMPTY, -EINVAL, "file too short (%zu bytes)", len);
		goto pack;
	}
	d->rec.comp = modfile_detect(buf, len);
	if (d->rec.comp != MOD_COMP_NONE)
		d->rec.file_sum = mod_file_sum(XXH3_64bits(buf, len));
	codec = mod_codec_get(d->rec.comp);
	if (codec->stream && codec->size_hint) {
		uint64_t hint = codec->size_hint(buf, len);

		if (hint >= SPARSE_MIN_SIZE && hint <= max_size(opts))
			return load_sparse(d, buf, len, hint, opts, keep_sig, out);
	}
	if (d->rec.comp != MOD_COMP_NONE) {
		err = decompress_buf(d->rec.comp, buf, len, max_size(opts), flags, &hold, &plain,
				     &plain_len, reason, sizeof(reason));
		if (err == -EAGAIN) {
			/* the run's budget is held by others: wait, read alone */
			mem_hold_release(&hold);
			mem_hold_solo(&hold);
			err = decompress_buf(d->rec.comp, buf, len, max_size(opts), flags, &hold,
					     &plain, &plain_len, reason, sizeof(reason));
		}
		fail_decompress(d, err, reason);
		if (err < 0)
			goto pack;
		buf = plain;
	}
	d->rec.elf_size = plain_len;
	err = elfparse_module(d, buf, plain_len);
	if (err < 0)
		moddraft_fail(d, MOD_ERR_NOMEM, -ENOMEM, "%s", "out of memory");
pack:
	err = moddraft_finish(d, keep_sig, out);
	bigbuf_free(plain);
	mem_hold_release(&hold);
	return err;
}

/* What to collect, what to keep, and whether to encode the full record
 * (the cache wants every key and the signature even when the caller
 * keeps less). */
static void draft_options(struct moddraft *d, const struct modfile_opts *opts)
{
	d->blob = opts ? opts->blob : NULL;
	d->keep_keys = opts ? opts->info_keys : NULL;
	d->info_keys = d->blob ? NULL : d->keep_keys;
	d->info_only = !d->blob && opts && opts->info_only;
}

int modfile_load_mem(const void *buf, size_t len, const struct modfile_opts *opts,
		     struct modrec **out)
{
	struct moddraft d;
	int err;

	moddraft_init(&d);
	draft_options(&d, opts);
	d.rec.file_size = len;
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

/* Read exactly len bytes at off. */
static int read_at(int fd, uint8_t *p, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pread(fd, p + done, len - done, (off_t)(off + done));

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

static int read_all(int fd, uint8_t *p, size_t len)
{
	return read_at(fd, p, len, 0);
}

/* ---- plain modules from a descriptor ---- */

/* Small modules (most of them) are read whole in one pread. Larger ones
 * become an image of their size filled on demand: the head, the tail
 * (section table, names, signature), then each section the parser asks
 * for; the parser reads nothing it did not ask for (elfparse_sec, and
 * libelf only sees the header and section table), so the rest of the
 * image is never looked at. Only those bytes are read: no page faults on
 * the file, no mmap_lock contention between reader threads, no SIGBUS if
 * the file shrinks. Images up to 1 MiB (less 4 KiB) live in a buffer the thread
 * reuses (scratch_get), bigger ones in a sparse mapping the thread
 * reuses too (region_image: pages never written are never resident),
 * whose sections go to spill chunks instead (img_spill): fresh pages each
 * time cost a fault apiece. */
#define WHOLE_READ_MAX (64u * 1024)
#define HEAP_IMAGE_MAX (HUGEPOOL_HALF - 4096) /* scratch_get's half a huge page */
#define HEAD_READ (4u * 1024)
#define TAIL_READ (4u * 1024)     /* the signature trailer, usually whole */
#define TAIL_SPAN_MAX (256u * 1024) /* section table + trailer in one read */
#define MAX_RANGES 64
/* A big module's sections go to chunks of util/bigbuf's that the next
 * big module reuses with their pages in (bigbuf keeps mappings up to
 * BIGBUF_KEEP_MAX; the model drops them once the modules are read). */
#define SPILL_CHUNK (BIGBUF_KEEP_MAX - 4096) /* a mapping of BIGBUF_KEEP_MAX */
#define SPILL_MAX 8

struct img_src {
	int fd;
	uint8_t *img;
	uint64_t len;
	bool spill;			/* ranges to the chunks, not the image */
	uint8_t *chunk[SPILL_MAX];	/* bigbuf's; the last one is filling */
	int n_chunk;
	size_t used;			/* of the last chunk */
	struct {
		uint64_t a, b;
		const uint8_t *p; /* where byte a is */
	} r[MAX_RANGES];
	int n;
};

static void img_add(struct img_src *s, uint64_t a, uint64_t b, const uint8_t *p)
{
	if (s->n < MAX_RANGES) { /* else read again when asked again */
		s->r[s->n].a = a;
		s->r[s->n].b = b;
		s->r[s->n].p = p;
		s->n++;
	}
}

/* Read into the image at off. */
static int img_read(struct img_src *s, uint64_t off, uint64_t size)
{
	int err = read_at(s->fd, s->img + off, (size_t)size, off);

	if (!err)
		img_add(s, off, off + size, s->img + off);
	return err;
}

/* Room in the last chunk for the file bytes at off, half a page off
 * their alignment (see scratch_get), or NULL. */
static uint8_t *chunk_place(struct img_src *s, uint64_t off, size_t size)
{
	uint8_t *c;
	size_t at, cap;

	if (!s->n_chunk)
		return NULL;
	c = s->chunk[s->n_chunk - 1];
	cap = bigbuf_cap(c);
	at = s->used + (size_t)((off + 2048 - (uintptr_t)(c + s->used)) & 4095);
	if (at > cap || size > cap - at)
		return NULL;
	s->used = at + size;
	return c + at;
}

/* Where a range of a big module goes; NULL: into the image. */
static uint8_t *img_spill(struct img_src *s, uint64_t off, size_t size)
{
	uint8_t *p = chunk_place(s, off, size);

	if (p || s->n_chunk == SPILL_MAX)
		return p;
	p = bigbuf_alloc(size + 4096 > SPILL_CHUNK ? size + 4096 : SPILL_CHUNK);
	if (!p)
		return NULL;
	s->chunk[s->n_chunk++] = p;
	s->used = 0;
	return chunk_place(s, off, size);
}

static void img_src_release(struct img_src *s)
{
	for (int i = 0; i < s->n_chunk; i++)
		bigbuf_free(s->chunk[i]);
	s->n_chunk = 0;
}

static const uint8_t *img_fetch(void *ud, uint64_t off, uint64_t size, unsigned flags, int *err)
{
	struct img_src *s = ud;
	const bool in_place = flags & ELF_FETCH_IN_PLACE;
	uint64_t end;
	uint8_t *p;

	if (off > s->len || size > s->len - off) {
		*err = -EINVAL;
		return NULL;
	}
	end = off + size;
	for (int i = 0; i < s->n; i++)
		if (s->r[i].a <= off && end <= s->r[i].b &&
		    (!in_place || s->r[i].p == s->img + s->r[i].a))
			return s->r[i].p + (off - s->r[i].a);
	p = s->spill && !in_place ? img_spill(s, off, (size_t)size) : NULL;
	if (!p)
		p = s->img + off;
	*err = read_at(s->fd, p, (size_t)size, off);
	if (*err < 0)
		return NULL;
	img_add(s, off, end, p);
	return p;
}

/* The bytes at [off, off + size) at their place in the image. */
static int img_place(struct img_src *s, uint64_t off, uint64_t size)
{
	int err = 0;

	img_fetch(s, off, size, ELF_FETCH_IN_PLACE, &err);
	return err;
}

/* Where the tail read starts: the section table usually sits at the end,
 * just before the signature trailer, with the section name table right
 * before it; one read then covers all three. A table far from the end
 * (or nonsense) leaves just the trailer: ensure_headers reads it. */
static uint64_t tail_start(const struct img_src *s)
{
	const uint8_t *h = s->img;
	uint64_t start = s->len - TAIL_READ, shoff;
	bool is64, msb;

	if (memcmp(h, ELFMAG, SELFMAG) != 0 ||
	    (h[EI_CLASS] != ELFCLASS32 && h[EI_CLASS] != ELFCLASS64))
		return start;
	is64 = h[EI_CLASS] == ELFCLASS64;
	msb = h[EI_DATA] == ELFDATA2MSB;
	shoff = get_uint(h + (is64 ? 0x28 : 0x20), is64 ? 8 : 4, msb);
	if (shoff >= start || s->len - shoff > TAIL_SPAN_MAX)
		return start;
	/* a little before the table: the name table is small and there */
	return shoff > HEAD_READ + 2048 ? (shoff - 2048) & ~(uint64_t)4095 : HEAD_READ;
}

/* Make the section table present (libelf reads it from the image). A
 * header that makes no sense is left for the parser to reject. */
static int ensure_headers(struct img_src *s)
{
	const uint8_t *h = s->img;
	bool is64, msb;
	uint64_t shoff, shnum, esz;

	if (s->len < 64 || memcmp(h, ELFMAG, SELFMAG) != 0 ||
	    (h[EI_CLASS] != ELFCLASS32 && h[EI_CLASS] != ELFCLASS64))
		return 0;
	is64 = h[EI_CLASS] == ELFCLASS64;
	msb = h[EI_DATA] == ELFDATA2MSB;
	shoff = get_uint(h + (is64 ? 0x28 : 0x20), is64 ? 8 : 4, msb);
	shnum = get_uint(h + (is64 ? 0x3c : 0x30), 2, msb);
	esz = is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
	if (shoff > s->len || esz > s->len - shoff)
		return 0;
	if (img_place(s, shoff, esz) < 0)
		return 0;
	if (!shnum) /* SHN_XINDEX scheme: the count is in the first header */
		shnum = get_uint(s->img + shoff + (is64 ? 0x20 : 0x14), is64 ? 8 : 4, msb);
	if (shnum > (s->len - shoff) / esz)
		return 0;
	return img_place(s, shoff, shnum * esz) == -ENOMEM ? -ENOMEM : 0;
}

/* Each thread keeps its heap image buffer from one module to the next:
 * a fresh one would come back from the kernel as new pages, and faulting
 * them in cost about a tenth of a plain-tree run. Past the small modules'
 * 64 KiB it is half a huge page (util/hugepool.h): grown 4 KiB at a time,
 * the two readers' buffers took 900 of a full run's 1,800 page faults.
 * The record copies what it keeps, so the buffer is free again once the
 * module is packed. */
struct scratch {
	uint8_t *raw, *p; /* p: raw, placed (see scratch_get) */
	size_t cap;
	bool half;        /* raw is hugepool's, else malloc's */
};

static void scratch_release(void *v)
{
	struct scratch *s = v;

	if (s->half)
		hugepool_give_half(s->raw);
	else
		free(s->raw);
}

static struct ma_thread_obj scratch_obj = MA_THREAD_OBJ_INIT(struct scratch, scratch_release);

/* A buffer of at least len bytes owned by this thread, or NULL. */
static uint8_t *scratch_get(size_t len)
{
	struct scratch *s = ma_thread_obj(&scratch_obj);

	if (!s)
		return NULL;
	if (s->cap < len) {
		size_t cap = s->cap ? s->cap : 64 * 1024;
		uint8_t *p = NULL;
		bool half = false;

		while (cap < len)
			cap *= 2;
		if (cap > WHOLE_READ_MAX && len <= HUGEPOOL_HALF - 4096) {
			p = hugepool_take_half();
			half = p != NULL;
			if (half)
				cap = HUGEPOOL_HALF - 4096;
		}
		if (!p)
			p = malloc(cap + 4096);
		if (!p)
			return NULL;
		scratch_release(s);
		s->raw = p;
		s->half = half;
		/* Half a page off the file's alignment: a copy whose target
		 * sits just above its source modulo 4 KiB (what an mmap-backed
		 * malloc block gives, 16 bytes in) runs at a fraction of the
		 * speed (4K aliasing in the kernel's rep movsb). */
		s->p = p + ((2048 - (uintptr_t)p % 4096 + 4096) % 4096);
		s->cap = cap;
	}
	return s->p;
}

/* A big module's image: a sparse mapping each thread keeps for its next
 * big module, the image placed so that it ends where the mapping ends.
 * What every such module reads in place (the section table, its names
 * and the signature, at the end of the file) then falls on the same
 * pages each time, already in: a fresh mapping a module cost a fault a
 * page and an munmap (a TLB shootdown of the other CPU). The parser reads
 * only the ranges it fetched (img_fetch), so what earlier modules left
 * elsewhere in the mapping is never seen. */
#define REGION_MIN ((size_t)64 << 20) /* virtual; resident only where read */

struct region {
	uint8_t *p;
	size_t size;
};

static void region_release(void *v)
{
	struct region *r = v;

	if (r->p)
		munmap(r->p, r->size);
}

static struct ma_thread_obj region_obj = MA_THREAD_OBJ_INIT(struct region, region_release);

/* Room for an image of len bytes ending at the thread's mapping's end,
 * or NULL. */
static uint8_t *region_image(size_t len)
{
	struct region *r = ma_thread_obj(&region_obj);
	size_t need = (len + 4095) & ~(size_t)4095;

	if (!r || need < len)
		return NULL;
	if (r->size < need) {
		size_t size = need > REGION_MIN ? need : REGION_MIN;
		void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (p == MAP_FAILED)
			return NULL;
		if (r->p)
			munmap(r->p, r->size);
		r->p = p;
		r->size = size;
	}
	return r->p + r->size - need;
}

/* A plain module bigger than WHOLE_READ_MAX whose first HEAD_READ bytes
 * the caller read into head. */
static int load_plain_fd(struct moddraft *d, int fd, size_t len, const uint8_t *head,
			 bool keep_sig, struct modrec **out)
{
	struct img_src s = { .fd = fd, .len = len };
	const bool mapped = len > HEAP_IMAGE_MAX;
	int err;

	d->rec.elf_size = len;
	if (mapped) {
		s.img = region_image(len);
		s.spill = true;
	} else {
		s.img = scratch_get(len ? len : 1);
	}
	if (!s.img)
		return -ENOMEM;
	memcpy(s.img, head, HEAD_READ);
	img_add(&s, 0, HEAD_READ, s.img);
	err = img_read(&s, tail_start(&s), len - tail_start(&s));
	if (!err) {
		/* The header and the section table must be present before
		 * libelf sees the image. */
		err = ensure_headers(&s);
		if (!err)
			err = elfparse_module_img(d, s.img, len, img_fetch, &s);
		if (err == -ENOMEM)
			moddraft_fail(d, MOD_ERR_NOMEM, -ENOMEM, "%s", "out of memory");
	} else if (err != -ENOMEM) {
		moddraft_fail(d, MOD_ERR_IO, err, "read: %s", strerror(-err));
	}
	err = moddraft_finish(d, keep_sig, out);
	img_src_release(&s);
	return err;
}

int modfile_load_at(int dirfd, const char *path, const struct modfile_opts *opts,
		    struct modrec **out, struct stat *st_out)
{
	const bool keep_sig = opts && opts->keep_signature;
	struct moddraft d;
	struct stat st;
	uint8_t head[HEAD_READ];
	uint8_t *buf = NULL;
	size_t len;
	int fd, err;

	moddraft_init(&d);
	draft_options(&d, opts);
	/* O_NONBLOCK: a FIFO must not block us */
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		err = io_fail(&d, "open", -errno, keep_sig, out);
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		err = io_fail(&d, "fstat", -errno, keep_sig, out);
		goto out;
	}
	if (st_out)
		*st_out = st;
	if (!S_ISREG(st.st_mode)) {
		err = io_fail(&d, "not a regular file", S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL,
			      keep_sig, out);
		goto out;
	}
	d.rec.file_size = (uint64_t)st.st_size;
	if ((uint64_t)st.st_size > SIZE_MAX) {
		err = io_fail(&d, "size", -EFBIG, keep_sig, out);
		goto out;
	}
	len = (size_t)st.st_size;
	if (len < MAX_MAGIC_LEN) {
		err = load_bytes(&d, (const uint8_t *)"", len, opts, keep_sig, out);
		goto out;
	}
	/* Most modules are small: one read, whatever their format. */
	if (len <= WHOLE_READ_MAX) {
		uint8_t *img = scratch_get(len);

		if (!img) {
			err = -ENOMEM;
			goto out;
		}
		err = read_all(fd, img, len);
		if (err < 0)
			err = io_fail(&d, "read", err, keep_sig, out);
		else
			err = load_bytes(&d, img, len, opts, keep_sig, out);
		goto out;
	}
	err = read_all(fd, head, sizeof(head));
	if (err < 0) {
		err = io_fail(&d, "read", err, keep_sig, out);
		goto out;
	}
	if (modfile_detect(head, sizeof(head)) == MOD_COMP_NONE) {
		err = load_plain_fd(&d, fd, len, head, keep_sig, out);
		goto out;
	}
	if ((uint64_t)len > max_size(opts)) {
		moddraft_fail(&d, MOD_ERR_TOO_BIG, -EFBIG, "compressed file larger than %llu bytes",
			      (unsigned long long)max_size(opts));
		err = moddraft_finish(&d, keep_sig, out);
		goto out;
	}
	buf = bigbuf_alloc(len);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(buf, head, sizeof(head));
	err = read_at(fd, buf + sizeof(head), len - sizeof(head), sizeof(head));
	if (err < 0) {
		err = io_fail(&d, "read", err, keep_sig, out);
		goto out;
	}
	err = load_bytes(&d, buf, len, opts, keep_sig, out);
out:
	bigbuf_free(buf);
	if (fd >= 0)
		close(fd);
	moddraft_release(&d);
	return err;
}

int modfile_load_path(const char *path, const struct modfile_opts *opts, struct modrec **out)
{
	return modfile_load_at(AT_FDCWD, path, opts, out, NULL);
}
