/* explain.c: verdicts, endpoints and masquerade of the plan walk. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "explain.h"
#include "helpers.h"
#include "objects.h"
#include "util.h"

#define EP(ip, node) "{\"addresses\":[\"" ip "\"],\"nodeName\":\"" node "\"}"
#define SLICE(name, eps) \
	"{\"kind\":\"EndpointSlice\",\"apiVersion\":\"discovery.k8s.io/v1\",\"metadata\":{\"name\":\"" name \
	"-s\",\"labels\":{\"kubernetes.io/service-name\":\"" name "\"}},\"addressType\":\"IPv4\"," \
	"\"endpoints\":[" eps "],\"ports\":[{\"port\":8080}]}"

static const char cluster[] =
	SVC("web", "10.0.0.1", "", "{\"port\":80,\"targetPort\":8080}")
	SLICE("web", EP("10.244.1.2", "a") "," EP("10.244.2.2", "b"))
	SVC("empty", "10.0.0.2", "", "{\"port\":80}")
	/* a node port with Local policy: only node a's endpoint */
	SVC("np", "10.0.0.3", ",\"type\":\"NodePort\",\"externalTrafficPolicy\":\"Local\"",
	    "{\"port\":80,\"nodePort\":30080}")
	SLICE("np", EP("10.244.1.3", "a") "," EP("10.244.2.3", "b"))
	SVC("remote", "10.0.0.4", ",\"type\":\"NodePort\",\"externalTrafficPolicy\":\"Local\"",
	    "{\"port\":80,\"nodePort\":30081}")
	SLICE("remote", EP("10.244.2.4", "b"));

struct t {
	struct fixture fx;
	struct plan p;
	struct ipaddr local;
	struct explain_result r;
	char got[512];
};

static void setup(struct t *t, bool pod_cidr)
{
	fx_init(&t->fx);
	if (pod_cidr) {
		assert_true(svcnft_cidr_parse("10.244.0.0/16", &t->fx.pod_cidrs[0]));
		t->fx.cfg.n_cluster_cidrs = 1;
	}
	t->fx.cfg.node_name = "a";
	fx_valid(&t->fx, cluster);
	plan_build(&t->p, t->fx.m, &t->fx.cfg);
	assert_true(ipaddr_parse("192.168.1.1", &t->local));
}

static void teardown(struct t *t)
{
	plan_free(&t->p);
	fx_free(&t->fx);
}

/* "VERDICT SERVICE [ENDPOINTS] masq|-" of a walk from SRC ("" unknown,
 * "node") to DST:PORT. */
static const char *walk(struct t *t, const char *src, const char *dst,
			uint16_t port)
{
	struct explain_packet pk = { .proto = PROTO_TCP, .port = port,
				     .local = &t->local, .n_local = 1 };
	struct svcnft_buf b = {0};

	assert_true(ipaddr_parse(dst, &pk.dst));
	pk.from_node = !strcmp(src, "node");
	pk.src_known = *src != '\0';
	if (pk.from_node)
		pk.src = t->local;
	else if (*src)
		assert_true(ipaddr_parse(src, &pk.src));
	explain_walk(&t->p, &pk, &t->r);
	buf_printf(&b, "%s ", explain_verdict_name(t->r.verdict));
	if (t->r.entry)
		explain_service(&b, t->r.entry);
	buf_puts(&b, " [");
	for (size_t i = 0; t->r.verdict == VERDICT_DNAT && i < t->r.entry->n; i++) {
		buf_puts(&b, i ? " " : "");
		explain_endpoint(&b, &t->r.entry->backends[i]);
	}
	buf_printf(&b, "] %s%s", t->r.masquerade ? "masq" : "-",
		   t->r.hairpin ? " hairpin" : "");
	snprintf(t->got, sizeof(t->got), "%s", b.data);
	svcnft_buf_free(&b);
	explain_free(&t->r);
	return t->got;
}

static void test_cluster_ip(void **state)
{
	struct t t;

	(void)state;
	setup(&t, false);
	assert_string_equal(walk(&t, "", "10.0.0.1", 80),
			    "dnat default/web:80 [10.244.1.2:8080 10.244.2.2:8080] -");
	assert_string_equal(walk(&t, "", "10.0.0.1", 81), "reject  [] -");
	assert_string_equal(walk(&t, "", "10.0.0.2", 80), "reject  [] -");
	/* an unallocated address of the service CIDR; outside it, no rule */
	assert_string_equal(walk(&t, "", "10.0.0.9", 80), "drop  [] -");
	assert_string_equal(walk(&t, "node", "10.0.0.9", 80), "drop  [] -");
	assert_string_equal(walk(&t, "", "10.1.0.9", 80), "none  [] -");
	/* without --cluster-cidr only hairpin is masqueraded */
	assert_string_equal(walk(&t, "10.244.1.2", "10.0.0.1", 80),
			    "dnat default/web:80 [10.244.1.2:8080 10.244.2.2:8080] - hairpin");
	teardown(&t);
}

static void test_masquerade(void **state)
{
	struct t t;

	(void)state;
	setup(&t, true);
	assert_string_equal(walk(&t, "192.168.1.7", "10.0.0.1", 80),
			    "dnat default/web:80 [10.244.1.2:8080 10.244.2.2:8080] masq");
	assert_string_equal(walk(&t, "10.244.9.9", "10.0.0.1", 80),
			    "dnat default/web:80 [10.244.1.2:8080 10.244.2.2:8080] -");
	assert_string_equal(walk(&t, "node", "10.0.0.1", 80),
			    "dnat default/web:80 [10.244.1.2:8080 10.244.2.2:8080] masq");
	teardown(&t);
}

static void test_node_port_local(void **state)
{
	struct t t;

	(void)state;
	setup(&t, true);
	/* from outside: this node's endpoint only, client address kept */
	assert_string_equal(walk(&t, "192.168.1.7", "192.168.1.1", 30080),
			    "dnat default/np:80 [10.244.1.3:8080] -");
	/* from a pod: every endpoint */
	assert_string_equal(walk(&t, "10.244.9.9", "192.168.1.1", 30080),
			    "dnat default/np:80 [10.244.1.3:8080 10.244.2.3:8080] -");
	/* the node itself: every endpoint, masqueraded */
	assert_string_equal(walk(&t, "node", "192.168.1.1", 30080),
			    "dnat default/np:80 [10.244.1.3:8080 10.244.2.3:8080] masq");
	/* no local endpoint: dropped */
	assert_string_equal(walk(&t, "192.168.1.7", "192.168.1.1", 30081),
			    "drop default/remote:80 [] -");
	/* not a local address, or loopback: no rule */
	assert_string_equal(walk(&t, "192.168.1.7", "192.168.1.2", 30080), "none  [] -");
	assert_string_equal(walk(&t, "node", "127.0.0.1", 30080), "none  [] -");
	teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cluster_ip),
		cmocka_unit_test(test_masquerade),
		cmocka_unit_test(test_node_port_local),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
