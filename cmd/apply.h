/* apply: replace or update svcnft's table (cmd/apply.c). */
#ifndef SVCNFT_APPLY_H
#define SVCNFT_APPLY_H

#include "svcnft.h"

struct svcnft_model;

/* Incremental unless FULL or the table cannot be updated in place.  Takes
 * the lock; rechecks the ruleset generation before committing. */
enum svcnft_status cmd_apply(const struct svcnft_model *m,
			     const struct svcnft_config *cfg, bool full);

/* Messages of apply: with a timestamp (watch) and CONTEXT (may be NULL). */
void diff_log_setup(bool timestamps, const char *context);
void diff_log_prefix(void);

#endif
