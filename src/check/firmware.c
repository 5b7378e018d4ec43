/* MA-FIRMWARE-MISSING: a module's firmware= file found nowhere the
 * kernel's loader looks (tree/firmware.h). Checked only when
 * one of those directories exists: a tree unpacked alone says nothing
 * about the firmware package. A warning: the module loads, the device's
 * probe fails (or falls back) at run time. */
#include "check/check_int.h"

#include <string.h>

#include "elf/module.h"
#include "tree/firmware.h"

int ck_firmware(struct check_ctx *c)
{
	struct fw_roots r;
	int err = fw_roots_find(c->o->src.root, &r);

	for (size_t i = 0; !err && r.n && i < c->n; i++) {
		const struct modrec *rec = c->mods[i].rec;

		if (c->mods[i].broken || !c->mods[i].wanted)
			continue;
		for (size_t j = 0; !err && j < rec->n_info; j++) {
			const char *name = rec->info[j].value;
			char where[8192];
			struct finding *f;
			bool found;

			if (strcmp(rec->info[j].key, "firmware") != 0 || !name[0])
				continue;
			found = fw_locate(&r, c->o->src.kver, name, where, sizeof(where));
			err = ck_stamp_firmware(c, &r, name, found ? where : NULL);
			if (found)
				continue;
			f = ck_add(c, K_FIRMWARE_MISSING, SEV_WARNING, (long)i,
				   "%s: firmware %s not found under %s%s%s", c->mods[i].modname,
				   rec->info[j].value, r.dir[0], r.n > 1 ? " or " : "",
				   r.n > 1 ? r.dir[1] : "");
			finding_set_str(c->rep, f, "firmware", rec->info[j].value);
		}
	}
	fw_roots_release(&r);
	return err ? err : report_err(c->rep);
}
