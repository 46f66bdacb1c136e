/* state: the last committed contents of a table (see state.h).
 *
 * Format, one item per line (element strings hold no newline):
 *   svcnft-state 3 GEN RULES_HASH LAYOUT DIGEST BODY_HASH BOOT_ID NETNS_INODE INPUT
 *   masq TEXT            (twice: IPv4, IPv6)
 *   chains N, then N names
 *   set NAME SIZE N, then N elements     (per set, in order)
 * BODY_HASH (hash64) covers every byte after the first line; INPUT is the
 * digest state_set_input() gave for the commit (0: none). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "live.h"
#include "state.h"
#include "util.h"
#include "fileio.h"

#define STATE_MAGIC "svcnft-state 3"
#define STATE_MAX ((off_t)1 << 30)	/* 10k services: ~10 MB */
#define STALE_TMP_S 60			/* a save takes well under a second */

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71	/* Linux 5.14 */
#endif

struct header {
	unsigned int gen;
	unsigned long long rules, digest, body, input;
	int layout;
	char boot[40];
	unsigned long long ino;
};

static bool disabled;
static uint64_t input_digest;

void state_set_input(uint64_t digest)
{
	input_digest = digest;
}

void state_disable(void)
{
	disabled = true;
}

static unsigned long long netns_ino(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (unsigned long long)st.st_ino;
}

/* The network namespace's cookie: unique for the whole boot, unlike its
 * inode number, which a new namespace may get again. */
static unsigned long long netns_id(void)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && !getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) &&
	    len == sizeof(cookie)) {
		close(fd);
		return cookie;
	}
	if (fd >= 0)
		close(fd);
	return netns_ino();
}

/* This boot's id: a state file kept across a reboot describes nothing. */
static const char *boot_id(void)
{
	static char id[40];
	FILE *f;

	if (*id)
		return id;
	f = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (!f || !fgets(id, sizeof(id), f))
		snprintf(id, sizeof(id), "unknown");
	if (f)
		fclose(f);
	id[strcspn(id, "\n ")] = '\0';
	return id;
}

const char *state_dir(void)
{
	const char *dir = getenv("SVCNFT_RUN_DIR");

	if (!dir || !*dir)
		dir = getenv("SVCNFT_LOCK_DIR");
	return dir && *dir ? dir : "/run";
}

void state_path(char *path, size_t len, const char *table, const char *suffix)
{
	const char *lock_dir = getenv("SVCNFT_LOCK_DIR");

	/* the older test hook: one lock for all of a test's namespaces */
	if (lock_dir && *lock_dir && !getenv("SVCNFT_RUN_DIR") && !strcmp(suffix, "lock"))
		snprintf(path, len, "%s/svcnft-%s.lock", lock_dir, table);
	else
		snprintf(path, len, "%s/svcnft-%s.net%llu.%s", state_dir(), table,
			 netns_id(), suffix);
}


static void put_list(struct svcnft_buf *b, const struct el_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		buf_puts(b, l->v[i]);
		buf_putc(b, '\n');
	}
}

static void body(struct svcnft_buf *b, const struct elements *want)
{
	buf_printf(b, "masq %s\nmasq %s\nchains %zu\n", want->masq[0],
		   want->masq[1], want->chains.n);
	put_list(b, &want->chains);
	for (size_t i = 0; i < want->n_sets; i++) {
		const struct el_set *s = &want->sets[i];

		buf_printf(b, "set %s %zu %zu\n", s->name, s->size, s->el.n);
		put_list(b, &s->el);
	}
}

/* A warning into W unless W holds it already. */
static void warn(struct svcnft_errors *w, const char *fmt, ...) PRINTF(2, 3);
static void warn(struct svcnft_errors *w, const char *fmt, ...)
{
	struct svcnft_buf b = {0};
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < w->n; i++)
		if (!strcmp(w->v[i].text, b.data)) {
			svcnft_buf_free(&b);
			return;
		}
	errs_add(w, SVCNFT_OK, "%s", b.data);
	svcnft_buf_free(&b);
}

/* Parse the first line of P into H; false unless it is this version's. */
static bool parse_header(const char *p, struct header *h)
{
	int n = 0;

	return sscanf(p, STATE_MAGIC " %u %llx %d %llx %llx %39s %llu %llx%n", &h->gen,
		      &h->rules, &h->layout, &h->digest, &h->body, h->boot, &h->ino,
		      &h->input, &n) == 8 && p[n] == '\n';
}

