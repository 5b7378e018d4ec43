/* MA-FIRMWARE-MISSING: a module's firmware= file found nowhere the
 * kernel's loader looks (drivers/base/firmware_loader/main.c, fw_path[]):
 * <fw>/updates/<release>/, <fw>/updates/, <fw>/<release>/, <fw>/, each
 * also with .xz / .zst (CONFIG_FW_LOADER_COMPRESS), for <fw> in
 * BASEDIR/lib/firmware and BASEDIR/usr/lib/firmware. Checked only when
 * one of those directories exists: a tree unpacked alone says nothing
 * about the firmware package. A warning: the module loads, the device's
 * probe fails (or falls back) at run time. */
#include "check/check_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "elf/module.h"

struct fwroots {
	char *dir[2];
	size_t n;
};

static int find_roots(const struct check_ctx *c, struct fwroots *r)
{
	static const char *const rel[] = { "lib/firmware", "usr/lib/firmware" };
	dev_t dev[2];
	ino_t ino[2];

	r->n = 0;
	for (size_t i = 0; i < 2; i++) {
		struct stat st;
		char *d;
		bool same = false;

		if (asprintf(&d, "%s/%s", c->o->root ? c->o->root : "", rel[i]) < 0)
			return -ENOMEM;
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

static bool present(const struct fwroots *r, const char *kver, const char *name)
{
	/* sub[s] then kver when with_kver[s], then "/" */
	static const char *const sub[] = { "updates/", "updates", "", "" };
	static const bool with_kver[] = { true, false, true, false };
	static const char *const ext[] = { "", ".xz", ".zst" };
	char path[8192];
	struct stat st;

	for (size_t i = 0; i < r->n; i++) {
		for (size_t s = 0; s < 4; s++) {
			for (size_t e = 0; e < 3; e++) {
				snprintf(path, sizeof(path), "%s/%s%s%s%s%s", r->dir[i], sub[s],
					 with_kver[s] ? kver : "", sub[s][0] || with_kver[s] ? "/" : "",
					 name, ext[e]);
				if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
					return true;
			}
		}
	}
	return false;
}

int ck_firmware(struct check_ctx *c)
{
	struct fwroots r;
	int err = find_roots(c, &r);

	for (size_t i = 0; !err && r.n && i < c->n; i++) {
		const struct modrec *rec = c->mods[i].rec;

		if (c->mods[i].broken || !c->mods[i].wanted)
			continue;
		for (size_t j = 0; j < rec->n_info; j++) {
			struct finding *f;

			if (strcmp(rec->info[j].key, "firmware") != 0 || !rec->info[j].value[0] ||
			    present(&r, c->o->kver, rec->info[j].value))
				continue;
			f = ck_add(c, K_FIRMWARE_MISSING, SEV_WARNING, (long)i,
				   "%s: firmware %s not found under %s%s%s", c->mods[i].modname,
				   rec->info[j].value, r.dir[0], r.n > 1 ? " or " : "",
				   r.n > 1 ? r.dir[1] : "");
			finding_set_str(c->rep, f, "firmware", rec->info[j].value);
		}
	}
	for (size_t k = 0; k < r.n; k++)
		free(r.dir[k]);
	return err ? err : report_err(c->rep);
}
