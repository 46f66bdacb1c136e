/* follow: kubectl child processes (a complete list, then a watch, per
 * resource) feed the incremental engine (compiler/engine.h); changes are
 * applied as one batch each, at most once per debounce period.
 *
 * A list's items are staged as each arrives (compiler/stream.c decodes
 * them one by one), so neither the List nor its text is ever held whole.
 * Nothing is deleted on a partial view: a watch only adds, changes and
 * deletes what it names; objects missed while a stream was down go only
 * when a complete list of their resource has been read to its end (mark
 * and sweep), on every (re)start, every --resync seconds and on SIGHUP.
 *
 * ServiceCIDRs are a third resource, optional: the first sync waits for
 * the outcome of their first list, not for its success, and an API server
 * without the resource (before Kubernetes 1.33) is logged once and asked
 * again at each resync; the service CIDRs are then --service-cidr's. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "follow.h"
#include "engine.h"
#include "health.h"
#include "hmap.h"
#include "httpd.h"
#include "monitor.h"
#include "monotime.h"
#include "stream.h"
#include "util.h"
#include "watch.h"

extern char **environ;

#define BACKOFF_MIN 0.5
#define BACKOFF_MAX 30.0
#define HEALTHY_S 30.0		/* a watch that ran this long resets the backoff */
#define LOG_AT_CAP 10		/* at the cap, kubectl's messages every 10th attempt */

enum phase { PH_WAIT, PH_LIST, PH_WATCH, PH_IDLE /* absent until a resync */ };
#define N_FEEDS 3

/* One resource: its kubectl child, stream and retry state. */
struct feed {
	const char *resource;	/* as kubectl names it */
	const char *kind;	/* of its objects */
	enum engine_kind ekind;
	bool optional;		/* the first sync does not wait for its success */
	const char *list_src, *watch_src;	/* names in messages */
	enum phase phase;
	pid_t pid;		/* 0: none */
	int out, err;		/* -1: closed */
	int status;		/* wait status once reaped */
	bool reaped;
	double started;
	struct stream *st;
	json_t *list;		/* PH_LIST: the List's members but its items, once read to its end */
	size_t items, changes;	/* PH_LIST: items read, new or changed */
	bool bad;		/* this attempt failed (malformed output, ERROR event) */
	bool auth;		/* this attempt met Forbidden or Unauthorized */
	bool stopping;		/* we ended it: resync, not a failure */
	struct svcnft_buf errtext;	/* its standard error, this attempt */
	double retry_at, backoff;
	unsigned int fails;	/* attempts failed in a row */
	bool listed;		/* a complete list was read at least once */
	bool tried;		/* an attempt ended, or a list was read */
	bool absent;		/* the API server has no such resource */
	struct hmap keys;	/* "NS\x1fNAME" put since its list began */
};

struct follow {
	const struct follow_opts *o;
	int sig;
	struct feed f[N_FEEDS];
	struct engine *eng;	/* the cluster in memory (compiler/engine.h) */
	struct hmap seen;	/* "KIND\x1fNS\x1fNAME" -> hash of the version staged last */
	size_t n_changes;	/* staged since the last sync */
	size_t unsettled;	/* list items staged since the last settle() */
	size_t settle_every;	/* see settle() */
	uint32_t gen;		/* of the table after svcnft's last commit */
	bool behind;		/* the kernel may differ from the engine: compare */
	double last_sync;	/* when the last sync ended */
	double due;		/* debounce: apply then; 0 none */
	double resync_at;
	bool synced;		/* the first complete state was applied */
	bool repair;		/* SIGHUP: read the table back at the next sync */
};