/* Open PATH for reading: never through a symbolic link, never a FIFO or
 * device (a warning), -1 if there is nothing usable. */
static int open_state(const char *path, struct stat *st, struct svcnft_errors *w)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0) {
		if (errno != ENOENT)
			warn(w, "svcnft: warning: ignoring the saved state %s: %s",
			     path, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || st->st_size > STATE_MAX) {
		warn(w, "svcnft: warning: ignoring the saved state %s: not a regular file of at most 1 GiB",
		     path);
		close(fd);
		return -1;
	}
	return fd;
}

/* The whole file into B (NUL-terminated). */
static bool read_all(int fd, const struct stat *st, struct svcnft_buf *b)
{
	size_t want = (size_t)st->st_size;
	ssize_t n;

	b->data = xmalloc(want + 1);
	b->cap = want + 1;
	while (b->len < want && (n = read(fd, b->data + b->len, want - b->len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		b->len += (size_t)n;
	}
	b->data[b->len] = '\0';
	return b->len == want;
}

/* The header of the state file of TABLE if it belongs to this boot and
 * namespace. */
static bool read_header(const char *table, struct header *h,
			struct svcnft_errors *w)
{
	char path[256], line[256];
	struct stat st;
	ssize_t n;
	int fd;

	if (disabled)
		return false;
	state_path(path, sizeof(path), table, "state");
	if ((fd = open_state(path, &st, w)) < 0)
		return false;
	n = pread(fd, line, sizeof(line) - 1, 0);
	close(fd);
	if (n <= 0)
		return false;
	line[n] = '\0';
	return parse_header(line, h) && !strcmp(h->boot, boot_id()) &&
	       h->ino == netns_ino();
}

/* Remove what a save killed half-way left behind for PATH. */
static void remove_leftovers(const char *path)
{
	char tmp[300];

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);	/* older versions' name */
	unlink(tmp);
}

static void save_failed(const char *path, const char *tmp, int err,
			struct svcnft_errors *w)
{
	if (*tmp)
		unlink(tmp);
	unlink(path);
	if (err)
		warn(w, "svcnft: warning: cannot save the state %s: %s; the next apply reads the kernel",
		     path, strerror(err));
}

void state_save(const char *table, const struct elements *want, uint32_t gen,
		struct svcnft_errors *w)
{
	char path[256], tmp[300] = "";
	struct svcnft_buf b = {0};
	uint64_t rules, digest;
	uint32_t now;
	int fd, err = 0;

	if (disabled)
		return;
	state_path(path, sizeof(path), table, "state");
	remove_leftovers(path);
	/* the hashes first: a commit by someone else after them moves the id */
	if (live_rules_hash(table, &rules) || live_digest(table, &digest) ||
	    live_genid(&now) || now != gen) {
		unlink(path);
		return;
	}
	buf_puts(&b, "");
	body(&b, want);
	snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);	/* O_EXCL, 0600: a private new file */
	if (fd < 0) {
		err = errno;
		*tmp = '\0';
	} else {
		char head[256];
		int n = snprintf(head, sizeof(head), "%s %u %016llx %d %016llx %016llx %s %llu %016llx\n",
				 STATE_MAGIC, gen, (unsigned long long)rules, want->layout,
				 (unsigned long long)digest,
				 (unsigned long long)hash64(HASH64_INIT, b.data, b.len),
				 boot_id(), netns_ino(), (unsigned long long)input_digest);

		if (!write_all(fd, head, (size_t)n) || !write_all(fd, b.data, b.len))
			err = errno ? errno : EIO;
		if (close(fd) && !err)
			err = errno;
		if (!err && rename(tmp, path))
			err = errno;
	}
	if (err)
		save_failed(path, tmp, err, w);
	svcnft_buf_free(&b);
	state_clean(table);
}

/* Inode numbers of the network namespaces that exist: those of processes
 * and those bind-mounted by `ip netns`.  NULL-free list into *V, count. */
