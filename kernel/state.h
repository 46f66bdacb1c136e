/* state: what svcnft last committed to a table, in a file beside its lock.
 *
 * After each commit apply saves the table's contents (the canonical
 * elements it wanted, which the kernel then holds), the ruleset generation
 * id right after the commit, and a hash of the table's rules.  The next
 * apply uses the contents instead of dumping the table when the generation
 * id has not moved since (any change to any table moves it), and compares
 * the rules' hash to notice rules changed by hand. */
#ifndef SVCNFT_STATE_H
#define SVCNFT_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "elements.h"

/* /run/svcnft-TABLE.netID.SUFFIX, ID the network namespace's cookie (a
 * table belongs to one namespace); under $SVCNFT_LOCK_DIR the same, but
 * the lock is shared by all namespaces (SUFFIX "lock"). */
void state_path(char *path, size_t len, const char *table, const char *suffix);

/* Save WANT as TABLE's contents at generation GEN, with the hash of the
 * rules read now; no file if that fails or the generation id is no longer
 * GEN (someone else committed since). */
void state_save(const char *table, const struct elements *want, uint32_t gen);

/* The saved contents into LIVE (initialised here) if they were saved at
 * generation GEN; false otherwise. */
bool state_load(const char *table, uint32_t gen, struct elements *live);

/* The generation the contents were saved at; false if there are none. */
bool state_gen(const char *table, uint32_t *gen);

/* The saved rules' hash; false if there is none. */
bool state_rules(const char *table, uint64_t *hash);

void state_forget(const char *table);

#endif
