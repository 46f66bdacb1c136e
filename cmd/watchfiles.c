/* watchfiles: see watchfiles.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "apply.h"
#include "engine.h"
#include "health.h"
#include "httpd.h"
#include "hmap.h"
#include "monotime.h"
#include "snapshot.h"
#include "util.h"
#include "watch.h"
#include "watchfiles.h"
#include "fileio.h"
#include "input.h"

/* What was read of one file. */
struct wfile {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	uint64_t hash;
};

struct wfiles {
	const struct watch_opts *o;
	struct engine *eng;
	struct hmap files;		/* path -> struct wfile */
	struct hmap dirty;		/* path -> struct wfile (new), or NULL */
	uint32_t gen;			/* of the table after our last commit */
	bool stale;			/* the kernel may differ: reload */
};

struct wfiles *wf_new(const struct watch_opts *o)
{
	struct wfiles *w = xcalloc(1, sizeof(*w));

	w->o = o;
	return w;
}

static void files_free(struct hmap *m)
{
	for (struct hent *h = hmap_next(m, NULL); h; h = hmap_next(m, h))
		free(h->val);
	hmap_free(m);
}

void wf_free(struct wfiles *w)
{
	if (!w)
		return;
	engine_free(w->eng);
	files_free(&w->files);
	files_free(&w->dirty);
	free(w);
}

void wf_dirty(struct wfiles *w, const char *path)
{
	bool created;

	hmap_put(&w->dirty, path, &created);
}

bool wf_has_dirty(const struct wfiles *w)
{
	return hmap_count(&w->dirty) > 0;
}

static void log_errors(const struct svcnft_errors *errs)
{
	watch_log_errors(errs);
	if (svcnft_errors_status(errs) != SVCNFT_OK)
		watch_log("invalid snapshot (%zu error%s); the last good ruleset stays",
		       errs->n - errs->nwarn, plural(errs->n - errs->nwarn));
}

/* Every input as one snapshot into an engine that is kept; false
 * (errors logged) if invalid. */
static bool load_all(const struct watch_opts *o, struct snapshot *s)
{
	struct svcnft_errors errs = {0};
	unsigned int flags = SNAPSHOT_LOWER | SNAPSHOT_WARN;
	bool ok;

	ok = snapshot_load(s, o->paths, o->n_paths, o->cfg,
			   o->allow_empty ? flags : flags | SNAPSHOT_REQUIRE, &errs);
	log_errors(&errs);
	svcnft_errors_free(&errs);
	return ok;
}

static bool stat_file(const char *path, struct wfile *f)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return false;
	*f = (struct wfile){ st.st_dev, st.st_ino, st.st_size, st.st_mtim, 0 };
	return true;
}

