#include <stdlib.h>
#include <string.h>

#include "diag.h"

static void obj_vmsg(const struct objref *o, enum svcnft_status st,
		     const char *what, const char *fmt, va_list ap)
{
	struct svcnft_buf b = {0};
	va_list cp;
	int n;

	buf_printf(&b, "%s: %s \"%s/%s\"%s", o->file, o->kind,
		   o->ns ? o->ns : "default", o->name ? o->name : "", what);
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n > 0) {
		char *msg = xmalloc((size_t)n + 1);

		vsnprintf(msg, (size_t)n + 1, fmt, ap);
		buf_add(&b, msg, (size_t)n);
		free(msg);
	}
	errs_add(o->errs, st, "%s", b.data);
	svcnft_buf_free(&b);
}

void obj_invalid(const struct objref *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	obj_vmsg(o, SVCNFT_EINVALID, " is invalid: ", fmt, ap);
	va_end(ap);
}

void obj_warn(const struct objref *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	obj_vmsg(o, SVCNFT_OK, ": ", fmt, ap);
	va_end(ap);
}