/* An executable file of that name, as execvp finds it. */
static bool executable(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

static bool find_kubectl(const char *name)
{
	const char *path = getenv("PATH");
	char p[4096];

	if (strchr(name, '/'))
		return executable(name);
	for (const char *d = path ? path : "/usr/bin:/bin"; ; d++) {
		size_t n = strcspn(d, ":");

		snprintf(p, sizeof(p), "%.*s%s%s", (int)n, n ? d : ".", "/", name);
		if (executable(p))
			return true;
		d += n;
		if (!*d)
			return false;
	}
}

/* kubectl [--kubeconfig F] [--context C] get RESOURCE --all-namespaces
 * [--watch --output-watch-events] -o json, copied into ARGV (free each). */
static void kubectl_argv(const struct follow_opts *o, const char *resource,
			 bool watch, char **argv)
{
	const char *a[16];
	int n = 0;

	a[n++] = o->kubectl;
	if (o->kubeconfig) {
		a[n++] = "--kubeconfig";
		a[n++] = o->kubeconfig;
	}
	if (o->context) {
		a[n++] = "--context";
		a[n++] = o->context;
	}
	a[n++] = "get";
	a[n++] = resource;
	a[n++] = "--all-namespaces";
	if (watch) {
		a[n++] = "--watch";
		a[n++] = "--output-watch-events";
	}
	a[n++] = "-o";
	a[n++] = "json";
	for (int i = 0; i < n; i++)
		argv[i] = xstrdup(a[i]);
	argv[n] = NULL;
}

/* Start kubectl for F's phase PH; false (logged) if it cannot be. */
static bool spawn(struct follow *w, struct feed *f, enum phase ph)
{
	char *argv[16];
	int out[2] = { -1, -1 }, err[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none;
	int rc;

	/* only our ends are non-blocking: a child writing to a full
	 * non-blocking pipe would lose output */
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
	    fcntl(out[0], F_SETFL, O_NONBLOCK) < 0 || fcntl(err[0], F_SETFL, O_NONBLOCK) < 0) {
		watch_log("cannot start %s: %s", ph == PH_WATCH ? f->watch_src : f->list_src,
			  strerror(errno));
		for (int i = 0; i < 2; i++) {
			close(out[i]);
			close(err[i]);
		}
		return false;
	}
	kubectl_argv(w->o, f->resource, ph == PH_WATCH, argv);
	sigemptyset(&none);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);		/* ours are blocked for signalfd */
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	rc = posix_spawnp(&f->pid, w->o->kubectl, &fa, &at, argv, environ);
	for (int i = 0; argv[i]; i++)
		free(argv[i]);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(out[1]);
	close(err[1]);
	if (rc) {
		watch_log("cannot run %s: %s", w->o->kubectl, strerror(rc));
		f->pid = 0;
		close(out[0]);
		close(err[0]);
		return false;
	}
	f->out = out[0];
	f->err = err[0];
	f->phase = ph;
	f->reaped = f->bad = f->auth = f->stopping = false;
	f->started = mono_s();
	f->errtext.len = 0;
	stream_free(f->st);
	f->st = ph == PH_WATCH ? stream_new(f->watch_src) : stream_new_list(f->list_src);
	return true;
}

/* Log ERRS (and forget them). */
static void log_errs(struct svcnft_errors *errs)
{
	watch_log_errors(errs);
	svcnft_errors_free(errs);
	*errs = (struct svcnft_errors){0};
}

/* A change was staged: apply it at once after a quiet debounce period,
 * else once the period since the last sync is over (kube-proxy's minimum
 * sync period); the first complete state as soon as both lists are in. */
static void changed(struct follow *w)
{
	double t = mono_s(), d = w->o->debounce_ms / 1000.0;

	if (!w->due)
		w->due = t - w->last_sync >= d ? t : w->last_sync + d;
}

/* ---- the cluster in memory: objects in, one batch per sync ---- */

/* OBJ's namespace: "" for a cluster-scoped kind (ServiceCIDR). */
static const char *ns_of(const struct feed *f, json_t *obj)
{
	const char *ns;

	if (f->ekind == ENGINE_SERVICE_CIDR)
		return "";
	ns = json_string_value(json_object_get(json_object_get(obj, "metadata"), "namespace"));
	return ns ? ns : "default";
}

/* "KIND\x1fNS\x1fNAME" of OBJ into K (NS/NAME into SHORT); false without
 * a name. */
static bool obj_key(const struct feed *f, json_t *obj, struct svcnft_buf *k,
		    struct svcnft_buf *short_key)
{
	const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"),
							     "name"));

	if (!name || !*name)
		return false;
	k->len = short_key->len = 0;
	buf_printf(short_key, "%s\x1f%s", ns_of(f, obj), name);
	buf_printf(k, "%s\x1f%s", f->kind, short_key->data);
	return true;
}

