/* apply: full or incremental, under a lock, with generation-id checks. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "changes.h"
#include "conntrack.h"
#include "elements.h"
#include "engine.h"
#include "guard.h"
#include "kernel.h"
#include "live.h"
#include "monitor.h"
#include "monotime.h"
#include "nlbatch.h"
#include "nlload.h"
#include "owner.h"
#include "render_nft.h"
#include "stale.h"
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

static bool (*lock_stop)(void);
static bool ct_reconcile;
static uint32_t last_gen;	/* after the last successful apply */

uint32_t apply_generation(void)
{
	return last_gen;
}

void apply_conntrack_reconcile(void)
{
	ct_reconcile = true;
}

/* After a successful commit of plan P: delete the UDP/SCTP conntrack
 * entries CT names stale (every port of P after --full, which diffed
 * nothing); a failure is a warning, never a failed apply. */
static void conntrack_after(const struct plan *p, struct stale_set *ct,
			    bool full)
{
	struct conntrack_result r;

	ct_reconcile = false;
	if (full) {
		stale_free(ct);
		stale_build(ct, p, NULL, true);
	}
	if (!ct->n)
		return;
	conntrack_clean(ct, false, &r);
	diff_log_prefix();
	fprintf(stderr, "conntrack: deleted %zu stale entr%s of %zu UDP/SCTP service port%s (%zu dump%s, %.0f ms)\n",
		r.deleted, r.deleted == 1 ? "y" : "ies", r.keys, plural(r.keys), r.dumps,
		plural(r.dumps), r.ms);
	if (r.err) {
		diff_log_prefix();
		fprintf(stderr, "warning: conntrack: %zu stale entr%s not deleted%s: %s\n",
			r.failed, r.failed == 1 ? "y" : "ies",
			r.unchecked ? ", not every port checked" : "", strerror(-r.err));
	}
}

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

static struct apply_limits limits = APPLY_LIMITS_DEFAULT;
static bool read_kernel, no_state;
/* watch and follow (no saved state): the hash of the table's rules right
 * after svcnft's last commit, when known; whether this apply committed. */
static bool rules_known, committed;
static uint64_t rules_last;

/* The saved state's warnings (kernel/state.h) in one apply: each said
 * once, where it arose, then forgotten at the apply's end. */
static struct svcnft_errors state_warn;
static size_t state_said;

static void say_state(void)
{
	for (; state_said < state_warn.n; state_said++)
		fprintf(stderr, "%s\n", state_warn.v[state_said].text);
}

static void state_warn_end(void)
{
	say_state();
	svcnft_errors_free(&state_warn);
	state_said = 0;
}

/* SVCNFT_LOADER=nft: everything through libnftables (the baseline). */
static bool use_batch(void)
{
	const char *loader = getenv("SVCNFT_LOADER");

	return !loader || strcmp(loader, "nft");
}

void apply_daemon(void)
{
	no_state = true;
	if (use_batch())
		nlload_daemon();
}

void apply_set_limits(const struct apply_limits *l)
{
	limits = *l;
}

void apply_read_kernel(bool on)
{
	read_kernel = on;
}

/* The pid holding a flock on lock file FD, from /proc/locks (as this pid
 * namespace sees it), or 0 if unknown. */
static long lock_holder(int fd)
{
	char line[256];
	struct stat st;
	long pid = 0;
	FILE *f;

	if (fstat(fd, &st) || !(f = fopen("/proc/locks", "re")))
		return 0;
	while (!pid && fgets(line, sizeof(line), f)) {
		unsigned int maj, min;
		unsigned long long ino;
		long p;

		if (strstr(line, "FLOCK") &&
		    sscanf(line, "%*s %*s %*s %*s %ld %x:%x:%llu", &p, &maj, &min, &ino) == 4 &&
		    ino == (unsigned long long)st.st_ino && maj == major(st.st_dev) &&
		    min == minor(st.st_dev))
			pid = p;
	}
	fclose(f);
	return pid;
}

/* Wait for the lock on FD: at most lock_timeout_s, giving up early when
 * the stop callback says so.  0, or -1 with a message. */
