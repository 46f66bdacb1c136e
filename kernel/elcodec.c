/* elcodec: element records <-> netlink attributes (elcodec.h). */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <string.h>

#include "elcodec.h"
#include "kernel.h"
#include "netlink.h"

/* Bytes of elements per message: their list is one attribute, whose
 * length field has 16 bits. */
#define LIST_MAX 60000

/* Records to attributes. */

static void put_value(struct msgs *m, uint16_t type, const uint8_t *p, size_t n)
{
	size_t off = nb_nest_begin(m, type);

	nb_attr(m, NFTA_DATA_VALUE, p, n);
	nb_nest_end(m, off);
}

static void put_data(struct msgs *m, const struct el_record *r)
{
	uint32_t code = htonl((uint32_t)r->verdict);
	size_t d, v;

	if (r->dlen) {
		put_value(m, NFTA_SET_ELEM_DATA, r->data, r->dlen);
		return;
	}
	d = nb_nest_begin(m, NFTA_SET_ELEM_DATA);
	v = nb_nest_begin(m, NFTA_DATA_VERDICT);
	nb_attr(m, NFTA_VERDICT_CODE, &code, sizeof(code));
	if (r->verdict == NFT_GOTO || r->verdict == NFT_JUMP)
		nb_attr_str(m, NFTA_VERDICT_CHAIN, r->chain);
	nb_nest_end(m, v);
	nb_nest_end(m, d);
}

/* A comment as libnftnl stores it: TLV type 0 with the NUL. */
static void put_comment(struct msgs *m, const char *c)
{
	uint8_t u[2 + REC_COMMENT_MAX];
	size_t n = strnlen(c, REC_COMMENT_MAX - 1);

	u[0] = 0;
	u[1] = (uint8_t)(n + 1);
	memcpy(u + 2, c, n);
	u[2 + n] = 0;
	nb_attr(m, NFTA_SET_ELEM_USERDATA, u, n + 3);
}

void elc_put(struct msgs *m, const struct el_record *r, bool key_only)
{
	size_t el = nb_nest_begin(m, NFTA_LIST_ELEM);
	uint32_t flags = htonl(NFT_SET_ELEM_INTERVAL_END);

	put_value(m, NFTA_SET_ELEM_KEY, r->key, r->klen);
	if (r->kelen)
		put_value(m, NFTA_SET_ELEM_KEY_END, r->key_end, r->kelen);
	if (r->interval_end)
		nb_attr(m, NFTA_SET_ELEM_FLAGS, &flags, sizeof(flags));
	if (!key_only && (r->dlen || r->has_verdict))
		put_data(m, r);
	if (!key_only && *r->comment)
		put_comment(m, r->comment);
	nb_nest_end(m, el);
}

/* Attributes to records. */

/* The NFTA_DATA_VALUE inside A into P (at most CAP bytes). */
static bool get_value(const struct nlattr *a, uint8_t *p, size_t *n, size_t cap)
{
	struct nl_attrs t;
	size_t len;

	nl_parse_nested(a, &t);
	if (!t.a[NFTA_DATA_VALUE] ||
	    (len = mnl_attr_get_payload_len(t.a[NFTA_DATA_VALUE])) > cap)
		return false;
	memcpy(p, mnl_attr_get_payload(t.a[NFTA_DATA_VALUE]), len);
	*n = len;
	return true;
}

static bool get_verdict(const struct nlattr *a, struct el_record *r)
{
	struct nl_attrs t, v;
	const char *chain;

	nl_parse_nested(a, &t);
	nl_parse_nested(t.a[NFTA_DATA_VERDICT], &v);
	if (!v.a[NFTA_VERDICT_CODE])
		return false;
	r->has_verdict = true;
	r->verdict = (int32_t)ntohl(mnl_attr_get_u32(v.a[NFTA_VERDICT_CODE]));
	chain = nl_attr_str(&v, NFTA_VERDICT_CHAIN);
	return (size_t)snprintf(r->chain, sizeof(r->chain), "%s", chain) < sizeof(r->chain);
}

