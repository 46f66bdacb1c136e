/* Unit tests for the discovery helpers: shell words, DNS names, addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "discovery.h"

static struct ipaddr ip(const char *s)
{
	struct ipaddr a;

	assert_true(ipaddr_parse(s, &a));
	return a;
}

/* What POSIX sh assigns for `X=<word>` (ASSIGNMENT) or passes as the
 * second argument of `set -- --env <word>`. */
static char *sh_eval(const char *word, bool assignment)
{
	char path[] = "/tmp/svcnft-disc-XXXXXX", cmd[64];
	static char out[4096];
	size_t n;
	FILE *f, *p;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	if (assignment)
		fprintf(f, "X=%s\nprintf '%%s' \"$X\"\n", word);
	else
		fprintf(f, "set -- --env %s\nprintf '%%s' \"$2\"\n", word);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "sh %s", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	unlink(path);
	return out;
}

static void test_sh_word(void **state)
{
	static const char *const vals[] = {
		"10.0.0.11", "tcp://[fd00::1]:80", "", "a b", "it's", "$(touch /tmp/svcnft-pwned)",
		"`id`", "x;y", "*", "~", "a\nb", "\\", "'", "''", "\"q\"", "[a-z]*",
	};
	struct svcnft_buf b = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		for (int asg = 0; asg < 2; asg++) {
			b.len = 0;
			buf_add(&b, "", 0);
			disc_sh_word(&b, vals[i], asg);
			assert_string_equal(sh_eval(b.data, asg), vals[i]);
		}
	assert_int_equal(access("/tmp/svcnft-pwned", F_OK), -1);
	/* Safe values stay bare; brackets only in assignments. */
	b.len = 0;
	disc_sh_word(&b, "tcp://10.0.0.11:6379", true);
	assert_string_equal(b.data, "tcp://10.0.0.11:6379");
	b.len = 0;
	disc_sh_word(&b, "tcp://[fd00::1]:80", true);
	assert_string_equal(b.data, "tcp://[fd00::1]:80");
	b.len = 0;
	disc_sh_word(&b, "X=tcp://[fd00::1]:80", false);
	assert_string_equal(b.data, "'X=tcp://[fd00::1]:80'");
	svcnft_buf_free(&b);
}

static void test_reverse(void **state)
{
	char buf[80];
	struct ipaddr a;

	(void)state;
	a = ip("10.0.0.11");
	disc_reverse_name(&a, buf, sizeof(buf));
	assert_string_equal(buf, "11.0.0.10.in-addr.arpa.");
	a = ip("2001:db8::567:89ab");
	disc_reverse_name(&a, buf, sizeof(buf));
	/* RFC 3596 section 2.5's example. */
	assert_string_equal(buf, "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.");
}

static void test_format_dashed(void **state)
{
	static const char *const cases[][3] = {
		{ "10.244.1.5", "10.244.1.5", "10-244-1-5" },
		{ "::a:5", "::a:5", "0--a-5" },
		{ "fd00:20::", "fd00:20::", "fd00-20--0" },
		{ "::ffff:10.1.2.3", "::ffff:a01:203", "0--ffff-a01-203" },
		{ "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", "2001-db8--1-0-0-1" },
		{ "2001:0db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1", "2001-db8-0-1-1-1-1-1" },
		{ "FD00:0:0:1::6", "fd00:0:0:1::6", "fd00-0-0-1--6" },
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ipaddr a = ip(cases[i][0]), back;

		disc_format_ip(&a, buf, sizeof(buf));
		assert_string_equal(buf, cases[i][1]);
		assert_true(ipaddr_parse(buf, &back));
		assert_int_equal(ipaddr_cmp(&a, &back), 0);
		disc_dashed_ip(&a, buf, sizeof(buf));
		assert_string_equal(buf, cases[i][2]);
	}
}

static void test_names(void **state)
{
	char n[400];

	(void)state;
	assert_true(disc_name_ok("a.b.svc.cluster.local."));
	assert_false(disc_name_ok("a.b"));
	assert_false(disc_name_ok("a..b."));
	memset(n, 'x', 63);
	strcpy(n + 63, ".local.");
	assert_true(disc_name_ok(n));
	n[0] = '_';
	memset(n + 1, 'x', 63);
	strcpy(n + 64, ".local.");
	assert_false(disc_name_ok(n));
	/* 4 x 63-byte labels = 256 bytes on the wire. */
	for (int i = 0; i < 4; i++) {
		memset(n + 64 * i, 'y', 63);
		n[64 * i + 63] = '.';
	}
	n[256] = '\0';
	assert_false(disc_name_ok(n));
	n[64 * 3 + 62] = '.';		/* 63+63+63+62: 256 bytes */
	n[64 * 3 + 63] = '\0';
	assert_false(disc_name_ok(n));
	n[64 * 3 + 61] = '.';		/* 63+63+63+61: 255 bytes */
	n[64 * 3 + 62] = '\0';
	assert_true(disc_name_ok(n));
	assert_null(svcnft_dns_zone_check("cluster.local"));
	assert_null(svcnft_dns_zone_check("cluster.local."));
	assert_non_null(svcnft_dns_zone_check("Cluster.local"));
	assert_non_null(svcnft_dns_zone_check(""));
	assert_non_null(svcnft_dns_zone_check("a..b"));
	assert_non_null(svcnft_dns_zone_check("-a.b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sh_word),
		cmocka_unit_test(test_reverse),
		cmocka_unit_test(test_format_dashed),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
