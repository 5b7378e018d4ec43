/* The physical floor of a depmod run on this machine: the least time to
 * do what any depmod must, with nothing else (docs/performance.md).
 *
 *   floor stat    DIR          walk DIR, stat every module file
 *   floor stamps  DIR          stat every module and every directory of DIR,
 *                              relative to DIR, the walk done beforehand
 *                              and not timed: what a run that trusts a
 *                              cache must look at (a module rewritten in
 *                              place changes only its own stamp, one added
 *                              only its directory's)
 *   floor map     DIR          the same through mmap (the pages touched, not
 *                              copied): the floor is the least of the two
 *   floor read    DIR          ... and read the bytes depmod needs of each:
 *                              the ELF header, the section table, the
 *                              section names, .modinfo, __versions, .symtab,
 *                              .strtab, __ksymtab_strings (plain files; a
 *                              file of 64 KiB or less whole, in one pread:
 *                              more bytes but fewer calls, and faster;
 *                              compressed ones are read and decoded whole)
 *   floor write   OUTDIR FILE...  write each FILE's bytes into OUTDIR under
 *                              its name: temporary, fsync, rename, then
 *                              fsync the directory (what a crash-safe
 *                              writer must do)
 *
 * Options: -j N threads for stat and read (default: all CPUs), -n RUNS
 * (default 7). Prints the median, min and max wall milliseconds. For
 * `read`, the page cache is warm after the first run, as in the bench. */
#define _GNU_SOURCE
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

static char **paths;
static size_t n_paths, a_paths;
static int nthreads;
static atomic_size_t next;
static atomic_ullong bytes_read;
static int mode_read, mode_map, mode_stamps;
static int rootfd = -1;          /* stamps: DIR, as O_PATH; paths[] below it */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static int is_module(const char *n)
{
	const char *k = strstr(n, ".ko");

	return k && (!k[3] || !strcmp(k + 3, ".xz") || !strcmp(k + 3, ".gz") ||
		     !strcmp(k + 3, ".zst"));
}

static void add_path(char *p)
{
	if (n_paths == a_paths) {
		a_paths = a_paths ? 2 * a_paths : 4096;
		paths = realloc(paths, a_paths * sizeof(*paths));
		if (!paths)
			die("realloc");
	}
	paths[n_paths++] = p;
}

/* The walk, single-threaded as every depmod's is. */
static void walk(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	if (mode_stamps) {
		char *p = strdup(dir);

		if (!p)
			die("strdup");
		add_path(p);
	}
	while ((de = readdir(d))) {
		char *p;

		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
			die("asprintf");
		if (de->d_type == DT_DIR) {
			walk(p);
			free(p);
		} else if (is_module(de->d_name)) {
			add_path(p);
		} else {
			free(p);
		}
	}
	closedir(d);
}

static void read_range(int fd, void *buf, size_t len, off_t off)
{
	ssize_t r = pread(fd, buf, len, off);

	if (r > 0)
		atomic_fetch_add(&bytes_read, (unsigned long long)r);
}

/* The sections depmod reads, by name. */
static int wanted(const char *name)
{
	static const char *const names[] = { ".modinfo", "__versions", ".symtab", ".strtab",
					     "__ksymtab_strings", NULL };

	for (int i = 0; names[i]; i++)
		if (!strcmp(name, names[i]))
			return 1;
	return 0;
}

/* Touch one byte per page of [off, off + len) of a mapping. */
static void touch(const uint8_t *p, size_t len)
{
	volatile uint8_t sink = 0;

	for (size_t i = 0; i < len; i += 4096)
		sink ^= p[i];
	if (len)
		sink ^= p[len - 1];
	(void)sink;
	atomic_fetch_add(&bytes_read, len);
}

static void map_plain(int fd, off_t size)
{
	const uint8_t *m;
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh;
	const char *names;

	if (size < (off_t)sizeof(Elf64_Ehdr))
		return;
	m = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return;
	eh = (const Elf64_Ehdr *)m;
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shstrndx >= eh->e_shnum ||
	    (off_t)(eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)) > size) {
		munmap((void *)m, (size_t)size);
		return;
	}
	sh = (const Elf64_Shdr *)(m + eh->e_shoff);
	names = (const char *)m + sh[eh->e_shstrndx].sh_offset;
	touch(m, sizeof(*eh));
	touch((const uint8_t *)sh, eh->e_shnum * sizeof(*sh));
	for (unsigned i = 0; i < eh->e_shnum; i++)
		if (sh[i].sh_type != SHT_NOBITS && sh[i].sh_name < sh[eh->e_shstrndx].sh_size &&
		    (off_t)(sh[i].sh_offset + sh[i].sh_size) <= size && wanted(names + sh[i].sh_name))
			touch(m + sh[i].sh_offset, sh[i].sh_size);
	munmap((void *)m, (size_t)size);
}

