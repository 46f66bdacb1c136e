/* nlload: what a full replace and an incremental update send (nlload.h);
 * kernel/nlbatch.c builds and sends the batches. */
#define _GNU_SOURCE
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "changes.h"
#include "elcodec.h"
#include "elements.h"
#include "kernel.h"
#include "live.h"
#include "monotime.h"
#include "netlink.h"
#include "nlbatch.h"
#include "nlload.h"
#include "plan_records.h"
#include "record.h"
#include "render_nft.h"
#include "util.h"

static void enc_one(const struct el_record *r, void *arg)
{
	elc_add(arg, r);
}

/* Every element of the sets el_direct_set() names. */
static void encode(struct msgs *m, const struct plan *p)
{
	struct elc_writer w = { .m = m, .table = p->cfg->table };

	plan_records(p, false, enc_one, &w);
	elc_close(&w);
}

/* Full replace. */

/* The template's objects: table, chains, sets and their elements into
 * HEAD, rules into TAIL; false if it holds something else. */
static bool replay(struct msgs *head, struct msgs *tail,
		   const struct svcnft_buf *tpl)
{
	const struct nlmsghdr *h;
	int len;

	for (h = nb_first(tpl, &len); h; h = nb_next(h, &len)) {
		uint16_t t = nb_type(h);

		if (t != NFT_MSG_NEWTABLE && t != NFT_MSG_NEWCHAIN &&
		    t != NFT_MSG_NEWSET && t != NFT_MSG_NEWSETELEM &&
		    t != NFT_MSG_NEWRULE)
			return false;
		nb_copy(t == NFT_MSG_NEWRULE ? tail : head, h);
	}
	return len == 0;
}

/* Batch begin, then the table created if absent and deleted: what
 * `table inet T {}; delete table inet T` does in the script. */
static void prologue(struct msgs *m, const char *table, uint32_t genid)
{
	size_t off;

	nb_begin(m, genid);
	off = nb_msg_begin(m, NFT_MSG_NEWTABLE, NLM_F_CREATE, "the old table");
	nb_attr_str(m, NFTA_TABLE_NAME, table);
	nb_msg_end(m, off);
	off = nb_msg_begin(m, NFT_MSG_DELTABLE, 0, "the old table");
	nb_attr_str(m, NFTA_TABLE_NAME, table);
	nb_msg_end(m, off);
}

/* The live affinity entries, to be added again with their remaining
 * timeouts, when the live table has this layout (its sets the same keys);
 * nothing on any failure: then the entries are lost, as with a script. */
static void keep_affinity(struct msgs *m, const struct plan *p)
{
	char names[2 * PLAN_N_PROTOS][64];
	const char *v[2 * PLAN_N_PROTOS];
	struct svcnft_buf live = {0};
	const struct nlmsghdr *h;
	const struct nlattr *ud;
	int len, layout = -1;
	size_t n = 0;

	for (int i = 0; i < 2; i++)
		for (int k = 0; k < PLAN_N_PROTOS; k++, n++) {
			plan_affinity_set(names[n], sizeof(names[n]), &p->fam[i],
					  (enum proto)k);
			v[n] = names[n];
		}
	if (nb_dump_live(p->cfg->table, v, n, &live))
		goto out;
	/* the table dump lists every inet table: find ours */
	for (h = nb_first(&live, &len); h && nb_type(h) == NFT_MSG_NEWTABLE;
	     h = nb_next(h, &len))
		if (!strcmp(nb_name(h), p->cfg->table) &&
		    (ud = nl_attr_get(h, NFTA_TABLE_USERDATA)))
			kernel_owner_comment(ud, &layout);
	if (layout != SVCNFT_LAYOUT_VERSION)
		goto out;
	for (h = nb_first(&live, &len); h; h = nb_next(h, &len))
		if (nb_type(h) == NFT_MSG_NEWSETELEM)
			nb_copy(m, h);
out:
	svcnft_buf_free(&live);
}

/* Test aid: SVCNFT_TEST_BAD_ELEMENT=SET adds an element with a key of the
 * wrong length to SET, which the kernel refuses with EINVAL. */
static void test_fault(struct msgs *m, const char *table)
{
	const char *set = getenv("SVCNFT_TEST_BAD_ELEMENT");
	struct elc_writer w = { .m = m, .table = table };
	struct el_record r;

	if (!set)
		return;
	rec_init(&r, set);
	r.klen = 3;
	elc_add(&w, &r);
	elc_close(&w);
}

