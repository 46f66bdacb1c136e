/* state: the last committed contents of a table (see state.h).
 *
 * Format, one item per line (element strings hold no newline):
 *   svcnft-state 1 GEN RULES_HASH LAYOUT
 *   masq TEXT            (twice: IPv4, IPv6)
 *   chains N, then N names
 *   set NAME SIZE N, then N elements     (per set, in order) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "live.h"
#include "state.h"
#include "util.h"

#define STATE_MAGIC "svcnft-state 1"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71	/* Linux 5.14 */
#endif

/* The network namespace's cookie: unique for the whole boot, unlike its
 * inode number, which a new namespace may get again. */
static unsigned long long netns_id(void)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	struct stat st;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && !getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) &&
	    len == sizeof(cookie)) {
		close(fd);
		return cookie;
	}
	if (fd >= 0)
		close(fd);
	return stat("/proc/self/ns/net", &st) ? 0 : (unsigned long long)st.st_ino;
}

void state_path(char *path, size_t len, const char *table, const char *suffix)
{
	const char *dir = getenv("SVCNFT_LOCK_DIR");

	/* a test's own lock directory: one lock for its namespaces */
	if (dir && !strcmp(suffix, "lock"))
		snprintf(path, len, "%s/svcnft-%s.lock", dir, table);
	else
		snprintf(path, len, "%s/svcnft-%s.net%llu.%s", dir ? dir : "/run",
			 table, netns_id(), suffix);
}

static void put_list(FILE *f, const struct el_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		fprintf(f, "%s\n", l->v[i]);
}

void state_save(const char *table, const struct elements *want, uint32_t gen)
{
	char path[256], tmp[272];
	uint64_t h;
	FILE *f;
	int err;

	uint32_t now;

	state_path(path, sizeof(path), table, "state");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	/* the hash first: a commit by someone else after it moves the id */
	if (live_rules_hash(table, &h) || live_genid(&now) || now != gen ||
	    !(f = fopen(tmp, "w"))) {
		unlink(path);
		return;
	}
	fprintf(f, "%s %u %016llx %d\n", STATE_MAGIC, gen,
		(unsigned long long)h, want->layout);
	fprintf(f, "masq %s\nmasq %s\nchains %zu\n", want->masq[0],
		want->masq[1], want->chains.n);
	put_list(f, &want->chains);
	for (size_t i = 0; i < want->n_sets; i++) {
		const struct el_set *s = &want->sets[i];

		fprintf(f, "set %s %zu %zu\n", s->name, s->size, s->el.n);
		put_list(f, &s->el);
	}
	err = ferror(f);
	if (fclose(f) || err || rename(tmp, path)) {
		unlink(tmp);
		unlink(path);
	}
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

static bool parse_state(char *p, uint32_t gen, struct elements *els)
{
	char *s = next_line(&p), name[64];
	unsigned int g;
	unsigned long long h;
	size_t n, size;

	if (!s || sscanf(s, STATE_MAGIC " %u %llx %d", &g, &h, &els->layout) != 3 ||
	    g != gen)
		return false;
	els->rules_hash = h;
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

bool state_load(const char *table, uint32_t gen, struct elements *live)
{
	char path[256];
	struct svcnft_buf text = {0};
	bool ok;

	state_path(path, sizeof(path), table, "state");
	elements_init(live);
	ok = buf_read_file(&text, path) && parse_state(text.data, gen, live);
	svcnft_buf_free(&text);
	if (!ok) {
		elements_free(live);
		return false;
	}
	live->exists = live->ours = true;
	elements_finish(live);
	return true;
}

/* The saved generation and rules' hash from the file's first line. */
static bool read_header(const char *table, uint32_t *gen, uint64_t *hash)
{
	char path[256];
	unsigned int g;
	unsigned long long h;
	int layout;
	FILE *f;
	bool ok;

	state_path(path, sizeof(path), table, "state");
	if (!(f = fopen(path, "r")))
		return false;
	ok = fscanf(f, STATE_MAGIC " %u %llx %d", &g, &h, &layout) == 3;
	fclose(f);
	if (ok) {
		*gen = g;
		*hash = h;
	}
	return ok;
}

bool state_gen(const char *table, uint32_t *gen)
{
	uint64_t hash;

	return read_header(table, gen, &hash);
}

bool state_rules(const char *table, uint64_t *hash)
{
	uint32_t gen;

	return read_header(table, &gen, hash);
}

void state_forget(const char *table)
{
	char path[256];

	state_path(path, sizeof(path), table, "state");
	unlink(path);
}