static int lock_wait(int fd, const char *path)
{
	double until = mono_ms() + limits.lock_timeout_s * 1000.0;
	long pid = lock_holder(fd);

	diff_log_prefix();
	if (pid)
		fprintf(stderr, "waiting for %s (held by pid %ld)\n", path, pid);
	else
		fprintf(stderr, "waiting for %s (another svcnft holds it)\n", path);
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			fprintf(stderr, "svcnft: cannot lock %s: %s\n", path, strerror(errno));
			return -1;
		}
		if (lock_stop && lock_stop()) {
			diff_log_prefix();
			fputs("stopped while waiting for the lock; nothing changed\n", stderr);
			return -1;
		}
		if (mono_ms() >= until) {
			pid = lock_holder(fd);
			diff_log_prefix();
			fprintf(stderr, "gave up waiting for %s after %u s (--lock-timeout)", path,
				limits.lock_timeout_s);
			if (pid)
				fprintf(stderr, "; held by pid %ld", pid);
			fputs("; nothing changed\n", stderr);
			return -1;
		}
		sleep_ms(20);
	}
	return 0;
}

/* flock on the table's lock file (state_path), which then holds our pid.
 * Never through a symbolic link, never on anything but a regular file. */
int apply_lock(const char *table, const char *what)
{
	char path[256], pid[48];
	struct stat st;
	int fd, n;

	state_path(path, sizeof(path), table, "lock");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd < 0 && (errno == EACCES || errno == EPERM)) {
		char detail[320];

		snprintf(detail, sizeof(detail), "cannot open %s: %s", path, strerror(errno));
		owner_no_privilege(what, detail);
		return -1;
	}
	if (fd < 0 && (errno == EROFS || errno == ENOSPC || errno == EDQUOT)) {
		diff_log_prefix();
		fprintf(stderr, "warning: cannot create %s: %s; no lock and no saved state: reading the kernel\n",
			path, strerror(errno));
		state_disable();
		return -2;
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "svcnft: cannot open %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "svcnft: %s is not a regular file; refusing to use it as a lock\n", path);
		close(fd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			fprintf(stderr, "svcnft: cannot lock %s: %s\n", path, strerror(errno));
		if (errno != EWOULDBLOCK || lock_wait(fd, path) < 0) {
			close(fd);
			return -1;
		}
	}
	state_lock_note(pid, sizeof(pid));
	n = (int)strlen(pid);
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) != n)
		errno = 0;	/* a full /run: the pid is only a hint */
	return fd;
}

/* The lock of an existing lock file if it is free at once, without
 * messages (apply_up_to_date); -1 otherwise. */
