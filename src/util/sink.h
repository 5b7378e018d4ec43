/* Bytes handed on in pieces, in order, as they are made: a file written
 * while it is built is never held whole (depmod's outputs, util/publish). */
#ifndef MA_UTIL_SINK_H
#define MA_UTIL_SINK_H

#include <stddef.h>

struct ma_sink {
	/* 0, or a negative errno that stops the producer */
	int (*write)(void *ud, const void *p, size_t len);
	void *ud;
};

#endif
