/* Buffers kept for the big sections of big plain modules. See secbuf.h. */
#include "elf/secbuf.h"

#include <pthread.h>
#include <stdbool.h>
#include <sys/mman.h>

/* Address space, not memory: only what a module writes becomes resident.
 * amdgpu, the biggest module of a Debian tree, reads about 3 MB. */
#define SECBUF_SIZE ((size_t)64 << 20)
#define SECBUF_SLOTS 16 /* more readers than this read into their images */

struct secbuf {
	uint8_t *p; /* SECBUF_SIZE bytes, or NULL: not mapped */
	size_t used;
	bool busy;
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct secbuf pool[SECBUF_SLOTS];

struct secbuf *secbuf_get(void)
{
	struct secbuf *b = NULL;

	pthread_mutex_lock(&pool_lock);
	/* a mapped one first: its pages are already there */
	for (int pass = 0; pass < 2 && !b; pass++)
		for (int i = 0; i < SECBUF_SLOTS; i++)
			if (!pool[i].busy && (pass || pool[i].p)) {
				b = &pool[i];
				b->busy = true;
				break;
			}
	pthread_mutex_unlock(&pool_lock);
	if (!b)
		return NULL;
	if (!b->p) {
		void *p = mmap(NULL, SECBUF_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (p == MAP_FAILED) {
			secbuf_put(b);
			return NULL;
		}
		b->p = p;
	}
	b->used = 0;
	return b;
}

uint8_t *secbuf_take(struct secbuf *b, uint64_t off, size_t size)
{
	/* the next start that is off + 2048 modulo 4096 */
	size_t at = b->used + (size_t)((off + 2048 - b->used) & 4095);

	if (at > SECBUF_SIZE || size > SECBUF_SIZE - at)
		return NULL;
	b->used = at + size;
	return b->p + at;
}

void secbuf_put(struct secbuf *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&pool_lock);
	b->busy = false;
	pthread_mutex_unlock(&pool_lock);
}

void secbuf_release_all(void)
{
	pthread_mutex_lock(&pool_lock);
	for (int i = 0; i < SECBUF_SLOTS; i++)
		if (!pool[i].busy && pool[i].p) {
			munmap(pool[i].p, SECBUF_SIZE);
			pool[i].p = NULL;
		}
	pthread_mutex_unlock(&pool_lock);
}
