/* engine.c: a seeded property test.  Random sequences of file changes (one
 * object per file: Services and EndpointSlices; adds, deletes, endpoint
 * churn, port, type, policy and affinity changes, address conflicts and
 * invalid objects) go through the engine as watch feeds it: each batch is
 * the changed files plus those of refused batches.  After every batch:
 *   - the batch is refused exactly when the whole snapshot is invalid
 *     (every file as one batch into a fresh engine: engine_snapshot),
 *     and then nothing changed;
 *   - otherwise the engine's table equals elements_from_plan of that
 *     snapshot's view (every set, element and chain), and the batch's changes
 *     turn the previous table into it.
 * ENGINE_SEED and ENGINE_STEPS override the seed (else the time, printed)
 * and the number of steps (1,000). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "engine.h"
#include "health.h"
#include "helpers.h"
#include "lower.h"
#include "util.h"

#define N_SVC 24
#define N_FILES (N_SVC * 3)

struct sim {
	char *text[N_FILES];		/* NULL: no such file */
	char name[N_FILES][48];
	bool pending[N_FILES];
	unsigned int seed, seed0;
	struct svcnft_config cfg;
	struct svcnft_cidr cidrs[2];
};

static unsigned int rnd(struct sim *s, unsigned int n)
{
	s->seed = s->seed * 1103515245u + 12345u;
	return (s->seed >> 8) % n;
}

/* One service port list: 1 or 2 ports, named when 2. */
static void ports(struct sim *s, struct svcnft_buf *b, bool np, unsigned int k)
{
	unsigned int n = 1 + rnd(s, 2);

	for (unsigned int i = 0; i < n; i++) {
		buf_printf(b, "%s{\"port\":%u%s%s", i ? "," : "", 80 + 2 * i + rnd(s, 2),
			   n > 1 ? (i ? ",\"name\":\"b\"" : ",\"name\":\"a\"") : "",
			   rnd(s, 4) ? "" : ",\"protocol\":\"UDP\"");
		if (rnd(s, 3))
			buf_printf(b, ",\"targetPort\":%u", 8080 + i);
		else
			buf_printf(b, ",\"targetPort\":\"%s\"", i ? "web2" : "web");
		if (np)
			buf_printf(b, ",\"nodePort\":%u", 30000 + k * 2 + i + (rnd(s, 80) ? 0 : 1));
		buf_puts(b, "}");
	}
}

static void service(struct sim *s, struct svcnft_buf *b, unsigned int k)
{
	unsigned int type = rnd(s, 4), bad = rnd(s, 600);
	bool np = type >= 2;

	buf_printf(b, "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"s%u\",\"namespace\":\"%s\"},\"spec\":{",
		   k, k % 3 ? "default" : "ns2");
	if (bad == 0)
		buf_puts(b, "\"clusterIP\":\"10.5.0.1\",");
	else if (bad == 1)
		buf_puts(b, "\"clusterIP\":\"10.0.0.999\",");
	else if (rnd(s, 100) == 0)
		buf_printf(b, "\"clusterIP\":\"10.0.0.%u\",", 100 + rnd(s, N_SVC));
	else if (rnd(s, 6) == 0)
		buf_printf(b, "\"clusterIPs\":[\"10.0.0.%u\",\"fd00:10:96::%x\"],\"ipFamilyPolicy\":\"PreferDualStack\",",
			   100 + k, 0x100 + k);
	else
		buf_printf(b, "\"clusterIP\":\"10.0.0.%u\",", 100 + k);
	buf_printf(b, "\"type\":\"%s\",", (const char *[]){ "ClusterIP", "ClusterIP",
		   "NodePort", "LoadBalancer" }[type]);
	if (rnd(s, 3) == 0)
		buf_printf(b, "\"externalIPs\":[\"192.0.2.%u\"],", 1 + rnd(s, 4));
	if (np && rnd(s, 3) == 0) {
		buf_puts(b, "\"externalTrafficPolicy\":\"Local\",");
		if (type == 3 && rnd(s, 2))
			buf_printf(b, "\"healthCheckNodePort\":%u,", 31000 + k + (rnd(s, 40) ? 0 : 1));
	}
	if (rnd(s, 5) == 0)
		buf_puts(b, "\"internalTrafficPolicy\":\"Local\",");
	if (rnd(s, 4) == 0)
		buf_printf(b, "\"sessionAffinity\":\"ClientIP\",\"sessionAffinityConfig\":{\"clientIP\":{\"timeoutSeconds\":%u}},",
			   rnd(s, 2) ? 60 : 300);
	if (type == 3 && rnd(s, 2))
		buf_puts(b, "\"loadBalancerSourceRanges\":[\"203.0.113.0/24\"],");
	buf_puts(b, "\"ports\":[");
	if (bad == 2)
		buf_puts(b, "{\"port\":0}");
	else
		ports(s, b, np, k);
	buf_puts(b, "]}");
	if (type == 3)
		buf_printf(b, ",\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"192.0.2.%u\"}]}}",
			   1 + rnd(s, 6));
	buf_puts(b, "}");
}

