/* nlload: what a full replace and an incremental update send (nlload.h);
 * kernel/nlbatch.c builds and sends the batches. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "changes.h"
#include "elements.h"
#include "kernel.h"
#include "live.h"
#include "netlink.h"
#include "nlbatch.h"
#include "nlload.h"
#include "util.h"

/* Keys and data as nft lays out a concatenation: every part in whole
 * 32-bit registers, numbers in network order except numgen's (host). */

static void k_addr(uint8_t *b, size_t *n, const struct ipaddr *a)
{
	size_t len = a->family == AF_INET6 ? 16 : 4;

	memcpy(b + *n, a->a, len);
	*n += len;
}

static void k_proto(uint8_t *b, size_t *n, enum proto p)
{
	static const uint8_t num[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP };

	memset(b + *n, 0, 4);
	b[*n] = num[p];
	*n += 4;
}

static void k_port(uint8_t *b, size_t *n, uint16_t port)
{
	memset(b + *n, 0, 4);
	b[*n] = (uint8_t)(port >> 8);
	b[*n + 1] = (uint8_t)port;
	*n += 4;
}

static void k_u32(uint8_t *b, size_t *n, uint32_t v)
{
	memcpy(b + *n, &v, 4);
	*n += 4;
}

/* "[VIP . ]protocol . port" of entry E. */
static void k_entry(struct elem *el, const struct plan_entry *e)
{
	if (!plan_views[e->view].nodeport)
		k_addr(el->key, &el->klen, &e->vip);
	k_proto(el->key, &el->klen, e->proto);
	k_port(el->key, &el->klen, e->port);
}

struct enc {
	struct elw w;
	const struct plan_family *f;
	struct svcnft_buf tmp;
};

static void enc_set(struct enc *x, const char *base)
{
	nb_elw_close(&x->w);
	snprintf(x->w.set, sizeof(x->w.set), "%s%s", base, x->f->sfx);
}

static void enc_addrs(struct enc *x)
{
	const struct plan_family *f = x->f;

	enc_set(x, "cluster-ips");
	for (size_t i = 0; i < f->n_vips; i++) {
		struct elem el = {0};

		k_addr(el.key, &el.klen, &f->vips[i]);
		nb_elw_add(&x->w, &el);
	}
	enc_set(x, "hairpin");
	for (size_t i = 0; i < f->n_hairpin; i++) {
		struct elem el = {0};

		k_addr(el.key, &el.klen, &f->hairpin[i]);
		k_addr(el.key, &el.klen, &f->hairpin[i]);
		nb_elw_add(&x->w, &el);
	}
}

static void enc_ports(struct enc *x)
{
	const struct plan_family *f = x->f;

	enc_set(x, "service-ports");
	for (size_t i = 0; i < f->n_e; i++) {
		struct elem el = {0};

		if (!plan_entry_is_port(&f->e[i]))
			continue;
		k_entry(&el, &f->e[i]);
		nb_elw_add(&x->w, &el);
	}
	enc_set(x, "firewall");
	for (size_t i = 0; i < f->n_fw; i++) {
		struct elem el = {0};

		k_entry(&el, &f->e[f->fw[i].e]);
		nb_elw_add(&x->w, &el);
	}
}

/* A dispatch map: the entry's chain, or reject, or drop. */
static void enc_dispatch(struct enc *x, const char *map)
{
	const struct plan_family *f = x->f;
	char chain[64];

	enc_set(x, map);
	for (size_t i = 0; i < f->n_e; i++) {
		const struct plan_entry *e = &f->e[i];
		struct plan_group g = plan_entry_group(e);
		struct elem el = { .has_verdict = true };

		if (!plan_entry_in_map(e, map))
			continue;
		k_entry(&el, e);
		el.verdict = e->n || e->reject ? NFT_GOTO : NF_DROP;
		if (e->n) {
			plan_chain_lb(chain, sizeof(chain), f, &g);
			el.chain = chain;
		} else if (e->reject) {
			el.chain = "reject-service";
		}
		x->tmp.len = 0;
		plan_entry_comment(&x->tmp, e);
		el.comment = x->tmp.data;
		nb_elw_add(&x->w, &el);
	}
}

