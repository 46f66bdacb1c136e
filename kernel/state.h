/* state: what svcnft last committed to a table, in a file beside its lock.
 *
 * After each commit apply saves the table's contents (the canonical
 * elements it wanted, which the kernel then holds), the ruleset generation
 * id right after the commit, a hash of the table's rules, a digest of the
 * table's objects (live_digest: handles, base chains), a hash of the
 * contents, the boot id and the network namespace's inode.  The next apply
 * uses the contents instead of dumping the table only when the generation
 * id has not moved since (any change to any table moves it), the boot and
 * namespace are the same and the table's digest is unchanged; a file that
 * fails any check is not used (a corrupt one is removed, with a warning).
 * The rules' hash notices rules changed by hand.  With the digest of the
 * inputs it was compiled from, a saved state also proves that an apply of
 * the same input has nothing to do, before parsing it (state_unchanged).
 *
 * Files are opened without following symbolic links and must be regular;
 * a save writes a private O_EXCL temporary name and renames it into place.
 * A read-only or full directory means no saved state (a warning).
 *
 * Warnings (a file ignored, discarded or not saved) are appended to the
 * caller's W, each line once: one a W already holds is not added again
 * (the FIFO at the path is one warning, however often it is opened). */
#ifndef SVCNFT_STATE_H
#define SVCNFT_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "elements.h"

/* The directory: $SVCNFT_RUN_DIR, else $SVCNFT_LOCK_DIR (tests), else /run. */
const char *state_dir(void);

/* DIR/svcnft-TABLE.netID.SUFFIX, ID the network namespace's cookie (a
 * table belongs to one namespace); with only $SVCNFT_LOCK_DIR set, the
 * lock is DIR/svcnft-TABLE.lock, shared by all namespaces. */
void state_path(char *path, size_t len, const char *table, const char *suffix);

/* No saved state for the rest of the process (the directory is unusable). */
void state_disable(void);

/* Save WANT as TABLE's contents at generation GEN; no file if the hashes
 * cannot be read or the generation id is no longer GEN (someone else
 * committed since); then state_clean(). */
void state_save(const char *table, const struct elements *want, uint32_t gen,
		struct svcnft_errors *w);

/* Remove from the directory what nothing will use again: temporary files
 * of saves that were killed, state and lock files of network namespaces
 * that no longer exist (or of another boot, or an older format). */
void state_clean(const char *table);

/* The saved contents into LIVE (initialised here) if they were saved at
 * generation GEN and pass every check above; false otherwise. */
bool state_load(const char *table, uint32_t gen, struct elements *live,
		struct svcnft_errors *w);

/* INPUT (0: none) goes into the next save: a digest of the inputs and
 * options the saved contents were compiled from (cmd/main.c). */
void state_set_input(uint64_t input);

/* Whether the saved contents were compiled from INPUT (not 0) and pass
 * every check of state_load at generation GEN: then they are still what
 * the kernel holds and what this input asks for. */
bool state_unchanged(const char *table, uint32_t gen, uint64_t input,
		     struct svcnft_errors *w);

/* Whether the saved state records the digest state_set_input() gave (or
 * none was given): else a save is worth it even when nothing changed. */
bool state_input_saved(const char *table, struct svcnft_errors *w);

/* The generation the contents were saved at; false if there are none. */
bool state_gen(const char *table, uint32_t *gen, struct svcnft_errors *w);

/* The saved rules' hash; false if there is none. */
bool state_rules(const char *table, uint64_t *hash, struct svcnft_errors *w);

void state_forget(const char *table);

/* The line a lock file holds while apply holds the lock: "PID NETNS_INODE". */
void state_lock_note(char *buf, size_t len);

#endif
