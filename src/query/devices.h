/* The hardware side: device modaliases (from a sysfs tree, or a saved
 * list), and for each the modules udev would load from a tree: its
 * lookup of MODALIAS through libkmod (kmod_module_new_from_lookup), every
 * module found probed with KMOD_PROBE_APPLY_BLACKLIST, so a blacklisted
 * module loads for no device. */
#ifndef MA_QUERY_DEVICES_H
#define MA_QUERY_DEVICES_H

#include <stdbool.h>
#include <stddef.h>

#include "query/query.h"
#include "util/arena.h"
#include "util/attr.h"

struct device {
	char *devpath;       /* "/devices/pci0000:00/..." (sysfs), or NULL */
	char *modalias;
	char *driver;        /* bound now (sysfs driver link), or NULL */
	char *driver_module; /* that driver's module (driver/module link) */
	const char *file;    /* --modaliases: the list; NULL for sysfs */
	unsigned int line;   /* its line */
};

/* A line of a list that is no modalias, kept to be reported. */
struct device_junk {
	const char *file;
	unsigned int line;
	char *why;           /* "not a modalias (no "bus:" prefix)" ... */
	char *text;          /* the line, non-printable bytes as \xHH */
};

struct device_list {
	struct device *v;
	size_t n, alloc;
	struct device_junk *junk;
	size_t n_junk, a_junk;
	char *source;        /* the sysfs root or the list file */
	struct arena strings;/* every string above and of v[] and junk[] */
};

void device_list_release(struct device_list *l);

/* Every "modalias" file under ROOT/devices (symbolic links not
 * followed), sorted by device path, with the driver bound and its module.
 * 0, -ENOMEM, or the errno of ROOT/devices itself (a subdirectory that
 * cannot be read is skipped). */
int devices_from_sysfs(const char *root, struct device_list *out) MA_MUST_CHECK;
/* A list of modaliases, one per line (as "find /sys/devices -name
 * modalias -exec cat {} +" writes), empty lines and '#' comments
 * skipped; lines that are no modalias (no "bus:" prefix, a blank or a
 * byte outside printable ASCII) go to out->junk with their line. file
 * names the list in junk and devices. 0 or -ENOMEM. */
int devices_from_list(const char *file, const char *buf, size_t len, struct device_list *out)
	MA_MUST_CHECK;

/* What becomes of one module udev's lookup found. */
enum device_state {
	DS_MODULE,      /* loaded from its file */
	DS_BUILTIN,     /* built into the kernel: already there */
	DS_INSTALL,     /* an install command runs instead */
	DS_BLACKLISTED, /* blacklisted: udev skips it */
	DS_MISSING,     /* no file and not built in (an alias to nothing) */
};

const char *device_state_name(enum device_state s);

struct device_match {
	struct query_hit hit;            /* the module and how it was found */
	enum device_state state;
	const char *path;                /* DS_MODULE */
	const char *install;             /* DS_INSTALL: the command */
	const struct modprobe_entry *entry; /* DS_INSTALL, DS_BLACKLISTED: the line */
};

struct device_result {
	struct device_match *v;          /* in the lookup's order, duplicates kept */
	size_t n;
	bool bound_offered;              /* the driver bound now is among the
					    modules that load (or its
					    module is) */
	size_t loading;                  /* matches that load (module, builtin,
					    install) */
};

/* Resolve d->modalias in session s (use a fresh session per device, as
 * udev's lookups are independent). 0, -EINVAL (a modalias kmod cannot
 * normalise: nothing matches), -ENOMEM, -EBADMSG (a corrupt index).
 * out->v is owned by the session. */
int device_resolve(struct query_session *s, const struct device *d, struct device_result *out)
	MA_MUST_CHECK;

#endif
