/* yaml_scalar: the JSON value of a YAML scalar, as kubectl sees it.
 *
 * kubectl reads YAML with sigs.k8s.io/yaml: go-yaml v2 decodes it into Go
 * values (YAML 1.1 typing of plain scalars) and encoding/json writes them
 * out.  So unquoted y/yes/on/true (any of their three spellings) are true,
 * n/no/off/false are false, ~ and null are null, 0x1F, 0o17, 017 and 1_000
 * are integers, and 80.0 is the number 80 (Go writes an integral float64
 * without a fraction); quoted scalars are strings.  Dates stay strings.
 * .inf and .nan cannot be JSON values: kubectl fails on them too. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "yaml_scalar.h"

#define TAG "tag:yaml.org,2002:"

static bool one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

/* Go's strconv.ParseInt(s, 0, 64) without underscores. */
static bool go_parse_int(const char *s, int64_t *out)
{
	bool neg = *s == '-';
	unsigned long long u;
	int base = 10;
	char *end;

	if (*s == '-' || *s == '+')
		s++;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, s += 2;
	else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
		base = 8, s += 2;
	else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
		base = 2, s += 2;
	else if (s[0] == '0' && s[1])
		base = 8, s++;
	if (!*s || !strchr("0123456789abcdefABCDEF", *s))
		return false;
	errno = 0;
	u = strtoull(s, &end, base);
	if (*end || errno || u > (neg ? (unsigned long long)INT64_MAX + 1 : INT64_MAX))
		return false;
	*out = neg ? (int64_t)(0 - u) : (int64_t)u;
	return true;
}

/* go-yaml's yamlStyleFloat: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool float_syntax(const char *s)
{
	size_t d = 0;

	s += *s == '-' || *s == '+';
	for (; *s >= '0' && *s <= '9'; s++)
		d++;
	if (*s == '.') {
		size_t f = 0;

		for (s++; *s >= '0' && *s <= '9'; s++)
			f++;
		if (!d && !f)
			return false;
	} else if (!d) {
		return false;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		s += *s == '-' || *s == '+';
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return !*s;
}

/* A float64 as encoding/json writes it, read back by jansson: integral
 * values below 1e21 have no fraction. */
static json_t *go_float(double d)
{
	if (d > -9.2e18 && d < 9.2e18 && d == (double)(json_int_t)d)
		return json_integer((json_int_t)d);
	return json_real(d);
}

/* A number, or NULL if S is not one (then it is a string). */
static json_t *number(const char *s, size_t n, const char **err)
{
	char *plain = xmalloc(n + 1), *end;
	json_t *v = NULL;
	size_t k = 0;
	int64_t i;
	double d;

	for (size_t j = 0; j < n; j++)
		if (s[j] != '_')
			plain[k++] = s[j];
	plain[k] = '\0';
	if (go_parse_int(plain, &i)) {
		v = json_integer(i);
	} else if (float_syntax(plain) || (*plain == '.' && plain[1])) {
		errno = 0;
		d = strtod(*plain == '.' ? s : plain, &end);
		if (!*end && !errno && isfinite(d))
			v = go_float(d);
		else if (!*end && !errno)
			*err = "infinity and NaN cannot be JSON values";
	}
	free(plain);
	return v;
}

/* The typed value of a plain scalar (go-yaml v2 resolve()). */
static json_t *resolve(const char *s, size_t n, const char **err)
{
	static const char *const t[] = { "y", "Y", "yes", "Yes", "YES", "true",
		"True", "TRUE", "on", "On", "ON", NULL };
	static const char *const f[] = { "n", "N", "no", "No", "NO", "false",
		"False", "FALSE", "off", "Off", "OFF", NULL };
	static const char *const null[] = { "", "~", "null", "Null", "NULL", NULL };
	static const char *const inf[] = { ".inf", ".Inf", ".INF", "+.inf", "+.Inf",
		"+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN", NULL };

	if (one_of(s, t))
		return json_true();
	if (one_of(s, f))
		return json_false();
	if (one_of(s, null))
		return json_null();
	if (one_of(s, inf)) {
		*err = "infinity and NaN cannot be JSON values";
		return NULL;
	}
	if (strchr("+-.0123456789", *s))
		return number(s, n, err);
	return NULL;
}

static json_t *string(const char *s, size_t n, const char **err)
{
	json_t *v;

	if (memchr(s, '\0', n)) {
		*err = "a NUL character in a string";
		return NULL;
	}
	v = json_stringn(s, n);
	if (!v)
		*err = "invalid UTF-8";
	return v;
}

/* An explicit !!TYPE tag: the plain typing must agree with it. */
static json_t *tagged(const char *s, size_t n, const char *type, const char **err)
{
	static const struct {
		const char *name;
		json_type t;
	} types[] = { { "int", JSON_INTEGER }, { "float", JSON_REAL },
		      { "bool", JSON_TRUE }, { "null", JSON_NULL } };
	json_t *v = resolve(s, n, err);

	for (size_t i = 0; v && i < ARRAY_SIZE(types); i++) {
		json_type vt = json_typeof(v) == JSON_FALSE ? JSON_TRUE : json_typeof(v);

		if (strcmp(type, types[i].name))
			continue;
		if (vt == types[i].t || (vt == JSON_INTEGER && types[i].t == JSON_REAL))
			return v;
		break;
	}
	json_decref(v);
	if (!*err)
		*err = "the value does not match its tag (!!int, !!float, !!bool or !!null)";
	return NULL;
}

json_t *yaml_scalar_json(const char *s, size_t n, const char *tag, bool plain,
			 const char **err)
{
	json_t *v;

	*err = NULL;
	if (tag && (!strcmp(tag, "!") || !strcmp(tag, TAG "str")))
		return string(s, n, err);
	if (tag) {
		if (strncmp(tag, TAG, strlen(TAG))) {
			*err = "unsupported tag (only !!str, !!int, !!float, !!bool and !!null)";
			return NULL;
		}
		return tagged(s, n, tag + strlen(TAG), err);
	}
	if (!plain || memchr(s, '\0', n))
		return string(s, n, err);
	v = resolve(s, n, err);
	return v || *err ? v : string(s, n, err);
}

char *yaml_key_string(const json_t *v)
{
	struct svcnft_buf b = {0};

	switch (json_typeof(v)) {
	case JSON_STRING:
		return xstrdup(json_string_value(v));
	case JSON_INTEGER:
		buf_printf(&b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		buf_printf(&b, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		return xstrdup("true");
	case JSON_FALSE:
		return xstrdup("false");
	default:
		return NULL;
	}
	return b.data;
}
