/* record: set elements as the kernel's bytes, and their canonical text. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "elements.h"
#include "record.h"
#include "util.h"

void rec_clear(struct el_record *r)
{
	r->klen = r->dlen = r->kelen = 0;
	r->has_verdict = r->interval_end = false;
	r->verdict = 0;
	r->chain[0] = r->comment[0] = '\0';
}

void rec_init(struct el_record *r, const char *set)
{
	snprintf(r->set, sizeof(r->set), "%s", set);
	rec_clear(r);
}

/* Appending parts: every part in whole 32-bit registers. */

static size_t addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static void put_addr(uint8_t *b, size_t *n, const struct ipaddr *a)
{
	size_t len = addr_len(a->family);

	memcpy(b + *n, a->a, len);
	*n += len;
}

static void put_reg(uint8_t *b, size_t *n, const void *p, size_t len)
{
	memset(b + *n, 0, 4);
	memcpy(b + *n, p, len);
	*n += 4;
}

static const uint8_t proto_num[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP };

static void put_proto(uint8_t *b, size_t *n, enum proto p)
{
	put_reg(b, n, &proto_num[p], 1);
}

static void put_port(uint8_t *b, size_t *n, uint16_t port)
{
	uint16_t be = htons(port);

	put_reg(b, n, &be, 2);
}

static void put_u32(uint8_t *b, size_t *n, uint32_t v)
{
	put_reg(b, n, &v, 4);
}

/* From the plan. */

void rec_addr(struct el_record *r, const struct ipaddr *a)
{
	rec_clear(r);
	put_addr(r->key, &r->klen, a);
}

void rec_hairpin(struct el_record *r, const struct ipaddr *a)
{
	rec_clear(r);
	put_addr(r->key, &r->klen, a);
	put_addr(r->key, &r->klen, a);
}

void rec_entry(struct el_record *r, const struct plan_entry *e)
{
	rec_clear(r);
	if (!plan_views[e->view].nodeport)
		put_addr(r->key, &r->klen, &e->vip);
	put_proto(r->key, &r->klen, e->proto);
	put_port(r->key, &r->klen, e->port);
}

void rec_dispatch(struct el_record *r, const struct plan_family *f,
		  const struct plan_entry *e)
{
	struct plan_group g = plan_entry_group(e);
	struct svcnft_buf c = {0};

	rec_entry(r, e);
	r->has_verdict = true;
	r->verdict = e->n || e->reject ? NFT_GOTO : NF_DROP;
	if (e->n)
		plan_chain_lb(r->chain, sizeof(r->chain), f, &g);
	else if (e->reject)
		snprintf(r->chain, sizeof(r->chain), "reject-service");
	plan_entry_comment(&c, e);
	snprintf(r->comment, sizeof(r->comment), "%s", c.data);
	svcnft_buf_free(&c);
}

void rec_backend(struct el_record *r, const struct plan_entry *e,
		 size_t slot)
{
	rec_entry(r, e);
	put_u32(r->key, &r->klen, plan_views[e->view].offset + (uint32_t)slot);
	put_addr(r->data, &r->dlen, &e->backends[slot].ip);
	put_port(r->data, &r->dlen, e->backends[slot].port);
}

void rec_id(struct el_record *r, const struct plan_entry *e)
{
	rec_entry(r, e);
	put_u32(r->data, &r->dlen, e->aff_id);
}

void rec_slot(struct el_record *r, size_t slot, const char *chain)
{
	rec_clear(r);
	put_u32(r->key, &r->klen, (uint32_t)slot);
	r->has_verdict = true;
	r->verdict = NFT_GOTO;
	snprintf(r->chain, sizeof(r->chain), "%s", chain);
}

/* Append the range of C to the key (its first address) and to key_end
 * (its last), key_end starting as a copy of the key's parts so far. */
static void put_range(struct el_record *r, const struct svcnft_cidr *c)
{
	size_t alen = addr_len(c->family), bits = alen * 8;

	memcpy(r->key_end, r->key, r->klen);
	r->kelen = r->klen;
	memcpy(r->key + r->klen, c->addr, alen);
	memcpy(r->key_end + r->kelen, c->addr, alen);
	for (size_t i = c->plen; i < bits; i++)
		r->key_end[r->kelen + i / 8] |= (uint8_t)(0x80 >> (i % 8));
	r->klen += alen;
	r->kelen += alen;
}

