#include "check/memo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/cache.h"
#include "util/logbuf.h"
#include "util/strbuf.h"

int check_memo_open(struct check_memo *m, const char *what, const char *cache_dir,
		    const char *dirname, const char *key, int64_t started_ns)
{
	char *dir = cache_dir_of(cache_dir);
	char *name = NULL;

	*m = (struct check_memo){ 0 };
	/* its own files, beside the tree's records: named by another hash */
	if (dir && asprintf(&name, "%s memo of %s", what, dirname) >= 0)
		m->base = cache_file_path(dir, name);
	m->dirname = strdup(dirname);
	m->key = strdup(key);
	m->w = cache_writer_new(dirname, key, started_ns);
	free(name);
	free(dir);
	return m->base && m->dirname && m->key && m->w ? 0 : -ENOMEM;
}

int check_memo_find(struct check_memo *m, unsigned int jobs, const struct ma_log *log,
		    char **out, size_t *len, int *status)
{
	struct cache *c = NULL;
	void *data = NULL;
	size_t n = 0;
	/* a damaged memo is only a run more: nothing said (log NULL) */
	int r = cache_load(m->base, m->dirname, NULL, &c);

	if (r < 0 || !c)
		return r;
	/* the output the meta file names (a later run may have replaced
	 * it), before the stamps: reading it costs less than stating them */
	r = cache_side_load(m->base, "memo", cache_generation(c).base, &data, &n);
	if (r == 0 && (n < 1 || ((unsigned char *)data)[0] > 1))
		r = -EINVAL;
	/* another run's key (other options) proves nothing for this one */
	if (r == 0 && !cache_unchanged(c, m->key, m->dirname, jobs))
		r = -ESTALE;
	if (r == 0) {
		*status = ((unsigned char *)data)[0];
		memmove(data, (char *)data + 1, n - 1);
		*out = data;
		*len = n - 1;
		cache_replay(c, log);
		r = 1;
	} else {
		free(data);
		r = r == -ENOMEM ? r : 0;
	}
	cache_free(c);
	return r;
}

int check_memo_save(struct check_memo *m, const void *out, size_t len, int status,
		    const struct logbuf *msgs)
{
	/* names this run's output: a meta file never names another's */
	uint64_t nonce = (uint64_t)cache_now_ns() ^ ((uint64_t)getpid() << 40);
	char *buf = malloc(len + 1);
	int r = buf && status >= 0 && status <= 1 ? 0 : buf ? -EINVAL : -ENOMEM;

	if (!r) {
		buf[0] = (char)status;
		memcpy(buf + 1, out, len);
		r = cache_side_save(m->base, "memo", nonce, buf, len + 1);
	}
	free(buf);
	for (size_t i = 0; !r && i < msgs->n; i++)
		r = cache_writer_message(m->w, msgs->v[i].prio, msgs->v[i].msg);
	if (!r && msgs->nomem)
		cache_writer_no_shortcut(m->w);
	if (!r) {
		cache_writer_records(m->w, (struct cache_gen){ nonce, 0 });
		r = cache_writer_commit(m->w, m->base);
	}
	return r;
}

void check_memo_release(struct check_memo *m)
{
	cache_writer_free(m->w);
	free(m->base);
	free(m->dirname);
	free(m->key);
	*m = (struct check_memo){ 0 };
}

int check_memo_key_list(struct strbuf *sb, const char *name, const char *const *v, size_t n)
{
	int r = strbuf_addf(sb, "%s=%zu", name, n);

	for (size_t i = 0; !r && i < n; i++)
		r = strbuf_addf(sb, "\t%zu:%s", strlen(v[i]), v[i]);
	return r ? r : strbuf_addch(sb, '\n');
}

bool check_memo_any_relative(const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] && v[i][0] && v[i][0] != '/')
			return true;
	return false;
}
