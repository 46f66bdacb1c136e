/* names.c: DNS-1035/1123 labels, subdomains, IANA service names. */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "names.h"

struct name_case {
	const char *in;
	const char *err;	/* NULL = valid; else a substring of the detail */
};

static char *rep(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void run_table(const char *(*rule)(const char *),
		      const struct name_case *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *got = rule(t[i].in);

		if (!t[i].err && got) {
			print_error("\"%s\": unexpected error \"%s\"\n", t[i].in, got);
			fail();
		}
		if (t[i].err && (!got || !strstr(got, t[i].err))) {
			print_error("\"%s\": want error containing \"%s\", got \"%s\"\n",
				    t[i].in, t[i].err, got ? got : "(valid)");
			fail();
		}
	}
}

#define LABEL1035 "a DNS-1035 label must consist"
#define LABEL1123 "a lowercase RFC 1123 label must consist"
#define SUB1123 "a lowercase RFC 1123 subdomain must consist"

static void test_dns1035_label(void **state)
{
	static const struct name_case t[] = {
		{ "a", NULL }, { "my-service", NULL }, { "a1", NULL },
		{ "redis-master", NULL }, { "a-b-c", NULL },
		{ "9x", LABEL1035 }, { "1abc", LABEL1035 }, { "My-Svc", LABEL1035 },
		{ "-a", LABEL1035 }, { "a-", LABEL1035 }, { "a.b", LABEL1035 },
		{ "a_b", LABEL1035 }, { "a b", LABEL1035 }, { "", LABEL1035 },
		{ "x\"; flush ruleset", LABEL1035 }, { "a\nb", LABEL1035 },
		{ "$(x)", LABEL1035 }, { "caf\xc3\xa9", LABEL1035 },
	};
	char *s63 = rep('a', 63), *s64 = rep('a', 64);

	(void)state;
	run_table(check_dns1035_label, t, sizeof(t) / sizeof(t[0]));
	assert_null(check_dns1035_label(s63));
	assert_string_equal(check_dns1035_label(s64), "must be no more than 63 characters");
	free(s63);
	free(s64);
}

static void test_dns1123_label(void **state)
{
	static const struct name_case t[] = {
		{ "a", NULL }, { "9x", NULL }, { "0", NULL }, { "web-1", NULL },
		{ "kube-system", NULL },
		{ "-a", LABEL1123 }, { "a-", LABEL1123 }, { "Web", LABEL1123 },
		{ "a.b", LABEL1123 }, { "a_b", LABEL1123 }, { "", LABEL1123 },
		{ "a\\b", LABEL1123 }, { "{a}", LABEL1123 },
	};
	char *s63 = rep('z', 63), *s64 = rep('z', 64);

	(void)state;
	run_table(check_dns1123_label, t, sizeof(t) / sizeof(t[0]));
	assert_null(check_dns1123_label(s63));
	assert_non_null(strstr(check_dns1123_label(s64), "no more than 63"));
	free(s63);
	free(s64);
}

static void test_dns1123_subdomain(void **state)
{
	static const struct name_case t[] = {
		{ "a", NULL }, { "ep.sub.domain", NULL }, { "web-abc12", NULL },
		{ "9.9", NULL }, { "search.example.com", NULL },
		{ "a..b", SUB1123 }, { ".a", SUB1123 }, { "a.", SUB1123 },
		{ "a.-b", SUB1123 }, { "A.b", SUB1123 }, { "a_b.c", SUB1123 },
		{ "", SUB1123 }, { "a/b", SUB1123 },
	};
	char *s253 = rep('s', 253), *s254 = rep('s', 254);

	(void)state;
	run_table(check_dns1123_subdomain, t, sizeof(t) / sizeof(t[0]));
	/* A 253-character subdomain of 63-character labels is valid. */
	for (size_t i = 63; i < 253; i += 64)
		s253[i] = '.';
	assert_null(check_dns1123_subdomain(s253));
	assert_string_equal(check_dns1123_subdomain(s254), "must be no more than 253 characters");
	free(s253);
	free(s254);
}

static void test_iana_svc_name(void **state)
{
	static const struct name_case t[] = {
		{ "http", NULL }, { "http-alt", NULL }, { "h2c", NULL },
		{ "a", NULL }, { "abcdefghijklmno", NULL }, { "1a", NULL },
		{ "a-1", NULL }, { "", NULL },
		{ "abcdefghijklmnop", "no more than 15 characters" },
		{ "Http", "alpha-numeric characters (a-z, 0-9), and hyphens" },
		{ "a_b", "alpha-numeric" }, { "a.b", "alpha-numeric" },
		{ "a b", "alpha-numeric" }, { "a\"b", "alpha-numeric" },
		{ "a--b", "consecutive hyphens" },
		{ "8080", "at least one letter" }, { "1-2", "at least one letter" },
		{ "-ab", "begin or end with a hyphen" },
		{ "ab-", "begin or end with a hyphen" },
	};

	(void)state;
	run_table(check_iana_svc_name, t, sizeof(t) / sizeof(t[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns1035_label),
		cmocka_unit_test(test_dns1123_label),
		cmocka_unit_test(test_dns1123_subdomain),
		cmocka_unit_test(test_iana_svc_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