#define WHOLE_MAX (64 * 1024)

static void read_plain(int fd, off_t size)
{
	static _Thread_local char *buf;
	static _Thread_local size_t cap;
	Elf64_Ehdr eh;
	Elf64_Shdr *sh;
	char *names;

	if (size <= WHOLE_MAX) {
		if (cap < WHOLE_MAX) {
			cap = WHOLE_MAX;
			buf = realloc(buf, cap);
			if (!buf)
				die("realloc");
		}
		read_range(fd, buf, (size_t)size, 0);
		return;
	}
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shstrndx >= eh.e_shnum ||
	    (off_t)(eh.e_shoff + (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr)) > size)
		return;
	atomic_fetch_add(&bytes_read, sizeof(eh));
	sh = malloc(eh.e_shnum * sizeof(*sh));
	if (!sh)
		die("malloc");
	read_range(fd, sh, eh.e_shnum * sizeof(*sh), (off_t)eh.e_shoff);
	names = malloc(sh[eh.e_shstrndx].sh_size + 1);
	if (!names)
		die("malloc");
	read_range(fd, names, sh[eh.e_shstrndx].sh_size, (off_t)sh[eh.e_shstrndx].sh_offset);
	names[sh[eh.e_shstrndx].sh_size] = '\0';
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		if (sh[i].sh_type == SHT_NOBITS || sh[i].sh_name >= sh[eh.e_shstrndx].sh_size ||
		    !wanted(names + sh[i].sh_name))
			continue;
		if (sh[i].sh_size > cap) {
			cap = sh[i].sh_size;
			buf = realloc(buf, cap);
			if (!buf)
				die("realloc");
		}
		read_range(fd, buf, sh[i].sh_size, (off_t)sh[i].sh_offset);
	}
	free(names);
	free(sh);
}

/* A compressed module: read and decoded whole (the output thrown away). */
static void read_compressed(int fd, off_t size, const char *path)
{
	static _Thread_local uint8_t out[1 << 20];
	uint8_t *in = malloc((size_t)size);
	const char *ext = strrchr(path, '.');

	if (!in)
		die("malloc");
	read_range(fd, in, (size_t)size, 0);
	if (!strcmp(ext, ".xz")) {
		lzma_stream s = LZMA_STREAM_INIT;
		lzma_ret r;

		if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK)
			die("lzma");
		s.next_in = in;
		s.avail_in = (size_t)size;
		do {
			s.next_out = out;
			s.avail_out = sizeof(out);
			r = lzma_code(&s, LZMA_FINISH);
		} while (r == LZMA_OK);
		lzma_end(&s);
	} else if (!strcmp(ext, ".zst")) {
		ZSTD_DStream *z = ZSTD_createDStream();
		ZSTD_inBuffer ib = { in, (size_t)size, 0 };
		size_t r;

		do {
			ZSTD_outBuffer ob = { out, sizeof(out), 0 };

			r = ZSTD_decompressStream(z, &ob, &ib);
		} while (r && !ZSTD_isError(r) && ib.pos < ib.size);
		ZSTD_freeDStream(z);
	} else {
		z_stream z = { 0 };
		int r;

		if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
			die("zlib");
		z.next_in = in;
		z.avail_in = (uInt)size;
		do {
			z.next_out = out;
			z.avail_out = sizeof(out);
			r = inflate(&z, Z_NO_FLUSH);
		} while (r == Z_OK);
		inflateEnd(&z);
	}
	free(in);
}

