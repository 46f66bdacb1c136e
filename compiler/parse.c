/* parse: one decoded API object (jansson) -> model records.
 *
 * Only the fields svcnft uses are read; unknown fields are ignored.  A field
 * of the wrong JSON type is an invalid-input error at its path. */
#include <ctype.h>
#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "diag.h"
#include "model.h"
#include "parse.h"

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* Whether K is KEY in typographic quotes (“key” or ‘key’), as a YAML key
 * pasted from a web page reads. */
static bool typo_quoted(const char *k, const char *key)
{
	size_t n = strlen(k), kl = strlen(key);

	return n == kl + 6 && !memcmp(k, "\xe2\x80", 2) && !memcmp(k + n - 3, "\xe2\x80", 2) &&
	       (k[2] == '\x9c' || k[2] == '\x98') &&
	       (k[n - 1] == '\x9d' || k[n - 1] == '\x99') && !strncmp(k + 3, key, kl);
}

/* A key of OBJ that is KEY but for letter case or typographic quotes
 * ("IP" for "ip"), or NULL. */
static const char *near_key(json_t *obj, const char *key)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v)	/* the first byte rules out most keys */
		if ((tolower((unsigned char)*k) == tolower((unsigned char)*key) &&
		     !strcasecmp(k, key)) || (*k == '\xe2' && typo_quoted(k, key)))
			return k;
	return NULL;
}

/* Member KEY of OBJ.  When absent but a near key is there, warn: the API
 * server's JSON decoding is case-sensitive (Go's old one was not), so it
 * ignores that field, and so does svcnft. */
static json_t *member(const struct objref *o, json_t *obj, const char *path,
		      const char *key)
{
	json_t *v = json_object_get(obj, key);
	struct svcnft_buf f = {0}, q = {0};
	const char *near;

	if (v || !json_is_object(obj) || !(near = near_key(obj, key)))
		return v;
	buf_printf(&f, "%s%s", path, near);
	buf_go_quoted(&q, f.data);
	obj_warn(o, "unknown field %s, ignored; did you mean \"%s\"?%s", q.data, key,
		 typo_quoted(near, key) ? " (typographic quotes are part of a YAML key)" : "");
	svcnft_buf_free(&f);
	svcnft_buf_free(&q);
	return NULL;
}

/* Member KEY of OBJ if it has JSON type T; NULL if absent or null.  Any
 * other type is an error at PATH.KEY ("must be WHAT"). */
static json_t *get_typed(const struct objref *o, json_t *obj, const char *path,
			 const char *key, json_type t, const char *what)
{
	json_t *v = member(o, obj, path, key);

	if (!v || json_is_null(v))
		return NULL;
	if (json_typeof(v) != t) {
		obj_invalid(o, "%s%s: Invalid value: must be %s", path, key, what);
		return NULL;
	}
	return v;
}

static const char *get_str(const struct objref *o, json_t *obj,
			   const char *path, const char *key)
{
	return json_string_value(get_typed(o, obj, path, key, JSON_STRING,
					   "a string"));
}

static json_t *get_array(const struct objref *o, json_t *obj,
			 const char *path, const char *key)
{
	return get_typed(o, obj, path, key, JSON_ARRAY, "an array");
}

static json_t *get_object(const struct objref *o, json_t *obj,
			  const char *path, const char *key)
{
	return get_typed(o, obj, path, key, JSON_OBJECT, "an object");
}

static struct ival get_int(const struct objref *o, json_t *obj,
			   const char *path, const char *key)
{
	json_t *v = member(o, obj, path, key);
	struct ival r = {0};

	if (!v || json_is_null(v))
		return r;
	r.set = true;
	if (!json_is_integer(v)) {
		r.bad_type = true;
		obj_invalid(o, "%s%s: Invalid value: must be an integer", path,
			    key);
		return r;
	}
	r.v = json_integer_value(v);
	return r;
}