/* The result of sending a batch (nb_send checks that it committed). */
static int nlload_result(int r)
{
	return r == NB_RESTART ? NLLOAD_RESTART : r;
}

int nlload_apply(const struct plan *p, uint32_t genid, struct kfail *f)
{
	const char *table = p->cfg->table;
	struct svcnft_buf skel = {0}, tpl = {0};
	struct msgs head = {0}, els = { .seq = 1u << 24 },
		    tail = { .seq = 2u << 24 };
	/* the rules before the large sets' elements: a rule binding a set
	 * makes the kernel walk every element already in it (verdict
	 * checks), 20% of a 10k load; elements added to a bound set are
	 * checked one by one */
	struct msgs *const parts[] = { &head, &tail, &els };
	struct template tp;
	int rc = NLLOAD_UNAVAILABLE;
	double t[5];

	t[0] = mono_ms();
	render_nft_plan(&skel, p, true);
	if (!nb_template_start(&tp, skel.data, table))
		goto out;
	encode(&els, p);	/* while the child loads the skeleton */
	t[1] = mono_ms();
	if (!nb_template_finish(&tp, &tpl, f))
		goto out;
	t[2] = mono_ms();
	prologue(&head, table, genid);
	if (!replay(&head, &tail, &tpl))
		goto out;
	keep_affinity(&els, p);
	test_fault(&els, table);
	nb_end(&els);
	t[3] = mono_ms();
	rc = nlload_result(nb_send(parts, ARRAY_SIZE(parts), f));
	t[4] = mono_ms();
	if (getenv("SVCNFT_DEBUG_LOADER"))
		fprintf(stderr, "svcnft: batch: skeleton+encode %.0f ms, template wait %.0f ms, replay %.0f ms, "
			"send+commit %.0f ms; %zu + %zu + %zu bytes\n",
			t[1] - t[0], t[2] - t[1], t[3] - t[2], t[4] - t[3],
			head.b.len, els.b.len, tail.b.len);
out:
	svcnft_buf_free(&skel);
	svcnft_buf_free(&tpl);
	nb_msgs_free(&head);
	nb_msgs_free(&els);
	nb_msgs_free(&tail);
	return rc;
}

void nlload_daemon(void)
{
	nb_template_daemon();
}

/* Incremental update: element changes from their records
 * (compiler/item.h), new chains and maps from the template. */

/* Whether set NAME's elements have an el_form() layout (the others,
 * interval sets, are sent whole). */
static bool has_form(const char *name)
{
	const char *key, *data;

	return el_form(name, &key, &data);
}

static bool listed(const char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], name))
			return true;
	return false;
}

/* Deletes (DEL) or adds of every set with a form. */
static void element_changes(struct msgs *m, const struct changes *c,
			    const char *table, bool del)
{
	struct elc_writer w = { .m = m, .table = table, .del = del };
	struct el_record r;

	for (size_t i = 0; i < c->n_sets; i++) {
		const struct set_change *sc = &c->sets[i];
		const struct item **v = del ? sc->del : sc->add;
		size_t n = del ? sc->n_del : sc->n_add;

		if (!has_form(sc->name) ||
		    (del && listed(c->old_objs, c->n_old, sc->name)))
			continue;
		for (size_t k = 0; k < n; k++) {
			item_unpack(v[k], &r);
			elc_add(&w, &r);
		}
	}
	elc_close(&w);
}

/* Interval sets: their changes are sent as their whole new contents from
 * the template. */
static bool sent_whole(const char *name)
{
	return !has_form(name);
}

/* NAME is an interval set with changes. */
static bool whole_set(const struct changes *c, const char *name)
{
	for (size_t i = 0; i < c->n_sets; i++)
		if (!strcmp(c->sets[i].name, name))
			return sent_whole(name);
	return false;
}

static void flush_set(struct msgs *m, const char *table, const char *set)
{
	char what[128];
	size_t off;

	snprintf(what, sizeof(what), "flushing set %s", set);
	off = nb_msg_begin(m, NFT_MSG_DELSETELEM, 0, what);
	nb_attr_str(m, NFTA_SET_ELEM_LIST_TABLE, table);
	nb_attr_str(m, NFTA_SET_ELEM_LIST_SET, set);
	nb_msg_end(m, off);
}

