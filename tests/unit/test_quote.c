/* util.c buf_go_quoted: Go's strconv.Quote, and a barrier for terminals. */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "util.h"

struct quote_case {
	const char *in;
	const char *want;	/* what Go's strconv.Quote returns */
};

static void run_quote(const struct quote_case *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct svcnft_buf b = {0};

		buf_go_quoted(&b, t[i].in);
		if (strcmp(b.data, t[i].want)) {
			print_error("case %zu: want %s, got %s\n", i, t[i].want, b.data);
			fail();
		}
		svcnft_buf_free(&b);
	}
}

/* ASCII: quote and backslash escaped, controls named or \xNN. */
static void test_ascii(void **state)
{
	static const struct quote_case t[] = {
		{ "", "\"\"" },
		{ "web-1.default", "\"web-1.default\"" },
		{ "a\"b\\c", "\"a\\\"b\\\\c\"" },
		{ "\a\b\f\n\r\t\v", "\"\\a\\b\\f\\n\\r\\t\\v\"" },
		{ "\x01\x1b[31m\x7f", "\"\\x01\\x1b[31m\\x7f\"" },
	};

	(void)state;
	run_quote(t, ARRAY_SIZE(t));
}

/* Printable runes stay as they are. */
static void test_printable_utf8(void **state)
{
	static const struct quote_case t[] = {
		{ "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
		{ "\xe6\x97\xa5\xe6\x9c\xac", "\"\xe6\x97\xa5\xe6\x9c\xac\"" },
		{ "\xe2\x80\x9cname\xe2\x80\x9d", "\"\xe2\x80\x9cname\xe2\x80\x9d\"" },
		{ "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"" },
		{ "\xef\xbf\xbd", "\"\xef\xbf\xbd\"" },	/* U+FFFD itself */
	};

	(void)state;
	run_quote(t, ARRAY_SIZE(t));
}

/* C1 controls, odd spaces, bidi and zero-width format characters, tags,
 * private use and noncharacters: \u / \U, never raw. */
static void test_unprintable_runes(void **state)
{
	static const struct quote_case t[] = {
		{ "\xc2\x85", "\"\\u0085\"" },
		{ "\xc2\x9b", "\"\\u009b\"" },		/* C1 CSI */
		{ "\xc2\xa0", "\"\\u00a0\"" },
		{ "\xc2\xad", "\"\\u00ad\"" },
		{ "\xe2\x80\x8b", "\"\\u200b\"" },
		{ "\xe2\x80\xa8", "\"\\u2028\"" },
		{ "a\xe2\x80\xaa\xe2\x80\xae", "\"a\\u202a\\u202e\"" },
		{ "\xe2\x81\xa6\xe2\x81\xa9", "\"\\u2066\\u2069\"" },
		{ "\xef\xbb\xbf", "\"\\ufeff\"" },
		{ "\xee\x80\x80", "\"\\ue000\"" },
		{ "\xef\xbf\xbe", "\"\\ufffe\"" },
		{ "\xf3\xa0\x80\x81", "\"\\U000e0001\"" },
		{ "\xf4\x8f\xbf\xbf", "\"\\U0010ffff\"" },
	};

	(void)state;
	run_quote(t, ARRAY_SIZE(t));
}

/* Ill-formed UTF-8: each byte \xNN, decoding resumes at the next. */
static void test_invalid_utf8(void **state)
{
	static const struct quote_case t[] = {
		{ "\xff", "\"\\xff\"" },
		{ "\x80z", "\"\\x80z\"" },
		{ "\xc3", "\"\\xc3\"" },
		{ "\xe2\x80x", "\"\\xe2\\x80x\"" },
		{ "\xc0\xaf", "\"\\xc0\\xaf\"" },		/* overlong "/" */
		{ "\xe0\x80\xaf", "\"\\xe0\\x80\\xaf\"" },	/* overlong */
		{ "\xed\xa0\x80", "\"\\xed\\xa0\\x80\"" },	/* surrogate */
		{ "\xf4\x90\x80\x80", "\"\\xf4\\x90\\x80\\x80\"" },	/* > U+10FFFF */
		{ "\xf8\x88\x80\x80\x80", "\"\\xf8\\x88\\x80\\x80\\x80\"" },
	};

	(void)state;
	run_quote(t, ARRAY_SIZE(t));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii),
		cmocka_unit_test(test_printable_utf8),
		cmocka_unit_test(test_unprintable_runes),
		cmocka_unit_test(test_invalid_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