static bool same_stat(const struct wfile *a, const struct wfile *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static void note_file(struct hmap *files, const char *path)
{
	bool created;
	struct hent *h = hmap_put(files, path, &created);
	struct wfile f;

	if (created && stat_file(path, &f)) {
		h->val = xmalloc(sizeof(f));
		*(struct wfile *)h->val = f;
	}
}

/* What the input files look like before they are read (hash unknown: 0):
 * a file changed while or after being read then differs from this, and
 * its event has it read again. */
static void note_entry(const char *path, bool manifest, void *files)
{
	if (manifest)
		note_file(files, path);
}

static void note_files(const struct watch_opts *o, struct hmap *files)
{
	for (int i = 0; i < o->n_paths; i++)
		if (input_dir_each(o->paths[i], note_entry, files) < 0)
			note_file(files, o->paths[i]);
}

bool wf_reload(struct wfiles *w, const char *why)
{
	struct hmap files = {0};
	struct snapshot s;
	struct svcnft_model *view;
	enum svcnft_status st;
	double t[3];
	clock_t c0 = clock(), c1;

	t[0] = mono_ms();
	note_files(w->o, &files);
	if (!load_all(w->o, &s)) {
		files_free(&files);
		httpd_applied(false, (mono_ms() - t[0]) / 1e3, NULL, NULL);
		return false;
	}
	view = s.view;
	t[1] = mono_ms();
	c1 = clock();
	diff_log_setup(true, why);
	st = cmd_apply(view, w->o->cfg, false);
	diff_log_setup(false, NULL);
	t[2] = mono_ms();
	httpd_applied(st == SVCNFT_OK, (t[2] - t[0]) / 1e3, view, w->o->cfg);
	if (st != SVCNFT_OK)
		watch_log("%s: apply failed or refused; the rules in place stay", why);
	/* a snapshot the removal guard refused never becomes the state;
	 * one the kernel refused does, to be tried again */
	if (st == SVCNFT_EUSAGE) {
		snapshot_free(&s);
		files_free(&files);
		return false;
	}
	engine_fix_sizes(s.eng);
	files_free(&w->files);
	w->files = files;
	engine_view_free(view);
	if (getenv("SVCNFT_DEBUG_LOADER"))
		watch_log("reload: engine %.0f ms (CPU %.0f ms), apply %.0f ms, then %.0f ms",
		       t[1] - t[0], (double)(c1 - c0) * 1e3 / CLOCKS_PER_SEC,
		       t[2] - t[1], mono_ms() - t[2]);
	engine_free(w->eng);
	w->eng = s.eng;
	w->gen = apply_generation();
	w->stale = st != SVCNFT_OK;
	files_free(&w->dirty);
	return st == SVCNFT_OK;
}

/* Stage dirty file PATH; false if it cannot be read. */
static bool stage_one(struct wfiles *w, struct hent *d, struct svcnft_errors *errs)
{
	const struct wfile *was = hmap_get(&w->files, d->key);
	struct svcnft_buf b = {0};
	struct svcnft_model *m;
	struct wfile f;

	if (!stat_file(d->key, &f)) {
		if (errno != ENOENT) {
			errs_add(errs, SVCNFT_EUSAGE, "%s: %s", d->key, strerror(errno));
			return false;
		}
		engine_stage_file(w->eng, d->key, NULL);
		return true;
	}
	if (was && same_stat(was, &f))
		return true;
	if (!buf_read_file(&b, d->key)) {
		errs_add(errs, SVCNFT_EUSAGE, "%s: %s", d->key, strerror(errno));
		return false;
	}
	f.hash = hmap_hash(b.data, b.len);
	d->val = xmalloc(sizeof(f));
	*(struct wfile *)d->val = f;
	if (!was || was->hash != f.hash) {
		m = svcnft_model_new();
		svcnft_model_load_named(m, d->key, &b, errs);
		engine_validate(w->eng, m, ENGINE_ALL_OR_NOTHING, errs);
		engine_stage_file(w->eng, d->key, m);
		svcnft_model_free(m);
	}
	svcnft_buf_free(&b);
	return true;
}

/* The dirty files are now as read: remember them. */
static void settle(struct wfiles *w)
{
	bool created;

	for (struct hent *d = hmap_next(&w->dirty, NULL); d; d = hmap_next(&w->dirty, d)) {
		struct hent *h;

		free(hmap_del(&w->files, d->key));
		if (!d->val)
			continue;
		h = hmap_put(&w->files, d->key, &created);
		h->val = d->val;
		d->val = NULL;
	}
	files_free(&w->dirty);
}

/* Drop what was read of the dirty files (they stay dirty). */
static void unread(struct wfiles *w)
{
	for (struct hent *d = hmap_next(&w->dirty, NULL); d; d = hmap_next(&w->dirty, d)) {
		free(d->val);
		d->val = NULL;
	}
}

static struct engine_batch *prepare(struct wfiles *w)
{
	struct svcnft_errors errs = {0};
	struct engine_batch *b = NULL;
	bool ok = true;

	for (struct hent *d = hmap_next(&w->dirty, NULL); d; d = hmap_next(&w->dirty, d))
		ok = stage_one(w, d, &errs) && ok;
	if (ok && svcnft_errors_status(&errs) == SVCNFT_OK)
		b = engine_prepare(w->eng, ENGINE_ALL_OR_NOTHING, &errs);
	else
		engine_abort(w->eng, NULL);
	if (b && !b->rebuild && !b->services_after && !w->o->allow_empty) {
		svcnft_model_require_services(&(struct svcnft_model){ 0 }, w->o->paths,
					      w->o->n_paths, &errs);
		engine_abort(w->eng, b);
		b = NULL;
	}
	log_errors(&errs);
	svcnft_errors_free(&errs);
	return b;
}

/* The engine's state, compared with the kernel (cmd_apply). */
static enum svcnft_status apply_view(struct wfiles *w, const char *why)
{
	struct svcnft_model *view = engine_view(w->eng);
	enum svcnft_status st;

	diff_log_setup(true, why);
	st = cmd_apply(view, w->o->cfg, false);
	diff_log_setup(false, NULL);
	engine_view_free(view);
	w->gen = apply_generation();
	w->stale = st != SVCNFT_OK;
	return st;
}

/* Tell the HTTP side how a sync went (and, if it went, what the engine
 * holds now: counts and health checks, kept per service). */
static void report(const struct wfiles *w, enum svcnft_status st, double t0)
{
	struct svcnft_health h;

	httpd_sync_result(st == SVCNFT_OK, (mono_ms() - t0) / 1e3);
	if (st != SVCNFT_OK)
		return;
	engine_health(w->eng, &h);
	httpd_set_health(&h);
	health_free(&h);
}

bool wf_update(struct wfiles *w, const char *why)
{
	struct engine_batch *b;
	enum svcnft_status st;
	double t0 = mono_ms();

	if (!w->eng || w->stale)
		return false;
	if (!(b = prepare(w))) {
		unread(w);
		report(w, SVCNFT_EINVALID, t0);
		return true;
	}
	if (b->rebuild) {
		engine_abort(w->eng, b);
		unread(w);
		return false;
	}
	diff_log_setup(true, why);
	st = apply_batch(b, w->o->cfg, &w->gen);
	diff_log_setup(false, NULL);
	if (st == SVCNFT_OK || st == APPLY_FALLBACK) {
		engine_commit(w->eng, b);
		settle(w);
		if (st == APPLY_FALLBACK)
			st = apply_view(w, why);
	} else {
		engine_abort(w->eng, b);
		unread(w);
	}
	if (st != SVCNFT_OK)
		watch_log("%s: apply failed or refused; the rules in place stay", why);
	report(w, st, t0);
	return true;
}

void wf_check(struct wfiles *w, const char *why)
{
	double t0 = mono_ms();
	enum svcnft_status st;

	if (!w->eng)
		return;
	apply_read_kernel(true);
	apply_conntrack_reconcile();
	if ((st = apply_view(w, why)) != SVCNFT_OK)
		watch_log("%s: apply failed or refused; the rules in place stay", why);
	apply_read_kernel(false);
	report(w, st, t0);
}