/* What tells this version of OBJ from others: its uid and resourceVersion
 * (the API server changes it on every write), else a hash of its text. */
static uint64_t version_of(json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata");
	const char *uid = json_string_value(json_object_get(meta, "uid"));
	const char *rv = json_string_value(json_object_get(meta, "resourceVersion"));
	char *text;
	uint64_t h;

	if (uid && rv && *uid && *rv)
		return hmap_hash(rv, strlen(rv)) ^ (hmap_hash(uid, strlen(uid)) * 31);
	text = json_dumps(obj, JSON_COMPACT);
	h = hmap_hash(text, strlen(text));
	free(text);
	return h;
}

/* Stage OBJ, a version of one of F's objects from SRC: 1 if it differs
 * from the one staged last, 0 if not, -1 without a name (a message). */
static int put(struct follow *w, struct feed *f, json_t *obj, const char *src,
	       struct svcnft_errors *errs)
{
	struct svcnft_buf k = {0}, sk = {0};
	struct svcnft_model *m;
	uint64_t h;
	bool created;
	struct hent *e;
	int r = 1;

	if (!json_object_get(obj, "kind"))
		json_object_set_new(obj, "kind", json_string(f->kind));
	if (!obj_key(f, obj, &k, &sk)) {
		errs_add(errs, SVCNFT_EUSAGE, "%s: a %s without metadata.name; ignored", src, f->kind);
		return -1;
	}
	hmap_put(&f->keys, sk.data, &created);
	h = version_of(obj);
	e = hmap_put(&w->seen, k.data, &created);
	if (!created && (uint64_t)(uintptr_t)e->val == (uint64_t)(uintptr_t)(h | 1)) {
		r = 0;
	} else {
		e->val = (void *)(uintptr_t)(h | 1);
		m = svcnft_model_new();
		svcnft_model_load_json(m, src, obj, errs);
		engine_validate(w->eng, m, ENGINE_PER_OBJECT, errs);
		engine_stage_objects(w->eng, m);
		svcnft_model_free(m);
		w->n_changes++;
	}
	svcnft_buf_free(&k);
	svcnft_buf_free(&sk);
	return r;
}

/* OBJ of F is gone: true if it was there. */
static bool delete_obj(struct follow *w, struct feed *f, json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata");
	struct svcnft_buf k = {0}, sk = {0};
	bool had;

	if (!obj_key(f, obj, &k, &sk))
		return false;
	if ((had = hmap_find(&w->seen, k.data) != NULL)) {
		hmap_del(&w->seen, k.data);
		engine_stage_delete(w->eng, f->ekind, ns_of(f, obj),
				    json_string_value(json_object_get(meta, "name")));
		w->n_changes++;
	}
	svcnft_buf_free(&k);
	svcnft_buf_free(&sk);
	return had;
}

struct sweep {
	struct follow *w;
	struct feed *f;
	struct svcnft_buf k;
	char **gone;
	size_t n, cap;
};

static void sweep_one(const char *ns, const char *name, void *arg)
{
	struct sweep *sw = arg;

	sw->k.len = 0;
	buf_printf(&sw->k, "%s\x1f%s", ns, name);
	if (hmap_find(&sw->f->keys, sw->k.data))
		return;
	sw->gone = grow(sw->gone, &sw->cap, sw->n, sizeof(*sw->gone));
	sw->gone[sw->n++] = xstrdup(sw->k.data);
}

/* After F's complete list: its objects the list did not hold are gone. */
static size_t sweep(struct follow *w, struct feed *f)
{
	struct sweep sw = { .w = w, .f = f };

	engine_each(w->eng, f->ekind, sweep_one, &sw);
	for (size_t i = 0; i < sw.n; i++) {
		char *sep = strchr(sw.gone[i], '\x1f');

		*sep = '\0';
		engine_stage_delete(w->eng, f->ekind, sw.gone[i], sep + 1);
		sw.k.len = 0;
		buf_printf(&sw.k, "%s\x1f%s\x1f%s", f->kind, sw.gone[i], sep + 1);
		hmap_del(&w->seen, sw.k.data);
		free(sw.gone[i]);
	}
	free(sw.gone);
	svcnft_buf_free(&sw.k);
	w->n_changes += sw.n;
	return sw.n;
}

