/* json_fast_decode against json_loadb: whenever the fast decoder returns a
 * value, jansson returns the same (types, key order, content); on the
 * golden inputs, on hand-made edge cases and on seeded random mutations. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "json_fast.h"
#include "util.h"

static const char *testdata;

/* 1 if fast decoded TEXT (and then equals jansson), 0 if it declined. */
static int same(const char *text, size_t len)
{
	json_t *f = json_fast_decode(text, len), *j;
	json_error_t je;
	char *a, *b;
	int r;

	if (!f)
		return 0;
	j = json_loadb(text, len, JSON_DECODE_ANY, &je);
	if (!j)
		fail_msg("fast decoded what jansson refuses (%s): %.*s", je.text,
			 (int)(len > 200 ? 200 : len), text);
	a = json_dumps(f, JSON_ENCODE_ANY | JSON_COMPACT);
	b = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
	if (strcmp(a, b) || !json_equal(f, j))
		fail_msg("fast %s\njansson %s", a, b);
	r = 1;
	free(a);
	free(b);
	json_decref(f);
	json_decref(j);
	return r;
}

static int same_str(const char *text)
{
	return same(text, strlen(text));
}

static void test_cases(void **state)
{
	static const char *const decoded[] = {
		"{}", "[]", " {\"a\" : [1, -2, 0, -0, 1.5, -1e3, 2E-2, true, false, null]} ",
		"\"x\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u007f\"", "{\"a\":1,\"b\":2,\"a\":3}",
		"{\"k\\u0061\":{\"x\":[[],{}]}}", "9223372036854775807", "-9223372036854775808",
		"1e-400", "\"\x7f\"",
	};
	static const char *const declined[] = {
		"", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "01", "-", "1.", ".5", "1e",
		"+1", "tru", "true1", "truex", "nul", "\"abc", "\"\\u0000\"", "\"\\u00e9\"",
		"\"caf\xc3\xa9\"", "\"\xff\"", "\"a\tb\"", "\"\\x\"", "\"\\u12\"",
		"9223372036854775808", "1e400", "{\"a\":1}x", "[1 2]", "{1:2}", "\"\\ud800\"",
		"[1]\0",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(decoded); i++)
		if (!same_str(decoded[i]))
			fail_msg("declined: %s", decoded[i]);
	for (size_t i = 0; i < ARRAY_SIZE(declined); i++) {
		size_t n = strlen(declined[i]) + (i + 1 == ARRAY_SIZE(declined));

		if (same(declined[i], n))
			fail_msg("decoded: %s", declined[i]);
	}
}

static size_t n_files, n_decoded;

static void walk(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((e = readdir(d))) {
		struct svcnft_buf p = {0}, b = {0};
		struct stat st;
		size_t k = strlen(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		buf_printf(&p, "%s/%s", dir, e->d_name);
		if (stat(p.data, &st) == 0 && S_ISDIR(st.st_mode)) {
			walk(p.data);
		} else if (k > 5 && !strcmp(e->d_name + k - 5, ".json") &&
			   buf_read_file(&b, p.data)) {
			n_files++;
			n_decoded += (size_t)same(b.data, b.len);
		}
		svcnft_buf_free(&b);
		svcnft_buf_free(&p);
	}
	closedir(d);
}

static void test_testdata(void **state)
{
	(void)state;
	walk(testdata);
	print_message("%zu of %zu JSON files decoded by the fast path\n", n_decoded, n_files);
	assert_true(n_files > 50);
	assert_true(n_decoded * 2 > n_files);	/* mostly the fast path */
}

/* Seeded mutations of a document: byte replaced, deleted or inserted. */
static void test_mutations(void **state)
{
	static const char doc[] =
		"{\"kind\":\"Service\",\"metadata\":{\"name\":\"a\\\"b\",\"labels\":{}},"
		"\"spec\":{\"ports\":[{\"port\":80,\"x\":-1.5e2,\"y\":0}],\"t\":true,\"n\":null}}";
	static const char alphabet[] = "{}[]\":,.-+eE0123456789tfnulrsa\\/ \t\n\x01\x80\xc3";
	char buf[sizeof(doc) + 8];
	size_t decoded = 0;

	(void)state;
	srand(11);
	for (int i = 0; i < 20000; i++) {
		size_t n = sizeof(doc) - 1, at;

		memcpy(buf, doc, n);
		for (int k = 1 + rand() % 3; k > 0; k--) {
			at = (size_t)rand() % n;
			switch (rand() % 3) {
			case 0:
				buf[at] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
				break;
			case 1:
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
				break;
			default:
				if (n + 1 >= sizeof(buf))
					break;
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
				n++;
			}
		}
		decoded += (size_t)same(buf, n);
	}
	print_message("%zu of 20000 mutations decoded by the fast path\n", decoded);
	assert_true(decoded > 100);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_testdata),
		cmocka_unit_test(test_mutations),
	};

	struct svcnft_buf dflt = {0};
	int rc;

	/* without an argument (tests/faults/valgrind.sh): beside this source */
	buf_printf(&dflt, "%.*s../../testdata", (int)(strrchr(__FILE__, '/') + 1 - __FILE__),
		   __FILE__);
	testdata = argc > 1 ? argv[1] : dflt.data;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	svcnft_buf_free(&dflt);
	return rc;
}
