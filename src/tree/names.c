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

size_t modname_span(const char *in, size_t len)
{
	size_t i = 0;

	while (i < len && i < NAME_MAX_KMOD && in[i] && in[i] != '.')
		i++;
	return i;
}

void modname_copy(const char *in, size_t span, char *out)
{
	for (size_t i = 0; i < span; i++)
		out[i] = in[i] == '-' ? '_' : in[i];
	out[span] = '\0';
}