/* The engine's whole state compared with the kernel (cmd_apply). */
static enum svcnft_status apply_all(struct follow *w, bool repair)
{
	struct svcnft_model *view = engine_view(w->eng);
	enum svcnft_status st;

	apply_read_kernel(repair);
	st = cmd_apply(view, w->o->cfg, false);
	apply_read_kernel(false);
	engine_view_free(view);
	w->gen = apply_generation();
	w->behind = st != SVCNFT_OK;
	return st;
}

/* Batch B into the kernel: one netlink batch, or (WHOLE: first sync,
 * SIGHUP, the kernel behind) a comparison of everything with the table. */
static enum svcnft_status send(struct follow *w, struct engine_batch *b,
			       bool whole, bool repair)
{
	enum svcnft_status st;

	if (whole) {
		engine_commit(w->eng, b);
		return apply_all(w, repair);
	}
	st = apply_batch(b, w->o->cfg, &w->gen);
	engine_commit(w->eng, b);	/* the cluster holds it, applied or not */
	if (st == APPLY_FALLBACK)
		return apply_all(w, false);
	w->behind = st != SVCNFT_OK;
	return st;
}

static void report(struct follow *w, enum svcnft_status st, double t0)
{
	struct svcnft_health h;

	httpd_sync_result(st == SVCNFT_OK, mono_s() - t0);
	if (st != SVCNFT_OK)
		return;
	engine_health(w->eng, &h);
	httpd_set_health(&h);
	health_free(&h);
}

/* The staged changes into the kernel: the one place the cluster reaches
 * it.  An invalid object is left out (its last valid version stays). */
static void follow_sync(struct follow *w, bool repair)
{
	struct svcnft_errors errs = {0};
	double t0 = mono_s();
	bool whole = !w->synced || w->behind || repair;
	struct engine_batch *b = engine_prepare(w->eng, ENGINE_PER_OBJECT |
						(whole ? ENGINE_WHOLE : 0), &errs);
	char src0[] = "kubectl get services", *src[] = { src0 };
	char why[96];
	enum svcnft_status st;

	if (b && !w->o->allow_empty && !b->services_after)
		svcnft_model_require_services(&(struct svcnft_model){ 0 }, src, 1, &errs);
	st = svcnft_errors_status(&errs);
	log_errs(&errs);
	if (!b || st == SVCNFT_EUSAGE) {
		watch_log("nothing applied; the rules in place stay");
		engine_abort(w->eng, b);
		hmap_free(&w->seen);	/* the next list stages everything again */
		report(w, SVCNFT_EUSAGE, t0);
		return;
	}
	snprintf(why, sizeof(why), "%s%zu change%s", w->synced ? "" : "first sync, ",
		 w->n_changes, plural(w->n_changes));
	w->n_changes = 0;
	diff_log_setup(true, why);
	st = send(w, b, whole, repair);
	diff_log_setup(false, NULL);
	if (st == SVCNFT_OK)
		w->synced = true;
	else if (!watch_stop_pending())
		watch_log("%s: apply failed or refused; the rules in place stay%s", why,
			  st == SVCNFT_EUSAGE ? "" : "; trying again in 1 s");
	/* the kernel or the lock refused: again; changes that cannot be
	 * rendered (EUSAGE; follow sets no removal guard): with the next one */
	if (st != SVCNFT_OK && st != SVCNFT_EUSAGE)
		w->due = mono_s() + 1;
	report(w, st, t0);
}

/* Before the first sync, once one resource is completely listed, the
 * items of the other are lowered into the engine every SETTLE_EVERY
 * (committed, not applied: the first sync applies the engine's whole
 * view), so that little is left to do when the last list ends, and no
 * batch of the whole cluster is held at once. */
enum { SETTLE_EVERY = 1000 };

static size_t settle_every(void)
{
	const char *t = getenv("SVCNFT_TEST_SETTLE");	/* tests: every N */

	return t && atoi(t) > 0 ? (size_t)atoi(t) : SETTLE_EVERY;
}

