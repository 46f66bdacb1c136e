/* yaml_scalar: YAML scalars typed as kubectl types them. */
#ifndef SVCNFT_YAML_SCALAR_H
#define SVCNFT_YAML_SCALAR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The JSON value of the scalar S (N bytes) with TAG (NULL if none); PLAIN
 * when it was written without quotes.  NULL with *ERR set (a static
 * string) when it cannot be a JSON value.  The caller owns the result. */
json_t *yaml_scalar_json(const char *s, size_t n, const char *tag, bool plain,
			 const char **err);

/* V as a JSON object key (malloc'd), as sigs.k8s.io/yaml converts keys;
 * NULL for null. */
char *yaml_key_string(const json_t *v);

#endif
