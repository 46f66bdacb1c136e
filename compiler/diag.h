/* Error records about one API object, in the API server's wording. */
#ifndef SVCNFT_DIAG_H
#define SVCNFT_DIAG_H

#include "util.h"

/* Where an object came from, for messages. */
struct objref {
	struct svcnft_errors *errs;
	const char *file;
	const char *kind;	/* "Service", "Endpoints", "EndpointSlice", ... */
	const char *ns;		/* may be NULL before metadata is read */
	bool cluster_scoped;	/* named without a namespace (ServiceCIDR) */
	const char *name;
};

/* FILE: KIND "NS/NAME" (or "NAME") is invalid: MESSAGE  (status EINVALID) */
void obj_invalid(const struct objref *o, const char *fmt, ...) PRINTF(2, 3);
/* FILE: warning: KIND "NS/NAME": MESSAGE */
void obj_warn(const struct objref *o, const char *fmt, ...) PRINTF(2, 3);

#endif