/* Whether every resource but F that the first sync needs is listed. */
static bool others_listed(const struct follow *w, const struct feed *f)
{
	for (int i = 0; i < N_FEEDS; i++)
		if (&w->f[i] != f && !w->f[i].optional && !w->f[i].listed)
			return false;
	return true;
}

static void settle(struct follow *w, const struct feed *f)
{
	struct svcnft_errors errs = {0};
	struct engine_batch *b;

	if (w->synced || !others_listed(w, f) || ++w->unsettled < w->settle_every)
		return;
	w->unsettled = 0;
	b = engine_prepare(w->eng, ENGINE_PER_OBJECT | ENGINE_WHOLE, &errs);
	log_errs(&errs);
	if (b)
		engine_commit(w->eng, b);
}

static void sync_now(struct follow *w)
{
	w->due = 0;
	for (int i = 0; i < N_FEEDS; i++)
		if (!w->f[i].listed && !(w->f[i].optional && w->f[i].tried))
			return;		/* no complete state yet */
	follow_sync(w, w->repair);
	w->repair = false;
	w->last_sync = mono_s();
}

/* ---- what kubectl prints ---- */

/* A complete list read to its end (its items staged as they came, their
 * keys marked): sweep F's kind. */
static bool take_list(struct follow *w, struct feed *f)
{
	size_t gone;

	if (!json_is_array(json_object_get(f->list, "items"))) {
		watch_log("%s: not a List (no \"items\" array); nothing removed", f->list_src);
		return false;
	}
	gone = sweep(w, f);
	watch_log("%s: complete list of %zu object%s: %zu new or changed, %zu removed",
		  f->list_src, f->items, plural(f->items), f->changes, gone);
	f->listed = f->tried = true;
	f->absent = false;
	/* also what an earlier, partial attempt staged */
	if (w->n_changes || w->repair || !w->synced)
		changed(w);
	return true;
}

/* kubectl's messages are logged once per backoff step, then at the cap
 * every LOG_AT_CAP attempts: a lasting failure (auth) does not flood. */
static bool log_step(const struct feed *f)
{
	unsigned int steps = 0;

	for (double b = BACKOFF_MIN; b < BACKOFF_MAX; b *= 2)
		steps++;
	return f->fails <= steps || (f->fails - steps) % LOG_AT_CAP == 0;
}

/* An ERROR event's Status: logged; the watch is restarted. */
static void error_event(struct feed *f, json_t *status)
{
	const char *reason = json_string_value(json_object_get(status, "reason"));
	const char *msg = json_string_value(json_object_get(status, "message"));
	json_int_t code = json_integer_value(json_object_get(status, "code"));
	struct svcnft_buf b = {0};

	f->auth = code == 401 || code == 403 ||
		  (reason && (!strcmp(reason, "Forbidden") || !strcmp(reason, "Unauthorized")));
	if (log_step(f)) {
		buf_printf(&b, "%s: ERROR event: code %lld, reason ", f->watch_src,
			   (long long)code);
		buf_go_quoted(&b, reason ? reason : "");
		buf_puts(&b, ", message ");
		buf_go_quoted(&b, msg ? msg : "");
		watch_log("%s", b.data);
		svcnft_buf_free(&b);
	}
	f->bad = true;
}

static void watch_event(struct follow *w, struct feed *f, json_t *v)
{
	struct svcnft_errors errs = {0};
	struct watch_event ev;

	if (!watch_event_parse(v, f->watch_src, &ev, &errs)) {
		f->bad = true;
		log_errs(&errs);
		return;
	}
	httpd_event(f->resource, watch_type_name(ev.type));
	if (ev.type == WATCH_ERROR)
		error_event(f, ev.object);
	else if (ev.type == WATCH_DELETED && delete_obj(w, f, ev.object))
		changed(w);
	else if ((ev.type == WATCH_ADDED || ev.type == WATCH_MODIFIED) &&
		 put(w, f, ev.object, f->watch_src, &errs) > 0)
		changed(w);
	json_decref(ev.object);
	log_errs(&errs);
}

