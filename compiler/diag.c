#include <stdlib.h>
#include <string.h>

#include "diag.h"

static void obj_vmsg(const struct objref *o, enum svcnft_status st,
		     const char *what, const char *fmt, va_list ap)
{
	struct svcnft_buf b = {0}, id = {0};

	if (!o->cluster_scoped)
		buf_printf(&id, "%s/", o->ns ? o->ns : "default");
	buf_puts(&id, o->name ? o->name : "");
	buf_printf(&b, "%s: %s%s ", o->file, st == SVCNFT_OK ? "warning: " : "", o->kind);
	buf_go_quoted(&b, id.data);
	buf_puts(&b, what);
	buf_vprintf(&b, fmt, ap);
	errs_add(o->errs, st, "%s", b.data);
	svcnft_buf_free(&b);
	svcnft_buf_free(&id);
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
