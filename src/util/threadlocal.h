/* One object per thread, created zeroed on first use and handed to a
 * release function when the thread ends: buffers a thread reuses from one
 * module to the next. Declare it static with MA_THREAD_OBJ_INIT. */
#ifndef MA_UTIL_THREADLOCAL_H
#define MA_UTIL_THREADLOCAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct ma_thread_obj {
	size_t size;
	void (*release)(void *obj); /* frees what obj holds, not obj */
	atomic_bool ready;
	bool ok;
	pthread_key_t key;
};

#define MA_THREAD_OBJ_INIT(type, release_fn) { sizeof(type), (release_fn), false, false, 0 }

/* This thread's object, or NULL (out of memory, or no key). */
void *ma_thread_obj(struct ma_thread_obj *t);

#endif