/* Bytes from F's standard output. */
static void take_output(struct follow *w, struct feed *f, const char *d, size_t n)
{
	struct svcnft_errors errs = {0};
	json_t *v;
	int r = 0;

	if (f->bad)
		return;		/* ending: what follows is not trusted */
	if (!stream_feed(f->st, d, n, &errs))
		r = -1;
	while (r == 0 && !f->bad && (r = stream_next(f->st, &v, &errs)) > 0) {
		if (f->phase == PH_WATCH) {
			watch_event(w, f, v);
		} else if (r == STREAM_LIST_END) {
			f->list = json_incref(v);
		} else {	/* an item: staged now, swept for at the List's end */
			f->items++;
			f->changes += put(w, f, v, f->list_src, &errs) > 0;
			settle(w, f);
		}
		r = 0;
		json_decref(v);
	}
	if (r < 0)
		f->bad = true;
	log_errs(&errs);
	if (f->bad && f->pid > 0 && !f->reaped)
		kill(f->pid, SIGTERM);
}

/* Read what F's descriptor *FD has; EOF closes it. */
static void drain(struct follow *w, struct feed *f, int *fd)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(*fd, buf, sizeof(buf))) > 0) {
		if (fd == &f->out)
			take_output(w, f, buf, (size_t)n);
		else if (f->errtext.len < 8192)
			buf_add(&f->errtext, buf, (size_t)n);
	}
	if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		close(*fd);
		*fd = -1;
	}
}

/* Log kubectl's standard error of this attempt, a line at a time, made
 * printable. */
static void log_stderr(const struct feed *f, bool list)
{
	const char *src = list ? f->list_src : f->watch_src;
	char *text = xstrdup(f->errtext.len ? f->errtext.data : "");

	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		struct svcnft_buf b = {0};

		buf_go_quoted(&b, line);
		watch_log("%s: kubectl says %s", src, b.data);
		svcnft_buf_free(&b);
	}
	free(text);
}

static void schedule_retry(struct feed *f)
{
	f->fails++;
	httpd_kubectl_restart(f->resource);
	f->backoff = f->backoff ? f->backoff * 2 : BACKOFF_MIN;
	if (f->backoff > BACKOFF_MAX)
		f->backoff = BACKOFF_MAX;
	f->retry_at = mono_s() + f->backoff;
	f->phase = PH_WAIT;
}

static const char *ended(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else
		snprintf(buf, len, "was killed by %s", strsignal(WTERMSIG(status)));
	return buf;
}

/* A list from scratch: no key marked for the sweep yet. */
static void start_list(struct follow *w, struct feed *f)
{
	json_decref(f->list);
	f->list = NULL;
	f->items = f->changes = 0;
	hmap_free(&f->keys);
	if (!spawn(w, f, PH_LIST))
		schedule_retry(f);
}

/* kubectl says the API server does not serve F's resource (its discovery
 * lists no such type).  A 404 on a request ("could not find the requested
 * resource") can be an API server starting up: retried, not this. */
static bool no_such_resource(const struct feed *f)
{
	return f->errtext.len && strstr(f->errtext.data, "doesn't have a resource type");
}

/* Optional F is not served (a cluster before Kubernetes 1.33): logged
 * once; listed again at each resync, quietly.  What it held stays. */
static void not_served(struct follow *w, struct feed *f)
{
	if (!f->absent)
		watch_log("%s: the API server has no %s resource: the service CIDRs are --service-cidr's alone (asked again at each resync)",
			  f->list_src, f->kind);
	f->absent = f->tried = true;
	f->fails = 0;
	f->backoff = 0;
	f->phase = PH_IDLE;
	if (!w->synced)
		changed(w);	/* the first sync may go now */
}

