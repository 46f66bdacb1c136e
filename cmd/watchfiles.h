/* watchfiles: watch's cluster in memory (compiler/engine.h) and what it
 * knows of each input file (device, inode, size, modification time,
 * content hash), so that an event costs the files it names: only those
 * are read again, parsed, and their objects staged into the engine.
 *
 * Ownership: wf_new's result is freed with wf_free; wf_view's model with
 * wf_view_free (its objects stay the engine's). */
#ifndef SVCNFT_WATCHFILES_H
#define SVCNFT_WATCHFILES_H

#include "svcnft.h"

struct wfiles;
struct watch_opts;

struct wfiles *wf_new(const struct watch_opts *o);
void wf_free(struct wfiles *w);

/* Load every input and validate the whole snapshot (the full way), make
 * it the engine's state and apply it (cmd_apply).  False when the
 * snapshot is invalid or refused (messages logged; the state stays). */
bool wf_reload(struct wfiles *w, const char *why);

/* PATH (as the loader names it: DIR/NAME) was created, written, renamed
 * or deleted. */
void wf_dirty(struct wfiles *w, const char *path);
bool wf_has_dirty(const struct wfiles *w);

/* Read the dirty files again and apply what changed; a refused batch
 * keeps them dirty (the last good ruleset stays), to be retried with the
 * next event.  False when the engine cannot take the change (a
 * ServiceCIDR changed, or none was loaded yet): call wf_reload. */
bool wf_update(struct wfiles *w, const char *why);

/* The interval check: apply the engine's state, comparing it with what
 * the kernel holds. */
void wf_check(struct wfiles *w, const char *why);

#endif
