/* apply: replace or update svcnft's table (cmd/apply.c). */
#ifndef SVCNFT_APPLY_H
#define SVCNFT_APPLY_H

#include <stdint.h>

#include "svcnft.h"

struct svcnft_model;

/* Incremental unless FULL or the table cannot be updated in place.  Takes
 * the lock; rechecks the ruleset generation before committing.  Refuses
 * (SVCNFT_EUSAGE, nothing sent) an input that would shrink the live
 * services or backends by more than the limits allow (guard.h). */
enum svcnft_status cmd_apply(const struct svcnft_model *m,
			     const struct svcnft_config *cfg, bool full);

/* The ruleset generation right after the last successful apply (or the
 * one found up to date). */
uint32_t apply_generation(void);

/* Send the changes of an engine batch (compiler/engine.h) to the table,
 * which svcnft committed at generation *GEN (moved on on success): one
 * netlink batch, refused by the kernel if anything changed the ruleset
 * since, unless the nf_tables monitor vouches that only other tables did.
 * SVCNFT_OK; SVCNFT_EUSAGE when the removal guard refuses it (a message;
 * nothing sent); SVCNFT_EKERNEL (the lock); or APPLY_FALLBACK when the
 * table must be compared with the kernel (cmd_apply on the engine's view):
 * a set would outgrow its size, an interval set (sent whole) changed, the
 * ruleset moved, the kernel refused the batch, or the batch path is
 * unavailable. */
#define APPLY_FALLBACK ((enum svcnft_status)100)
struct engine_batch;
enum svcnft_status apply_batch(const struct engine_batch *b,
			       const struct svcnft_config *cfg, uint32_t *gen);

/* What an unattended apply refuses (options --max-removal, --force,
 * --lock-timeout): see cmd_apply. */
struct apply_limits {
	unsigned int max_removal;	/* percent of live services or served ports; 100: no check (follow) */
	bool force;			/* apply whatever it removes */
	unsigned int lock_timeout_s;	/* wait at most this long for the lock */
};
#define APPLY_LIMITS_DEFAULT { 50, false, 30 }
void apply_set_limits(const struct apply_limits *l);

/* Whether an apply of input INPUT (a digest of the inputs and options,
 * see cmd/main.c; 0: unknown) has nothing to do: the saved state was
 * compiled from the same INPUT, the generation id has not moved since its
 * commit and it passes every check of a saved state (state.h).  Then it
 * says so, like cmd_apply.  Takes the lock for the check. */
bool apply_up_to_date(const char *table, uint64_t input);

/* With ON, cmd_apply reads the table from the kernel even when the saved
 * state would do (watch's --interval check). */
void apply_read_kernel(bool on);

/* Check every UDP/SCTP service port's conntrack entries after the next
 * successful apply, not only those of the ports that changed (watch: at
 * start and on --interval). */
void apply_conntrack_reconcile(void);

/* watch and follow: their engine's batches make a saved state stale at
 * once, so cmd_apply saves none (nor formats the elements for one after
 * a first load); it forgets the one there is.  It also starts the
 * template process of their netlink batches (nlload_daemon): call it
 * early, while the process is small. */
void apply_daemon(void);

/* After `delete`: drop what apply remembers of TABLE's rules. */
void apply_forget(const char *table);

/* `delete`: under the lock, delete svcnft's table TABLE in a netlink batch
 * guarded by the generation read before the ownership check (a table of
 * that name made in between is left alone).  SVCNFT_OK (also when there
 * is no table, with a message) or SVCNFT_EKERNEL with a message. */
enum svcnft_status apply_delete(const char *table);

/* Lock table TABLE against other svcnft processes (flock on
 * /run/svcnft-TABLE.netID.lock, per network namespace: state_path()): the
 * descriptor to close(), -2 if the run directory cannot hold the lock
 * (read-only, full: a warning, the saved state is not used; go on
 * without), or -1 with a message (WHAT names the command).  Waits while
 * another process holds it, at most the limits' lock_timeout_s (then the
 * message names the holder's pid when it is known). */
int apply_lock(const char *table, const char *what);

/* While waiting for the lock, give up (apply fails) once STOP returns true;
 * NULL (the default) waits for as long as it takes. */
void apply_lock_stop(bool (*stop)(void));

/* Messages of apply: with a timestamp (watch) and CONTEXT (may be NULL). */
void diff_log_setup(bool timestamps, const char *context);
void diff_log_prefix(void);

#endif
