/* parse: decoded JSON objects -> model. */
#ifndef SVCNFT_PARSE_H
#define SVCNFT_PARSE_H

#include <jansson.h>
#include "model.h"

/* Add OBJ (a Service, Endpoints, EndpointSlice or *List) read from FILE at
 * WHERE ("items[3]") to M.  Unknown kinds are warnings. */
void parse_object(struct svcnft_model *m, const char *file, const char *where,
		  json_t *obj, const char *dflt_kind, struct svcnft_errors *errs);
void parse_items(struct svcnft_model *m, const char *file, json_t *items,
		 const char *dflt_kind, struct svcnft_errors *errs);
/* The kind of the items of a list of kind LIST ("ServiceList" -> "Service"):
 * the API server leaves `kind` out of list items.  NULL for "List". */
const char *list_item_kind(const char *list);
/* KIND names a list ("List", "ServiceList", ...); false for NULL. */
bool parse_is_list_kind(const char *kind);

#endif
