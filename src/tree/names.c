#include "tree/names.h"

#include <errno.h>

int alias_normalize(const char *in, char *out, size_t max)
{
	size_t i;

	for (i = 0; i < max && in[i]; i++) {
		char c = in[i];

		if (c == '-') {
			out[i] = '_';
		} else if (c == ']') {
			return -EINVAL;
		} else if (c == '[') {
			while (in[i] != ']' && in[i] != '\0' && i < max) {
				out[i] = in[i];
				i++;
			}
			if (i == max)
				break; /* cut inside the brackets, as anywhere */
			if (in[i] != ']')
				return -EINVAL;
			out[i] = ']';
		} else {
			out[i] = c;
		}
	}
	out[i] = '\0';
	return 0;
}
