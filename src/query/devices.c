/* Device modaliases from sysfs or a list, and udev's answer for each. */
#include "query/devices.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "query/query_int.h"
#include "util/array.h"
#include "util/fileio.h"
#include "util/strbuf.h"

/* a sysfs attribute is one page; a saved list's line is bounded too */
#define MODALIAS_MAX 4096

void device_list_release(struct device_list *l)
{
	free(l->v);
	free(l->junk);
	arena_release(&l->strings);
	memset(l, 0, sizeof(*l));
}

const char *device_state_name(enum device_state s)
{
	static const char *const names[] = {
		[DS_MODULE] = "module",           [DS_BUILTIN] = "builtin",
		[DS_INSTALL] = "install-command", [DS_BLACKLISTED] = "blacklisted",
		[DS_MISSING] = "missing",
	};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* ---- a saved list ---- */

/* Is s (len bytes) a modalias: printable ASCII without blanks, and a
 * "bus:" prefix of letters, digits, '_' or '-'? why says what is not. */
static bool is_modalias(const char *s, size_t len, const char **why)
{
	size_t i, colon = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f) {
			*why = c == ' ' || c == '\t' ? "a blank inside" : "a byte outside printable ASCII";
			return false;
		}
		if (c == ':' && !colon)
			colon = i;
	}
	if (!colon) {
		*why = "no \"bus:\" prefix";
		return false;
	}
	for (i = 0; i < colon; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-')) {
			*why = "no \"bus:\" prefix";
			return false;
		}
	}
	return true;
}

static char *escaped(struct arena *a, const char *s, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	char *e;

	if (len > 200)
		len = 200; /* enough to recognise it */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			strbuf_addch(&sb, (char)c);
		else
			strbuf_addf(&sb, "\\x%02X", c);
	}
	e = sb.buf ? arena_strndup(a, sb.buf, sb.len) : NULL;
	strbuf_release(&sb);
	return e;
}

static int junk(struct device_list *l, const char *file, unsigned int line, const char *why,
		const char *s, size_t len)
{
	struct device_junk j = { file, line, arena_strdup(&l->strings, why),
				 escaped(&l->strings, s, len) };

	if (!j.why || !j.text)
		return -ENOMEM;
	return ARRAY_PUSH(l->junk, l->n_junk, l->a_junk, j);
}

int devices_from_list(const char *file, const char *buf, size_t len, struct device_list *out)
{
	unsigned int line = 0;
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	out->source = arena_strdup(&out->strings, file);
	if (!out->source)
		return -ENOMEM;
	file = out->source;
	while (pos < len) {
		const char *s = buf + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		const char *why;
		int err = 0;

		pos += n + (nl ? 1 : 0);
		line++;
		if (n && s[n - 1] == '\r')
			n--; /* a list written on another system */
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		while (n && (*s == ' ' || *s == '\t')) {
			s++;
			n--;
		}
		if (!n || *s == '#')
			continue;
		if (n > MODALIAS_MAX)
			err = junk(out, file, line, "longer than a sysfs attribute (4096 bytes)", s, n);
		else if (!is_modalias(s, n, &why))
			err = junk(out, file, line, why, s, n);
		else {
			struct device d = { .modalias = arena_strndup(&out->strings, s, n),
					    .file = file, .line = line };

			err = d.modalias ? ARRAY_PUSH(out->v, out->n, out->alloc, d) : -ENOMEM;
		}
		if (err)
			return err;
	}
	return 0;
}

/* ---- sysfs ---- */

/* basename of the link at dirfd/name, or NULL */
static char *link_base(struct arena *a, int dirfd, const char *name)
{
	char buf[PATH_MAX];
	ssize_t n = readlinkat(dirfd, name, buf, sizeof(buf) - 1);
	const char *b;

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	b = strrchr(buf, '/');
	return arena_strdup(a, b ? b + 1 : buf);
}