/* KEY . slot : backend address . port. */
static void enc_backends(struct enc *x, const char *map)
{
	const struct plan_family *f = x->f;

	enc_set(x, map);
	for (size_t i = 0; i < f->n_e; i++) {
		const struct plan_entry *e = &f->e[i];

		if (strcmp(plan_views[e->view].backends, map))
			continue;
		for (size_t j = 0; j < e->n; j++) {
			struct elem el = {0};

			k_entry(&el, e);
			k_u32(el.key, &el.klen,
			      plan_views[e->view].offset + (uint32_t)j);
			k_addr(el.data, &el.dlen, &e->backends[j].ip);
			k_port(el.data, &el.dlen, e->backends[j].port);
			nb_elw_add(&x->w, &el);
		}
	}
}

/* KEY : the service port's affinity id. */
static void enc_ids(struct enc *x, const char *map)
{
	const struct plan_family *f = x->f;

	enc_set(x, map);
	for (size_t i = 0; i < f->n_e; i++) {
		const struct plan_entry *e = &f->e[i];
		struct elem el = {0};

		if (!plan_entry_has_id(e) || strcmp(plan_ids_map(e->view), map))
			continue;
		k_entry(&el, e);
		k_u32(el.data, &el.dlen, e->aff_id);
		nb_elw_add(&x->w, &el);
	}
}

/* Every element of the sets el_direct_set() names. */
static void encode(struct msgs *m, const struct plan *p)
{
	static const char *const maps[] = {
		"service-ips", "external-local", "nodeports", "nodeports-local",
	};
	struct enc x = { .w = { .m = m, .table = p->cfg->table } };

	for (int i = 0; i < 2; i++) {
		x.f = &p->fam[i];
		enc_addrs(&x);
		enc_ports(&x);
		for (size_t k = 0; k < ARRAY_SIZE(maps); k++)
			enc_dispatch(&x, maps[k]);
		enc_backends(&x, "backends");
		enc_backends(&x, "nodeport-backends");
		enc_ids(&x, "affinity-ids");
		enc_ids(&x, "nodeport-affinity-ids");
	}
	nb_elw_close(&x.w);
	svcnft_buf_free(&x.tmp);
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
	struct elw w = { .m = m, .table = table };
	struct elem el = { .klen = 3 };

	if (!set)
		return;
	snprintf(w.set, sizeof(w.set), "%s", set);
	nb_elw_add(&w, &el);
	nb_elw_close(&w);
}

/* The result of sending a batch checked against generation GENID: the
 * kernel drops a malformed batch without a word, so success also needs
 * the generation to have moved. */
static int nlload_result(int r, uint32_t genid)
{
	uint32_t now;

	if (r == NB_RESTART)
		return NLLOAD_RESTART;
	if (r == SVCNFT_OK && genid && !live_genid(&now) && now == genid) {
		fputs("svcnft: the kernel did not commit the batch (the ruleset generation did not move)\n",
		      stderr);
		return SVCNFT_EKERNEL;
	}
	return r;
}

int nlload_apply(const struct plan *p, uint32_t genid)
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

	t[0] = nb_now_ms();
	render_nft_plan(&skel, p, true);
	if (!nb_template_start(&tp, skel.data, table))
		goto out;
	encode(&els, p);	/* while the child loads the skeleton */
	t[1] = nb_now_ms();
	if (!nb_template_finish(&tp, &tpl))
		goto out;
	t[2] = nb_now_ms();
	prologue(&head, table, genid);
	if (!replay(&head, &tail, &tpl))
		goto out;
	keep_affinity(&els, p);
	test_fault(&els, table);
	nb_end(&els);
	t[3] = nb_now_ms();
	rc = nlload_result(nb_send(parts, ARRAY_SIZE(parts)), genid);
	t[4] = nb_now_ms();
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