static bool get_data(const struct nlattr *a, struct el_record *r)
{
	struct nl_attrs t;

	nl_parse_nested(a, &t);
	if (t.a[NFTA_DATA_VERDICT])
		return get_verdict(a, r);
	return get_value(a, r->data, &r->dlen, sizeof(r->data));
}

bool elc_get(const struct nlattr *a, struct el_record *r)
{
	const char *c = NULL;
	struct nl_attrs e;
	size_t n;

	rec_clear(r);
	nl_parse_nested(a, &e);
	if (!e.a[NFTA_SET_ELEM_KEY] ||
	    !get_value(e.a[NFTA_SET_ELEM_KEY], r->key, &r->klen, sizeof(r->key)))
		return false;
	if (e.a[NFTA_SET_ELEM_KEY_END] &&
	    !get_value(e.a[NFTA_SET_ELEM_KEY_END], r->key_end, &r->kelen, sizeof(r->key_end)))
		return false;
	if (e.a[NFTA_SET_ELEM_FLAGS])
		r->interval_end = ntohl(mnl_attr_get_u32(e.a[NFTA_SET_ELEM_FLAGS])) &
				  NFT_SET_ELEM_INTERVAL_END;
	if (e.a[NFTA_SET_ELEM_DATA] && !get_data(e.a[NFTA_SET_ELEM_DATA], r))
		return false;
	n = kernel_udata_comment(e.a[NFTA_SET_ELEM_USERDATA], &c);
	if (n >= sizeof(r->comment))
		return false;
	memcpy(r->comment, c ? c : "", n);
	r->comment[n] = '\0';
	return true;
}

bool elc_each(const struct nlmsghdr *h, elc_cb cb, void *arg)
{
	const struct nlattr *list, *a;
	struct el_record r;
	struct nl_attrs t;
	const char *end;

	nl_parse(h, &t);
	rec_init(&r, nl_attr_str(&t, NFTA_SET_ELEM_LIST_SET));
	if (!(list = t.a[NFTA_SET_ELEM_LIST_ELEMENTS]))
		return true;
	end = (const char *)mnl_attr_get_payload(list) + mnl_attr_get_payload_len(list);
	for (a = mnl_attr_get_payload(list); mnl_attr_ok(a, (int)(end - (const char *)a));
	     a = mnl_attr_next(a)) {
		if (mnl_attr_get_type(a) != NFTA_LIST_ELEM)
			continue;
		if (!elc_get(a, &r))
			return false;
		cb(&r, arg);
	}
	return true;
}

/* Messages of elements. */

static void open_msg(struct elc_writer *w, const char *set)
{
	char what[128];

	snprintf(w->set, sizeof(w->set), "%s", set);
	snprintf(what, sizeof(what), "%s of set %s",
		 w->del ? "deleting elements" : "the elements", w->set);
	w->msg = nb_msg_begin(w->m, w->del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM,
			      w->del ? 0 : NLM_F_CREATE, what);
	nb_attr_str(w->m, NFTA_SET_ELEM_LIST_TABLE, w->table);
	nb_attr_str(w->m, NFTA_SET_ELEM_LIST_SET, w->set);
	w->list = nb_nest_begin(w->m, NFTA_SET_ELEM_LIST_ELEMENTS);
	w->open = true;
}

void elc_close(struct elc_writer *w)
{
	if (!w->open)
		return;
	nb_nest_end(w->m, w->list);
	nb_msg_end(w->m, w->msg);
	w->open = false;
}

void elc_add(struct elc_writer *w, const struct el_record *r)
{
	if (w->open && (w->m->b.len - w->list > LIST_MAX || strcmp(w->set, r->set)))
		elc_close(w);
	if (!w->open)
		open_msg(w, r->set);
	elc_put(w->m, r, w->del);
}
