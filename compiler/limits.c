/* limits: bounds on hostile input.
 *
 * Size, nesting and string length are checked by the scanner in load.c
 * before anything is decoded; counts of objects and of ports are checked
 * here as each item is parsed (so validation never sees a huge port list);
 * endpoints per service once the model is sorted, at the end of
 * validation. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "limits.h"

/* 30k services x 100 endpoints in kubectl's JSON is ~0.7-1.5 GB. */
#define DEFAULTS {					\
	.input_bytes = (size_t)4 << 30,			\
	.depth = 100,					\
	.string_bytes = (size_t)1 << 20,		\
	.objects = 1000000,				\
	.ports = 1000,					\
	.endpoints = 100000,				\
}

static const struct svcnft_limits defaults = DEFAULTS;
static struct svcnft_limits cur = DEFAULTS;

void svcnft_limits_default(struct svcnft_limits *l)
{
	*l = defaults;
}

void svcnft_limits_set(const struct svcnft_limits *l)
{
	cur = *l;
}

void svcnft_limits_get(struct svcnft_limits *l)
{
	*l = cur;
}

const struct svcnft_limits *limits_cur(void)
{
	return &cur;
}

static size_t *field(struct svcnft_limits *l, const char *name, size_t n)
{
	static const struct {
		const char *name;
		size_t off;
	} f[] = {
		{ "input-bytes", offsetof(struct svcnft_limits, input_bytes) },
		{ "depth", offsetof(struct svcnft_limits, depth) },
		{ "string-bytes", offsetof(struct svcnft_limits, string_bytes) },
		{ "objects", offsetof(struct svcnft_limits, objects) },
		{ "ports", offsetof(struct svcnft_limits, ports) },
		{ "endpoints", offsetof(struct svcnft_limits, endpoints) },
	};

	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		if (strlen(f[i].name) == n && !strncmp(f[i].name, name, n))
			return (size_t *)(void *)((char *)l + f[i].off);
	return NULL;
}

const char *svcnft_limit_parse(struct svcnft_limits *l, const char *arg)
{
	const char *eq = strchr(arg, '=');
	unsigned long long v;
	size_t *p;
	char *end;

	if (!eq)
		return "expected NAME=N";
	p = field(l, arg, (size_t)(eq - arg));
	if (!p)
		return "unknown limit (input-bytes, depth, string-bytes, objects, ports, endpoints)";
	errno = 0;
	v = strtoull(eq + 1, &end, 10);
	if (eq[1] < '0' || eq[1] > '9' || *end || errno || v == 0 || v > SIZE_MAX / 2)
		return "N must be a positive integer";
	*p = (size_t)v;
	return NULL;
}

static void too_many_ports(struct objref *o, const char *path, size_t n)
{
	obj_invalid(o, "%sports: Too many: %zu: must have at most %zu items (--limit ports)",
		    path, n, cur.ports);
}

static void check_source_ports(struct ep_source *e, struct svcnft_errors *errs)
{
	struct objref o = { .errs = errs, .file = e->file, .ns = e->ns, .name = e->name,
			    .kind = e->kind == EP_SLICE ? "EndpointSlice" : "Endpoints" };
	char path[48] = "";

	for (size_t i = 0; i < e->n_groups; i++) {
		if (e->groups[i].n_ports <= cur.ports)
			continue;
		if (e->kind == EP_ENDPOINTS)
			snprintf(path, sizeof(path), "subsets[%zu].", i);
		too_many_ports(&o, path, e->groups[i].n_ports);
		e->parse_failed = true;
	}
}

bool limits_after_object(struct svcnft_model *m, const char *file,
			 size_t nsvc, size_t neps, struct svcnft_errors *errs)
{
	for (size_t i = nsvc; i < m->n_svcs; i++) {
		struct svc *s = &m->svcs[i];
		struct objref o = { .errs = errs, .file = s->file, .kind = "Service",
				    .ns = s->ns, .name = s->name };

		if (s->n_ports > cur.ports) {
			too_many_ports(&o, "spec.", s->n_ports);
			s->parse_failed = true;
		}
	}
	for (size_t i = neps; i < m->n_eps; i++)
		check_source_ports(&m->eps[i], errs);
	if (m->n_svcs + m->n_eps <= cur.objects)
		return true;
	errs_add(errs, SVCNFT_EUSAGE,
		 "%s: more than %zu Services, Endpoints and EndpointSlices (--limit objects)",
		 file, cur.objects);
	return false;
}

static int svc_key_cmp(const void *key, const void *elem)
{
	const struct ep_source *e = key;
	const struct svc *s = elem;
	int c = strcmp(e->ns, s->ns);

	return c ? c : strcmp(e->service, s->name);
}

/* Sources are sorted by namespace and owning service: sum each run. */
void limits_validate(struct svcnft_model *m, struct svcnft_errors *errs)
{
	for (size_t i = 0, j; i < m->n_eps; i = j) {
		const struct ep_source *e = &m->eps[i];
		struct objref o = { .errs = errs, .kind = "Service" };
		struct svc *s;
		size_t n = 0;

		for (j = i; j < m->n_eps && !strcmp(m->eps[j].ns, e->ns) &&
			    !strcmp(m->eps[j].service, e->service); j++)
			for (size_t g = 0; g < m->eps[j].n_groups; g++)
				n += m->eps[j].groups[g].n_eps;
		if (n <= cur.endpoints)
			continue;
		s = bsearch(e, m->svcs, m->n_svcs, sizeof(*s), svc_key_cmp);
		if (!s || s->invalid)
			continue;
		o.file = s->file;
		o.ns = s->ns;
		o.name = s->name;
		obj_invalid(&o, "endpoints: Too many: %zu: must have at most %zu items (--limit endpoints)",
			    n, cur.endpoints);
		s->invalid = true;
	}
}