static size_t live_netns(unsigned long long **v)
{
	static const char *const dirs[] = { "/proc", "/run/netns", "/var/run/netns" };
	size_t n = 0, cap = 0;

	*v = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *e;

		while (d && (e = readdir(d))) {
			char p[300];
			struct stat st;

			if (e->d_name[0] == '.' || (!i && (e->d_name[0] < '0' || e->d_name[0] > '9')))
				continue;
			snprintf(p, sizeof(p), "%s/%s%s", dirs[i], e->d_name, i ? "" : "/ns/net");
			if (stat(p, &st))
				continue;
			*v = grow(*v, &cap, n, sizeof(**v));
			(*v)[n++] = (unsigned long long)st.st_ino;
		}
		if (d)
			closedir(d);
	}
	return n;
}

static bool in(const unsigned long long *v, size_t n, unsigned long long x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* The "PID NETNS_INODE" line apply writes into a lock file it holds. */
void state_lock_note(char *buf, size_t len)
{
	snprintf(buf, len, "%ld %llu\n", (long)getpid(), netns_ino());
}

/* Whether file NAME of directory DIRFD belongs to a namespace that is gone
 * (or to another boot, or an older format: a state file is only a cache). */
static bool stale(int dirfd, const char *name, const unsigned long long *ns,
		  size_t n_ns)
{
	char line[256] = "";
	struct header h;
	struct stat st;
	unsigned long long ino = 0;
	long pid;
	ssize_t r;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	bool lock = strstr(name, ".lock") != NULL, gone;

	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	r = pread(fd, line, sizeof(line) - 1, 0);
	line[r > 0 ? r : 0] = '\0';
	if (strstr(name, ".tmp"))
		gone = st.st_mtime + STALE_TMP_S < time(NULL);
	else if (!lock)
		gone = !parse_header(line, &h) || strcmp(h.boot, boot_id()) ||
		       !in(ns, n_ns, h.ino);
	else if (sscanf(line, "%ld %llu", &pid, &ino) == 2)
		gone = !in(ns, n_ns, ino);
	else	/* an older version's empty lock file */
		gone = st.st_mtime + 86400 < time(NULL);
	/* a lock nobody holds (nobody can wait in a namespace that is gone) */
	if (gone && lock && flock(fd, LOCK_EX | LOCK_NB))
		gone = false;
	if (gone)
		unlinkat(dirfd, name, 0);
	close(fd);
	return gone;
}

void state_clean(const char *table)
{
	char own[256], prefix[300];
	unsigned long long *ns = NULL;
	size_t n_ns = 0;
	bool scanned = false;
	struct dirent *e;
	DIR *d;

	if (disabled || !(d = opendir(state_dir())))
		return;
	state_path(own, sizeof(own), table, "");	/* "DIR/svcnft-T.netID." */
	snprintf(prefix, sizeof(prefix), "%s", strrchr(own, '/') + 1);
	while ((e = readdir(d))) {
		const char *n = e->d_name;

		if (strncmp(n, "svcnft-", 7) || !strstr(n, ".net"))
			continue;
		if (!strncmp(n, prefix, strlen(prefix))) {
			if (strstr(n, ".state.tmp"))	/* ours, under our lock */
				unlinkat(dirfd(d), n, 0);
			continue;
		}
		if (!scanned) {
			n_ns = live_netns(&ns);
			scanned = true;
		}
		stale(dirfd(d), n, ns, n_ns);
	}
	closedir(d);
	free(ns);
}

/* The next line of *P (NUL-terminated in place), or NULL at the end. */
static char *next_line(char **p)
{
	char *s = *p, *nl;

	if (!*s)
		return NULL;
	nl = strchr(s, '\n');
	if (!nl)
		return NULL;	/* a file cut short */
	*nl = '\0';
	*p = nl + 1;
	return s;
}

/* N lines of *P into L. */
static bool get_list(char **p, struct el_list *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *s = next_line(p);

		if (!s)
			return false;
		el_add(l, s, strlen(s));
	}
	return true;
}

