/* stale.c: which conntrack entries a change makes stale. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "helpers.h"
#include "objects.h"
#include "stale.h"

#define UDP53 "{\"name\":\"dns\",\"protocol\":\"UDP\",\"port\":53}"
#define EP53 "{\"name\":\"dns\",\"protocol\":\"UDP\",\"port\":5353}"
#define NP ",\"type\":\"NodePort\",\"externalIPs\":[\"192.0.2.9\"]"
#define NP53 "{\"name\":\"dns\",\"protocol\":\"UDP\",\"port\":53,\"nodePort\":30053}"

/* dns: UDP, node port and external IP; web: TCP (never checked) */
static const char before[] =
	SVC("dns", "10.0.0.10", NP, NP53)
	EPS("dns", A("10.244.0.1") "," A("10.244.0.2"), EP53)
	SVC("web", "10.0.0.20", "", "{\"port\":80}")
	EPS("web", A("10.244.0.3"), "{\"port\":8080}")
	SVC("q", "10.0.0.30", "", "{\"protocol\":\"SCTP\",\"port\":9}")
	EPS("q", A("10.244.0.4"), "{\"protocol\":\"SCTP\",\"port\":9}");
/* dns loses 10.244.0.2, web loses its endpoint, q is gone */
static const char after[] =
	SVC("dns", "10.0.0.10", NP, NP53)
	EPS("dns", A("10.244.0.1"), EP53)
	SVC("web", "10.0.0.20", "", "{\"port\":80}")
	EPS("web", A("10.244.0.5"), "{\"port\":8080}");
/* dns without endpoints */
static const char none[] =
	SVC("dns", "10.0.0.10", NP, NP53);

struct world {
	struct fixture fx[2];
	struct plan p[2];
	struct elements el[2];
	struct changes c;
};

static void world(struct world *w, const char *a, const char *b)
{
	const char *json[2] = { a, b };

	for (int i = 0; i < 2; i++) {
		fx_init(&w->fx[i]);
		w->fx[i].cfg.node_port_min = 30000;
		w->fx[i].cfg.node_port_max = 32767;
		fx_valid(&w->fx[i], json[i]);
		plan_build(&w->p[i], w->fx[i].m, &w->fx[i].cfg);
		elements_from_plan(&w->el[i], &w->p[i]);
	}
	changes_compute(&w->c, &w->el[1], &w->el[0]);
}

static void world_free(struct world *w)
{
	changes_free(&w->c);
	for (int i = 0; i < 2; i++) {
		elements_free(&w->el[i]);
		plan_free(&w->p[i]);
		fx_free(&w->fx[i]);
	}
}

static struct ipaddr ip(const char *s)
{
	struct ipaddr a;

	memset(&a, 0, sizeof(a));
	assert_true(ipaddr_parse(s, &a));
	return a;
}

/* Whether an entry to DST:DPORT replied by RSRC:RPORT would be deleted. */
static bool stale(const struct stale_set *s, enum proto p, const char *dst,
		  uint16_t dport, const char *rsrc, uint16_t rport, bool local)
{
	struct ipaddr d = ip(dst), r = ip(rsrc);
	const struct stale_key *k = stale_find(s, p, &d, dport, local);

	return k && stale_entry(k, &d, dport, &r, rport);
}

static void test_changes(void **state)
{
	struct world w;
	struct stale_set s;

	(void)state;
	world(&w, before, after);
	stale_build(&s, &w.p[1], &w.c, false);
	/* dns by cluster IP, external IP and node port; q (gone); not web */
	assert_int_equal(s.n, 4);
	assert_true(stale(&s, PROTO_UDP, "10.0.0.10", 53, "10.244.0.2", 5353, false));
	assert_false(stale(&s, PROTO_UDP, "10.0.0.10", 53, "10.244.0.1", 5353, false));
	assert_true(stale(&s, PROTO_UDP, "10.0.0.10", 53, "10.244.0.1", 53, false));
	assert_true(stale(&s, PROTO_UDP, "192.0.2.9", 53, "10.244.0.2", 5353, false));
	/* node port: any local address but loopback */
	assert_true(stale(&s, PROTO_UDP, "192.168.1.1", 30053, "10.244.0.2", 5353, true));
	assert_false(stale(&s, PROTO_UDP, "192.168.1.1", 30053, "10.244.0.2", 5353, false));
	assert_false(stale(&s, PROTO_UDP, "127.0.0.1", 30053, "10.244.0.2", 5353, true));
	assert_false(stale(&s, PROTO_UDP, "192.168.1.1", 30053, "10.244.0.1", 5353, true));
	/* never DNATed, while the port has rules: stale */
	assert_true(stale(&s, PROTO_UDP, "10.0.0.10", 53, "10.0.0.10", 53, false));
	/* a gone port: DNATed entries stale, others left alone */
	assert_true(stale(&s, PROTO_SCTP, "10.0.0.30", 9, "10.244.0.4", 9, false));
	assert_false(stale(&s, PROTO_SCTP, "10.0.0.30", 9, "10.0.0.30", 9, false));
	/* TCP, other ports and other addresses: no key */
	assert_false(stale(&s, PROTO_TCP, "10.0.0.20", 80, "10.244.0.3", 8080, false));
	assert_false(stale(&s, PROTO_UDP, "10.0.0.10", 54, "10.244.0.2", 5353, false));
	assert_false(stale(&s, PROTO_UDP, "10.0.0.11", 53, "10.244.0.2", 5353, false));
	stale_free(&s);
	world_free(&w);
}

static void test_none_and_all(void **state)
{
	struct world w;
	struct stale_set s;

	(void)state;
	/* a new service without endpoints: only its cluster IP changes
	 * (the reject check); its entries that never saw a DNAT go */
	world(&w, SVC("web", "10.0.0.20", "", "{\"port\":80}"), none);
	stale_build(&s, &w.p[1], &w.c, false);
	assert_true(stale(&s, PROTO_UDP, "10.0.0.10", 53, "10.0.0.10", 53, false));
	stale_free(&s);
	world_free(&w);

	world(&w, before, none);
	stale_build(&s, &w.p[1], &w.c, false);
	/* no endpoint left: every DNATed entry and every other one */
	assert_true(stale(&s, PROTO_UDP, "10.0.0.10", 53, "10.244.0.1", 5353, false));
	assert_true(stale(&s, PROTO_UDP, "10.0.0.10", 53, "10.0.0.10", 53, false));
	stale_free(&s);
	/* a reconcile without changes: every UDP/SCTP port of the plan */
	stale_build(&s, &w.p[0], NULL, true);
	assert_int_equal(s.n, 4);
	assert_false(stale(&s, PROTO_UDP, "10.0.0.10", 53, "10.244.0.2", 5353, false));
	assert_true(stale(&s, PROTO_UDP, "10.0.0.10", 53, "10.244.0.3", 5353, false));
	assert_false(stale(&s, PROTO_SCTP, "10.0.0.30", 9, "10.244.0.4", 9, false));
	stale_free(&s);
	/* nothing changed: nothing to check */
	stale_build(&s, &w.p[0], NULL, false);
	assert_int_equal(s.n, 0);
	assert_false(stale(&s, PROTO_UDP, "10.0.0.10", 53, "10.244.0.3", 5353, false));
	stale_free(&s);
	world_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_changes),
		cmocka_unit_test(test_none_and_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