/* Incremental update: element changes encoded from their canonical
 * strings (elements.h), new chains and maps from the template. */

/* The layout of set NAME's elements (el_form), with the address family
 * its name ends in. */
struct form {
	const char *key, *data;
	int family;
};

static bool set_form(const char *name, struct form *f)
{
	size_t n = strlen(name);

	f->family = n && name[n - 1] == '6' ? AF_INET6 : AF_INET;
	return el_form(name, &f->key, &f->data);
}

/* The next space-separated word of *S into W. */
static bool word(const char **s, char *w, size_t n)
{
	size_t len = strcspn(*s, " ");

	if (!len || len >= n)
		return false;
	memcpy(w, *s, len);
	w[len] = '\0';
	*s += len + ((*s)[len] == ' ');
	return true;
}

static bool number(const char *w, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(w, &end, 10);
	return *w >= '0' && *w <= '9' && !*end && !errno && *v <= max;
}

static bool part(const char **s, char kind, int family, uint8_t *b, size_t *n)
{
	struct ipaddr a = { .family = family };
	unsigned long v;
	char w[64];

	if (!word(s, w, sizeof(w)))
		return false;
	switch (kind) {
	case 'a':
		if (inet_pton(family, w, a.a) != 1)
			return false;
		k_addr(b, n, &a);
		return true;
	case 'p':
		for (v = 0; v < PROTO_INVALID && strcmp(w, proto_name((enum proto)v)); v++)
			;
		if (v == PROTO_INVALID)
			return false;
		k_proto(b, n, (enum proto)v);
		return true;
	case 'n':
		if (!number(w, 65535, &v))
			return false;
		k_port(b, n, (uint16_t)v);
		return true;
	default:
		if (!number(w, UINT32_MAX, &v))
			return false;
		k_u32(b, n, (uint32_t)v);
		return true;
	}
}

/* "X . Y . Z" of the kinds KINDS into B (at most CAP bytes). */
static bool parts(const char **s, const char *kinds, int family, uint8_t *b,
		  size_t *n, size_t cap)
{
	char dot[4];

	for (size_t i = 0; kinds[i]; i++) {
		size_t need = kinds[i] == 'a' && family == AF_INET6 ? 16 : 4;

		if (i && (!word(s, dot, sizeof(dot)) || strcmp(dot, ".")))
			return false;
		if (*n + need > cap || !part(s, kinds[i], family, b, n))
			return false;
	}
	return true;
}

/* "goto CHAIN", "jump CHAIN", "drop" or "accept". */
static bool verdict(const char **s, struct elem *e, char *chain, size_t len)
{
	char w[16];

	e->has_verdict = true;
	if (!word(s, w, sizeof(w)))
		return false;
	if (!strcmp(w, "drop") || !strcmp(w, "accept")) {
		e->verdict = *w == 'd' ? NF_DROP : NF_ACCEPT;
		return true;
	}
	if (strcmp(w, "goto") && strcmp(w, "jump"))
		return false;
	e->verdict = *w == 'g' ? NFT_GOTO : NFT_JUMP;
	e->chain = chain;
	return word(s, chain, len);
}

struct parsed {
	struct elem e;
	char comment[256], chain[64];
};

/* Canonical element S of a set of form F into P: the key, and unless
 * KEY_ONLY the comment and data.  False if S is not of that form. */
static bool parse_elem(const struct form *f, const char *s, bool key_only,
		       struct parsed *p)
{
	const char *q;
	char colon[4];

