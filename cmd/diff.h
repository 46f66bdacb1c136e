/* diff: the diff command (desired vs the live table or a saved script). */
#ifndef SVCNFT_DIFF_H
#define SVCNFT_DIFF_H

#include "svcnft.h"

/* AGAINST: a saved script instead of the kernel. */
struct svcnft_model;
enum svcnft_status cmd_diff(const struct svcnft_model *m,
			    const struct svcnft_config *cfg, const char *against);

#endif
