/* apply: full or incremental, under a lock, with generation-id checks. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "changes.h"
#include "elements.h"
#include "kernel.h"
#include "live.h"
#include "monitor.h"
#include "nlload.h"
#include "state.h"
#include "util.h"

static bool log_time;
static const char *log_context;

void diff_log_setup(bool timestamps, const char *context)
{
	log_time = timestamps;
	log_context = context;
}

/* "[TIME ]svcnft: [CONTEXT: ]" before a message on stderr. */
void diff_log_prefix(void)
{
	struct timespec ts;
	struct tm tm;
	char t[40];

	if (log_time) {
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld ", t, ts.tv_nsec / 1000000);
	}
	fputs("svcnft: ", stderr);
	if (log_context && *log_context)
		fprintf(stderr, "%s: ", log_context);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static bool (*lock_stop)(void);

void apply_lock_stop(bool (*stop)(void))
{
	lock_stop = stop;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };

	nanosleep(&ts, NULL);
}

void apply_forget(const char *table)
{
	state_forget(table);
}

/* flock on the table's lock file (state_path).  A held lock is waited for;
 * with a stop callback, in 20 ms steps so that the wait can be given up. */
int apply_lock(const char *table, const char *what)
{
	char path[256];
	int fd, r;

	state_path(path, sizeof(path), table, "lock");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EACCES || errno == EPERM)) {
		fprintf(stderr, "svcnft: %s needs CAP_NET_ADMIN (run as root): cannot open %s: %s\n",
			what, path, strerror(errno));
		return -1;
	}
	if (fd < 0)
		goto fail;
	if ((r = flock(fd, LOCK_EX | LOCK_NB)) < 0 && errno == EWOULDBLOCK) {
		diff_log_prefix();
		fprintf(stderr, "waiting for %s (another svcnft holds it)\n", path);
		while ((r = flock(fd, LOCK_EX | (lock_stop ? LOCK_NB : 0))) < 0 &&
		       (errno == EWOULDBLOCK || errno == EINTR)) {
			if (lock_stop && lock_stop()) {
				diff_log_prefix();
				fputs("stopped while waiting for the lock; nothing changed\n", stderr);
				close(fd);
				return -1;
			}
			if (lock_stop)
				sleep_ms(20);
		}
	}
	if (r == 0)
		return fd;
fail:
	fprintf(stderr, "svcnft: cannot lock %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Test aid: wait between reading the table and committing (VAR names the
 * milliseconds: SVCNFT_TEST_PAUSE_MS incremental, ..._FULL_PAUSE_MS full). */
static void test_pause(const char *var)
{
	const char *ms = getenv(var);
	long v = ms ? atol(ms) : 0;

	if (v > 0)
		sleep_ms(v);
}

/* SVCNFT_LOADER=nft: everything through libnftables (the baseline). */
static bool use_batch(void)
{
	const char *loader = getenv("SVCNFT_LOADER");

	return !loader || strcmp(loader, "nft");
}

/* The netlink batch (cmd/nlload.c), guarded by the generation id read
 * before the ownership check, so that a table created or changed in
 * between is checked again; the script through libnftables when
 * SVCNFT_LOADER=nft asks for it or the batch cannot be prepared. */
static enum svcnft_status load(const struct plan *p, uint32_t *gen,
			       const char **how)
{
	const char *table = p->cfg->table;
	struct svcnft_buf out = {0};
	enum svcnft_status rc;
	bool exists;
	int r = NLLOAD_UNAVAILABLE;

	monitor_suspend();	/* our own commit: see monitor.h */
	for (int i = 0; use_batch() && i < 5; i++) {
		*how = "netlink batch";
		if (live_genid(gen) || kernel_check_owner(table, "apply", &exists))
			return SVCNFT_EKERNEL;
		test_pause("SVCNFT_TEST_FULL_PAUSE_MS");
		if ((r = nlload_apply(p, *gen)) != NLLOAD_RESTART)
			break;
		diff_log_prefix();
		fputs("the ruleset changed while loading; checking the table again\n", stderr);
	}
	if (r == NLLOAD_RESTART) {
		fprintf(stderr, "svcnft: table inet %s kept changing; nothing applied\n", table);
		return SVCNFT_EKERNEL;
	}
	if (r != NLLOAD_UNAVAILABLE)
		return (enum svcnft_status)r;
	/* the script has no generation check: check ownership right before */
	*how = "libnftables";
	if (live_genid(gen) || kernel_check_owner(table, "apply", &exists))
		return SVCNFT_EKERNEL;
	render_nft_plan(&out, p, false);
	rc = kernel_run(out.data, false);
	svcnft_buf_free(&out);
	return rc;
}