static void slice(struct sim *s, struct svcnft_buf *b, unsigned int k,
		  unsigned int part)
{
	unsigned int n = rnd(s, 5);

	buf_printf(b, "{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"s%u-%c\",\"namespace\":\"%s\",\"labels\":{\"kubernetes.io/service-name\":\"s%u\"}},\"addressType\":\"IPv4\",\"endpoints\":[",
		   k, 'a' + part, k % 3 ? "default" : "ns2", k);
	for (unsigned int i = 0; i < n; i++)
		buf_printf(b, "%s{\"addresses\":[\"10.1.0.%u\"],\"conditions\":{\"ready\":%s,\"serving\":true,\"terminating\":%s},\"nodeName\":\"n%u\"}",
			   i ? "," : "", 1 + rnd(s, 40), rnd(s, 5) ? "true" : "false",
			   rnd(s, 6) ? "false" : "true", 1 + rnd(s, 2));
	buf_printf(b, "],\"ports\":[{\"port\":%u%s},{\"port\":%u,\"name\":\"b\"}]}",
		   8080 + rnd(s, 2), rnd(s, 2) ? ",\"name\":\"a\"" : "", 9090 + rnd(s, 2));
}

static void rewrite(struct sim *s, unsigned int f)
{
	struct svcnft_buf b = {0};

	free(s->text[f]);
	s->text[f] = NULL;
	if (rnd(s, 6) == 0) {		/* deleted */
		s->pending[f] = true;
		return;
	}
	if (f < N_SVC)
		service(s, &b, f);
	else
		slice(s, &b, (f - N_SVC) / 2, (f - N_SVC) % 2);
	s->text[f] = b.data;
	s->pending[f] = true;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every set, element and chain of ELS as one sorted list. */
static char **items(const struct elements *els, size_t *n)
{
	struct svcnft_buf b = {0};
	char **v = NULL;
	size_t cap = 0;

	*n = 0;
	for (size_t i = 0; i < els->n_sets + 1; i++) {
		const struct el_list *l = i < els->n_sets ? &els->sets[i].el : &els->chains;

		for (size_t j = 0; j <= l->n; j++) {
			b.len = 0;
			if (i == els->n_sets && j == l->n)
				break;
			if (i == els->n_sets)
				buf_printf(&b, "chain %s", l->v[j]);
			else if (j == l->n)
				buf_printf(&b, "set %s", els->sets[i].name);
			else
				buf_printf(&b, "%s: %s", els->sets[i].name, l->v[j]);
			v = grow(v, &cap, *n, sizeof(*v));
			v[(*n)++] = xstrdup(b.data);
		}
	}
	svcnft_buf_free(&b);
	qsort(v, *n, sizeof(*v), str_cmp);
	return v;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The whole snapshot in a fresh engine (one batch): valid? and the
 * lowering of its view as one model. */
static bool snapshot(struct sim *s, struct elements *els, struct svcnft_health *h)
{
	struct svcnft_model *m = svcnft_model_new(), *v;
	struct svcnft_errors errs = {0};
	struct engine *e;
	struct plan p;

	for (unsigned int f = 0; f < N_FILES; f++)
		if (s->text[f])
			svcnft_model_load_buffer(m, s->name[f], s->text[f],
						 strlen(s->text[f]), &errs);
	e = engine_snapshot(&s->cfg, m, ENGINE_CHECK_ONLY, &errs);
	if (getenv("ENGINE_DEBUG"))
		svcnft_errors_print(&errs, stderr);
	v = e ? engine_view(e) : m;
	plan_build(&p, v, &s->cfg);
	elements_from_plan(els, &p);
	health_build(v, &s->cfg, h);
	plan_free(&p);
	if (e)
		engine_view_free(v);
	engine_free(e);
	svcnft_errors_free(&errs);
	svcnft_model_free(m);
	return e != NULL;
}

static void same(char **a, size_t na, char **b, size_t nb, unsigned int seed,
		 int step, const char *what)
{
	for (size_t i = 0; i < na || i < nb; i++)
		if (i >= na || i >= nb || strcmp(a[i], b[i])) {
			print_error("seed %u step %d: %s differ at item %zu: engine \"%s\", expected \"%s\"\n",
				    seed, step, what, i, i < na ? a[i] : "(end)",
				    i < nb ? b[i] : "(end)");
			fail();
		}
}

/* Stage the pending files; NULL (errors) if one is invalid alone. */
static struct engine_batch *batch(struct sim *s, struct engine *e)
{
	struct svcnft_errors errs = {0};
	struct engine_batch *b;

	for (unsigned int f = 0; f < N_FILES; f++) {
		struct svcnft_model *m;

		if (!s->pending[f])
			continue;
		if (!s->text[f]) {
			engine_stage_file(e, s->name[f], NULL);
			continue;
		}
		m = svcnft_model_new();
		svcnft_model_load_buffer(m, s->name[f], s->text[f], strlen(s->text[f]), &errs);
		engine_validate(e, m, ENGINE_ALL_OR_NOTHING, &errs);
		engine_stage_file(e, s->name[f], m);
		svcnft_model_free(m);
	}
	if (svcnft_errors_status(&errs) != SVCNFT_OK) {
		engine_abort(e, NULL);
		b = NULL;
	} else {
		b = engine_prepare(e, ENGINE_ALL_OR_NOTHING, &errs);
	}
	svcnft_errors_free(&errs);
	return b;
}

/* "SET: element" of element IT (its text view). */
static char *elem_line(const char *set, const struct item *it)
{
	struct svcnft_buf b = {0};

	buf_printf(&b, "%s: ", set);
	assert_true(item_format(&b, it));
	return b.data;
}

/* The previous table with batch B's changes: what the kernel gets. */
static char **apply_changes(char **prev, size_t n_prev, const struct changes *c,
			    size_t *n)
{
	struct svcnft_buf b = {0};
	char **v = xcalloc(n_prev + c->n_elems + c->n_new + 1, sizeof(*v));
	char **del = xcalloc(c->n_elems + 1, sizeof(*del));
	size_t n_del = 0;

	for (size_t k = 0; k < c->n_sets; k++)
		for (size_t j = 0; j < c->sets[k].n_del; j++)
			del[n_del++] = elem_line(c->sets[k].name, c->sets[k].del[j]);
	*n = 0;
	for (size_t i = 0; i < n_prev; i++) {
		bool gone = false;

		for (size_t j = 0; j < n_del && !gone; j++)
			gone = !strcmp(del[j], prev[i]);
		for (size_t k = 0; k < c->n_old && !gone; k++) {
			b.len = 0;
			buf_printf(&b, "chain %s", c->old_objs[k]);
			gone = !strcmp(b.data, prev[i]);
			b.len = 0;
			buf_printf(&b, "set %s", c->old_objs[k]);
			gone = gone || !strcmp(b.data, prev[i]);
			b.len = 0;
			buf_printf(&b, "%s: ", c->old_objs[k]);
			gone = gone || !strncmp(b.data, prev[i], b.len);
		}
		if (!gone)
			v[(*n)++] = xstrdup(prev[i]);
	}
	for (size_t j = 0; j < n_del; j++)
		free(del[j]);
	free(del);
	for (size_t k = 0; k < c->n_sets; k++)
		for (size_t j = 0; j < c->sets[k].n_add; j++)
			v[(*n)++] = elem_line(c->sets[k].name, c->sets[k].add[j]);
	for (size_t k = 0; k < c->n_new; k++) {
		b.len = 0;
		buf_printf(&b, "%s %s", el_dynamic_set(c->new_objs[k]) ? "set" : "chain",
			   c->new_objs[k]);
		v[(*n)++] = xstrdup(b.data);
	}
	svcnft_buf_free(&b);
	qsort(v, *n, sizeof(*v), str_cmp);
	return v;
}

static void step(struct sim *s, struct engine *e, int i, size_t *refused)
{
	struct elements want, before, after;
	struct svcnft_health hw, he;
	char **w, **pre, **post, **sent;
	size_t nw, npre, npost, nsent;
	unsigned int n = 1 + rnd(s, 3);
	struct engine_batch *b;
	bool valid;

	for (unsigned int k = 0; k < n; k++)
		rewrite(s, rnd(s, N_FILES));
	valid = snapshot(s, &want, &hw);
	engine_elements(e, &before);
	pre = items(&before, &npre);
	b = batch(s, e);
	if (b) {
		sent = apply_changes(pre, npre, &b->changes, &nsent);
		engine_commit(e, b);
		memset(s->pending, 0, sizeof(s->pending));
	}
	engine_elements(e, &after);
	post = items(&after, &npost);
	if (!b) {
		(*refused)++;
		same(post, npost, pre, npre, s->seed0, i, "a refused batch changed the table:");
	} else {
		w = items(&want, &nw);
		same(post, npost, w, nw, s->seed0, i, "engine and whole snapshot");
		same(sent, nsent, w, nw, s->seed0, i, "changes sent and whole snapshot");
		engine_health(e, &he);
		assert_int_equal(he.services, hw.services);
		assert_int_equal(he.service_ports, hw.service_ports);
		assert_int_equal(he.endpoints, hw.endpoints);
		assert_int_equal(he.n_checks, hw.n_checks);
		for (size_t k = 0; k < he.n_checks; k++) {
			assert_int_equal(he.checks[k].port, hw.checks[k].port);
			assert_int_equal(he.checks[k].local_endpoints, hw.checks[k].local_endpoints);
			assert_string_equal(he.checks[k].name, hw.checks[k].name);
		}
		health_free(&he);
		strv_free(w, nw);
		strv_free(sent, nsent);
	}
	if (valid != (b != NULL)) {
		print_error("step %d: snapshot %s but the batch was %s\n", i,
			    valid ? "valid" : "invalid", b ? "accepted" : "refused");
		fail();
	}
	strv_free(pre, npre);
	strv_free(post, npost);
	health_free(&hw);
	elements_free(&want);
	elements_free(&before);
	elements_free(&after);
}

static void test_property(void **state)
{
	struct sim s = {0};
	const char *env = getenv("ENGINE_SEED"), *st = getenv("ENGINE_STEPS");
	unsigned int seed = env ? (unsigned int)strtoul(env, NULL, 10) : (unsigned int)time(NULL);
	int steps = st ? atoi(st) : 1000;
	size_t refused = 0;
	struct engine *e;

	(void)state;
	s.seed = s.seed0 = seed;
	svcnft_cidr_parse("10.0.0.0/24", &s.cidrs[0]);
	svcnft_cidr_parse("fd00:10:96::/112", &s.cidrs[1]);
	s.cfg = (struct svcnft_config){ .table = "svcnft", .service_cidrs = s.cidrs,
					.n_service_cidrs = 2, .node_name = "n1" };
	for (unsigned int f = 0; f < N_FILES; f++)
		snprintf(s.name[f], sizeof(s.name[f]), f < N_SVC ? "d/svc-%u.json" :
			 "d/eps-%u.json", f);
	fprintf(stderr, "engine property: seed %u (ENGINE_SEED=%u to repeat), %d steps\n",
		seed, seed, steps);
	e = engine_new(&s.cfg);
	for (int i = 0; i < steps; i++)
		step(&s, e, i, &refused);
	fprintf(stderr, "engine property: %d steps, %zu batches refused\n", steps, refused);
	/* both kinds of batch were tried (short runs may see no invalid one) */
	if (steps >= 500)
		assert_true(refused > 0 && refused < (size_t)steps);
	engine_free(e);
	for (unsigned int f = 0; f < N_FILES; f++)
		free(s.text[f]);
}

/* Stage JSON (one watch event) in PER_OBJECT mode: the batch (not NULL). */
static struct engine_batch *event(struct engine *e, const char *json,
				  struct svcnft_errors *errs)
{
	struct svcnft_model *m = svcnft_model_new();
	struct engine_batch *b;

	svcnft_model_load_buffer(m, "kubectl", json, strlen(json), errs);
	engine_validate(e, m, ENGINE_PER_OBJECT, errs);
	engine_stage_objects(e, m);
	svcnft_model_free(m);
	b = engine_prepare(e, ENGINE_PER_OBJECT, errs);
	assert_non_null(b);
	return b;
}

/* Stage JSON (one event) in PER_OBJECT mode and commit; the skipped count. */
static size_t per_object(struct engine *e, const char *json)
{
	struct svcnft_errors errs = {0};
	struct engine_batch *b = event(e, json, &errs);
	size_t skipped = b->objects_skipped;

	engine_commit(e, b);
	svcnft_errors_free(&errs);
	return skipped;
}

/* Whether the engine's table has element EL in SET. */
static bool has_elem(const struct engine *e, const char *set, const char *el)
{
	struct elements els;
	const struct el_set *s;
	bool r = false;

	engine_elements(e, &els);
	s = elements_find(&els, set);
	for (size_t i = 0; s && i < s->el.n; i++)
		r = r || !strcmp(s->el.v[i], el);
	elements_free(&els);
	return r;
}

static bool has_vip(const struct engine *e, const char *vip)
{
	return has_elem(e, "cluster-ips4", vip);
}

#define SVC(name, ip, port) "{\"kind\":\"Service\",\"metadata\":{\"name\":\"" name \
	"\",\"namespace\":\"default\"},\"spec\":{\"clusterIP\":\"" ip "\",\"ports\":[{\"port\":" port "}]}}"

/* An agent following a cluster: a bad object is left out, its last good
 * version stays, the good objects of the same batch go in. */
static void test_per_object(void **state)
{
	struct svcnft_cidr c;
	struct svcnft_config cfg = { .table = "svcnft", .service_cidrs = &c, .n_service_cidrs = 1 };
	struct engine *e;

	(void)state;
	svcnft_cidr_parse("10.0.0.0/24", &c);
	e = engine_new(&cfg);
	assert_int_equal(per_object(e, "[" SVC("a", "10.0.0.1", "80") "," SVC("b", "10.0.0.2", "80") "]"), 0);
	assert_true(has_vip(e, "10.0.0.1") && has_vip(e, "10.0.0.2"));
	/* b takes a's address (refused: b stays at .2), c is new; a bad port */
	assert_int_equal(per_object(e, "[" SVC("b", "10.0.0.1", "80") "," SVC("c", "10.0.0.3", "80") ","
				    SVC("a", "10.0.0.1", "0") "]"), 2);
	assert_true(has_vip(e, "10.0.0.1") && has_vip(e, "10.0.0.2") && has_vip(e, "10.0.0.3"));
	assert_int_equal(engine_services(e), 3);
	engine_stage_delete(e, ENGINE_SERVICE, "default", "a");
	{
		struct svcnft_errors errs = {0};

		engine_commit(e, engine_prepare(e, ENGINE_PER_OBJECT, &errs));
		svcnft_errors_free(&errs);
	}
	assert_false(has_vip(e, "10.0.0.1"));
	/* now b may move there */
	assert_int_equal(per_object(e, SVC("b", "10.0.0.1", "80")), 0);
	assert_true(has_vip(e, "10.0.0.1") && !has_vip(e, "10.0.0.2"));
	engine_free(e);
}

/* The cluster IP of service default/NAME the engine holds, or NULL. */
static const char *vip_of(const struct engine *e, const char *name)
{
	struct svcnft_model *m = engine_view(e);
	const char *r = NULL;

	for (size_t i = 0; i < m->n_svcs; i++)
		if (!strcmp(m->svcs[i].name, name))
			r = m->svcs[i].cluster_ip;
	engine_view_free(m);
	return r;
}

/* Conflicts in one batch are the newcomer's, as the API server refuses the
 * later claim: an address given up in the batch may be taken in it. */
static void test_per_object_claims(void **state)
{
	struct svcnft_cidr c;
	struct svcnft_config cfg = { .table = "svcnft", .service_cidrs = &c, .n_service_cidrs = 1 };
	struct svcnft_model *m = svcnft_model_new();
	struct svcnft_errors errs = {0};
	struct engine *e;
	struct engine_batch *b;
	const char *json = "[" SVC("a", "192.168.0.1", "80") "," SVC("b", "10.0.0.3", "80") ","
			   SVC("c", "nonsense", "80") "," SVC("d", "10.0.0.2", "80") ","
			   SVC("a2", "10.0.0.9", "80") "," SVC("z2", "10.0.0.9", "80") "]";
	char *text;

	(void)state;
	svcnft_cidr_parse("10.0.0.0/24", &c);
	e = engine_new(&cfg);
	per_object(e, "[" SVC("a", "10.0.0.1", "80") "," SVC("b", "10.0.0.2", "80") ","
		   SVC("m", "10.0.0.9", "80") "]");
	svcnft_model_load_buffer(m, "src", json, strlen(json), &errs);
	engine_validate(e, m, ENGINE_PER_OBJECT, &errs);
	engine_stage_objects(e, m);
	svcnft_model_free(m);
	b = engine_prepare(e, ENGINE_PER_OBJECT, &errs);
	for (size_t i = 0; getenv("ENGINE_DEBUG") && i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.v[i].text);
	assert_int_equal(b->objects_skipped, 4);
	engine_commit(e, b);
	assert_string_equal(vip_of(e, "m"), "10.0.0.9");
	assert_null(vip_of(e, "a2"));
	assert_null(vip_of(e, "z2"));
	assert_string_equal(vip_of(e, "a"), "10.0.0.1");
	assert_string_equal(vip_of(e, "b"), "10.0.0.3");
	assert_null(vip_of(e, "c"));
	assert_string_equal(vip_of(e, "d"), "10.0.0.2");
	text = NULL;
	for (size_t i = 0; i < errs.n; i++) {
		size_t n = text ? strlen(text) : 0;

		text = xrealloc(text, n + strlen(errs.v[i].text) + 2);
		sprintf(text + n, "%s\n", errs.v[i].text);
	}
	assert_non_null(strstr(text, "src: Service \"default/a\" is invalid: spec.clusterIPs"));
	assert_non_null(strstr(text, "src: warning: Service \"default/a\": this version is skipped; the last valid version stays"));
	assert_non_null(strstr(text, "src: warning: Service \"default/c\": skipped: no valid version of it was seen"));
	assert_non_null(strstr(text, "src: warning: Service \"default/a2\": skipped: no valid version of it was seen"));
	free(text);
	svcnft_errors_free(&errs);
	engine_free(e);
}

/* Stage JSON as file NAME (ALL_OR_NOTHING). */
static void stage_json(struct engine *e, const char *name, const char *json,
		       struct svcnft_errors *errs)
{
	struct svcnft_model *m = svcnft_model_new();

	svcnft_model_load_buffer(m, name, json, strlen(json), errs);
	engine_validate(e, m, ENGINE_ALL_OR_NOTHING, errs);
	engine_stage_file(e, name, m);
	svcnft_model_free(m);
}

/* Two files of one batch define a Service: the later one is refused. */
static void test_duplicate_in_batch(void **state)
{
	struct svcnft_cidr c;
	struct svcnft_config cfg = { .table = "svcnft", .service_cidrs = &c, .n_service_cidrs = 1 };
	struct svcnft_errors errs = {0};
	struct engine *e;
	struct engine_batch *b;

	(void)state;
	svcnft_cidr_parse("10.0.0.0/24", &c);
	e = engine_new(&cfg);
	stage_json(e, "a.json", SVC("x", "10.0.0.1", "80"), &errs);
	stage_json(e, "b.json", SVC("x", "10.0.0.2", "80"), &errs);
	assert_null(engine_prepare(e, ENGINE_ALL_OR_NOTHING, &errs));
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.v[0].text, "b.json: Service \"default/x\" is invalid: metadata.name: "
			    "Duplicate value: \"x\": also defined in a.json");
	stage_json(e, "a.json", SVC("x", "10.0.0.1", "80"), &errs);
	b = engine_prepare(e, ENGINE_ALL_OR_NOTHING, &errs);
	assert_non_null(b);
	engine_commit(e, b);
	assert_string_equal(vip_of(e, "x"), "10.0.0.1");
	svcnft_errors_free(&errs);
	engine_free(e);
}

/* A ServiceCIDR object in a snapshot widens the range of its services. */
static void test_snapshot_service_cidr(void **state)
{
	struct svcnft_cidr c;
	struct svcnft_config cfg = { .table = "svcnft", .service_cidrs = &c, .n_service_cidrs = 1 };
	struct svcnft_model *m = svcnft_model_new();
	struct svcnft_errors errs = {0};
	const char *json = "[{\"kind\":\"ServiceCIDR\",\"apiVersion\":\"networking.k8s.io/v1\","
			   "\"metadata\":{\"name\":\"more\"},\"spec\":{\"cidrs\":[\"10.9.0.0/24\"]}},"
			   SVC("x", "10.9.0.5", "80") "]";
	struct engine *e;

	(void)state;
	svcnft_cidr_parse("10.0.0.0/24", &c);
	svcnft_model_load_buffer(m, "s.json", json, strlen(json), &errs);
	e = engine_snapshot(&cfg, m, 0, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.v[i].text);
	assert_non_null(e);
	assert_true(has_vip(e, "10.9.0.5"));
	engine_free(e);
	svcnft_model_free(m);
	svcnft_errors_free(&errs);
}

#define CIDR(name, cidr) "{\"kind\":\"ServiceCIDR\",\"apiVersion\":\"networking.k8s.io/v1\"," \
	"\"metadata\":{\"name\":\"" name "\"},\"spec\":{\"cidrs\":[\"" cidr "\"]}}"

/* Batch B changes set SET by one element: added (ADD) or deleted. */
static void one_change(const struct engine_batch *b, const char *set, bool add)
{
	const struct changes *c = &b->changes;

	assert_null(c->full);
	assert_int_equal(c->n_elems, 1);
	assert_int_equal(c->n_sets, 1);
	assert_string_equal(c->sets[0].name, set);
	assert_int_equal(c->sets[0].n_add, add);
	assert_int_equal(c->sets[0].n_del, !add);
	assert_int_equal(b->services_touched, 0);
}

/* follow (cluster IPs allocated by the API server): a ServiceCIDR added,
 * refused when invalid, and deleted is one batch each that changes the
 * service-cidrs set alone; elsewhere (watch) the engine asks for a rebuild. */
static void test_follow_service_cidr(void **state)
{
	struct svcnft_cidr c;
	struct svcnft_config cfg = { .table = "svcnft", .service_cidrs = &c, .n_service_cidrs = 1,
				     .api_allocated = true };
	struct svcnft_errors errs = {0};
	struct engine *e;
	struct engine_batch *b;

	(void)state;
	svcnft_cidr_parse("10.0.0.0/24", &c);
	e = engine_new(&cfg);
	assert_int_equal(per_object(e, SVC("x", "10.0.0.1", "80")), 0);
	b = event(e, CIDR("more", "10.9.0.0/24"), &errs);
	assert_false(b->rebuild);
	one_change(b, "service-cidrs4", true);
	engine_commit(e, b);
	assert_true(has_elem(e, "service-cidrs4", "10.9.0.0/24"));
	assert_int_equal(errs.n, 0);
	b = event(e, CIDR("more", "10.9.1.1/24"), &errs);
	assert_int_equal(b->objects_skipped, 1);
	assert_int_equal(b->changes.n_elems, 0);
	engine_commit(e, b);
	assert_true(errs.n >= 2);
	assert_string_equal(errs.v[errs.n - 1].text, "kubectl: warning: ServiceCIDR \"more\": "
			    "this version is skipped; the last valid version stays");
	assert_non_null(strstr(errs.v[0].text, "ServiceCIDR \"more\" is invalid: spec.cidrs[0]"));
	assert_true(has_elem(e, "service-cidrs4", "10.9.0.0/24"));
	engine_stage_delete(e, ENGINE_SERVICE_CIDR, NULL, "more");
	b = engine_prepare(e, ENGINE_PER_OBJECT, &errs);
	one_change(b, "service-cidrs4", false);
	engine_commit(e, b);
	assert_false(has_elem(e, "service-cidrs4", "10.9.0.0/24"));
	assert_true(has_vip(e, "10.0.0.1"));
	cfg.api_allocated = false;
	b = event(e, CIDR("more", "10.9.0.0/24"), &errs);
	assert_true(b->rebuild);
	engine_abort(e, b);
	svcnft_errors_free(&errs);
	engine_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_property),
		cmocka_unit_test(test_per_object),
		cmocka_unit_test(test_per_object_claims),
		cmocka_unit_test(test_duplicate_in_batch),
		cmocka_unit_test(test_snapshot_service_cidr),
		cmocka_unit_test(test_follow_service_cidr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