static int add_sysfs_device(struct device_list *l, int dfd, const char *devpath)
{
	char *text;
	size_t len;
	struct device d = { 0 };
	int err = read_fileat(dfd, "modalias", MODALIAS_MAX, &text, &len);

	if (err == -ENOMEM)
		return err;
	if (err < 0)
		return 0; /* gone, or not readable: not a device we can say anything of */
	/* the attribute ends with a newline; a multi-line one (rare) gives
	 * its first line, as MODALIAS= in uevent does */
	len = strcspn(text, "\n");
	text[len] = '\0';
	d.modalias = len ? arena_strndup(&l->strings, text, len) : NULL;
	free(text);
	if (!len)
		return 0;
	d.devpath = arena_strdup(&l->strings, devpath);
	d.driver = link_base(&l->strings, dfd, "driver");
	if (d.driver) {
		int drv = openat(dfd, "driver", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (drv >= 0) {
			d.driver_module = link_base(&l->strings, drv, "module");
			close(drv);
		}
	}
	if (!d.modalias || !d.devpath)
		return -ENOMEM;
	return ARRAY_PUSH(l->v, l->n, l->alloc, d);
}

/* Walk dir (an fd owned here), devpath its path below the root. */
static int walk(struct device_list *l, int fd, struct strbuf *devpath, unsigned int depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	struct stat st;
	int err = 0;

	if (!d) {
		close(fd);
		return 0;
	}
	if (fstatat(fd, "modalias", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
		err = add_sysfs_device(l, fd, devpath->buf);
	while (!err && depth < 64 && (de = readdir(d))) {
		size_t keep = devpath->len;
		int sub;

		if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		if (de->d_type != DT_DIR &&
		    (de->d_type != DT_UNKNOWN ||
		     fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)))
			continue; /* files, and links (sysfs is full of loops) */
		sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue;
		if (strbuf_addch(devpath, '/') < 0 || strbuf_addstr(devpath, de->d_name) < 0) {
			close(sub);
			err = -ENOMEM;
			break;
		}
		err = walk(l, sub, devpath, depth + 1);
		devpath->len = keep;
		devpath->buf[keep] = '\0';
	}
	closedir(d);
	return err;
}

static int cmp_dev(const void *a, const void *b)
{
	return strcmp(((const struct device *)a)->devpath, ((const struct device *)b)->devpath);
}

int devices_from_sysfs(const char *root, struct device_list *out)
{
	struct strbuf devpath = STRBUF_INIT;
	char *top;
	int fd, err;

	memset(out, 0, sizeof(*out));
	out->source = arena_strdup(&out->strings, root);
	if (!out->source || asprintf(&top, "%s/devices", root) < 0)
		return -ENOMEM;
	fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	err = fd < 0 ? -errno : 0;
	free(top);
	if (err)
		return err;
	err = strbuf_addstr(&devpath, "/devices");
	err = err ? (close(fd), err) : walk(out, fd, &devpath, 0);
	strbuf_release(&devpath);
	if (!err && out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_dev);
	return err;
}

/* ---- udev's answer ---- */

/* module names compare with '-' and '_' the same (a driver is often
 * named with dashes) */
static bool same_name(const char *a, const char *b)
{
	if (!a)
		return false;
	for (; *a && *b; a++, b++)
		if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_')))
			return false;
	return *a == *b;
}

int device_resolve(struct query_session *s, const struct device *d, struct device_result *out)
{
	struct query_probe_opts po = { .blacklist = QUERY_BL_ALWAYS };
	struct query_hit *hits;
	size_t n;
	int err;

	memset(out, 0, sizeof(*out));
	err = query_lookup(s, d->modalias, &hits, &n);
	if (err < 0)
		return err;
	out->v = n ? arena_alloc(&s->a, n * sizeof(*out->v)) : NULL;
	if (n && !out->v)
		return -ENOMEM;
	out->n = n;
	for (size_t i = 0; i < n; i++) {
		struct device_match *m = &out->v[i];
		struct query_probe p;
		const char *name = query_mod_name(hits[i].mod);

		*m = (struct device_match){ .hit = hits[i] };
		err = query_probe(s, hits[i].mod, &po, &p);
		if (err < 0)
			return err;
		if (p.blacklisted) {
			m->state = DS_BLACKLISTED;
			m->entry = p.blacklist;
		} else {
			/* the target is the last module of its own probe list */
			const struct query_action *a = NULL;

			for (size_t k = p.n; k-- > 0 && !a;)
				if (p.v[k].mod == hits[i].mod && p.v[k].role == QR_TARGET)
					a = &p.v[k];
			m->state = !a || a->kind == QA_NOTHING ? DS_MISSING
				   : a->kind == QA_INSTALL     ? DS_INSTALL
				   : a->kind == QA_BUILTIN     ? DS_BUILTIN
							       : DS_MODULE;
			if (a && a->kind == QA_INSTALL) {
				m->install = a->command;
				m->entry = a->install;
			}
			if (a && a->kind == QA_INSMOD)
				m->path = a->path;
		}
		query_probe_release(&p);
		if (m->state == DS_BLACKLISTED || m->state == DS_MISSING)
			continue;
		out->loading++;
		if (same_name(d->driver_module, name) || same_name(d->driver, name))
			out->bound_offered = true;
	}
	return 0;
}