static void *worker(void *arg)
{
	size_t i;

	(void)arg;
	while ((i = atomic_fetch_add(&next, 1)) < n_paths) {
		struct stat st;

		if (mode_stamps) {
			if (fstatat(rootfd, paths[i], &st, 0) < 0)
				die(paths[i]);
			continue;
		}
		if (!mode_read) {
			if (stat(paths[i], &st) < 0)
				die(paths[i]);
			continue;
		}
		int fd = open(paths[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0 || fstat(fd, &st) < 0)
			die(paths[i]);
		if (strcmp(strrchr(paths[i], '.'), ".ko") == 0 && mode_map)
			map_plain(fd, st.st_size);
		else if (strcmp(strrchr(paths[i], '.'), ".ko") == 0)
			read_plain(fd, st.st_size);
		else
			read_compressed(fd, st.st_size, paths[i]);
		close(fd);
	}
	return NULL;
}

static double run_tree(const char *dir)
{
	pthread_t t[64];
	double t0 = now_ms();

	if (!mode_stamps || !n_paths) {
		for (size_t i = 0; i < n_paths; i++)
			free(paths[i]);
		n_paths = 0;
		walk(dir);
	}
	if (mode_stamps && rootfd < 0) {
		size_t skip = strlen(dir) + 1;

		rootfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0)
			die(dir);
		/* once: each path made relative to DIR ("." for DIR itself) */
		for (size_t i = 0; i < n_paths; i++) {
			size_t len = strlen(paths[i]);

			if (len >= skip)
				memmove(paths[i], paths[i] + skip, len - skip + 1);
			else
				memcpy(paths[i], ".", 2);
		}
	}
	if (mode_stamps)
		t0 = now_ms(); /* the walk is not timed: a cached run has its list */
	atomic_store(&next, 0);
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&t[i], NULL, worker, NULL))
			die("pthread_create");
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	return now_ms() - t0;
}

struct wfile {
	int fd;
	char tmp[4096];
	const char *base;
};

static void *sync_one(void *arg)
{
	struct wfile *f = arg;

	if (fsync(f->fd) < 0)
		die("fsync");
	return NULL;
}

/* Each file written to a temporary, all fsynced at once (one thread
 * each, as a writer that starts each fsync as soon as the file is
 * written can), renamed, then the directory fsynced. */
static double run_write(const char *outdir, char **files, int n)
{
	struct wfile f[64];
	pthread_t t[64];
	double t0 = now_ms();
	int dfd = open(outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0 || n > 64)
		die(outdir);
	for (int i = 0; i < n; i++) {
		static char buf[1 << 16];
		int in = open(files[i], O_RDONLY | O_CLOEXEC);
		ssize_t r;

		f[i].base = strrchr(files[i], '/') ? strrchr(files[i], '/') + 1 : files[i];
		snprintf(f[i].tmp, sizeof(f[i].tmp), ".%s.floor", f[i].base);
		f[i].fd = openat(dfd, f[i].tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (in < 0 || f[i].fd < 0)
			die(files[i]);
		while ((r = read(in, buf, sizeof(buf))) > 0)
			if (write(f[i].fd, buf, (size_t)r) != r)
				die("write");
		close(in);
		if (pthread_create(&t[i], NULL, sync_one, &f[i]))
			die("pthread_create");
	}
	for (int i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		if (close(f[i].fd) < 0 || renameat(dfd, f[i].tmp, dfd, f[i].base) < 0)
			die("close/rename");
	}
	if (fsync(dfd) < 0)
		die("fsync dir");
	close(dfd);
	return now_ms() - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int runs = 7, opt;
	double v[101];

	nthreads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	while ((opt = getopt(argc, argv, "j:n:")) != -1) {
		if (opt == 'j')
			nthreads = atoi(optarg);
		else if (opt == 'n')
			runs = atoi(optarg);
		else
			return 2;
	}
	if (nthreads < 1 || nthreads > 64 || runs < 1 || runs > 101 || argc - optind < 2) {
		fprintf(stderr, "usage: floor [-j N] [-n RUNS] stat|stamps|read|map DIR | write OUTDIR "
				"FILE...\n");
		return 2;
	}
	mode_map = !strcmp(argv[optind], "map");
	mode_stamps = !strcmp(argv[optind], "stamps");
	mode_read = mode_map || !strcmp(argv[optind], "read");
	for (int i = 0; i <= runs; i++) { /* the first run warms the page cache */
		double t = !strcmp(argv[optind], "write")
				   ? run_write(argv[optind + 1], argv + optind + 2, argc - optind - 2)
				   : run_tree(argv[optind + 1]);

		if (i)
			v[i - 1] = t;
	}
	qsort(v, (size_t)runs, sizeof(v[0]), cmp_double);
	printf("%s: median %.2f ms (min %.2f, max %.2f) over %d runs", argv[optind], v[runs / 2],
	       v[0], v[runs - 1], runs);
	if (strcmp(argv[optind], "write"))
		printf("; %zu %s, %llu bytes read a run", n_paths,
		       mode_stamps ? "modules and directories" : "modules",
		       (unsigned long long)atomic_load(&bytes_read) / (unsigned long long)(runs + 1));
	printf("\n");
	return 0;
}