/* F's kubectl ended and its output is read: next phase. */
static void child_done(struct follow *w, struct feed *f)
{
	bool list = f->phase == PH_LIST;
	bool ok = WIFEXITED(f->status) && !WEXITSTATUS(f->status) && !f->bad;
	char how[64];

	f->pid = 0;
	if (f->stopping) {	/* a resync: list again now */
		start_list(w, f);
		return;
	}
	if (f->errtext.len && (strcasestr(f->errtext.data, "forbidden") ||
			       strcasestr(f->errtext.data, "unauthorized")))
		f->auth = true;
	if (ok && list && stream_pending(f->st) == 0 && f->list && take_list(w, f)) {
		f->fails = 0;
		f->backoff = 0;
		if (!spawn(w, f, PH_WATCH))
			schedule_retry(f);
		return;
	}
	if (f->optional && !ok && no_such_resource(f)) {
		not_served(w, f);
		return;
	}
	f->tried = true;
	if (f->optional && !w->synced)
		changed(w);	/* the first sync does not wait for it */
	if (!list && mono_s() - f->started >= HEALTHY_S) {
		f->fails = 0;
		f->backoff = 0;
	}
	schedule_retry(f);
	if (log_step(f))
		log_stderr(f, list);
	watch_log("%s %s%s%s; %s; restarting in %.1f s with a complete list%s",
		  list ? f->list_src : f->watch_src,
		  f->bad ? "was stopped (an ERROR event or malformed output)" :
		  ended(f->status, how, sizeof(how)),
		  ok && list ? " before its List was complete" : "",
		  f->auth ? " (not allowed: check its credentials and RBAC)" : "",
		  list ? "nothing removed" : "the rules stay", f->backoff,
		  f->listed ? "" : " (no complete state yet)");
}

/* Reap F's child if it ended; done once its output is read too. */
static void reap(struct follow *w, struct feed *f)
{
	if (f->pid > 0 && !f->reaped && waitpid(f->pid, &f->status, WNOHANG) == f->pid)
		f->reaped = true;
	if (f->pid > 0 && f->reaped && f->out < 0 && f->err < 0)
		child_done(w, f);
}

/* Complete lists again (--resync, SIGHUP): each watch is ended and its
 * resource listed, then watched again. */
static void resync(struct follow *w, const char *why)
{
	watch_log("%s: complete lists of every resource", why);
	for (int i = 0; i < N_FEEDS; i++) {
		struct feed *f = &w->f[i];

		/* a reaped pid may be another process's by now */
		if (f->phase == PH_WATCH && f->pid > 0 && !f->reaped) {
			f->stopping = true;
			kill(f->pid, SIGTERM);
		} else if (f->phase == PH_WAIT || f->phase == PH_IDLE) {
			f->phase = PH_WAIT;
			f->retry_at = mono_s();
		}
	}
}

