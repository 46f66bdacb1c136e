/* watch: inotify on the inputs, debounce, re-apply; signals via signalfd. */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <linux/limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "httpd.h"
#include "monitor.h"
#include "monotime.h"
#include "util.h"
#include "watch.h"
#include "watchfiles.h"

#define EVENTS (IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_TO | \
		IN_MOVED_FROM | IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF)
#define SELF_GONE (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED)
#define MAX_WATCH 64
/* A Kubernetes ConfigMap or Secret volume publishes a new version by
 * renaming a symlink ..data_tmp over ..data; its files are NAME -> ..data/NAME. */
#define CM_DATA "..data"

/* One watched directory; FILE is the base name of interest, or empty for
 * every *.json, *.yaml and *.yml in it. */
struct wdir {
	int wd;			/* -1: gone (deleted or moved), watched again when back */
	char dir[PATH_MAX];
	char file[NAME_MAX + 1];
	bool all;
};

struct watch {
	const struct watch_opts *o;
	int ino, sig;
	struct wdir w[MAX_WATCH];
	int n_w;
	struct wfiles *wf;		/* the inputs and the cluster in memory */
	bool full;			/* read everything again at the next sync */
	double synced;			/* when the last sync ended */
	char why[PATH_MAX + 64];	/* what triggered the pending reload */
	int n_events;
};

