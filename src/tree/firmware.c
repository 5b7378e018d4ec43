#include "tree/firmware.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int fw_roots_find(const char *root, struct fw_roots *r)
{
	static const char *const rel[] = { "lib/firmware", "usr/lib/firmware" };
	dev_t dev[2];
	ino_t ino[2];

	r->n = 0;
	for (size_t i = 0; i < 2; i++) {
		struct stat st;
		char *d;
		bool same = false;

		if (asprintf(&d, "%s/%s", root ? root : "", rel[i]) < 0) {
			fw_roots_release(r);
			return -ENOMEM;
		}
		if (stat(d, &st) < 0 || !S_ISDIR(st.st_mode)) {
			free(d);
			continue;
		}
		for (size_t k = 0; k < r->n; k++)
			same |= dev[k] == st.st_dev && ino[k] == st.st_ino; /* /lib -> usr/lib */
		if (same) {
			free(d);
			continue;
		}
		dev[r->n] = st.st_dev;
		ino[r->n] = st.st_ino;
		r->dir[r->n++] = d;
	}
	return 0;
}

void fw_roots_release(struct fw_roots *r)
{
	for (size_t k = 0; k < r->n; k++)
		free(r->dir[k]);
	r->n = 0;
}

/* sub[s] then kver when with_kver[s], then "/" */
static const char *const sub[] = { "updates/", "updates", "", "" };
static const bool with_kver[] = { true, false, true, false };

bool fw_locate(const struct fw_roots *r, const char *kver, const char *name, char *path,
	       size_t size)
{
	static const char *const ext[] = { "", ".xz", ".zst" };
	struct stat st;

	for (size_t i = 0; i < r->n; i++) {
		for (size_t s = 0; s < 4; s++) {
			for (size_t e = 0; e < 3; e++) {
				snprintf(path, size, "%s/%s%s%s%s%s", r->dir[i], sub[s],
					 with_kver[s] ? kver : "", sub[s][0] || with_kver[s] ? "/" : "",
					 name, ext[e]);
				if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
					return true;
			}
		}
	}
	return false;
}

bool fw_present(const struct fw_roots *r, const char *kver, const char *name)
{
	char path[8192];

	return fw_locate(r, kver, name, path, sizeof(path));
}

int fw_dirs(const struct fw_roots *r, const char *kver, const char *name,
	    int (*fn)(void *ud, const char *dir), void *ud)
{
	const char *slash = strrchr(name, '/');
	int dlen = slash ? (int)(slash - name) : 0;
	char path[8192];
	int err = 0;

	for (size_t i = 0; !err && i < r->n; i++) {
		for (size_t s = 0; !err && s < 4; s++) {
			int n = snprintf(path, sizeof(path), "%s/%s%s%s%.*s", r->dir[i], sub[s],
					 with_kver[s] ? kver : "", sub[s][0] || with_kver[s] ? "/" : "",
					 dlen, name);

			/* "<root>/" and "<root>/updates/" without a directory part:
			 * the directory itself */
			while (n > 1 && (size_t)n < sizeof(path) && path[n - 1] == '/')
				path[--n] = '\0';
			err = fn(ud, path);
		}
	}
	return err;
}