void rec_cidr(struct el_record *r, const struct svcnft_cidr *c)
{
	rec_clear(r);
	put_range(r, c);
}

void rec_fw(struct el_record *r, const struct plan_entry *e,
	    const struct svcnft_cidr *c)
{
	rec_entry(r, e);
	put_range(r, c);
}

/* The layout of a set's elements: el_form()'s part kinds ('a' address,
 * 'p' protocol, 'n' port, 's' slot or id, 'v' verdict) and the family
 * its name ends in. */
struct form {
	const char *key, *data;
	int family;
};

static bool form_of(const char *name, struct form *f)
{
	size_t n = strlen(name);

	f->family = n && name[n - 1] == '6' ? AF_INET6 : AF_INET;
	return el_form(name, &f->key, &f->data);
}

/* Bytes of the parts KINDS. */
static size_t form_len(const char *kinds, int family)
{
	size_t n = 0;

	for (; *kinds; kinds++)
		n += *kinds == 'a' ? addr_len(family) : 4;
	return n;
}

/* Text of records. */

static void fmt_addr(struct svcnft_buf *b, int family, const uint8_t *p)
{
	char s[INET6_ADDRSTRLEN];

	if (family == AF_INET) {	/* inet_ntop's text, without its sprintf */
		for (int i = 0; i < 4; i++) {
			if (i)
				buf_putc(b, '.');
			buf_putu(b, p[i]);
		}
		return;
	}
	inet_ntop(family, p, s, sizeof(s));
	buf_puts(b, s);
}

static uint32_t host_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* The parts KINDS of P, " . "-separated; returns the bytes read. */
static size_t fmt_parts(struct svcnft_buf *b, const char *kinds, int family,
			const uint8_t *p)
{
	const uint8_t *start = p;

	for (size_t i = 0; kinds[i]; i++) {
		if (i)
			buf_puts(b, " . ");
		switch (kinds[i]) {
		case 'a':
			fmt_addr(b, family, p);
			p += addr_len(family) - 4;
			break;
		case 'p':
			if (*p == IPPROTO_TCP || *p == IPPROTO_UDP || *p == IPPROTO_SCTP)
				buf_puts(b, *p == IPPROTO_TCP ? "tcp" :
					 *p == IPPROTO_UDP ? "udp" : "sctp");
			else
				buf_putu(b, *p);
			break;
		case 'n':
			buf_putu(b, (unsigned int)p[0] << 8 | p[1]);
			break;
		default:
			buf_putu(b, host_u32(p));
			break;
		}
		p += 4;
	}
	return (size_t)(p - start);
}

static void fmt_verdict(struct svcnft_buf *b, const struct el_record *r)
{
	if (r->verdict == NFT_GOTO || r->verdict == NFT_JUMP) {
		buf_puts(b, r->verdict == NFT_GOTO ? "goto " : "jump ");
		buf_puts(b, r->chain);
	} else if (r->verdict == NF_DROP || r->verdict == NF_ACCEPT)
		buf_puts(b, r->verdict == NF_DROP ? "drop" : "accept");
	else
		buf_printf(b, "verdict %d", r->verdict);
}

/* Add one to the big-endian number A of LEN bytes; true on overflow. */
static bool inc(uint8_t *a, size_t len)
{
	for (size_t i = len; i-- > 0;)
		if (++a[i])
			return false;
	return true;
}

void rec_format_range(struct svcnft_buf *b, int family, const uint8_t *s,
		      const uint8_t *e)
{
	size_t alen = addr_len(family), bits = alen * 8;

	for (size_t plen = 0; plen <= bits; plen++) {
		uint8_t end[16];
		bool ok = true, over;

		memcpy(end, s, alen);
		for (size_t i = plen; i < bits; i++) {
			ok &= !(s[i / 8] & (0x80 >> (i % 8)));
			end[i / 8] |= (uint8_t)(0x80 >> (i % 8));
		}
		over = inc(end, alen);
		if (ok && (e ? !over && !memcmp(end, e, alen) : over)) {
			fmt_addr(b, family, s);
			buf_printf(b, "/%zu", plen);
			return;
		}
	}
	fmt_addr(b, family, s);
	buf_puts(b, "-");
	if (e)
		fmt_addr(b, family, e);
}

/* NAME is BASE4 or BASE6. */
static bool family_set(const char *name, const char *base)
{
	size_t n = strlen(base);

	return !strncmp(name, base, n) && (name[n] == '4' || name[n] == '6') &&
	       !name[n + 1];
}

