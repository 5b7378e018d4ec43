#include "query/qindex.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index/depfiles.h"
#include "model/model.h"
#include "util/bytes.h"
#include "util/fileio.h"
#include "util/jobs.h"
#include "util/strbuf.h"

/* An index larger than this is not kmod's (28-bit offsets: 256 MiB). */
#define QINDEX_MAX_SIZE (256u << 20)

static const struct {
	const char *file;
	enum depfile_id id;
} files[QIDX_COUNT] = {
	[QIDX_DEP] = { "modules.dep.bin", DF_DEP_BIN },
	[QIDX_ALIAS] = { "modules.alias.bin", DF_ALIAS_BIN },
	[QIDX_SYMBOLS] = { "modules.symbols.bin", DF_SYMBOLS_BIN },
	[QIDX_BUILTIN_ALIAS] = { "modules.builtin.alias.bin", DF_BUILTIN_ALIAS_BIN },
	[QIDX_BUILTIN] = { "modules.builtin.bin", DF_BUILTIN_BIN },
};

const char *qindex_file(enum qidx i)
{
	return files[i].file;
}

void qindex_release(struct qindex *q)
{
	for (int i = 0; i < QIDX_COUNT; i++) {
		index_reader_free(q->r[i]);
		if (q->mapped[i])
			munmap(q->buf[i], q->len[i]);
		else
			free(q->buf[i]);
		free(q->path[i]);
	}
	free(q->softdep);
	free(q->weakdep);
	memset(q, 0, sizeof(*q));
}

/* Take buf (owned from here on) as index i. */
static int take(struct qindex *q, enum qidx i, char *buf, size_t len)
{
	int err;

	const unsigned char *b = (const unsigned char *)buf;

	q->buf[i] = buf;
	q->len[i] = len;
	err = index_reader_open(buf, len, &q->r[i]);
	if (err == -ENOMEM)
		return err;
	/* a header libkmod accepts over bytes it cannot read: corrupt,
	 * not absent */
	if (err == -EINVAL && len >= 12 && get_be32(b) == 0xB007F457u && get_be32(b + 4) >> 16 == 2)
		err = -EBADMSG;
	q->err[i] = err;
	return 0;
}

/* The file's bytes: mapped (as libkmod does: a lookup touches a few
 * pages), else read. */
static int map_file(const char *path, char **buf, size_t *len, bool *mapped)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*mapped = false;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0 ||
	    (uint64_t)st.st_size > QINDEX_MAX_SIZE) {
		close(fd);
		return read_file(path, QINDEX_MAX_SIZE, buf, len);
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return read_file(path, QINDEX_MAX_SIZE, buf, len);
	*buf = p;
	*len = (size_t)st.st_size;
	*mapped = true;
	return 0;
}

int qindex_open_dir(struct qindex *q, const char *dirname)
{
	memset(q, 0, sizeof(*q));
	for (int i = 0; i < QIDX_COUNT; i++) {
		char *buf;
		size_t len;
		int err;

		if (asprintf(&q->path[i], "%s/%s", dirname, files[i].file) < 0) {
			q->path[i] = NULL;
			return -ENOMEM;
		}
		err = map_file(q->path[i], &buf, &len, &q->mapped[i]);
		if (err == -ENOMEM)
			return err;
		if (err < 0) {
			/* libkmod cannot open it: it finds nothing there */
			q->err[i] = err == -EFBIG ? -EINVAL : -ENOENT;
			continue;
		}
		err = take(q, (enum qidx)i, buf, len);
		if (err < 0)
			return err;
	}
	return 0;
}

bool qindex_dir_has_indexes(const char *dirname)
{
	struct stat st;
	char *p;
	bool has;

	if (asprintf(&p, "%s/modules.dep.bin", dirname) < 0)
		return true; /* let the open say what is wrong */
	has = stat(p, &st) == 0;
	free(p);
	return has;
}

/* The files qindex_build makes: the five indexes, then the text files
 * kmod reads as configuration; built on the job pool, the longest first. */
static const enum depfile_id built[] = { DF_ALIAS_BIN, DF_SYMBOLS_BIN, DF_DEP_BIN,
					 DF_BUILTIN_ALIAS_BIN, DF_BUILTIN_BIN, DF_SOFTDEP,
					 DF_WEAKDEP };

static int build_one(void *ud, size_t k, const struct ma_log *log)
{
	return depfile_build(ud, built[k], log);
}

int qindex_build(struct qindex *q, struct model *m, enum index_layout layout,
		 const struct ma_log *log)
{
	struct jobs_cfg jc = { .threads = 0, .caller_helps = true, .log = log };
	struct depfiles_input in = {
		.g = m->g,
		.outpaths = m->outpaths,
		.builtin = m->have_bnames ? &m->bnames : NULL,
		.builtin_info = m->have_binfos ? &m->binfos : NULL,
		.layout = layout,
		.weakdep = layout == INDEX_PREORDER,
	};
	struct depfile df[DF_COUNT];
	struct depfiles *d = NULL;
	int err;

	memset(q, 0, sizeof(*q));
	q->built = true;
	err = depfiles_new(&in, df, &d);
	if (!err)
		err = depfiles_graph_ready(d);
	/* (weakdep is off in kmod 30's layout: depfile_build skips it) */
	if (!err)
		err = jobs_run(sizeof(built) / sizeof(built[0]), NULL, &jc, build_one, d);
	for (int i = 0; !err && i < QIDX_COUNT; i++) {
		size_t len;
		char *buf;

		q->path[i] = model_file(m, files[i].file);
		len = df[files[i].id].data.len;
		buf = strbuf_detach(&df[files[i].id].data, NULL);
		if (!q->path[i] || !buf) {
			free(buf);
			err = -ENOMEM;
			break;
		}
		err = take(q, (enum qidx)i, buf, len);
		/* our own writer's bytes must read; 0 bytes: the built-in
		 * list was missing, as depmod writes it then */
		if (!err && q->err[i] < 0 && len)
			err = -EINVAL;
	}
	if (!err) {
		q->softdep_len = df[DF_SOFTDEP].data.len;
		q->softdep = strbuf_detach(&df[DF_SOFTDEP].data, NULL);
		if (in.weakdep) {
			q->weakdep_len = df[DF_WEAKDEP].data.len;
			q->weakdep = strbuf_detach(&df[DF_WEAKDEP].data, NULL);
		}
		if (!q->softdep || (in.weakdep && !q->weakdep))
			err = -ENOMEM;
	}
	depfiles_free(d);
	depfiles_release(df);
	return err;
}