	memset(&p->e, 0, sizeof(p->e));
	if (!parts(&s, f->key, f->family, p->e.key, &p->e.klen, sizeof(p->e.key)))
		return false;
	if (key_only || !*f->data)
		return key_only || !*s;
	if (!strncmp(s, "comment \"", 9) && (q = strchr(s + 9, '"')) &&
	    (size_t)(q - s - 9) < sizeof(p->comment)) {
		memcpy(p->comment, s + 9, (size_t)(q - s - 9));
		p->comment[q - s - 9] = '\0';
		p->e.comment = p->comment;
		s = q + 1 + (q[1] == ' ');
	}
	if (!word(&s, colon, sizeof(colon)) || strcmp(colon, ":"))
		return false;
	if (!strcmp(f->data, "v"))
		return verdict(&s, &p->e, p->chain, sizeof(p->chain)) && !*s;
	return parts(&s, f->data, f->family, p->e.data, &p->e.dlen,
		     sizeof(p->e.data)) && !*s;
}

static bool listed(const char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], name))
			return true;
	return false;
}

/* Deletes (DEL) or adds of every encodable set; false if a string does
 * not parse. */
static bool element_changes(struct msgs *m, const struct changes *c,
			    const char *table, bool del)
{
	struct parsed p;
	struct form f;

	for (size_t i = 0; i < c->n_sets; i++) {
		const struct set_change *sc = &c->sets[i];
		struct elw w = { .m = m, .table = table, .del = del };
		const char **v = del ? sc->del : sc->add;
		size_t n = del ? sc->n_del : sc->n_add;

		if (!set_form(sc->name, &f) ||
		    (del && listed(c->old_objs, c->n_old, sc->name)))
			continue;
		snprintf(w.set, sizeof(w.set), "%s", sc->name);
		for (size_t k = 0; k < n; k++) {
			if (!parse_elem(&f, v[k], del, &p)) {
				if (getenv("SVCNFT_DEBUG_LOADER"))
					fprintf(stderr, "svcnft: batch: cannot encode \"%s\" of set %s\n",
						v[k], sc->name);
				return false;
			}
			nb_elw_add(&w, &p.e);
		}
		nb_elw_close(&w);
	}
	return true;
}

/* Interval sets: their changes are sent as their whole new contents from
 * the template. */
static bool sent_whole(const char *name)
{
	struct form f;

	return !set_form(name, &f);
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

static bool needs_template(const struct changes *c)
{
	for (size_t i = 0; i < c->n_sets; i++)
		if (sent_whole(c->sets[i].name))
			return true;
	return c->n_new > 0;
}

int nlload_update(const struct plan *p, const struct changes *c,
		  uint32_t genid)
{
	const char *table = p->cfg->table;
	struct svcnft_buf skel = {0}, tpl = {0};
	struct msgs m = {0};
	struct msgs *const parts[] = { &m };
	struct template tp;
	int rc = NLLOAD_UNAVAILABLE;

	double t[4];

	t[0] = nb_now_ms();
	if (needs_template(c)) {
		render_nft_plan(&skel, p, true);
		if (!nb_template_start(&tp, skel.data, table) ||
		    !nb_template_finish(&tp, &tpl))
			goto out;
	}
	t[1] = nb_now_ms();
	nb_begin(&m, genid);
	if (!from_template(&m, c, table, &tpl) ||
	    !element_changes(&m, c, table, true) ||
	    !element_changes(&m, c, table, false))
		goto out;
	changes_each_old(c, delete_obj, &(struct del_ctx){ &m, table });
	nb_end(&m);
	t[2] = nb_now_ms();
	rc = nlload_result(nb_send(parts, ARRAY_SIZE(parts)), genid);
	t[3] = nb_now_ms();
	if (getenv("SVCNFT_DEBUG_LOADER"))
		fprintf(stderr, "svcnft: batch: template %.0f ms, encode %.0f ms, send+commit %.0f ms; %zu bytes\n",
			t[1] - t[0], t[2] - t[1], t[3] - t[2], m.b.len);
out:
	svcnft_buf_free(&skel);
	svcnft_buf_free(&tpl);
	nb_msgs_free(&m);
	return rc;
}