static enum svcnft_status apply_full(const struct svcnft_model *m,
				     const struct plan *p, const char *why,
				     uint32_t *gen)
{
	const struct svcnft_config *cfg = p->cfg;
	struct svcnft_stats st;
	enum svcnft_status rc;
	const char *how;
	double t0 = now_ms();

	rc = load(p, gen, &how);
	*gen += 1;		/* one transaction */
	svcnft_model_stats(m, cfg, &st);
	if (rc == SVCNFT_OK) {
		diff_log_prefix();
		fprintf(stderr, "applied table inet %s: %zu service%s, %zu service port%s, %zu backend%s (full replace: %s; %s, %.0f ms)\n",
			cfg->table, st.services, plural(st.services), st.service_ports,
			plural(st.service_ports), st.backends, plural(st.backends), why,
			how, now_ms() - t0);
	}
	return rc;
}

/* TRY_SAVED: nothing to do, and the saved state already says so. */
enum try_result { TRY_DONE, TRY_SAVED, TRY_FULL, TRY_AGAIN };

/* Whether the table's rules differ from those of the last commit. */
static bool rules_changed(const char *table, uint64_t live)
{
	uint64_t saved;

	return state_rules(table, &saved) && saved != live;
}

/* The table as the kernel holds it: what the last commit saved when the
 * generation id G1 has not moved since (or watch's monitor vouches that
 * only other tables moved it), otherwise a netlink dump. */
static int read_table(const char *table, uint32_t *g1, struct elements *live,
		      bool *cached)
{
	int ret = live_genid(g1);
	uint32_t saved;

	*cached = false;
	if (ret) {
		elements_init(live);
		return ret;
	}
	/* the header first: the contents are read (10 MB at 10k) only once */
	if (state_gen(table, &saved) &&
	    (saved == *g1 || monitor_vouches(saved, *g1)) &&
	    state_load(table, saved, live)) {
		*cached = true;
		return 0;
	}
	return live_read(table, live);
}

/* The libnftables way of send_changes(). */
static enum try_result send_script(const struct plan *p,
				   const struct changes *c, const char *table,
				   uint32_t g1, enum svcnft_status *rc,
				   const char **how)
{
	struct svcnft_buf script = {0};
	enum try_result res = TRY_DONE;
	uint32_t g2;

	*how = "libnftables";
	if (!changes_script(&script, c, p, table)) {
		fputs("svcnft: cannot render the changes\n", stderr);
		*rc = SVCNFT_EUSAGE;
	} else if (live_genid(&g2) || g2 != g1) {
		res = TRY_AGAIN;
	} else {
		*rc = kernel_run(script.data, false);
	}
	svcnft_buf_free(&script);
	return res;
}

/* Commit changes C of the table read at generation G1: one netlink batch,
 * which the kernel refuses once the generation has moved (TRY_AGAIN), or
 * the script through libnftables, after checking the generation again;
 * that script cannot add chains (nft 1.0.6 refuses a new rule that uses a
 * `typeof` map loaded from the kernel: "conflicting protocols"), so new
 * chains then mean TRY_FULL. */
static enum try_result send_changes(const struct plan *p,
				    const struct changes *c,
				    const char *table, uint32_t g1,
				    enum svcnft_status *rc, uint32_t *gen,
				    const char **how)
{
	struct svcnft_buf script = {0};
	enum try_result res = TRY_DONE;
	int r = NLLOAD_UNAVAILABLE;

	if (getenv("SVCNFT_DEBUG_SCRIPT") && changes_script(&script, c, p, table))
		fputs(script.data, stderr);
	test_pause("SVCNFT_TEST_PAUSE_MS");
	monitor_suspend();	/* our own commit: see monitor.h */
	*how = "netlink batch";
	if (use_batch())
		r = nlload_update(p, c, g1);
	if (r == NLLOAD_RESTART)
		res = TRY_AGAIN;
	else if (r != NLLOAD_UNAVAILABLE)
		*rc = (enum svcnft_status)r;
	else if (c->n_new)
		res = TRY_FULL;
	else
		res = send_script(p, c, table, g1, rc, how);
	*gen = g1 + 1;		/* one transaction */
	svcnft_buf_free(&script);
	return res;
}

