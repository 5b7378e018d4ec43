#include "util/bigbuf.h"

#include "util/hugemem.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Before every buffer: what it is, and what it can hold. 16 bytes keep
 * the buffer as aligned as malloc's. */
struct hdr {
	size_t cap;
	size_t mapped; /* the mapping's size, 0 for a malloc block */
};

#define HDR sizeof(struct hdr)

/* Under AddressSanitizer every buffer is a malloc block: its redzones
 * catch a read past the end that a mapping's slack would hide. */
#ifdef __SANITIZE_ADDRESS__
#define MAP_MIN SIZE_MAX
#else
#define MAP_MIN ((size_t)BIGBUF_MAP_MIN - HDR)
#endif

/* Pages written once are worth faulting in at once, up to this size
 * (beyond, a lying size hint would commit what it names). */
#define POPULATE_MAX (16u << 20)

/* The mappings kept for the next buffers, shared by the threads (a few
 * locks per module read cost nothing beside decompressing it). */
static struct {
	pthread_mutex_t lock;
	void *base[BIGBUF_KEEP];
	size_t size[BIGBUF_KEEP];
} keep = { .lock = PTHREAD_MUTEX_INITIALIZER };

static struct hdr *hdr_of(const void *p)
{
	return (struct hdr *)((uintptr_t)p - HDR);
}

static size_t map_size(size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (len > SIZE_MAX - HDR - page)
		return 0;
	return (len + HDR + page - 1) / page * page;
}

static void *as_buf(void *base, size_t cap, size_t mapped)
{
	struct hdr *h = base;

	h->cap = cap;
	h->mapped = mapped;
	return (char *)base + HDR;
}

static bool use_huge(size_t size)
{
	return size >= HUGEMEM_MIN && hugemem_allowed();
}

/* A mapping of size bytes: a kept one that fits (the smallest), or the
 * largest kept one resized, or a new one. */
static void *map_get(size_t size)
{
	void *base = NULL;
	size_t have = 0;
	int fit = -1, big = -1, pick;

	pthread_mutex_lock(&keep.lock);
	for (int i = 0; i < BIGBUF_KEEP; i++) {
		if (!keep.base[i])
			continue;
		if (keep.size[i] >= size && (fit < 0 || keep.size[i] < keep.size[fit]))
			fit = i;
		if (big < 0 || keep.size[i] > keep.size[big])
			big = i;
	}
	/* a huge one is not resized: moved, it would lose its huge pages */
	pick = fit >= 0 ? fit : use_huge(size) ? -1 : big;
	if (pick >= 0) {
		base = keep.base[pick];
		have = keep.size[pick];
		keep.base[pick] = NULL;
	}
	pthread_mutex_unlock(&keep.lock);
	if (base && have < size) {
		void *nb = mremap(base, have, size, MREMAP_MAYMOVE);

		if (nb == MAP_FAILED) {
			munmap(base, have);
			return NULL;
		}
		base = nb;
		have = size;
	}
	if (base)
		return as_buf(base, have - HDR, have);
	if (use_huge(size)) {
		base = hugemem_map(size, &have);
		return base ? as_buf(base, have - HDR, have) : NULL;
	}
	base = mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | (size <= POPULATE_MAX ? MAP_POPULATE : 0), -1, 0);
	return base == MAP_FAILED ? NULL : as_buf(base, size - HDR, size);
}

void *bigbuf_alloc(size_t len)
{
	size_t size;
	void *base;

	if (len < MAP_MIN) {
		base = malloc(HDR + (len ? len : 1));
		return base ? as_buf(base, len, 0) : NULL;
	}
	size = map_size(len);
	return size ? map_get(size) : NULL;
}

void *bigbuf_realloc(void *p, size_t len)
{
	struct hdr *h;
	size_t size;
	void *q;

	if (!p)
		return bigbuf_alloc(len);
	h = hdr_of(p);
	if (h->mapped) {
		size = map_size(len);
		if (!size)
			return NULL;
		if (size == h->mapped)
			return p;
		if (size < h->mapped && use_huge(h->mapped))
			return p; /* a huge one keeps its pages */
		if (size > h->mapped && use_huge(size)) {
			/* grown into huge pages: a new mapping, not a moved one */
			q = bigbuf_alloc(len);
			if (!q)
				return NULL;
			memcpy(q, p, h->cap);
			bigbuf_free(p);
			return q;
		}
		q = mremap(h, h->mapped, size, MREMAP_MAYMOVE);
		return q == MAP_FAILED ? NULL : as_buf(q, size - HDR, size);
	}
	if (len < MAP_MIN) {
		q = realloc(h, HDR + (len ? len : 1));
		return q ? as_buf(q, len, 0) : NULL;
	}
	q = bigbuf_alloc(len);
	if (!q)
		return NULL;
	memcpy(q, p, h->cap < len ? h->cap : len);
	free(h);
	return q;
}

size_t bigbuf_cap(const void *p)
{
	return p ? hdr_of(p)->cap : 0;
}

void bigbuf_free(void *p)
{
	struct hdr *h;

	if (!p)
		return;
	h = hdr_of(p);
	if (!h->mapped) {
		free(h);
		return;
	}
	if (h->mapped <= BIGBUF_KEEP_MAX) {
		pthread_mutex_lock(&keep.lock);
		for (int i = 0; i < BIGBUF_KEEP; i++) {
			if (!keep.base[i]) {
				keep.base[i] = h;
				keep.size[i] = h->mapped;
				h = NULL;
				break;
			}
		}
		pthread_mutex_unlock(&keep.lock);
		if (!h)
			return;
	}
	munmap(h, h->mapped);
}

void bigbuf_drop_kept(void)
{
	pthread_mutex_lock(&keep.lock);
	for (int i = 0; i < BIGBUF_KEEP; i++) {
		if (keep.base[i])
			munmap(keep.base[i], keep.size[i]);
		keep.base[i] = NULL;
	}
	pthread_mutex_unlock(&keep.lock);
}
