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

/* What building the indexes left for later needs (qindex_build). */
struct qindex_lazy {
	struct depfiles_input in;
	struct depfile df[DF_COUNT];
	struct depfiles *d;
	const struct ma_log *log;
};

static void lazy_free(struct qindex *q)
{
	if (!q->lazy)
		return;
	depfiles_free(q->lazy->d);
	depfiles_release(q->lazy->df);
	free(q->lazy);
	q->lazy = NULL;
}

void qindex_release(struct qindex *q)
{
	lazy_free(q);
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

/* What qindex_build makes at once, on the job pool, the longest first:
 * what a lookup by a module's name reads (the dependency and built-in
 * indexes) and the text files kmod reads as configuration. The alias
 * and symbol indexes, two thirds of the cost, wait for a lookup that
 * reads them: a module's name is found in modules.dep.bin before
 * modules.alias.bin is read, and the symbol index only answers
 * "symbol:" names. */
static const enum depfile_id built[] = { DF_DEP_BIN, DF_BUILTIN_ALIAS_BIN, DF_BUILTIN_BIN,
					 DF_SOFTDEP, DF_WEAKDEP };
static const enum qidx later[] = { QIDX_ALIAS, QIDX_SYMBOLS };

static int build_one(void *ud, size_t k, const struct ma_log *log)
{
	return depfile_build(ud, built[k], log);
}

/* Index i from its built bytes in df (taken from there). */
static int take_built(struct qindex *q, enum qidx i, struct depfile *df)
{
	size_t len = df[files[i].id].data.len;
	char *buf = strbuf_detach(&df[files[i].id].data, NULL);
	int err;

	if (!buf)
		return -ENOMEM;
	err = take(q, i, buf, len);
	/* our own writer's bytes must read; 0 bytes: the built-in list was
	 * missing, as depmod writes it then */
	return !err && q->err[i] < 0 && len ? -EINVAL : err;
}

int qindex_build(struct qindex *q, struct model *m, enum index_layout layout,
		 const struct ma_log *log)
{
	struct jobs_cfg jc = { .threads = 0, .caller_helps = true, .log = log };
	struct qindex_lazy *z;
	struct depfile *df;
	int err;

	memset(q, 0, sizeof(*q));
	q->built = true;
	z = q->lazy = calloc(1, sizeof(*z));
	if (!z)
		return -ENOMEM;
	z->log = log;
	z->in = (struct depfiles_input){
		.g = m->g,
		.outpaths = m->outpaths,
		.builtin = m->have_bnames ? &m->bnames : NULL,
		.builtin_info = m->have_binfos ? &m->binfos : NULL,
		.layout = layout,
		.weakdep = layout == INDEX_PREORDER,
	};
	df = z->df;
	err = depfiles_new(&z->in, df, &z->d);
	if (!err)
		err = depfiles_graph_ready(z->d);
	/* (weakdep is off in kmod 30's layout: depfile_build skips it) */
	if (!err)
		err = jobs_run(sizeof(built) / sizeof(built[0]), NULL, &jc, build_one, z->d);
	for (int i = 0; !err && i < QIDX_COUNT; i++) {
		q->path[i] = model_file(m, files[i].file);
		if (!q->path[i])
			err = -ENOMEM;
	}
	for (size_t k = 0; k < sizeof(later) / sizeof(later[0]); k++)
		q->pending[later[k]] = true;
	for (int i = 0; !err && i < QIDX_COUNT; i++)
		if (!q->pending[i])
			err = take_built(q, (enum qidx)i, df);
	if (!err) {
		q->softdep_len = df[DF_SOFTDEP].data.len;
		q->softdep = strbuf_detach(&df[DF_SOFTDEP].data, NULL);
		if (z->in.weakdep) {
			q->weakdep_len = df[DF_WEAKDEP].data.len;
			q->weakdep = strbuf_detach(&df[DF_WEAKDEP].data, NULL);
		}
		if (!q->softdep || (z->in.weakdep && !q->weakdep))
			err = -ENOMEM;
	}
	if (err) { /* nothing left to build later */
		lazy_free(q);
		memset(q->pending, 0, sizeof(q->pending));
	}
	return err;
}

const struct index_reader *qindex_reader(struct qindex *q, enum qidx i, int *err)
{
	if (q->pending[i]) {
		struct qindex_lazy *z = q->lazy;
		int e = depfile_build(z->d, files[i].id, z->log);
		bool more = false;

		q->pending[i] = false;
		if (!e)
			e = take_built(q, i, z->df);
		q->build_err[i] = e;
		for (int k = 0; k < QIDX_COUNT; k++)
			more |= q->pending[k];
		if (!more)
			lazy_free(q);
	}
	*err = q->build_err[i];
	return *err ? NULL : q->r[i];
}