static enum try_result try_incremental(const struct plan *p,
				       const struct elements *want,
				       const struct svcnft_config *cfg,
				       enum svcnft_status *rc, const char **why,
				       uint32_t *gen)
{
	struct elements live;
	struct changes c;
	const char *how = "";
	uint32_t g1;
	bool exists, cached;
	double t0 = now_ms(), t1;
	enum try_result res = TRY_DONE;
	int ret;

	ret = read_table(cfg->table, &g1, &live, &cached);
	if (ret == -EINTR) {	/* live_read already tried again */
		elements_free(&live);
		if (kernel_check_owner(cfg->table, "apply", &exists) != SVCNFT_OK) {
			*rc = SVCNFT_EKERNEL;
			return TRY_DONE;
		}
		*why = "the table kept changing during the read";
		return TRY_FULL;
	}
	if (ret || (live.exists && !live.ours)) {
		if (ret == -EPERM || ret == -EACCES)
			fputs("svcnft: apply needs CAP_NET_ADMIN (run as root)\n", stderr);
		else if (ret)
			fprintf(stderr, "svcnft: cannot read table inet %s: %s\n", cfg->table, strerror(-ret));
		else
			fprintf(stderr, "svcnft: table inet %s exists and was not created by svcnft; "
				"leaving it alone (choose another --table)\n", cfg->table);
		elements_free(&live);
		*rc = SVCNFT_EKERNEL;
		return TRY_DONE;
	}
	changes_compute(&c, want, &live);
	if (!c.full && live.exists && !cached &&
	    rules_changed(cfg->table, live.rules_hash))
		c.full = "rules were changed behind svcnft's back";
	t1 = now_ms();
	if (c.full) {
		*why = c.full;
		res = TRY_FULL;
	} else if (changes_empty(&c)) {
		diff_log_prefix();
		fprintf(stderr, "table inet %s is up to date; no transaction sent (%s %.0f ms)\n",
			cfg->table, cached ? "saved state" : "read", t1 - t0);
		*rc = SVCNFT_OK;
		*gen = g1;
		if (cached)
			res = TRY_SAVED;
	} else {
		res = send_changes(p, &c, cfg->table, g1, rc, gen, &how);
		if (res == TRY_AGAIN) {
			diff_log_prefix();
			fprintf(stderr, "table inet %s changed while reading it; recomputing\n",
				cfg->table);
		} else if (res == TRY_FULL) {
			*why = "new chains are needed";
		} else if (*rc == SVCNFT_OK) {
			diff_log_prefix();
			fprintf(stderr, "updated table inet %s: %zu element change%s, %zu chain%s/map%s added, %zu removed (%s+diff %.0f ms, commit %.0f ms; %s)\n",
				cfg->table, c.n_elems, plural(c.n_elems), c.n_new,
				plural(c.n_new), plural(c.n_new), c.n_old,
				cached ? "saved state" : "read", t1 - t0, now_ms() - t1, how);
		}
	}
	changes_free(&c);
	elements_free(&live);
	return res;
}

enum svcnft_status cmd_apply(const struct svcnft_model *m,
			     const struct svcnft_config *cfg, bool full)
{
	enum svcnft_status rc = SVCNFT_EKERNEL;
	enum try_result res = TRY_FULL;
	const char *why = "--full";
	uint32_t gen = 0;
	struct elements want;
	struct plan p;
	bool exists;
	int lock = apply_lock(cfg->table, "apply");

	if (lock < 0)
		return SVCNFT_EKERNEL;
	/* --full: still never touch a table svcnft did not make */
	if (full && kernel_check_owner(cfg->table, "apply", &exists) != SVCNFT_OK) {
		close(lock);
		return SVCNFT_EKERNEL;
	}
	plan_build(&p, m, cfg);
	elements_from_plan(&want, &p);
	for (int i = 0; !full && i < 5; i++)
		if ((res = try_incremental(&p, &want, cfg, &rc, &why, &gen)) != TRY_AGAIN)
			break;
	if (res == TRY_AGAIN)
		why = "the table kept changing during the read";
	if (res == TRY_FULL || res == TRY_AGAIN)
		rc = apply_full(m, &p, why, &gen);
	monitor_resume();	/* before state_save checks the generation */
	if (rc != SVCNFT_OK)
		state_forget(cfg->table);
	else if (res != TRY_SAVED)
		state_save(cfg->table, &want, gen);
	elements_free(&want);
	plan_free(&p);
	close(lock);
	return rc;
}
