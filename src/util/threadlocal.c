#include "util/threadlocal.h"

#include <stdlib.h>

static pthread_mutex_t create_lock = PTHREAD_MUTEX_INITIALIZER;

/* The key's destructor gets the object; its owner's release is found
 * through a header placed before it. */
struct header {
	struct ma_thread_obj *t;
	_Alignas(max_align_t) unsigned char obj[];
};

static void destroy(void *p)
{
	struct header *h = p;

	if (h->t->release)
		h->t->release(h->obj);
	free(h);
}

void *ma_thread_obj(struct ma_thread_obj *t)
{
	struct header *h;

	if (!atomic_load(&t->ready)) {
		pthread_mutex_lock(&create_lock);
		if (!atomic_load(&t->ready)) {
			t->ok = pthread_key_create(&t->key, destroy) == 0;
			atomic_store(&t->ready, true);
		}
		pthread_mutex_unlock(&create_lock);
	}
	if (!t->ok)
		return NULL;
	h = pthread_getspecific(t->key);
	if (!h) {
		h = calloc(1, sizeof(*h) + t->size);
		if (!h)
			return NULL;
		h->t = t;
		if (pthread_setspecific(t->key, h) != 0) {
			free(h);
			return NULL;
		}
	}
	return h->obj;
}
