/* elements: plan (or saved script) -> canonical element strings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "elements.h"
#include "util.h"

/* Element text is built on the stack and added to the buffer at once
 * (one buf_add per element part: most of the formatting was buf_add's
 * per-field overhead).  Each put_* writes at P and returns its end. */
enum { EL_IP_MAX = 64, EL_KEY_MAX = EL_IP_MAX + 48, EL_LINE_MAX = 2 * EL_KEY_MAX };

static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

static char *put_u(char *p, unsigned long long v)
{
	char s[24], *q = s + sizeof(s);

	do
		*--q = (char)('0' + v % 10);
	while (v /= 10);
	memcpy(p, q, (size_t)(s + sizeof(s) - q));
	return p + (s + sizeof(s) - q);
}

/* At most EL_IP_MAX bytes. */
static char *put_ip(char *p, const struct ipaddr *a)
{
	if (a->family == AF_INET) {	/* inet_ntop's text without its sprintf */
		for (int i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p = put_u(p, a->a[i]);
		}
		return p;
	}
	ipaddr_format(a, p, EL_IP_MAX);
	return p + strlen(p);
}

/* At most EL_KEY_MAX bytes. */
static char *put_key(char *p, const struct plan_entry *e)
{
	if (!plan_views[e->view].nodeport) {
		p = put_ip(p, &e->vip);
		p = put_str(p, " . ");
	}
	p = put_str(p, proto_name(e->proto));
	p = put_str(p, " . ");
	return put_u(p, e->port);
}

void el_fmt_ip(struct svcnft_buf *b, const struct ipaddr *a)
{
	char s[EL_IP_MAX];

	buf_add(b, s, (size_t)(put_ip(s, a) - s));
}

void el_fmt_key(struct svcnft_buf *b, const struct plan_entry *e)
{
	char s[EL_KEY_MAX];

	buf_add(b, s, (size_t)(put_key(s, e) - s));
}

void el_fmt_dispatch(struct svcnft_buf *b, const struct plan_family *f,
		     const struct plan_entry *e)
{
	struct plan_group g = plan_entry_group(e);
	char chain[64];

	el_fmt_key(b, e);
	buf_puts(b, " comment \"");
	plan_entry_comment(b, e);
	buf_putc(b, '"');
	if (e->n) {
		plan_chain_lb(chain, sizeof(chain), f, &g);
		buf_printf(b, " : goto %s", chain);
	} else {
		buf_puts(b, e->reject ? " : goto reject-service" : " : drop");
	}
}

void el_fmt_backend(struct svcnft_buf *b, const struct plan_entry *e,
		    size_t slot)
{
	char s[EL_LINE_MAX], *p = put_key(s, e);

	p = put_str(p, " . ");
	p = put_u(p, plan_views[e->view].offset + slot);
	p = put_str(p, " : ");
	p = put_ip(p, &e->backends[slot].ip);
	p = put_str(p, " . ");
	p = put_u(p, e->backends[slot].port);
	buf_add(b, s, (size_t)(p - s));
}

void el_fmt_hairpin(struct svcnft_buf *b, const struct ipaddr *a)
{
	char s[EL_LINE_MAX], *p = put_ip(s, a);

	p = put_str(p, " . ");
	p = put_ip(p, a);
	buf_add(b, s, (size_t)(p - s));
}

void el_fmt_fw(struct svcnft_buf *b, const struct plan_entry *e,
	       const struct svcnft_cidr *c)
{
	el_fmt_key(b, e);
	buf_puts(b, " . ");
	el_fmt_cidr(b, c);
}

void el_fmt_cidr(struct svcnft_buf *b, const struct svcnft_cidr *c)
{
	struct ipaddr a = { .family = c->family };

	memcpy(a.a, c->addr, 16);
	el_fmt_ip(b, &a);
	buf_printf(b, "/%u", c->plen);
}

void el_fmt_id(struct svcnft_buf *b, const struct plan_entry *e)
{
	el_fmt_key(b, e);
	buf_printf(b, " : %u", e->aff_id);
}

void el_fmt_slot(struct svcnft_buf *b, size_t slot, const char *chain)
{
	buf_printf(b, "%zu : goto %s", slot, chain);
}

