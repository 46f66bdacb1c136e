/* limits: bounds on hostile input, checked while loading and validating. */
#ifndef SVCNFT_LIMITS_H
#define SVCNFT_LIMITS_H

#include "model.h"

/* The limits in force (see svcnft_limits_set()). */
const struct svcnft_limits *limits_cur(void);

/* After loading one item: check the objects added since NSVC/NEPS.  Too
 * many ports makes that object invalid (EINVALID) and marks it so that
 * validation skips it.  Returns false when the total number of objects is
 * over the limit (an EUSAGE error is recorded; the caller stops). */
bool limits_after_object(struct svcnft_model *m, const char *file,
			 size_t nsvc, size_t neps, struct svcnft_errors *errs);

/* At the end of validation: endpoints per service (EINVALID). */
void limits_validate(struct svcnft_model *m, struct svcnft_errors *errs);

#endif