static int read_signal(struct follow *w)
{
	struct signalfd_siginfo si;

	if (read(w->sig, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}

/* The earliest of the timers that are set (non-zero), or 0. */
static double earliest(double a, double b)
{
	return !a || (b && b < a) ? b : a;
}

static int poll_timeout(const struct follow *w)
{
	double next = earliest(w->due, w->resync_at), t = mono_s();

	for (int i = 0; i < N_FEEDS; i++)
		if (w->f[i].phase == PH_WAIT)
			next = earliest(next, w->f[i].retry_at);
	if (!next)
		return -1;
	return next > t ? (int)((next - t) * 1000) + 1 : 0;
}

/* One round of poll; a signal that ends follow, or 0. */
static int step(struct follow *w)
{
	struct pollfd p[2 + 2 * N_FEEDS] = { { w->sig, POLLIN, 0 }, { monitor_fd(), POLLIN, 0 } };
	int *fds[2 * N_FEEDS];
	int sig = 0;
	double t;

	for (int i = 0; i < 2 * N_FEEDS; i++) {
		fds[i] = i % 2 ? &w->f[i / 2].err : &w->f[i / 2].out;
		p[2 + i] = (struct pollfd){ *fds[i], POLLIN, 0 };
	}
	if (poll(p, ARRAY_SIZE(p), poll_timeout(w)) < 0 && errno != EINTR)
		return -1;
	if (p[1].revents)
		monitor_drain();
	for (int i = 0; i < 2 * N_FEEDS; i++)
		if (p[2 + i].revents && *fds[i] >= 0)
			drain(w, &w->f[i / 2], fds[i]);
	if (p[0].revents && (sig = read_signal(w)) == SIGHUP) {
		w->repair = true;
		resync(w, "SIGHUP");
	} else if (sig && sig != SIGCHLD) {
		return sig;
	}
	for (int i = 0; i < N_FEEDS; i++)
		reap(w, &w->f[i]);
	t = mono_s();
	for (int i = 0; i < N_FEEDS; i++)
		if (w->f[i].phase == PH_WAIT && t >= w->f[i].retry_at)
			start_list(w, &w->f[i]);
	if (w->resync_at && t >= w->resync_at) {
		w->resync_at = t + w->o->resync_s;
		resync(w, "resync");
	}
	if (w->due && t >= w->due)
		sync_now(w);
	return 0;
}

static int setup(struct follow *w)
{
	sigset_t set;

	if (!find_kubectl(w->o->kubectl)) {
		fprintf(stderr, "svcnft: follow: kubectl \"%s\" is not an executable file%s (--kubectl PATH)\n",
			w->o->kubectl, strchr(w->o->kubectl, '/') ? "" : " in PATH");
		return -1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (w->sig = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		fprintf(stderr, "svcnft: follow: cannot set up: %s\n", strerror(errno));
		return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	apply_lock_stop(watch_stop_pending);
	apply_daemon();
	w->settle_every = settle_every();
	if (!monitor_start(w->o->cfg->table))
		watch_log("cannot follow nf_tables notifications (%s); the table will be read back",
			  strerror(errno));
	return 0;
}

/* The resources followed, in the order of the first sync's needs. */
static const struct {
	const char *resource, *kind, *list_src, *watch_src;
	enum engine_kind ekind;
	bool optional;
} feeds[N_FEEDS] = {
	{ "services", "Service", "kubectl get services", "kubectl get services --watch",
	  ENGINE_SERVICE, false },
	{ "endpointslices.discovery.k8s.io", "EndpointSlice", "kubectl get endpointslices",
	  "kubectl get endpointslices --watch", ENGINE_SLICE, false },
	{ "servicecidrs.networking.k8s.io", "ServiceCIDR", "kubectl get servicecidrs",
	  "kubectl get servicecidrs --watch", ENGINE_SERVICE_CIDR, true },
};

static void feed_init(struct feed *f, int i)
{
	*f = (struct feed){ .resource = feeds[i].resource, .kind = feeds[i].kind,
			    .ekind = feeds[i].ekind, .optional = feeds[i].optional,
			    .list_src = feeds[i].list_src, .watch_src = feeds[i].watch_src,
			    .out = -1, .err = -1, .st = stream_new(feeds[i].list_src) };
}

/* Stop the children (SIGTERM, then wait). */
static void stop_children(struct follow *w)
{
	for (int i = 0; i < N_FEEDS; i++) {
		struct feed *f = &w->f[i];

		if (f->pid > 0 && !f->reaped) {
			kill(f->pid, SIGTERM);
			waitpid(f->pid, NULL, 0);
		}
		if (f->out >= 0)
			close(f->out);
		if (f->err >= 0)
			close(f->err);
		stream_free(f->st);
		json_decref(f->list);
		svcnft_buf_free(&f->errtext);
	}
}

enum svcnft_status cmd_follow(const struct follow_opts *o)
{
	struct follow w = { .o = o, .sig = -1 };
	int sig = 0;

	for (int i = 0; i < N_FEEDS; i++)
		feed_init(&w.f[i], i);
	if (setup(&w) < 0) {
		stop_children(&w);
		return SVCNFT_EUSAGE;
	}
	w.eng = engine_new(o->cfg);
	httpd_start(o->health_addr, o->metrics_addr);
	watch_log("following services, endpointslices and servicecidrs with %s (debounce %u ms, resync %u s)",
		  o->kubectl, o->debounce_ms, o->resync_s);
	if (o->resync_s)
		w.resync_at = mono_s() + o->resync_s;
	apply_conntrack_reconcile();
	for (int i = 0; i < N_FEEDS; i++)
		start_list(&w, &w.f[i]);
	while (!(sig = step(&w)))
		;
	if (sig > 0)
		watch_log("%s: exiting; the rules stay in place", strsignal(sig));
	else
		watch_log("poll: %s", strerror(errno));
	httpd_stop();
	stop_children(&w);
	engine_free(w.eng);
	hmap_free(&w.seen);
	for (int i = 0; i < N_FEEDS; i++)
		hmap_free(&w.f[i].keys);
	close(w.sig);
	return sig > 0 ? SVCNFT_OK : SVCNFT_EKERNEL;
}