static bool get_bool(const struct objref *o, json_t *obj, const char *path,
		     const char *key, bool dflt)
{
	json_t *v = member(o, obj, path, key);

	if (!v || json_is_null(v))
		return dflt;
	if (!json_is_boolean(v)) {
		obj_invalid(o, "%s%s: Invalid value: must be a boolean", path,
			    key);
		return dflt;
	}
	return json_is_true(v);
}

/* Every value of map metadata.KEY (labels, annotations) must be a string,
 * as the API server's map[string]string decodes it. */
static void check_string_map(const struct objref *o, json_t *md, const char *key)
{
	json_t *map = get_object(o, md, "metadata.", key), *v;
	struct svcnft_buf q = {0};
	const char *k;

	json_object_foreach(map, k, v) {
		if (json_is_string(v) || json_is_null(v))
			continue;
		q.len = 0;	/* a key a label key could be stays as it is */
		if (k[strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./_-")])
			buf_go_quoted(&q, k);
		else
			buf_puts(&q, k);
		obj_invalid(o, "metadata.%s[%s]: Invalid value: must be a string", key, q.data);
	}
	svcnft_buf_free(&q);
}

/* metadata.name / metadata.namespace into o (pointers into OBJ); labels and
 * annotations type-checked.  False when any of it has the wrong type. */
static bool read_meta(struct objref *o, json_t *obj)
{
	size_t nerr = o->errs->n - o->errs->nwarn;
	json_t *md = get_object(o, obj, "", "metadata");

	o->ns = NULL;
	o->name = NULL;
	if (!md)
		return o->errs->n - o->errs->nwarn == nerr;
	o->name = json_string_value(json_object_get(md, "name"));
	o->ns = json_string_value(json_object_get(md, "namespace"));
	if (o->ns && !*o->ns)
		o->ns = NULL;
	get_str(o, md, "metadata.", "name");	/* named in messages first, */
	get_str(o, md, "metadata.", "namespace");	/* then type-checked */
	check_string_map(o, md, "labels");
	check_string_map(o, md, "annotations");
	return o->errs->n - o->errs->nwarn == nerr;
}

/* The fields Service and endpoint ports share, from the port object JP at
 * PATH ("spec.ports[0]."); a non-object port is reported and left empty. */
static bool parse_port_fields(const struct objref *o, json_t *jp,
			      const char *path, char **name, char **protocol,
			      enum proto *proto, struct ival *port)
{
	const char *s;

	if (!json_is_object(jp)) {
		obj_invalid(o, "%.*s: Invalid value: must be an object",
			    (int)strlen(path) - 1, path);
		*name = xstrdup("");
		*proto = PROTO_INVALID;
		return false;
	}
	s = get_str(o, jp, path, "name");
	*name = xstrdup(s ? s : "");
	*protocol = dup_or_null(get_str(o, jp, path, "protocol"));
	*proto = proto_parse(*protocol);
	*port = get_int(o, jp, path, "port");
	return true;
}

static void parse_svc_port(const struct objref *o, json_t *jp, size_t i,
			   struct svc_port *p)
{
	char path[64];
	json_t *tp;

	snprintf(path, sizeof(path), "spec.ports[%zu].", i);
	if (!parse_port_fields(o, jp, path, &p->name, &p->protocol, &p->proto,
			       &p->port))
		return;
	p->node_port = get_int(o, jp, path, "nodePort");
	tp = member(o, jp, path, "targetPort");
	if (!tp)
		;	/* absent: defaults to port */
	else if (json_is_string(tp))
		p->target_name = xstrdup(json_string_value(tp));
	else
		p->target_int = get_int(o, jp, path, "targetPort");
}

static void parse_svc_ports(const struct objref *o, json_t *spec, struct svc *s)
{
	json_t *ports = get_array(o, spec, "spec.", "ports");
	size_t i;
	json_t *jp;

	if (!ports)
		return;
	s->n_ports = json_array_size(ports);
	s->ports = xcalloc(s->n_ports, sizeof(*s->ports));
	json_array_foreach(ports, i, jp)
		parse_svc_port(o, jp, i, &s->ports[i]);
}

static void parse_cluster_ips(const struct objref *o, json_t *spec,
			      struct svc *s)
{
	json_t *ips = get_array(o, spec, "spec.", "clusterIPs");
	size_t i;
	json_t *v;

	s->cluster_ip = dup_or_null(get_str(o, spec, "spec.", "clusterIP"));
	if (!ips)
		return;
	s->cluster_ips = xcalloc(json_array_size(ips), sizeof(char *));
	json_array_foreach(ips, i, v) {
		if (!json_is_string(v)) {
			obj_invalid(o, "spec.clusterIPs[%zu]: Invalid value: must be a string", i);
			continue;
		}
		s->cluster_ips[s->n_cluster_ips++] = xstrdup(json_string_value(v));
	}
}

/* The strings of array PATH.KEY, appended to *V; a non-string item is an
 * error at its index. */
static void get_strings(const struct objref *o, json_t *obj, const char *path,
			const char *key, char ***v, size_t *n)
{
	json_t *arr = get_array(o, obj, path, key), *it;
	size_t i;

	if (!arr)
		return;
	*v = xcalloc(json_array_size(arr), sizeof(char *));
	json_array_foreach(arr, i, it) {
		if (!json_is_string(it)) {
			obj_invalid(o, "%s%s[%zu]: Invalid value: must be a string",
				    path, key, i);
			continue;
		}
		(*v)[(*n)++] = xstrdup(json_string_value(it));
	}
}

static struct ext_addr *add_ext(struct svc *s, size_t *cap, const char *raw,
				bool lb, size_t idx)
{
	s->ext = grow(s->ext, cap, s->n_ext, sizeof(*s->ext));
	s->ext[s->n_ext] = (struct ext_addr){ .raw = xstrdup(raw), .lb = lb,
					      .idx = idx };
	return &s->ext[s->n_ext++];
}

/* status.loadBalancer.ingress[].ip (a hostname-only ingress has none). */
static void parse_ingress(const struct objref *o, json_t *obj, struct svc *s,
			  size_t *cap)
{
	json_t *st = get_object(o, obj, "", "status"), *lb, *arr, *it;
	char path[64];
	size_t i;

	lb = st ? get_object(o, st, "status.", "loadBalancer") : NULL;
	arr = lb ? get_array(o, lb, "status.loadBalancer.", "ingress") : NULL;
	json_array_foreach(arr, i, it) {
		const char *ip, *mode;
		struct ext_addr *x;

		snprintf(path, sizeof(path), "status.loadBalancer.ingress[%zu].", i);
		if (!json_is_object(it)) {
			obj_invalid(o, "%.*s: Invalid value: must be an object",
				    (int)strlen(path) - 1, path);
			continue;
		}
		ip = get_str(o, it, path, "ip");
		mode = get_str(o, it, path, "ipMode");
		if ((!ip || !*ip) && !mode)
			continue;
		/* an ipMode without ip is refused in validate.c */
		x = add_ext(s, cap, ip ? ip : "", true, i);
		x->mode = dup_or_null(mode);
	}
}

/* externalIPs, ingress IPs, source ranges and traffic policies. */
static void parse_external(const struct objref *o, json_t *obj, json_t *spec,
			   struct svc *s)
{
	char **ips = NULL;
	size_t n = 0, cap = 0;
	json_t *md = json_object_get(obj, "metadata"), *ann;

	get_strings(o, spec, "spec.", "externalIPs", &ips, &n);
	for (size_t i = 0; i < n; i++) {
		add_ext(s, &cap, ips[i], false, i);
		free(ips[i]);
	}
	free(ips);
	parse_ingress(o, obj, s, &cap);
	get_strings(o, spec, "spec.", "loadBalancerSourceRanges", &s->ranges_raw,
		    &s->n_ranges_raw);
	ann = json_is_object(md) ? json_object_get(md, "annotations") : NULL;
	s->ranges_annotation = dup_or_null(json_string_value(member(o, ann,
		"metadata.annotations.", RANGES_ANNOTATION)));	/* typed in read_meta */
	s->etp_raw = dup_or_null(get_str(o, spec, "spec.", "externalTrafficPolicy"));
	s->itp_raw = dup_or_null(get_str(o, spec, "spec.", "internalTrafficPolicy"));
	s->traffic_dist = dup_or_null(get_str(o, spec, "spec.", "trafficDistribution"));
	s->hc_port = get_int(o, spec, "spec.", "healthCheckNodePort");
}

static void parse_affinity(const struct objref *o, json_t *spec, struct svc *s)
{
	json_t *cfg, *cip;

	s->affinity_raw = dup_or_null(get_str(o, spec, "spec.", "sessionAffinity"));
	s->affinity = s->affinity_raw && !strcmp(s->affinity_raw, "ClientIP");
	cfg = get_object(o, spec, "spec.", "sessionAffinityConfig");
	cip = cfg ? get_object(o, cfg, "spec.sessionAffinityConfig.", "clientIP") : NULL;
	if (cip)
		s->aff_timeout = get_int(o, cip,
			"spec.sessionAffinityConfig.clientIP.", "timeoutSeconds");
}

static void parse_service(struct svcnft_model *m, struct objref *o, json_t *obj)
{
	struct svc *s;
	json_t *spec, *sel;

	m->svcs = grow(m->svcs, &m->cap_svcs, m->n_svcs, sizeof(*m->svcs));
	s = &m->svcs[m->n_svcs];
	memset(s, 0, sizeof(*s));
	s->seq = m->n_svcs++;
	s->file = xstrdup(o->file);
	s->ns = xstrdup(o->ns ? o->ns : "default");
	s->name = xstrdup(o->name ? o->name : "");
	spec = get_object(o, obj, "", "spec");
	if (!spec)
		return;
	s->type_raw = dup_or_null(get_str(o, spec, "spec.", "type"));
	parse_cluster_ips(o, spec, s);
	get_strings(o, spec, "spec.", "ipFamilies", &s->ip_families, &s->n_ip_families);
	s->ip_family_policy = dup_or_null(get_str(o, spec, "spec.", "ipFamilyPolicy"));
	sel = get_object(o, spec, "spec.", "selector");
	s->has_selector = sel && json_object_size(sel) > 0;
	parse_affinity(o, spec, s);
	s->publish_not_ready = get_bool(o, spec, "spec.",
					"publishNotReadyAddresses", false);
	s->external_name = dup_or_null(get_str(o, spec, "spec.", "externalName"));
	parse_external(o, obj, spec, s);
	parse_svc_ports(o, spec, s);
}

static void parse_ep_ports(const struct objref *o, json_t *arr,
			   const char *path, struct ep_group *g)
{
	char p[96];
	size_t i;
	json_t *jp;

	g->n_ports = json_array_size(arr);
	g->ports = xcalloc(g->n_ports, sizeof(*g->ports));
	json_array_foreach(arr, i, jp) {
		struct ep_port *ep = &g->ports[i];

		snprintf(p, sizeof(p), "%sports[%zu].", path, i);
		parse_port_fields(o, jp, p, &ep->name, &ep->protocol, &ep->proto,
				  &ep->port);
	}
}

static struct ep_source *new_source(struct svcnft_model *m,
				    const struct objref *o, enum ep_kind kind)
{
	struct ep_source *src;

	m->eps = grow(m->eps, &m->cap_eps, m->n_eps, sizeof(*m->eps));
	src = &m->eps[m->n_eps];
	memset(src, 0, sizeof(*src));
	src->seq = m->n_eps++;
	src->kind = kind;
	src->file = xstrdup(o->file);
	src->ns = xstrdup(o->ns ? o->ns : "default");
	src->name = xstrdup(o->name ? o->name : "");
	return src;
}

/* Endpoints addresses[] or notReadyAddresses[] appended to G. */
static void parse_addresses(const struct objref *o, json_t *arr,
			    const char *path, bool ready, struct ep_group *g)
{
	char p[96];
	size_t i;
	json_t *ja;

	json_array_foreach(arr, i, ja) {
		struct endpoint *e = &g->eps[g->n_eps++];

		snprintf(p, sizeof(p), "%s[%zu].", path, i);
		memset(e, 0, sizeof(*e));
		e->ready = e->serving = ready;
		if (!json_is_object(ja)) {
			obj_invalid(o, "%s[%zu]: Invalid value: must be an object", path, i);
			continue;
		}
		e->ip_raw = dup_or_null(get_str(o, ja, p, "ip"));
		e->hostname = dup_or_null(get_str(o, ja, p, "hostname"));
		e->node_name = dup_or_null(get_str(o, ja, p, "nodeName"));
	}
}

static void parse_subset(const struct objref *o, json_t *js, size_t i,
			 struct ep_group *g)
{
	char path[64], apath[96];
	json_t *ready, *notready, *ports;
	size_t n;

	snprintf(path, sizeof(path), "subsets[%zu].", i);
	if (!json_is_object(js)) {
		obj_invalid(o, "subsets[%zu]: Invalid value: must be an object", i);
		return;
	}
	ready = get_array(o, js, path, "addresses");
	notready = get_array(o, js, path, "notReadyAddresses");
	ports = get_array(o, js, path, "ports");
	n = json_array_size(ready) + json_array_size(notready);
	g->eps = xcalloc(n, sizeof(*g->eps));
	snprintf(apath, sizeof(apath), "%saddresses", path);
	if (ready)
		parse_addresses(o, ready, apath, true, g);
	snprintf(apath, sizeof(apath), "%snotReadyAddresses", path);
	if (notready)
		parse_addresses(o, notready, apath, false, g);
	if (ports)
		parse_ep_ports(o, ports, path, g);
}

static void parse_endpoints(struct svcnft_model *m, struct objref *o,
			    json_t *obj)
{
	struct ep_source *src = new_source(m, o, EP_ENDPOINTS);
	json_t *subsets = get_array(o, obj, "", "subsets");
	size_t i;
	json_t *js;

	src->service = xstrdup(src->name);
	if (!subsets)
		return;
	src->n_groups = json_array_size(subsets);
	src->groups = xcalloc(src->n_groups, sizeof(*src->groups));
	json_array_foreach(subsets, i, js)
		parse_subset(o, js, i, &src->groups[i]);
}

/* hints.KEY[].name of a slice endpoint at PATH ("endpoints[0].hints."). */
static void parse_hint_names(const struct objref *o, json_t *hints,
			     const char *path, const char *key, char ***v,
			     size_t *n)
{
	json_t *arr = get_array(o, hints, path, key), *it;
	char p[128];
	size_t i;

	if (!arr)
		return;
	*v = xcalloc(json_array_size(arr), sizeof(char *));
	json_array_foreach(arr, i, it) {
		const char *name;

		snprintf(p, sizeof(p), "%s%s[%zu].", path, key, i);
		if (!json_is_object(it)) {
			obj_invalid(o, "%s%s[%zu]: Invalid value: must be an object", path, key, i);
			continue;
		}
		name = get_str(o, it, p, "name");
		(*v)[(*n)++] = xstrdup(name ? name : "");
	}
}

static void parse_hints(const struct objref *o, json_t *je, const char *path,
			struct endpoint *e)
{
	json_t *hints = get_object(o, je, path, "hints");
	char p[96];

	if (!hints)
		return;
	snprintf(p, sizeof(p), "%shints.", path);
	parse_hint_names(o, hints, p, "forZones", &e->zone_hints, &e->n_zone_hints);
	parse_hint_names(o, hints, p, "forNodes", &e->node_hints, &e->n_node_hints);
}

static void parse_slice_endpoint(const struct objref *o, json_t *je, size_t i,
				 struct endpoint *e)
{
	char path[64], cpath[80];
	json_t *addrs, *cond, *a;
	size_t k;

	snprintf(path, sizeof(path), "endpoints[%zu].", i);
	memset(e, 0, sizeof(*e));
	if (!json_is_object(je)) {
		obj_invalid(o, "endpoints[%zu]: Invalid value: must be an object", i);
		return;
	}
	addrs = get_array(o, je, path, "addresses");
	json_array_foreach(addrs, k, a)	/* none: refused in validate.c */
		if (!json_is_string(a))
			obj_invalid(o, "endpoints[%zu].addresses[%zu]: Invalid value: must be a string", i, k);
	e->ip_raw = dup_or_null(json_string_value(json_array_get(addrs, 0)));
	cond = get_object(o, je, path, "conditions");
	snprintf(cpath, sizeof(cpath), "%sconditions.", path);
	e->ready = get_bool(o, cond, cpath, "ready", true);
	e->serving = get_bool(o, cond, cpath, "serving", true);
	e->terminating = get_bool(o, cond, cpath, "terminating", false);
	e->hostname = dup_or_null(get_str(o, je, path, "hostname"));
	e->node_name = dup_or_null(get_str(o, je, path, "nodeName"));
	parse_hints(o, je, path, e);
}

/* A slice without a service-name label is skipped; one whose metadata has
 * a wrong-typed value (META_OK false) is refused instead. */
static void parse_slice(struct svcnft_model *m, struct objref *o, json_t *obj,
			bool meta_ok)
{
	json_t *md = json_object_get(obj, "metadata");
	json_t *labels = json_is_object(md) ? json_object_get(md, "labels") : NULL;
	const char *svc = json_string_value(json_object_get(labels,
					     "kubernetes.io/service-name"));
	struct ep_source *src;
	struct ep_group *g;
	json_t *eps, *ports, *je;
	size_t i;

	if ((!svc || !*svc) && meta_ok) {
		obj_warn(o, "no kubernetes.io/service-name label, skipped");
		return;
	}
	src = new_source(m, o, EP_SLICE);
	src->service = xstrdup(svc ? svc : "");
	src->address_type = dup_or_null(get_str(o, obj, "", "addressType"));
	src->n_groups = 1;
	src->groups = g = xcalloc(1, sizeof(*g));
	eps = get_array(o, obj, "", "endpoints");
	ports = get_array(o, obj, "", "ports");
	g->eps = xcalloc(json_array_size(eps), sizeof(*g->eps));
	json_array_foreach(eps, i, je)
		parse_slice_endpoint(o, je, i, &g->eps[g->n_eps++]);
	if (ports)
		parse_ep_ports(o, ports, "", g);
}

static void parse_service_cidr(struct svcnft_model *m, struct objref *o,
			       json_t *obj)
{
	struct svc_cidr_obj *c;
	json_t *spec;

	m->svc_cidrs = grow(m->svc_cidrs, &m->cap_svc_cidrs, m->n_svc_cidrs,
			    sizeof(*m->svc_cidrs));
	c = &m->svc_cidrs[m->n_svc_cidrs++];
	memset(c, 0, sizeof(*c));
	c->file = xstrdup(o->file);
	c->name = xstrdup(o->name ? o->name : "");
	spec = get_object(o, obj, "", "spec");
	if (spec)
		get_strings(o, spec, "spec.", "cidrs", &c->raw, &c->n_raw);
}

bool parse_is_list_kind(const char *kind)
{
	size_t n = kind ? strlen(kind) : 0;

	return n >= 4 && !strcmp(kind + n - 4, "List");
}

const char *list_item_kind(const char *list)
{
	static const char *const kinds[] = { "Service", "Endpoints", "EndpointSlice",
					     "ServiceCIDR" };

	for (size_t i = 0; list && i < ARRAY_SIZE(kinds); i++)
		if (!strncmp(list, kinds[i], strlen(kinds[i])) &&
		    !strcmp(list + strlen(kinds[i]), "List"))
			return kinds[i];
	return NULL;
}

/* FILE: warning: WHERE: WHAT "VALUE" WHY, skipped  (VALUE quoted) */
static void skipped(struct svcnft_errors *errs, const char *file,
		    const char *where, const char *what, const char *value,
		    const char *why)
{
	struct svcnft_buf v = {0};

	buf_go_quoted(&v, value);
	errs_add(errs, SVCNFT_OK, "%s: warning: %s: %s %s %s, skipped", file, where, what,
		 v.data, why);
	svcnft_buf_free(&v);
}

/* Core objects only: a Knative "Service" is not a Service. */
static bool api_version_ok(const char *kind, const char *v)
{
	if (!v)
		return true;	/* list items from the API server carry none */
	if (!strcmp(kind, "EndpointSlice"))
		return !strcmp(v, "discovery.k8s.io/v1");
	if (!strcmp(kind, "ServiceCIDR"))	/* the same schema in both */
		return !strcmp(v, "networking.k8s.io/v1") ||
		       !strcmp(v, "networking.k8s.io/v1beta1");
	return !strcmp(v, "v1");
}

void parse_object(struct svcnft_model *m, const char *file, const char *where,
		  json_t *obj, const char *dflt_kind, struct svcnft_errors *errs)
{
	struct objref o = { .errs = errs, .file = file };
	size_t nsvc, neps, ncidr, nerr;
	const char *kind, *apiv;
	bool meta_ok;

	if (!json_is_object(obj)) {
		errs_add(errs, SVCNFT_OK, "%s: warning: %s: not an object, skipped", file, where);
		return;
	}
	kind = json_string_value(json_object_get(obj, "kind"));
	if (!kind)
		kind = dflt_kind;
	if (!kind) {
		const char *near = near_key(obj, "kind");
		struct svcnft_buf q = {0};

		/* never read as "no services": nothing is applied */
		if (near) {
			buf_puts(&q, " (it has ");
			buf_go_quoted(&q, near);
			buf_puts(&q, ": did you mean \"kind\"?)");
		}
		errs_add(errs, SVCNFT_EUSAGE, "%s: %s: object has no kind%s", file, where,
			 q.data ? q.data : "");
		svcnft_buf_free(&q);
		return;
	}
	o.kind = kind;
	o.cluster_scoped = !strcmp(kind, "ServiceCIDR");
	if (parse_is_list_kind(kind) && json_is_array(json_object_get(obj, "items"))) {
		parse_items(m, file, json_object_get(obj, "items"),
			    list_item_kind(kind), errs);
		return;
	}
	if (strcmp(kind, "Service") && strcmp(kind, "Endpoints") &&
	    strcmp(kind, "EndpointSlice") && strcmp(kind, "ServiceCIDR")) {
		skipped(errs, file, where, "kind", kind, "is not used by svcnft");
		return;
	}
	apiv = json_string_value(json_object_get(obj, "apiVersion"));
	if (!api_version_ok(kind, apiv)) {
		char what[48];

		snprintf(what, sizeof(what), "%s of apiVersion", kind);
		skipped(errs, file, where, what, apiv, "is not a core object");
		return;
	}
	nsvc = m->n_svcs;
	neps = m->n_eps;
	ncidr = m->n_svc_cidrs;
	nerr = errs->n - errs->nwarn;
	meta_ok = read_meta(&o, obj);
	if (!strcmp(kind, "Service"))
		parse_service(m, &o, obj);
	else if (!strcmp(kind, "Endpoints"))
		parse_endpoints(m, &o, obj);
	else if (!strcmp(kind, "ServiceCIDR"))
		parse_service_cidr(m, &o, obj);
	else
		parse_slice(m, &o, obj, meta_ok);
	/* Like the API server, an object that does not decode is not validated. */
	if (errs->n - errs->nwarn != nerr && m->n_svcs > nsvc)
		m->svcs[nsvc].parse_failed = true;
	if (errs->n - errs->nwarn != nerr && m->n_eps > neps)
		m->eps[neps].parse_failed = true;
	if (errs->n - errs->nwarn != nerr && m->n_svc_cidrs > ncidr)
		m->svc_cidrs[ncidr].parse_failed = true;
}

void parse_items(struct svcnft_model *m, const char *file, json_t *items,
		 const char *dflt_kind, struct svcnft_errors *errs)
{
	char where[48];
	size_t i;
	json_t *it;

	json_array_foreach(items, i, it) {
		snprintf(where, sizeof(where), "items[%zu]", i);
		parse_object(m, file, where, it, dflt_kind, errs);
	}
}
