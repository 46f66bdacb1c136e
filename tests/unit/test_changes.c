/* changes.c: the element changes between two versions of a set, whatever
 * the order of either list (compared with a plain quadratic difference). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "changes.h"
#include "helpers.h"
#include "util.h"

#define SET "cluster-ips4"
#define POOL 400

/* Distinct element texts: addresses of 10.0.0.0/16. */
static char pool[POOL][16];

static void fill(struct elements *e, const int *v, size_t n)
{
	struct el_set *s;

	elements_init(e);
	e->exists = e->ours = true;
	s = elements_add_set(e, SET, 0);
	for (size_t i = 0; i < n; i++)
		el_add(&s->el, pool[v[i]], strlen(pool[v[i]]));
	elements_finish(e);
}

static bool has(const int *v, size_t n, int x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* The items IT (N) are the pool strings of A missing from B, in A's order. */
static void expect(const struct item **it, size_t n, const int *a, size_t na,
		   const int *b, size_t nb)
{
	struct svcnft_buf t = {0};
	size_t k = 0;

	for (size_t i = 0; i < na; i++) {
		if (has(b, nb, a[i]))
			continue;
		assert_true(k < n);
		t.len = 0;
		assert_true(item_format(&t, it[k++]));
		assert_string_equal(t.data, pool[a[i]]);
	}
	assert_int_equal(k, n);
	svcnft_buf_free(&t);
}

static void check(const int *live, size_t nl, const int *want, size_t nw)
{
	struct elements l, w;
	struct changes c;
	const struct set_change *sc = NULL;

	fill(&l, live, nl);
	fill(&w, want, nw);
	changes_compute(&c, &w, &l);
	for (size_t i = 0; i < c.n_sets; i++)
		if (!strcmp(c.sets[i].name, SET))
			sc = &c.sets[i];
	if (sc) {
		expect(sc->del, sc->n_del, live, nl, want, nw);
		expect(sc->add, sc->n_add, want, nw, live, nl);
	} else {
		expect(NULL, 0, live, nl, want, nw);
		expect(NULL, 0, want, nw, live, nl);
	}
	changes_free(&c);
	elements_free(&l);
	elements_free(&w);
}

/* WANT from LIVE by edit K of seed S: deletions, insertions, moves to the
 * end, swaps of neighbours, or a shuffle. */
static size_t edit(const int *live, size_t n, int *want, unsigned int *s, int k)
{
	size_t m = 0;
	bool used[POOL] = {0};

	for (size_t i = 0; i < n; i++) {
		used[live[i]] = true;
		if (k % 5 != 0 || rand_r(s) % 8)
			want[m++] = live[i];
		if (k % 5 == 1 && rand_r(s) % 10 == 0)
			for (int x = rand_r(s) % POOL, t = 0; t < POOL; x = (x + 1) % POOL, t++)
				if (!used[x] && !has(live, n, x)) {
					used[x] = true;
					want[m++] = x;
					break;
				}
	}
	for (size_t i = 0; k % 5 == 2 && m > 1 && i < 3; i++) {
		size_t at = (size_t)rand_r(s) % m;
		int x = want[at];

		memmove(want + at, want + at + 1, (m - at - 1) * sizeof(*want));
		want[m - 1] = x;
	}
	for (size_t i = 0; k % 5 == 3 && i + 1 < m; i += 1 + (size_t)rand_r(s) % 7) {
		int x = want[i];

		want[i] = want[i + 1];
		want[i + 1] = x;
	}
	for (size_t i = m; k % 5 == 4 && i > 1; i--) {
		size_t j = (size_t)rand_r(s) % i;
		int x = want[i - 1];

		want[i - 1] = want[j];
		want[j] = x;
	}
	return m;
}

static void test_any_order(void **state)
{
	static int live[POOL], want[2 * POOL];
	unsigned int seed = 11;

	(void)state;
	for (int i = 0; i < POOL; i++)
		snprintf(pool[i], sizeof(pool[i]), "10.0.%d.%d", i / 200, i % 200 + 1);
	for (int round = 0; round < 300; round++) {
		size_t n = (size_t)rand_r(&seed) % (POOL / 2);
		size_t m;

		for (size_t i = 0; i < n; i++)
			live[i] = (int)(i * 2 + (size_t)round % 2);
		m = edit(live, n, want, &seed, round);
		check(live, n, want, m);
		check(want, m, live, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_any_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