void watch_log(const char *fmt, ...)
{
	va_list ap;

	diff_log_setup(true, NULL);
	diff_log_prefix();
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void watch_log_errors(const struct svcnft_errors *errs)
{
	static const char tool[] = "svcnft: ";

	for (size_t i = 0; i < errs->n; i++) {
		const char *t = errs->v[i].text;

		watch_log("%s", strncmp(t, tool, strlen(tool)) ? t : t + strlen(tool));
	}
}

/* Fill D for PATH: a directory (every manifest) or a file (its directory is
 * watched).  A PATH that is gone keeps what D said before. */
static void describe(struct wdir *d, const char *path)
{
	struct stat st;
	char tmp[PATH_MAX];

	if (!stat(path, &st))
		d->all = S_ISDIR(st.st_mode);
	d->file[0] = '\0';
	if (d->all) {
		snprintf(d->dir, sizeof(d->dir), "%s", path);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(d->dir, sizeof(d->dir), "%s", dirname(tmp));
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(d->file, sizeof(d->file), "%s", basename(tmp));
}

static int watch_dir(struct watch *w, const struct wdir *d)
{
	return inotify_add_watch(w->ino, d->dir, EVENTS | IN_ONLYDIR);
}

/* (Re)create the watches.  At START a directory that cannot be watched is
 * an error; later (SIGHUP) it is watched again once it is back. */
static int setup_watches(struct watch *w, bool start)
{
	if (w->o->n_paths > MAX_WATCH) {
		watch_log("too many PATHs to watch (at most %d)", MAX_WATCH);
		return -1;
	}
	for (int i = 0; i < w->n_w; i++)
		if (w->w[i].wd >= 0)
			inotify_rm_watch(w->ino, w->w[i].wd);
	w->n_w = w->o->n_paths;
	for (int i = 0; i < w->n_w; i++) {
		struct wdir *d = &w->w[i];

		describe(d, w->o->paths[i]);
		if ((d->wd = watch_dir(w, d)) >= 0)
			continue;
		watch_log("cannot watch %s: %s%s", d->dir, strerror(errno),
		       start ? "" : "; trying again");
		if (start)
			return -1;
	}
	return 0;
}

/* NAME in D matters: a file the loader reads (or D's file), or a
 * ConfigMap's ..data. */
static bool relevant(const struct wdir *d, const char *name)
{
	if (!strcmp(name, CM_DATA))
		return true;
	return d->all ? svcnft_manifest_name(name) : !strcmp(name, d->file);
}

/* A created directory, symlink or hard link is whole: no IN_CLOSE_WRITE
 * follows (ConfigMap volumes create symlinks). */
static bool created_whole(const struct wdir *d, const struct inotify_event *ev)
{
	char p[PATH_MAX + NAME_MAX + 2];
	struct stat st;

	if (ev->mask & IN_ISDIR)
		return true;
	snprintf(p, sizeof(p), "%s/%s", d->dir, ev->name);
	return !lstat(p, &st) &&
	       (S_ISLNK(st.st_mode) || (S_ISREG(st.st_mode) && st.st_nlink > 1));
}

static const char *event_kind(uint32_t mask)
{
	if (mask & (IN_MOVED_TO | IN_MOVED_FROM | IN_MOVE_SELF))
		return "renamed";
	if (mask & (IN_DELETE | IN_DELETE_SELF | IN_IGNORED))
		return "deleted";
	if (mask & IN_UNMOUNT)
		return "unmounted";
	if (mask & IN_CREATE)
		return "created";
	return "written";
}

/* File names go into log lines: no control or non-ASCII bytes there. */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

/* What the events of one read say about the inputs. */
enum ev_kind {
	EV_NONE,
	EV_BUSY,	/* only written to or created: a writer may be mid-file */
	EV_SETTLED,	/* closed after writing, renamed, deleted, or events lost */
};

/* The directory of watch WD is gone or moved away: forget the watch (its
 * path is what counts), watch it again once it is back (rewatch). */
static void lose(struct watch *w, int wd, uint32_t mask)
{
	const char *dir = NULL;

	if (mask & IN_MOVE_SELF)
		inotify_rm_watch(w->ino, wd);
	for (int i = 0; i < w->n_w; i++)
		if (w->w[i].wd == wd) {
			w->w[i].wd = -1;
			dir = w->w[i].dir;
		}
	if (dir)
		watch_log("%s was %s; watching it again once it is back", dir,
		       event_kind(mask));
}

/* Watch again the directories that were gone; one that is back counts as
 * changed. */
static enum ev_kind rewatch(struct watch *w)
{
	enum ev_kind hit = EV_NONE;

	for (int i = 0; i < w->n_w; i++) {
		struct wdir *d = &w->w[i];

		if (d->wd >= 0 || (d->wd = watch_dir(w, d)) < 0)
			continue;
		watch_log("watching %s again", d->dir);
		w->full = true;
		if (!w->n_events++)
			snprintf(w->why, sizeof(w->why), "%s is back", d->dir);
		printable(w->why);
		hit = EV_SETTLED;
	}
	return hit;
}

static bool any_lost(const struct watch *w)
{
	for (int i = 0; i < w->n_w; i++)
		if (w->w[i].wd < 0)
			return true;
	return false;
}

/* Event EV about an input of D: a file of a watched directory is read
 * again alone; anything else (a watched file, a ConfigMap's ..data, the
 * directory itself) means reading everything again. */
static void note(struct watch *w, const struct wdir *d,
		 const struct inotify_event *ev)
{
	char p[PATH_MAX + NAME_MAX + 2];

	if (!d->all || !ev->len || (ev->mask & (SELF_GONE | IN_ISDIR)) ||
	    !strcmp(ev->name, CM_DATA)) {
		w->full = true;
		return;
	}
	snprintf(p, sizeof(p), "%s/%s", d->dir, ev->name);
	wf_dirty(w->wf, p);
}

/* Read inotify events; the strongest kind among those about an input. */
static enum ev_kind read_events(struct watch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	enum ev_kind hit = EV_NONE;
	ssize_t n;

	while ((n = read(w->ino, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			bool ours = false;

			if (ev->mask & IN_Q_OVERFLOW) {	/* events lost: reload */
				w->full = true;
				if (!w->n_events++)
					snprintf(w->why, sizeof(w->why), "inotify queue overflowed");
				hit = EV_SETTLED;
			}
			for (int i = 0; i < w->n_w; i++) {
				const struct wdir *d = &w->w[i];

				if (d->wd < 0 || d->wd != ev->wd)
					continue;
				ours = true;
				if (!(ev->mask & SELF_GONE) && !(ev->len && relevant(d, ev->name)))
					continue;
				note(w, d, ev);
				if (!w->n_events++)
					snprintf(w->why, sizeof(w->why), "%s/%s %s",
						 d->dir, ev->len ? ev->name : "", event_kind(ev->mask));
				printable(w->why);
				if (!(ev->mask & (IN_MODIFY | IN_CREATE)) ||
				    ((ev->mask & IN_CREATE) && created_whole(d, ev)))
					hit = EV_SETTLED;
				else if (hit == EV_NONE)
					hit = EV_BUSY;
			}
			if (ours && ev->mask & (IN_MOVE_SELF | IN_IGNORED))
				lose(w, ev->wd, ev->mask);
			p += sizeof(*ev) + ev->len;
		}
	return hit;
}

/* SIGTERM or SIGINT arrived: blocked for the signalfd, so still pending. */
bool watch_stop_pending(void)
{
	sigset_t s;

	return !sigpending(&s) &&
	       (sigismember(&s, SIGTERM) == 1 || sigismember(&s, SIGINT) == 1);
}

/* Apply what changed: the dirty files alone, or everything when events
 * were lost or a directory came back (until a full read succeeds). */
static void sync_inputs(struct watch *w, const char *why)
{
	if (w->full || !wf_update(w->wf, why))
		w->full = !wf_reload(w->wf, why);
	w->synced = mono_s();
}

static int setup(struct watch *w)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (w->sig = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0 ||
	    (w->ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) < 0) {
		watch_log("cannot set up: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < w->o->n_paths; i++)
		if (!strcmp(w->o->paths[i], "-")) {
			watch_log("watch cannot read standard input");
			return -1;
		}
	apply_lock_stop(watch_stop_pending);	/* a held lock must not delay exiting */
	apply_daemon();
	/* without it every apply reads the table once another table moved
	 * the generation id: slower, still right */
	if (!monitor_start(w->o->cfg->table))
		watch_log("cannot follow nf_tables notifications (%s); the table will be read back",
		       strerror(errno));
	return setup_watches(w, true);
}

/* Returns the signal received, or 0. */
static int read_signal(struct watch *w)
{
	struct signalfd_siginfo si;

	if (read(w->sig, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}

/* The debounce, as kube-proxy's minimum sync period: a settled event
 * after a quiet debounce period is applied at once; one within it starts
 * (or pushes back) the timer, and a busy one only pushes back a running
 * timer, so a file being written is not read half-way.  Never later than
 * ten debounce periods after the first. */
static void debounce(const struct watch *w, enum ev_kind k, double *due,
		     double *first)
{
	double t = mono_s(), d = w->o->debounce_ms / 1000.0;

	if (k == EV_NONE || (k == EV_BUSY && !*due))
		return;
	if (!*due && k == EV_SETTLED && t - w->synced >= d) {
		*due = *first = t;
		return;
	}
	if (!*due)
		*first = t;
	*due = t + d < *first + 10 * d ? t + d : *first + 10 * d;
}

/* The earliest of the timers that are set (non-zero), or 0. */
static double earliest(double a, double b)
{
	return !a || (b && b < a) ? b : a;
}

static int loop(struct watch *w)
{
	double due = 0, first = 0, retry = 0;
	double check = w->o->interval_s ? mono_s() + w->o->interval_s : 0;

	for (;;) {
		struct pollfd pfd[3] = { { w->ino, POLLIN, 0 }, { w->sig, POLLIN, 0 },
					 { monitor_fd(), POLLIN, 0 } };
		double next, t = mono_s();
		int timeout = -1, sig;

		/* a directory that is gone: look for it every debounce
		 * period (at least 50 ms, at most 1 s apart) */
		if (!retry && any_lost(w))
			retry = t + (w->o->debounce_ms < 50 ? 0.05 :
				     w->o->debounce_ms > 1000 ? 1 : w->o->debounce_ms / 1000.0);
		next = earliest(earliest(due, check), retry);
		if (next)
			timeout = next > t ? (int)((next - t) * 1000) + 1 : 0;
		if (poll(pfd, 3, timeout) < 0 && errno != EINTR)
			return -1;
		if (pfd[2].revents)
			monitor_drain();
		if (pfd[0].revents)
			debounce(w, read_events(w), &due, &first);
		if (pfd[1].revents && (sig = read_signal(w))) {
			if (sig != SIGHUP)
				return sig;
			setup_watches(w, false);
			w->full = true;
			sync_inputs(w, "SIGHUP: full re-read");
			due = 0;
			w->n_events = 0;
		}
		t = mono_s();
		if (retry && t >= retry) {
			retry = 0;
			debounce(w, rewatch(w), &due, &first);
		}
		if (due && t >= due) {
			char why[sizeof(w->why) + 32];

			snprintf(why, sizeof(why), "%s%s", w->why,
				 w->n_events > 1 ? " (and more)" : "");
			due = 0;
			w->n_events = 0;
			sync_inputs(w, why);
		}
		if (check && t >= check) {
			check = t + w->o->interval_s;
			wf_check(w->wf, "interval check");
		}
	}
}

enum svcnft_status cmd_watch(const struct watch_opts *o)
{
	struct watch w = { .o = o, .ino = -1, .sig = -1 };
	int sig;

	if (setup(&w) < 0)
		return SVCNFT_EUSAGE;
	watch_log("watching %d path%s (debounce %u ms, interval %u s)", o->n_paths,
	       o->n_paths == 1 ? "" : "s", o->debounce_ms, o->interval_s);
	httpd_start(o->health_addr, o->metrics_addr);
	apply_conntrack_reconcile();
	w.wf = wf_new(o);
	w.full = true;
	sync_inputs(&w, "start");
	sig = loop(&w);
	httpd_stop();
	if (sig > 0)
		watch_log("%s: exiting; the rules stay in place", strsignal(sig));
	else
		watch_log("poll: %s", strerror(errno));
	wf_free(w.wf);
	close(w.ino);
	close(w.sig);
	return sig > 0 ? SVCNFT_OK : SVCNFT_EKERNEL;
}