static bool is_fw_allow(const char *set)
{
	return family_set(set, "firewall-allow");
}

/* The interval sets: a CIDR set's element is a range; firewall-allow's
 * VIP . proto . port . source range.  The bytes before the range in the
 * key (and key_end), or -1 for another set. */
static int range_off(const char *set, int family)
{
	static const char *const cidrs[] = {
		"nodeport-addresses", "pod-cidrs", "service-cidrs",
	};

	if (is_fw_allow(set))
		return (int)addr_len(family) + 8;
	for (size_t i = 0; i < ARRAY_SIZE(cidrs); i++)
		if (family_set(set, cidrs[i]))
			return 0;
	return -1;
}

static int set_family(const char *set)
{
	return set[0] && set[strlen(set) - 1] == '6' ? AF_INET6 : AF_INET;
}

/* An interval set's element: the parts before the range, then the range
 * from the key's last part to key_end's (inclusive). */
static bool fmt_range(struct svcnft_buf *b, const struct el_record *r, int off)
{
	int family = set_family(r->set);
	size_t alen = addr_len(family), o = (size_t)off;
	uint8_t last[16];

	if (r->klen != o + alen || r->kelen != r->klen || memcmp(r->key, r->key_end, o))
		return false;
	memcpy(last, r->key_end + o, alen);
	if (o) {
		fmt_parts(b, "apn", family, r->key);
		buf_puts(b, " . ");
	}
	rec_format_range(b, family, r->key + o, inc(last, alen) ? NULL : last);
	return true;
}

bool rec_formatted(const char *set)
{
	struct form f;

	return is_fw_allow(set) || form_of(set, &f);
}

bool rec_format(struct svcnft_buf *b, const struct el_record *r)
{
	struct form f;

	int off = range_off(r->set, set_family(r->set));

	if (off >= 0)
		return fmt_range(b, r, off);
	if (!form_of(r->set, &f) || r->klen != form_len(f.key, f.family))
		return false;
	fmt_parts(b, f.key, f.family, r->key);
	if (!*f.data)
		return true;
	if (*r->comment) {
		buf_puts(b, " comment \"");
		buf_puts(b, r->comment);
		buf_putc(b, '"');
	}
	buf_puts(b, " : ");
	if (!strcmp(f.data, "v")) {
		if (!r->has_verdict)
			return false;
		fmt_verdict(b, r);
		return true;
	}
	if (r->dlen != form_len(f.data, f.family))
		return false;
	fmt_parts(b, f.data, f.family, r->data);
	return true;
}

/* Parsing text. */

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

static bool integer(const char *w, int32_t *v)
{
	char *end;
	long l;

	errno = 0;
	l = strtol(w, &end, 10);
	if (!*w || *end || errno || l < INT32_MIN || l > INT32_MAX)
		return false;
	*v = (int32_t)l;
	return true;
}

static bool parse_proto(const char *w, uint8_t *p)
{
	unsigned long v;

	for (size_t i = 0; i < ARRAY_SIZE(proto_num); i++)
		if (!strcmp(w, proto_name((enum proto)i))) {
			*p = proto_num[i];
			return true;
		}
	if (!number(w, 255, &v))
		return false;
	*p = (uint8_t)v;
	return true;
}

static bool parse_part(const char **s, char kind, int family, uint8_t *b,
		       size_t *n)
{
	unsigned long v;
	uint8_t proto;
	char w[64];

	if (!word(s, w, sizeof(w)))
		return false;
	switch (kind) {
	case 'a':
		if (inet_pton(family, w, b + *n) != 1)
			return false;
		*n += addr_len(family);
		return true;
	case 'p':
		if (!parse_proto(w, &proto))
			return false;
		put_reg(b, n, &proto, 1);
		return true;
	case 'n':
		if (!number(w, 65535, &v))
			return false;
		put_port(b, n, (uint16_t)v);
		return true;
	default:
		if (!number(w, UINT32_MAX, &v))
			return false;
		put_u32(b, n, (uint32_t)v);
		return true;
	}
}