/* From the template: new chains and maps, their rules, and the whole
 * contents of the interval sets that changed (flushed first). */
static bool from_template(struct msgs *m, const struct changes *c,
			  const char *table, const struct svcnft_buf *tpl)
{
	const struct nlmsghdr *h;
	int len;

	for (size_t i = 0; i < c->n_sets; i++)
		if (sent_whole(c->sets[i].name))
			flush_set(m, table, c->sets[i].name);
	for (h = nb_first(tpl, &len); h; h = nb_next(h, &len)) {
		const char *name = nb_name(h);
		bool is_new = listed(c->new_objs, c->n_new, name);

		switch (nb_type(h)) {
		case NFT_MSG_NEWSET:
			/* an anonymous set of a new rule would need a
			 * name free in the live table: not done here */
			if (c->n_new && !strncmp(name, "__", 2))
				return false;
			/* fall through */
		case NFT_MSG_NEWCHAIN:
		case NFT_MSG_NEWRULE:
			if (is_new)
				nb_copy(m, h);
			break;
		case NFT_MSG_NEWSETELEM:
			if (whole_set(c, name))
				nb_copy(m, h);
			break;
		default:
			break;
		}
	}
	return true;
}

struct del_ctx {
	struct msgs *m;
	const char *table;
};

static void delete_obj(const char *name, bool set, void *arg)
{
	struct del_ctx *d = arg;
	char what[128];
	size_t off;

	snprintf(what, sizeof(what), "deleting %s %s", set ? "map" : "chain", name);
	off = nb_msg_begin(d->m, set ? NFT_MSG_DELSET : NFT_MSG_DELCHAIN, 0, what);
	nb_attr_str(d->m, set ? NFTA_SET_TABLE : NFTA_CHAIN_TABLE, d->table);
	nb_attr_str(d->m, set ? NFTA_SET_NAME : NFTA_CHAIN_NAME, name);
	nb_msg_end(d->m, off);
}

/* The template of changes C: their new objects and the interval sets
 * sent whole (render_nft_template); false if P lacks one. */
static bool render_template(struct svcnft_buf *b, const struct plan *p,
			    const struct changes *c)
{
	const char **whole = xcalloc(c->n_sets + 1, sizeof(*whole));
	size_t n = 0;
	bool ok;

	for (size_t i = 0; i < c->n_sets; i++)
		if (sent_whole(c->sets[i].name))
			whole[n++] = c->sets[i].name;
	ok = render_nft_template(b, p, c->new_objs, c->n_new, whole, n);
	free(whole);
	return ok;
}

static bool needs_template(const struct changes *c)
{
	for (size_t i = 0; i < c->n_sets; i++)
		if (sent_whole(c->sets[i].name))
			return true;
	return c->n_new > 0;
}

int nlload_update(const struct plan *p, const struct changes *c,
		  uint32_t genid, struct kfail *f)
{
	const char *table = p->cfg->table;
	struct svcnft_buf skel = {0}, tpl = {0};
	struct msgs m = {0};
	struct msgs *const parts[] = { &m };
	struct template tp;
	int rc = NLLOAD_UNAVAILABLE;

	double t[4];

	t[0] = mono_ms();
	if (needs_template(c)) {
		if (!render_template(&skel, p, c) ||
		    !nb_template_start(&tp, skel.data, table) ||
		    !nb_template_finish(&tp, &tpl, f))
			goto out;
	}
	t[1] = mono_ms();
	nb_begin(&m, genid);
	if (!from_template(&m, c, table, &tpl))
		goto out;
	element_changes(&m, c, table, true);
	element_changes(&m, c, table, false);
	changes_each_old(c, delete_obj, &(struct del_ctx){ &m, table });
	nb_end(&m);
	t[2] = mono_ms();
	rc = nlload_result(nb_send(parts, ARRAY_SIZE(parts), f));
	t[3] = mono_ms();
	if (getenv("SVCNFT_DEBUG_LOADER"))
		fprintf(stderr, "svcnft: batch: template %.0f ms, encode %.0f ms, send+commit %.0f ms; %zu bytes\n",
			t[1] - t[0], t[2] - t[1], t[3] - t[2], m.b.len);
out:
	svcnft_buf_free(&skel);
	svcnft_buf_free(&tpl);
	nb_msgs_free(&m);
	return rc;
}