void el_fmt_masq(char *buf, size_t len, const struct plan_family *f,
		 const struct plan *p)
{
	snprintf(buf, len, "hairpin%s", p->cfg->masquerade_all ?
		 ", masquerade-all" : f->n_pod_cidrs ?
		 ", from outside the pod network" : "");
}

void el_add(struct el_list *l, const char *s, size_t len)
{
	buf_add(&l->text, s, len);
	buf_putc(&l->text, '\0');
	l->n++;
}

static void el_add_buf(struct el_list *l, struct svcnft_buf *b)
{
	el_add(l, b->data, b->len);
	b->len = 0;
	b->data[0] = '\0';
}

void el_finish(struct el_list *l)
{
	const char *s = l->text.data;

	free(l->v);
	l->v = xcalloc(l->n + 1, sizeof(*l->v));
	for (size_t i = 0; i < l->n; i++) {
		l->v[i] = s;
		s += strlen(s) + 1;
	}
}

static void el_list_free(struct el_list *l)
{
	svcnft_buf_free(&l->text);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void elements_init(struct elements *els)
{
	memset(els, 0, sizeof(*els));
	els->layout = -1;
}

void elements_free(struct elements *els)
{
	for (size_t i = 0; i < els->n_sets; i++)
		el_list_free(&els->sets[i].el);
	free(els->sets);
	el_list_free(&els->chains);
	el_list_free(&els->base);
	el_list_free(&els->owners);
	elements_init(els);
}

void elements_finish(struct elements *els)
{
	for (size_t i = 0; i < els->n_sets; i++)
		el_finish(&els->sets[i].el);
	el_finish(&els->chains);
	el_finish(&els->base);
	el_finish(&els->owners);
}

struct el_set *elements_add_set(struct elements *els, const char *name,
				size_t size)
{
	struct el_set *s;

	els->sets = grow(els->sets, &els->cap_sets, els->n_sets, sizeof(*els->sets));
	s = &els->sets[els->n_sets++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->size = size;
	return s;
}

struct el_set *elements_find(const struct elements *els, const char *name)
{
	for (size_t i = 0; i < els->n_sets; i++)
		if (!strcmp(els->sets[i].name, name))
			return &els->sets[i];
	return NULL;
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* NAME is BASE of some view (its prefix, then BASE). */
static bool view_name(const char *name, const char *base)
{
	for (int v = 0; v < PLAN_N_VIEWS; v++) {
		const char *pfx[2] = { plan_views[v].prefix, plan_views[v].slots };

		for (int i = 0; i < 2; i++)
			if (starts(name, pfx[i]) && starts(name + strlen(pfx[i]), base))
				return true;
	}
	return false;
}

bool el_backend_chain(const char *name)
{
	return view_name(name, "backend") && strstr(name, "-slot-");
}

bool el_dynamic_chain(const char *name)
{
	return !el_dynamic_set(name) &&
	       (view_name(name, "endpoints") || view_name(name, "affinity") ||
		el_backend_chain(name));
}

bool el_dynamic_set(const char *name)
{
	return view_name(name, "affinity-slots") || view_name(name, "backend-slots");
}

/* NAME is BASE4 or BASE6. */
static bool family_name(const char *name, const char *base)
{
	size_t n = strlen(base);

	return !strncmp(name, base, n) && (name[n] == '4' || name[n] == '6') &&
	       !name[n + 1];
}

static const struct { const char *base, *key, *data; } forms[] = {
	{ "cluster-ips", "a", "" }, { "service-ports", "apn", "" },
	{ "firewall", "apn", "" }, { "hairpin", "aa", "" },
	{ "service-ips", "apn", "v" }, { "external-local", "apn", "v" },
	{ "nodeports", "pn", "v" }, { "nodeports-local", "pn", "v" },
	{ "backends", "apns", "an" }, { "nodeport-backends", "pns", "an" },
	{ "affinity-ids", "apn", "s" }, { "nodeport-affinity-ids", "pn", "s" },
};

bool el_form(const char *name, const char **key, const char **data)
{
	if (el_dynamic_set(name)) {	/* slot maps: "N : goto CHAIN" */
		*key = "s";
		*data = "v";
		return true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++)
		if (family_name(name, forms[i].base)) {
			*key = forms[i].key;
			*data = forms[i].data;
			return true;
		}
	return false;
}

bool el_direct_set(const char *base)
{
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++)
		if (!strcmp(base, forms[i].base))
			return true;
	return false;
}

static const char *const service_sets_[] = {
	"cluster-ips", "service-ports", "service-ips", "external-local",
	"nodeports", "nodeports-local", "firewall", "firewall-allow",
	"backends", "nodeport-backends", "affinity-ids", "nodeport-affinity-ids",
};

int el_service_rank(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(service_sets_); i++)
		if (family_name(name, service_sets_[i]))
			return (int)(2 * i) + (name[strlen(name) - 1] == '6');
	return -1;
}

bool el_service_set(const char *name)
{
	return el_service_rank(name) >= 0;
}

bool el_dispatch_set(const char *name)
{
	return family_name(name, "service-ips") || family_name(name, "external-local") ||
	       family_name(name, "nodeports") || family_name(name, "nodeports-local");
}

size_t el_owner_key(const char *set, const char *elem)
{
	const char *e = strstr(elem, " comment \"");
	size_t n, dot;

	if (!e)
		e = strstr(elem, " : ");
	n = e ? (size_t)(e - elem) : strlen(elem);
	if (!family_name(set, "backends") && !family_name(set, "nodeport-backends") &&
	    !family_name(set, "firewall-allow"))
		return n;
	/* without the slot or the source range */
	for (dot = n; dot >= 3; dot--)
		if (!strncmp(elem + dot - 3, " . ", 3))
			return dot - 3;
	return n;
}

static void add_chain(struct elements *els, const char *base, const char *sfx)
{
	char name[64];

	snprintf(name, sizeof(name), "%s%s", base, sfx);
	el_add(&els->chains, name, strlen(name));
}

static struct el_set *set_of(struct elements *els, const char *base,
			     const struct plan_family *f, size_t size)
{
	char name[64];

	snprintf(name, sizeof(name), "%s%s", base, f->sfx);
	return elements_add_set(els, name, size);
}

static void owners(struct elements *els, const struct plan_family *f,
		   struct svcnft_buf *b)
{
	for (size_t i = 0; i < f->n_e; i++) {
		const struct plan_entry *e = &f->e[i];

		for (int k = 0; k < 1 + (e->view == VIEW_CLUSTER); k++) {
			if (k)
				el_fmt_ip(b, &e->vip);
			else
				el_fmt_key(b, e);
			el_add_buf(&els->owners, b);
			buf_printf(b, "%s/%s", e->svc->ns, e->svc->name);
			el_add_buf(&els->owners, b);
		}
	}
}

/* A verdict map of entries. */
static void vmap(struct elements *els, const struct plan_family *f,
		 const char *name, struct svcnft_buf *b)
{
	struct el_set *s;
	size_t n = 0;

	for (size_t i = 0; i < f->n_e; i++)
		n += plan_entry_in_map(&f->e[i], name);
	s = set_of(els, name, f, plan_set_size(n));
	for (size_t i = 0; i < f->n_e; i++)
		if (plan_entry_in_map(&f->e[i], name)) {
			el_fmt_dispatch(b, f, &f->e[i]);
			el_add_buf(&s->el, b);
		}
}

static void cidr_set(struct elements *els, const struct plan_family *f,
		     const char *name, const struct svcnft_cidr *c, size_t n,
		     struct svcnft_buf *b)
{
	struct el_set *s = set_of(els, name, f, 0);

	for (size_t i = 0; i < n; i++) {
		el_fmt_cidr(b, &c[i]);
		el_add_buf(&s->el, b);
	}
}

/* cluster-ips, service-ports and the dispatch maps. */
static void service_sets(struct elements *els, const struct plan_family *f,
			 struct svcnft_buf *b)
{
	struct el_set *s;
	size_t n = 0;

	s = set_of(els, "cluster-ips", f, plan_set_size(f->n_vips));
	for (size_t i = 0; i < f->n_vips; i++) {
		el_fmt_ip(b, &f->vips[i]);
		el_add_buf(&s->el, b);
	}
	for (size_t i = 0; i < f->n_e; i++)
		n += plan_entry_is_port(&f->e[i]);
	s = set_of(els, "service-ports", f, plan_set_size(n));
	for (size_t i = 0; i < f->n_e; i++)
		if (plan_entry_is_port(&f->e[i])) {
			el_fmt_key(b, &f->e[i]);
			el_add_buf(&s->el, b);
		}
	vmap(els, f, "service-ips", b);
	vmap(els, f, "external-local", b);
	vmap(els, f, "nodeports", b);
	vmap(els, f, "nodeports-local", b);
}

static void firewall_sets(struct elements *els, const struct plan_family *f,
			  struct svcnft_buf *b)
{
	struct el_set *fw, *allow;

	fw = set_of(els, "firewall", f, plan_set_size(f->n_fw));
	for (size_t i = 0; i < f->n_fw; i++) {
		el_fmt_key(b, &f->e[f->fw[i].e]);
		el_add_buf(&fw->el, b);
	}
	allow = set_of(els, "firewall-allow", f, 0);
	for (size_t i = 0; i < f->n_fw; i++)
		for (size_t r = 0; r < f->fw[i].n_ranges; r++) {
			if (f->fw[i].ranges[r].family != f->family)
				continue;
			el_fmt_fw(b, &f->e[f->fw[i].e], &f->fw[i].ranges[r]);
			el_add_buf(&allow->el, b);
		}
}

static void backend_map(struct elements *els, const struct plan_family *f,
			const char *name, size_t count, struct svcnft_buf *b)
{
	struct el_set *s = set_of(els, name, f, plan_set_size(count));

	for (size_t i = 0; i < f->n_e; i++) {
		if (strcmp(plan_views[f->e[i].view].backends, name))
			continue;
		for (size_t j = 0; j < f->e[i].n; j++) {
			el_fmt_backend(b, &f->e[i], j);
			el_add_buf(&s->el, b);
		}
	}
}

static void id_map(struct elements *els, const struct plan_family *f,
		   const char *name, bool nodeport, struct svcnft_buf *b)
{
	struct el_set *s;
	size_t n = 0;

	for (size_t i = 0; i < f->n_e; i++)
		n += plan_entry_has_id(&f->e[i]) &&
		     plan_views[f->e[i].view].nodeport == nodeport;
	s = set_of(els, name, f, plan_set_size(n));
	for (size_t i = 0; i < f->n_e; i++)
		if (plan_entry_has_id(&f->e[i]) &&
		    plan_views[f->e[i].view].nodeport == nodeport) {
			el_fmt_id(b, &f->e[i]);
			el_add_buf(&s->el, b);
		}
}

static void other_sets(struct elements *els, const struct plan_family *f,
		       struct svcnft_buf *b)
{
	struct el_set *s;
	char name[64];

	s = set_of(els, "hairpin", f, plan_set_size(f->n_hairpin));
	for (size_t i = 0; i < f->n_hairpin; i++) {
		el_fmt_hairpin(b, &f->hairpin[i]);
		el_add_buf(&s->el, b);
	}
	cidr_set(els, f, "pod-cidrs", f->pod_cidrs, f->n_pod_cidrs, b);
	cidr_set(els, f, "service-cidrs", f->svc_cidrs, f->n_svc_cidrs, b);
	backend_map(els, f, "backends", f->n_backends, b);
	backend_map(els, f, "nodeport-backends", f->n_np_backends, b);
	id_map(els, f, "affinity-ids", false, b);
	id_map(els, f, "nodeport-affinity-ids", true, b);
	set_of(els, "affinity-marks", f, PLAN_AFFINITY_SIZE);
	for (int p = 0; p < PLAN_N_PROTOS; p++) {
		plan_affinity_set(name, sizeof(name), f, (enum proto)p);
		elements_add_set(els, name, PLAN_AFFINITY_SIZE);
	}
	for (size_t t = 0; t < f->n_affs; t++) {
		plan_slot_map(name, sizeof(name), f, &f->affs[t]);
		s = elements_add_set(els, name, 0);
		for (size_t i = 0; i < f->affs[t].slots; i++) {
			plan_chain_slot(name, sizeof(name), f, &f->affs[t], i);
			el_fmt_slot(b, i, name);
			el_add_buf(&s->el, b);
		}
	}
	for (int v = 0; v < PLAN_N_VIEWS; v++) {
		if (!f->backend_slots[v])
			continue;
		plan_backend_map(name, sizeof(name), f, (enum plan_view)v);
		s = elements_add_set(els, name, 0);
		for (size_t i = 0; i < f->backend_slots[v]; i++) {
			plan_chain_backend(name, sizeof(name), f, (enum plan_view)v, i);
			el_fmt_slot(b, i, name);
			el_add_buf(&s->el, b);
		}
	}
}

static void family_chains(struct elements *els, const struct plan_family *f)
{
	char name[64];

	for (size_t i = 0; i < f->n_groups; i++) {
		plan_chain_lb(name, sizeof(name), f, &f->groups[i]);
		el_add(&els->chains, name, strlen(name));
	}
	for (size_t t = 0; t < f->n_affs; t++)
		for (size_t i = 0; i < f->affs[t].slots; i++) {
			plan_chain_slot(name, sizeof(name), f, &f->affs[t], i);
			el_add(&els->chains, name, strlen(name));
		}
	for (int v = 0; v < PLAN_N_VIEWS; v++)
		for (size_t i = 0; i < f->backend_slots[v]; i++) {
			plan_chain_backend(name, sizeof(name), f, (enum plan_view)v, i);
			el_add(&els->chains, name, strlen(name));
		}
	add_chain(els, "masquerade", f->sfx);
	add_chain(els, "service-check", f->sfx);
}

static const char *const fixed_chains[] = {
	"services", "external-local", "reject-service", "service-check",
	"firewall-check", "filter-prerouting", "filter-output", "nat-prerouting",
	"nat-output", "masquerade-external", "nat-postrouting",
};

/* The base chains of render_nft.c's skeleton (priorities: dstnat -100,
 * srcnat 100). */
static const struct base_chain {
	const char *name, *type;
	unsigned int hook;
	int prio;
} base_chains[] = {
	{ "filter-prerouting", "filter", 0, -110 },
	{ "filter-output", "filter", 3, -110 },
	{ "nat-prerouting", "nat", 0, -100 },
	{ "nat-output", "nat", 3, -100 },
	{ "nat-postrouting", "nat", 4, 100 },
};

void el_fmt_base(struct svcnft_buf *b, const char *name, const char *type,
		 unsigned int hook, int prio, unsigned int policy)
{
	static const char *const hooks[] = { "prerouting", "input", "forward",
					     "output", "postrouting", "ingress" };

	buf_printf(b, "%s: type %s hook ", name, type);
	if (hook < ARRAY_SIZE(hooks))
		buf_puts(b, hooks[hook]);
	else
		buf_printf(b, "%u", hook);
	buf_printf(b, " priority %d policy %s", prio, policy == 1 ? "accept" :
		   policy == 0 ? "drop" : "other");
}

void el_base_chains(struct el_list *l)
{
	struct svcnft_buf b = {0};

	buf_puts(&b, "");
	for (size_t i = 0; i < ARRAY_SIZE(base_chains); i++) {
		const struct base_chain *c = &base_chains[i];

		el_fmt_base(&b, c->name, c->type, c->hook, c->prio, 1);
		el_add_buf(l, &b);
	}
	svcnft_buf_free(&b);
}

void elements_from_plan(struct elements *els, const struct plan *p)
{
	struct svcnft_buf b = {0};

	elements_init(els);
	els->exists = els->ours = true;
	els->layout = SVCNFT_LAYOUT_VERSION;
	buf_puts(&b, "");
	for (int i = 0; i < 2; i++) {
		const struct plan_family *f = &p->fam[i];

		service_sets(els, f, &b);
		cidr_set(els, f, "nodeport-addresses", f->np_cidrs, f->n_np_cidrs, &b);
		firewall_sets(els, f, &b);
		other_sets(els, f, &b);
		family_chains(els, f);
		owners(els, f, &b);
	}
	for (size_t i = 0; i < ARRAY_SIZE(fixed_chains); i++)
		el_add(&els->chains, fixed_chains[i], strlen(fixed_chains[i]));
	el_base_chains(&els->base);
	el_fmt_masq(els->masq[0], sizeof(els->masq[0]), &p->fam[0], p);
	el_fmt_masq(els->masq[1], sizeof(els->masq[1]), &p->fam[1], p);
	svcnft_buf_free(&b);
	elements_finish(els);
}

/* Saved scripts. */

struct parse {
	struct elements *els;
	struct el_set *set;
	int masq;			/* -1, or the family of the chain */
	bool in_elements, in_table;
};

/* NAME of "KEYWORD NAME {" into OUT. */
static bool object_name(const char *line, const char *kw, char *out, size_t len)
{
	size_t n = strlen(kw), w;

	if (strncmp(line, kw, n) || line[n] != ' ')
		return false;
	line += n + 1;
	w = strcspn(line, " {");
	if (!w || w >= len || strcmp(line + w, " {"))
		return false;
	memcpy(out, line, w);
	out[w] = '\0';
	return true;
}

static void masq_comment(struct parse *ps, const char *line)
{
	const char *c = strstr(line, "comment \"");
	char *m = ps->els->masq[ps->masq];
	size_t n = strlen(m), len = sizeof(ps->els->masq[0]);

	if (!c)
		return;
	c += 9;
	snprintf(m + n, len - n, "%s%.*s", n ? ", " : "",
		 (int)strcspn(c, "\""), c);
}

static void parse_line(struct parse *ps, const char *line, size_t len)
{
	char name[64];

	if (ps->in_elements) {
		if (!strcmp(line, "}"))
			ps->in_elements = false;
		else
			el_add(&ps->set->el, line, len && line[len - 1] == ',' ? len - 1 : len);
		return;
	}
	if (object_name(line, "set", name, sizeof(name)) ||
	    object_name(line, "map", name, sizeof(name))) {
		ps->set = elements_add_set(ps->els, name, 0);
		ps->masq = -1;
	} else if (object_name(line, "chain", name, sizeof(name))) {
		el_add(&ps->els->chains, name, strlen(name));
		ps->set = NULL;
		ps->masq = !strcmp(name, "masquerade4") ? 0 :
			   !strcmp(name, "masquerade6") ? 1 : -1;
	} else if (ps->set && !strncmp(line, "size ", 5)) {
		ps->set->size = strtoul(line + 5, NULL, 10);
	} else if (ps->set && !strcmp(line, "elements = {")) {
		ps->in_elements = true;
	} else if (ps->masq >= 0) {
		masq_comment(ps, line);
	} else if (!strncmp(line, "comment \"svcnft layout ", 23)) {
		ps->els->layout = atoi(line + 23);
	}
}

bool elements_parse_script(struct elements *els, const char *text,
			   char *err, size_t errlen)
{
	struct parse ps = { .els = els, .masq = -1 };
	char tname[80];

	elements_init(els);
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text) : strlen(text);
		char *line = xmalloc(len + 1), *s = line;

		memcpy(line, text, len);
		line[len] = '\0';
		while (*s == '\t' || *s == ' ')
			s++;
		if (!ps.in_table && line[0] != '\t' &&
		    object_name(line, "table inet", tname, sizeof(tname)))
			ps.in_table = true;
		else if (ps.in_table && !strcmp(line, "}"))
			ps.in_table = false;
		else if (ps.in_table)
			parse_line(&ps, s, strlen(s));
		free(line);
		text += len + (nl != NULL);
	}
	if (els->layout < 0) {
		snprintf(err, errlen, "not a script printed by svcnft compile (no \"svcnft layout\" table comment)");
		elements_free(els);
		return false;
	}
	els->exists = els->ours = true;
	el_base_chains(&els->base);	/* a script svcnft printed: the skeleton's */
	elements_finish(els);
	return true;
}