/* "X . Y . Z" of the kinds KINDS into B (at most CAP bytes). */
static bool parse_parts(const char **s, const char *kinds, int family,
			uint8_t *b, size_t *n, size_t cap)
{
	char dot[4];

	if (form_len(kinds, family) > cap)
		return false;
	for (size_t i = 0; kinds[i]; i++)
		if ((i && (!word(s, dot, sizeof(dot)) || strcmp(dot, "."))) ||
		    !parse_part(s, kinds[i], family, b, n))
			return false;
	return true;
}

/* "goto CHAIN", "jump CHAIN", "drop", "accept" or "verdict N". */
static bool parse_verdict(const char **s, struct el_record *r)
{
	char w[16];

	r->has_verdict = true;
	if (!word(s, w, sizeof(w)))
		return false;
	if (!strcmp(w, "drop") || !strcmp(w, "accept")) {
		r->verdict = *w == 'd' ? NF_DROP : NF_ACCEPT;
		return true;
	}
	if (!strcmp(w, "verdict"))
		return word(s, w, sizeof(w)) && integer(w, &r->verdict);
	if (strcmp(w, "goto") && strcmp(w, "jump"))
		return false;
	r->verdict = *w == 'g' ? NFT_GOTO : NFT_JUMP;
	return word(s, r->chain, sizeof(r->chain));
}

/* ` comment "TEXT"` (the leading space already read) into R. */
static bool parse_comment(const char **s, struct el_record *r)
{
	const char *q;
	size_t n;

	if (strncmp(*s, "comment \"", 9))
		return true;
	q = strchr(*s + 9, '"');
	if (!q || (n = (size_t)(q - *s - 9)) >= sizeof(r->comment) || !n)
		return false;
	memcpy(r->comment, *s + 9, n);
	r->comment[n] = '\0';
	*s = q + 1 + (q[1] == ' ');
	return true;
}

/* Subtract one from the big-endian number A of LEN bytes; true on
 * underflow. */
static bool dec(uint8_t *a, size_t len)
{
	for (size_t i = len; i-- > 0;)
		if (a[i]--)
			return false;
	return true;
}

/* rec_format_range()'s text ("addr/len", "start-end" with END exclusive,
 * "start-" to the end of the address space) as the last part of the key
 * (first address) and of key_end (last address). */
static bool parse_range(const char **s, int family, struct el_record *r)
{
	size_t alen = addr_len(family), bits = alen * 8;
	uint8_t *a = r->key + r->klen, *last = r->key_end + r->klen;
	char w[2 * INET6_ADDRSTRLEN + 2], *sep, kind;
	unsigned long plen;

	if (!word(s, w, sizeof(w)) || !(sep = strpbrk(w, "/-")))
		return false;
	kind = *sep;
	*sep++ = '\0';
	memcpy(r->key_end, r->key, r->klen);
	if (inet_pton(family, w, a) != 1)
		return false;
	if (kind == '/') {
		if (!number(sep, bits, &plen))
			return false;
		memcpy(last, a, alen);
		for (size_t i = plen; i < bits; i++)
			last[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	} else if (!*sep) {
		memset(last, 0xff, alen);
	} else if (inet_pton(family, sep, last) != 1 || dec(last, alen)) {
		return false;
	}
	r->klen += alen;
	r->kelen = r->klen;
	return true;
}

/* An interval set's element: OFF bytes of VIP . proto . port, then the
 * range. */
static bool parse_ranged(struct el_record *r, const char *s, int off, int family)
{
	char dot[4];

	if (off && (!parse_parts(&s, "apn", family, r->key, &r->klen, sizeof(r->key)) ||
		    !word(&s, dot, sizeof(dot)) || strcmp(dot, ".")))
		return false;
	return parse_range(&s, family, r) && !*s;
}

bool rec_parse(struct el_record *r, const char *s, bool key_only)
{
	int family = set_family(r->set), off = range_off(r->set, family);
	struct form f;
	char colon[4];

	rec_clear(r);
	if (off >= 0)
		return parse_ranged(r, s, off, family);
	if (!form_of(r->set, &f) ||
	    !parse_parts(&s, f.key, f.family, r->key, &r->klen, sizeof(r->key)))
		return false;
	if (key_only || !*f.data)
		return key_only || !*s;
	if (!parse_comment(&s, r) || !word(&s, colon, sizeof(colon)) || strcmp(colon, ":"))
		return false;
	if (!strcmp(f.data, "v"))
		return parse_verdict(&s, r) && !*s;
	return parse_parts(&s, f.data, f.family, r->data, &r->dlen,
			   sizeof(r->data)) && !*s;
}