static int lock_now(const char *table)
{
	char path[256];
	struct stat st;
	int fd;

	state_path(path, sizeof(path), table, "lock");
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd >= 0 && (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
			flock(fd, LOCK_EX | LOCK_NB))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* Test aid: wait between reading the table and committing (VAR names the
 * milliseconds: SVCNFT_TEST_PAUSE_MS incremental, ..._FULL_PAUSE_MS full,
 * ..._DELETE_PAUSE_MS delete).
 * With SVCNFT_TEST_PAUSE_FILE the wait is a handshake instead, once per
 * process: create the file, then wait until the test removed it (at most
 * 100 times as long), so that a loaded machine cannot make the test act
 * too early or too late. */
static void test_pause(const char *var)
{
	static bool shaken;	/* once: a retry after it does not wait */
	const char *ms = getenv(var), *sync = getenv("SVCNFT_TEST_PAUSE_FILE");
	long v = ms ? atol(ms) : 0;
	int fd;

	if (v <= 0 || shaken)
		return;
	if (!sync) {
		sleep_ms(v);
		return;
	}
	shaken = true;
	if ((fd = open(sync, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0)
		close(fd);
	for (long t = 0; t < 100 * v && !access(sync, F_OK); t += 10)
		sleep_ms(10);
}

/* An operation on table TABLE guarded by what was read before the
 * ownership check: generation GEN, and HANDLE, the handle of svcnft's
 * table (0: none).  NB_RESTART when the ruleset had moved on; *F what
 * kernel/ could not do. */
struct guarded {
	const char *table, *cmd, *doing, *pause;
	int (*op)(const void *arg, uint32_t gen, uint64_t handle, struct kfail *f);
	const void *arg;
};

/* G's operation after the ownership check, which is done again while the
 * ruleset moves on in between (5 tries; then nothing was done); what it
 * could not do said. */
static int owner_guarded(const struct guarded *g, uint32_t *gen)
{
	struct kfail f = {0};
	uint64_t handle;
	int r = NB_RESTART;

	for (int i = 0; i < 5 && r == NB_RESTART; i++) {
		if (i) {
			diff_log_prefix();
			fprintf(stderr, "the ruleset changed while %s; checking the table again\n",
				g->doing);
		}
		if (live_genid(gen) || owner_handle(g->table, g->cmd, &handle))
			return SVCNFT_EKERNEL;
		test_pause(g->pause);
		r = g->op(g->arg, *gen, handle, &f);
		owner_kfail(&f);
	}
	if (r == NB_RESTART) {
		fprintf(stderr, "svcnft: table inet %s kept changing; nothing was done\n", g->table);
		return SVCNFT_EKERNEL;
	}
	return r;
}

static int batch_op(const void *p, uint32_t gen, uint64_t handle,
		    struct kfail *f)
{
	(void)handle;	/* the generation guards the whole batch */
	return nlload_apply(p, gen, f);
}

/* The script has no generation check: it deletes svcnft's table by the
 * handle the ownership check saw, or creates the table when there was
 * none, so that it fails whole if another table took the name since. */
static int script_op(const void *p, uint32_t gen, uint64_t handle,
		     struct kfail *f)
{
	const struct plan *plan = p;
	struct svcnft_buf out = {0};
	enum svcnft_status rc;

	(void)gen;
	if (handle)
		buf_printf(&out, "delete table inet handle %llu\n", (unsigned long long)handle);
	else
		buf_printf(&out, "create table inet %s\n", plan->cfg->table);
	render_nft_plan(&out, plan, false);
	rc = kernel_run(out.data, false, f);
	svcnft_buf_free(&out);
	return rc;
}

/* The netlink batch (kernel/nlload.c); the script through libnftables
 * when SVCNFT_LOADER=nft asks for it or the batch cannot be prepared. */
static enum svcnft_status load(const struct plan *p, uint32_t *gen,
			       const char **how)
{
	struct guarded g = { p->cfg->table, "apply", "loading",
			     "SVCNFT_TEST_FULL_PAUSE_MS", batch_op, p };
	int r = NLLOAD_UNAVAILABLE;

	monitor_suspend();	/* our own commit: see monitor.h */
	*how = "netlink batch";
	if (use_batch() && (r = owner_guarded(&g, gen)) != NLLOAD_UNAVAILABLE)
		return (enum svcnft_status)r;
	*how = "libnftables";
	g.op = script_op;
	return (enum svcnft_status)owner_guarded(&g, gen);
}

static int delete_op(const void *table, uint32_t gen, uint64_t handle,
		     struct kfail *f)
{
	if (!handle) {
		fprintf(stderr, "svcnft: no table inet %s, nothing to delete\n",
			(const char *)table);
		return SVCNFT_OK;
	}
	return nb_delete_table(table, gen, f);
}

enum svcnft_status apply_delete(const char *table)
{
	struct guarded g = { table, "delete", "deleting",
			     "SVCNFT_TEST_DELETE_PAUSE_MS", delete_op, table };
	uint32_t gen;
	enum svcnft_status st;
	int lock = apply_lock(table, "delete");	/* never during an apply */

	if (lock == -1)
		return SVCNFT_EKERNEL;
	st = (enum svcnft_status)owner_guarded(&g, &gen);
	if (st == SVCNFT_OK)
		apply_forget(table);
	unlock(lock);
	return st;
}

static enum svcnft_status apply_full(const struct plan *p, const char *why,
				     uint32_t *gen)
{
	const struct svcnft_config *cfg = p->cfg;
	struct svcnft_stats st;
	enum svcnft_status rc;
	const char *how;
	double t0 = mono_ms();

	rc = load(p, gen, &how);
	*gen += 1;		/* one transaction */
	committed = rc == SVCNFT_OK;
	plan_stats(p, &st);
	if (rc == SVCNFT_OK) {
		diff_log_prefix();
		fprintf(stderr, "applied table inet %s: %zu service%s, %zu service port%s, %zu backend%s (full replace: %s; %s, %.0f ms)\n",
			cfg->table, st.services, plural(st.services), st.service_ports,
			plural(st.service_ports), st.backends, plural(st.backends), why,
			how, mono_ms() - t0);
	}
	return rc;
}

static void log_up_to_date(const char *table, const char *how, double ms)
{
	diff_log_prefix();
	fprintf(stderr, "table inet %s is up to date; no transaction sent (%s %.0f ms)\n",
		table, how, ms);
}

/* TRY_SAVED: nothing to do, and the saved state already says so. */
enum try_result { TRY_DONE, TRY_SAVED, TRY_FULL, TRY_AGAIN };

/* After svcnft's commit that left generation GEN. */
static void note_rules(const char *table, uint32_t gen)
{
	uint32_t now;

	/* the hash first: a commit by someone else after it moves the id */
	rules_known = !live_rules_hash(table, &rules_last) &&
		      !live_genid(&now) && now == gen;
}

/* watch and follow, at the end of an apply: the rules' hash after its
 * commit; without one (up to date, refused) the one known stays (at the
 * first, the saved state's, which the check just passed). */
static void keep_rules(const char *table, uint32_t gen)
{
	if (committed)
		note_rules(table, gen);
	else if (!rules_known)
		rules_known = state_rules(table, &rules_last, &state_warn);
}

/* Whether the table's rules differ from those of the last commit. */
static bool rules_changed(const char *table, uint64_t live)
{
	uint64_t saved;
	bool changed;

	if (rules_known)
		return rules_last != live;
	changed = state_rules(table, &saved, &state_warn) && saved != live;
	say_state();
	return changed;
}

/* Set for the rest of one apply once the saved state proved unusable. */
static bool skip_state;

/* Refuse (a message, true) an apply whose counts G shrink the live table
 * more than --max-removal allows, unless --force (the one removal check of
 * apply and watch; follow sets no limit). */
static bool guard_refused(const struct guard_counts *g, const char *table)
{
	char msg[256];

	if (limits.force || !guard_removal_exceeds(g, limits.max_removal, msg, sizeof(msg)))
		return false;
	diff_log_prefix();
	fprintf(stderr, "refusing to shrink table inet %s: %s; nothing changed "
		"(--force or --max-removal to allow it)\n", table, msg);
	return true;
}

static bool removal_refused(const struct elements *want,
			    const struct elements *live, const char *table)
{
	struct guard_counts g;

	if (!live->exists || !live->ours)
		return false;
	guard_count(&g, want, live);
	return guard_refused(&g, table);
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
	/* the header first: the contents are read (10 MB at 10k) only once;
	 * never when the state's text could reach libnftables' parser */
	*cached = !read_kernel && !skip_state && use_batch() &&
		  state_gen(table, &saved, &state_warn) &&
		  (saved == *g1 || monitor_vouches(saved, *g1)) &&
		  state_load(table, saved, live, &state_warn);
	say_state();
	return *cached ? 0 : live_read(table, live);
}

/* The libnftables way of send_changes(). */
static enum try_result send_script(const struct plan *p,
				   const struct changes *c, const char *table,
				   uint32_t g1, enum svcnft_status *rc,
				   const char **how)
{
	struct svcnft_buf script = {0};
	enum try_result res = TRY_DONE;
	struct kfail f = {0};
	uint32_t g2;

	*how = "libnftables";
	if (!changes_script(&script, c, p, table)) {
		fputs("svcnft: cannot render the changes\n", stderr);
		*rc = SVCNFT_EUSAGE;
	} else if (live_genid(&g2) || g2 != g1) {
		res = TRY_AGAIN;
	} else {
		*rc = kernel_run(script.data, false, &f);
		owner_kfail(&f);
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
				    const char *table, uint32_t g1, bool cached,
				    enum svcnft_status *rc, uint32_t *gen,
				    const char **how)
{
	struct svcnft_buf script = {0};
	enum try_result res = TRY_DONE;
	struct kfail f = {0};
	int r = NLLOAD_UNAVAILABLE;

	if (getenv("SVCNFT_DEBUG_SCRIPT") && changes_script(&script, c, p, table))
		fputs(script.data, stderr);
	test_pause("SVCNFT_TEST_PAUSE_MS");
	monitor_suspend();	/* our own commit: see monitor.h */
	*how = "netlink batch";
	if (use_batch())
		r = nlload_update(p, c, g1, &f);
	owner_kfail(&f);
	if (r == NLLOAD_RESTART)
		res = TRY_AGAIN;
	else if (r != NLLOAD_UNAVAILABLE)
		*rc = (enum svcnft_status)r;
	else if (cached)	/* the state's text must not reach libnftables */
		res = TRY_AGAIN, skip_state = true;
	else if (c->n_new)
		res = TRY_FULL;
	else
		res = send_script(p, c, table, g1, rc, how);
	*gen = g1 + 1;		/* one transaction */
	committed = res == TRY_DONE && *rc == SVCNFT_OK;
	svcnft_buf_free(&script);
	return res;
}

/* The live table of TABLE into LIVE, its generation *G1, *CACHED from the
 * saved state; otherwise false, with the result in *RES (and *RC, *WHY). */
static bool live_for_apply(const char *table, struct elements *live, uint32_t *g1,
			   bool *cached, enum svcnft_status *rc, const char **why,
			   enum try_result *res)
{
	int ret = read_table(table, g1, live, cached);
	bool exists;

	if (ret == -EINTR) {	/* live_read already tried again */
		elements_free(live);
		if (owner_check(table, "apply", &exists) != SVCNFT_OK) {
			*rc = SVCNFT_EKERNEL;
			*res = TRY_DONE;
			return false;
		}
		*why = "the table kept changing during the read";
		*res = TRY_FULL;
		return false;
	}
	if (ret || (live->exists && !live->ours)) {
		owner_report_live("apply", table, -ret, live);
		elements_free(live);
		*rc = SVCNFT_EKERNEL;
		*res = TRY_DONE;
		return false;
	}
	return true;
}

/* Send changes C of P to TABLE (generation G1), and say what came of it;
 * MS: the read and diff's milliseconds, T1 when they ended. */
static enum try_result send_and_say(const struct plan *p, const struct changes *c,
				    const char *table, uint32_t g1, bool cached,
				    double ms, double t1, enum svcnft_status *rc,
				    uint32_t *gen, const char **why)
{
	const char *how = "";
	enum try_result res = send_changes(p, c, table, g1, cached, rc, gen, &how);

	if (res == TRY_DONE && *rc != SVCNFT_OK && cached) {
		/* the saved state said something the kernel does not hold */
		diff_log_prefix();
		fprintf(stderr, "warning: the saved state of table inet %s was wrong; reading the kernel\n",
			table);
		state_forget(table);
		skip_state = true;
		res = TRY_AGAIN;
	} else if (res == TRY_AGAIN) {
		diff_log_prefix();
		fprintf(stderr, "table inet %s changed while reading it; recomputing\n", table);
	} else if (res == TRY_FULL) {
		*why = "new chains are needed";
	} else if (*rc == SVCNFT_OK) {
		diff_log_prefix();
		fprintf(stderr, "updated table inet %s: %zu element change%s, %zu chain%s/map%s added, %zu removed (%s+diff %.0f ms, commit %.0f ms; %s)\n",
			table, c->n_elems, plural(c->n_elems), c->n_new,
			plural(c->n_new), plural(c->n_new), c->n_old,
			cached ? "saved state" : "read", ms, mono_ms() - t1, how);
	}
	return res;
}

/* CT: the conntrack keys of the changes, every key of P too when the
 * changes were not diffed against a saved state (or a reconcile was asked
 * for, or the table is replaced whole). */
static enum try_result try_incremental(const struct plan *p,
				       const struct elements *want,
				       const struct svcnft_config *cfg,
				       enum svcnft_status *rc, const char **why,
				       uint32_t *gen, struct stale_set *ct)
{
	struct elements live;
	struct changes c;
	uint32_t g1;
	bool cached;
	double t0 = mono_ms(), t1;
	enum try_result res = TRY_DONE;

	if (!live_for_apply(cfg->table, &live, &g1, &cached, rc, why, &res))
		return res;
	changes_compute(&c, want, &live);
	if (removal_refused(want, &live, cfg->table)) {
		*rc = SVCNFT_EUSAGE;
		changes_free(&c);
		elements_free(&live);
		return TRY_DONE;
	}
	if (!c.full && live.exists && !cached &&
	    rules_changed(cfg->table, live.rules_hash))
		c.full = "rules were changed behind svcnft's back";
	stale_free(ct);
	stale_build(ct, p, &c, ct_reconcile || !cached || c.full);
	t1 = mono_ms();
	if (c.full) {
		*why = c.full;
		res = TRY_FULL;
	} else if (changes_empty(&c)) {
		log_up_to_date(cfg->table, cached ? "saved state" : "read", t1 - t0);
		*rc = SVCNFT_OK;
		*gen = g1;
		if (cached)
			res = TRY_SAVED;
	} else {
		res = send_and_say(p, &c, cfg->table, g1, cached, t1 - t0, t1, rc, gen, why);
	}
	changes_free(&c);
	elements_free(&live);
	return res;
}

/* --full replaces the table without diffing it: the removal check still
 * needs what it holds.  True if the apply may go on (or a message). */
static bool full_allowed(const struct elements *want, const char *table,
			 enum svcnft_status *rc)
{
	struct elements live;
	uint32_t g;
	bool cached, ok = true;

	if (limits.force || limits.max_removal >= 100)
		return true;
	if (read_table(table, &g, &live, &cached)) {
		fprintf(stderr, "svcnft: cannot read table inet %s to check what --full removes\n",
			table);
		*rc = SVCNFT_EKERNEL;
		ok = false;
	} else if (removal_refused(want, &live, table)) {
		*rc = SVCNFT_EUSAGE;
		ok = false;
	}
	elements_free(&live);
	return ok;
}

enum svcnft_status cmd_apply(const struct svcnft_model *m,
			     const struct svcnft_config *cfg, bool full)
{
	enum svcnft_status rc = SVCNFT_EKERNEL;
	enum try_result res = TRY_FULL;
	const char *why = "--full";
	uint32_t gen = 0;
	struct elements want = { 0 };
	struct stale_set ct = { 0 };
	struct plan p;
	bool exists = true;
	int lock = apply_lock(cfg->table, "apply");

	if (lock == -1) {
		state_warn_end();
		return SVCNFT_EKERNEL;
	}
	skip_state = false;
	committed = false;
	/* --full: still never touch a table svcnft did not make */
	if (full && owner_check(cfg->table, "apply", &exists) != SVCNFT_OK) {
		state_warn_end();
		unlock(lock);
		return SVCNFT_EKERNEL;
	}
	plan_build(&p, m, cfg);
	/* no table yet (a first start): nothing to compare, so the elements
	 * are formatted for the saved state once the rules are in */
	if (!full && owner_check(cfg->table, "apply", &exists) != SVCNFT_OK) {
		res = TRY_DONE;
	} else if (!full && !exists) {
		why = "the table does not exist";
		stale_build(&ct, &p, NULL, true);
	} else {
		elements_from_plan(&want, &p);
		if (full && !full_allowed(&want, cfg->table, &rc))
			res = TRY_DONE;
		for (int i = 0; !full && i < 5; i++)
			if ((res = try_incremental(&p, &want, cfg, &rc, &why, &gen, &ct)) != TRY_AGAIN)
				break;
	}
	if (res == TRY_AGAIN)
		why = "the table kept changing during the read";
	if (res == TRY_FULL || res == TRY_AGAIN)
		rc = apply_full(&p, why, &gen);
	if (rc == SVCNFT_OK) {
		conntrack_after(&p, &ct, full);
		last_gen = gen;
	}
	monitor_resume();	/* before state_save checks the generation */
	if (!exists && !full && rc == SVCNFT_OK && !no_state)
		elements_from_plan(&want, &p);
	if (no_state)
		keep_rules(cfg->table, gen);
	if (rc == SVCNFT_EKERNEL || no_state)
		state_forget(cfg->table);
	else if (rc == SVCNFT_OK &&
		 (res != TRY_SAVED || !state_input_saved(cfg->table, &state_warn)))
		state_save(cfg->table, &want, gen, &state_warn);	/* then it vouches for this input */
	state_warn_end();
	stale_free(&ct);
	elements_free(&want);
	plan_free(&p);
	unlock(lock);
	return rc;
}

/* The generation to send a batch at: *GEN, or the kernel's now when the
 * monitor vouches that only other tables moved it; false if neither. */
static bool batch_gen(uint32_t *gen)
{
	uint32_t now;

	if (live_genid(&now))
		return false;
	if (now != *gen && !monitor_vouches(*gen, now))
		return false;
	*gen = now;
	return true;
}

static void log_batch(const struct engine_batch *b, const char *table,
		      double t1)
{
	const struct changes *c = &b->changes;

	diff_log_prefix();
	fprintf(stderr, "updated table inet %s: %zu element change%s, %zu chain%s/map%s added, %zu removed (engine: %zu service%s lowered, commit %.1f ms; netlink batch)\n",
		table, c->n_elems, plural(c->n_elems), c->n_new, plural(c->n_new),
		plural(c->n_new), c->n_old, b->services_touched,
		plural(b->services_touched), mono_ms() - t1);
}

static enum svcnft_status send_batch(const struct engine_batch *b,
				     const char *table, uint32_t *gen)
{
	struct stale_set ct = { 0 };
	struct kfail f = {0};
	double t1;
	int r;

	if (!batch_gen(gen))	/* the monitor must be listening for this */
		return APPLY_FALLBACK;
	stale_build(&ct, &b->plan, &b->changes, false);
	monitor_suspend();	/* our own commit: see monitor.h */
	t1 = mono_ms();
	r = nlload_update(&b->plan, &b->changes, *gen, &f);
	owner_kfail(&f);
	if (r == SVCNFT_OK) {
		*gen += 1;	/* one transaction */
		last_gen = *gen;
		state_forget(table);	/* it describes the table before */
		if (b->changes.n_new || b->changes.n_old)	/* chains and their rules */
			note_rules(table, *gen);
		log_batch(b, table, t1);
		conntrack_after(&b->plan, &ct, false);
	}
	monitor_resume();
	stale_free(&ct);
	/* a refusal (say a set full at a size an older apply declared) is
	 * settled by comparing with what the kernel holds */
	return r == SVCNFT_OK ? SVCNFT_OK : APPLY_FALLBACK;
}

/* An interval set is sent whole, from the batch's plan: that holds every
 * service CIDR (a ServiceCIDR change), but only the services the batch
 * touched, so a firewall's source ranges need a plan of every service. */
static bool interval_changed(const struct changes *c)
{
	const char *key, *data;

	for (size_t i = 0; i < c->n_sets; i++)
		if (!el_form(c->sets[i].name, &key, &data) &&
		    strncmp(c->sets[i].name, "service-cidrs", strlen("service-cidrs")))
			return true;
	return false;
}

enum svcnft_status apply_batch(const struct engine_batch *b,
			       const struct svcnft_config *cfg, uint32_t *gen)
{
	enum svcnft_status rc;
	int lock;

	if (b->changes.full || !use_batch() || interval_changed(&b->changes))
		return APPLY_FALLBACK;
	if (guard_refused(&b->guard, cfg->table))
		return SVCNFT_EUSAGE;
	if (changes_empty(&b->changes)) {
		diff_log_prefix();
		fprintf(stderr, "table inet %s is up to date; no transaction sent (engine)\n",
			cfg->table);
		return SVCNFT_OK;
	}
	if ((lock = apply_lock(cfg->table, "apply")) == -1)
		return SVCNFT_EKERNEL;
	rc = send_batch(b, cfg->table, gen);
	unlock(lock);
	return rc;
}

bool apply_up_to_date(const char *table, uint64_t input)
{
	double t0 = mono_ms();
	uint32_t gen;
	bool same;
	int lock;

	if (!input || read_kernel || !use_batch())
		return false;
	if ((lock = lock_now(table)) < 0)
		return false;	/* cmd_apply waits for it, or says why */
	same = !live_genid(&gen) && state_unchanged(table, gen, input, &state_warn);
	say_state();	/* cmd_apply, which follows unless SAME, ends the list */
	if (same)
		log_up_to_date(table, "same input, saved state", mono_ms() - t0);
	unlock(lock);
	return same;
}
