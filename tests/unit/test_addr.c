/* Addresses: svcnft_cidr_parse, cidr_contains, ipaddr_parse/format/cmp. */
#include <string.h>
#include <sys/socket.h>

#include "helpers.h"

static void test_cidr_parse_valid(void **state)
{
	static const struct {
		const char *in;
		int family;
		unsigned int plen;
	} t[] = {
		{ "10.96.0.0/12", AF_INET, 12 }, { "10.0.0.0/24", AF_INET, 24 },
		{ "0.0.0.0/0", AF_INET, 0 }, { "192.0.2.1/32", AF_INET, 32 },
		{ "fd00:10:96::/112", AF_INET6, 112 }, { "::/0", AF_INET6, 0 },
		{ "2001:db8::1/128", AF_INET6, 128 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct svcnft_cidr c;

		if (!svcnft_cidr_parse(t[i].in, &c)) {
			print_error("%s refused\n", t[i].in);
			fail();
		}
		assert_int_equal(c.family, t[i].family);
		assert_int_equal(c.plen, t[i].plen);
	}
}

static void test_cidr_parse_invalid(void **state)
{
	static const char *const bad[] = {
		"10.96.0.0", "10.96.0.0/", "10.96.0.0/33", "10.96.0.1/12",
		"10.0.0.0/24x", "10.0.0/24", "/24", "", "fd00::/129",
		"fd00::1/64", "10.0.0.0/-1", "10.0.0.0 /24", "abc/8",
		"10.0.0.0/24/1",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct svcnft_cidr c;

		if (svcnft_cidr_parse(bad[i], &c)) {
			print_error("\"%s\" accepted\n", bad[i]);
			fail();
		}
	}
}

static bool contains(const char *cidr, const char *ip)
{
	struct svcnft_cidr c;
	struct ipaddr a;

	assert_true(svcnft_cidr_parse(cidr, &c));
	assert_true(ipaddr_parse(ip, &a));
	return cidr_contains(&c, &a);
}

static void test_cidr_contains(void **state)
{
	(void)state;
	assert_true(contains("10.96.0.0/12", "10.96.0.1"));
	assert_true(contains("10.96.0.0/12", "10.111.255.255"));
	assert_false(contains("10.96.0.0/12", "10.112.0.0"));
	assert_false(contains("10.96.0.0/12", "10.95.255.255"));
	assert_true(contains("10.0.0.0/24", "10.0.0.0"));
	assert_true(contains("10.0.0.0/24", "10.0.0.255"));
	assert_false(contains("10.0.0.0/24", "10.0.1.0"));
	assert_true(contains("0.0.0.0/0", "203.0.113.9"));
	assert_true(contains("192.0.2.1/32", "192.0.2.1"));
	assert_false(contains("192.0.2.1/32", "192.0.2.0"));
	assert_true(contains("10.0.0.128/25", "10.0.0.200"));
	assert_false(contains("10.0.0.128/25", "10.0.0.127"));
	assert_true(contains("fd00:10:96::/112", "fd00:10:96::ffff"));
	assert_false(contains("fd00:10:96::/112", "fd00:10:96::1:0"));
	assert_true(contains("fc00::/7", "fdff::1"));
	assert_false(contains("fd00::/8", "fe00::1"));
	/* families never mix */
	assert_false(contains("0.0.0.0/0", "::1"));
	assert_false(contains("::/0", "10.0.0.1"));
}

static void test_ipaddr(void **state)
{
	static const char *const good[] = {
		"10.0.0.1", "0.0.0.0", "255.255.255.255", "::", "::1",
		"fd00:10:96::a", "2001:db8::1",
	};
	static const char *const bad[] = {
		"10.0.0.300", "10.0.0", "abc", "", "10.0.0.1 ", " 10.0.0.1",
		"fd00::g", "1::2::3", "10.0.0.1/32",
	};
	struct ipaddr a, b;
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_true(ipaddr_parse(good[i], &a));
		ipaddr_format(&a, buf, sizeof(buf));
		assert_string_equal(buf, good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ipaddr_parse(bad[i], &a)) {
			print_error("\"%s\" accepted\n", bad[i]);
			fail();
		}
		assert_int_equal(a.family, 0);
	}
	assert_false(ipaddr_parse(NULL, &a));
	/* canonical form on output */
	assert_true(ipaddr_parse("FD00:0010:0096:0000::000A", &a));
	ipaddr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "fd00:10:96::a");
	/* ordering: IPv4 before IPv6, numeric within a family */
	assert_true(ipaddr_parse("10.0.0.2", &a));
	assert_true(ipaddr_parse("10.0.0.10", &b));
	assert_true(ipaddr_cmp(&a, &b) < 0);
	assert_int_equal(ipaddr_cmp(&a, &a), 0);
	assert_true(ipaddr_parse("::1", &b));
	assert_true(ipaddr_cmp(&a, &b) < 0);
	assert_true(ipaddr_cmp(&b, &a) > 0);
}

static void test_proto_and_table(void **state)
{
	(void)state;
	assert_int_equal(proto_parse(NULL), PROTO_TCP);
	assert_int_equal(proto_parse("TCP"), PROTO_TCP);
	assert_int_equal(proto_parse("UDP"), PROTO_UDP);
	assert_int_equal(proto_parse("SCTP"), PROTO_SCTP);
	assert_int_equal(proto_parse("tcp"), PROTO_INVALID);
	assert_int_equal(proto_parse(""), PROTO_TCP);	/* defaulted like absent */
	assert_string_equal(proto_name(PROTO_SCTP), "sctp");
	assert_string_equal(proto_upper(PROTO_UDP), "UDP");
	assert_true(svcnft_table_name_valid("svcnft"));
	assert_true(svcnft_table_name_valid("Kube_proxy-2"));
	assert_false(svcnft_table_name_valid(""));
	assert_false(svcnft_table_name_valid("1abc"));
	assert_false(svcnft_table_name_valid("a b"));
	assert_false(svcnft_table_name_valid("a;b"));
	assert_false(svcnft_table_name_valid("a\"b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_parse_valid),
		cmocka_unit_test(test_cidr_parse_invalid),
		cmocka_unit_test(test_cidr_contains),
		cmocka_unit_test(test_ipaddr),
		cmocka_unit_test(test_proto_and_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