static bool parse_body(char *p, struct elements *els)
{
	char *s, name[64];
	size_t n, size;

	for (int i = 0; i < 2; i++) {
		if (!(s = next_line(&p)) || strncmp(s, "masq ", 5))
			return false;
		snprintf(els->masq[i], sizeof(els->masq[i]), "%s", s + 5);
	}
	if (!(s = next_line(&p)) || sscanf(s, "chains %zu", &n) != 1 ||
	    !get_list(&p, &els->chains, n))
		return false;
	while ((s = next_line(&p))) {
		struct el_set *set;

		if (sscanf(s, "set %63s %zu %zu", name, &size, &n) != 3)
			return false;
		set = elements_add_set(els, name, size);
		if (!get_list(&p, &set->el, n))
			return false;
	}
	return !*p;
}

/* A state file that is not what it says: discard it, with a warning. */
static void discard(const char *path, const char *why, struct svcnft_errors *w)
{
	warn(w, "svcnft: warning: discarding the saved state %s (%s); reading the kernel",
	     path, why);
	unlink(path);
}

/* The body of TEXT (the file at PATH, header H) if it was saved at
 * generation GEN and still describes the table's objects; NULL otherwise
 * (a file that fails a check is discarded). */
static char *checked_body(const char *table, const char *path, char *text,
			  const struct header *h, uint32_t gen,
			  struct svcnft_errors *w)
{
	char *nl = strchr(text, '\n');
	uint64_t digest;

	if (h->gen != gen)
		return NULL;
	if (live_digest(table, &digest) || digest != h->digest) {
		discard(path, "it does not describe table inet's objects as they are", w);
		return NULL;
	}
	if (!nl || hash64(HASH64_INIT, nl + 1, strlen(nl + 1)) != h->body) {
		discard(path, "its contents do not match their hash", w);
		return NULL;
	}
	return nl + 1;
}

/* The state file of TABLE into TEXT and H (its path into PATH) if it
 * belongs to this boot and namespace. */
static bool read_state(const char *table, char *path, size_t len,
		       struct svcnft_buf *text, struct header *h,
		       struct svcnft_errors *w)
{
	struct stat st;
	bool ok;
	int fd;

	if (disabled)
		return false;
	state_path(path, len, table, "state");
	if ((fd = open_state(path, &st, w)) < 0)
		return false;
	ok = read_all(fd, &st, text) && parse_header(text->data, h) &&
	     !strcmp(h->boot, boot_id()) && h->ino == netns_ino();
	close(fd);
	return ok;
}

bool state_load(const char *table, uint32_t gen, struct elements *live,
		struct svcnft_errors *w)
{
	char path[256], *body;
	struct svcnft_buf text = {0};
	struct header h;
	bool ok = false;

	elements_init(live);
	if (read_state(table, path, sizeof(path), &text, &h, w) &&
	    (body = checked_body(table, path, text.data, &h, gen, w))) {
		live->layout = h.layout;
		live->rules_hash = h.rules;
		ok = parse_body(body, live);
		if (!ok)
			discard(path, "it does not parse", w);
	}
	svcnft_buf_free(&text);
	if (!ok) {
		elements_free(live);
		return false;
	}
	live->exists = live->ours = true;
	el_base_chains(&live->base);	/* what it committed; the digest covers them */
	elements_finish(live);
	return true;
}

bool state_unchanged(const char *table, uint32_t gen, uint64_t input,
		     struct svcnft_errors *w)
{
	char path[256];
	struct svcnft_buf text = {0};
	struct header h;
	bool ok;

	if (!input || !read_header(table, &h, w) || h.input != input)
		return false;	/* the header alone: not the 10 MB behind it */
	ok = read_state(table, path, sizeof(path), &text, &h, w) &&
	     h.input == input && checked_body(table, path, text.data, &h, gen, w);
	svcnft_buf_free(&text);
	return ok;
}

bool state_input_saved(const char *table, struct svcnft_errors *w)
{
	struct header h;

	return !input_digest || (read_header(table, &h, w) && h.input == input_digest);
}

bool state_gen(const char *table, uint32_t *gen, struct svcnft_errors *w)
{
	struct header h;

	if (!read_header(table, &h, w))
		return false;
	*gen = h.gen;
	return true;
}

bool state_rules(const char *table, uint64_t *hash, struct svcnft_errors *w)
{
	struct header h;

	if (!read_header(table, &h, w))
		return false;
	*hash = h.rules;
	return true;
}

void state_forget(const char *table)
{
	char path[256];

	state_path(path, sizeof(path), table, "state");
	unlink(path);
}
