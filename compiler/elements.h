/* elements: the table's contents as canonical strings.
 *
 * Every named set and map with its elements exactly as render_nft prints
 * them ("10.0.0.20 . tcp . 80 . 0 : 192.0.2.42 . 9376"), the chain names,
 * and the comments of the masquerade rules (they depend on the options).
 * The same form is produced from a plan, from the kernel (kernel/live.c) and
 * from a saved script, so that the three compare as strings. */
#ifndef SVCNFT_ELEMENTS_H
#define SVCNFT_ELEMENTS_H

#include "lower.h"

struct el_list {
	struct svcnft_buf text;		/* the strings, NUL-separated */
	const char **v;			/* after el_finish(): into text */
	size_t n;
};

struct el_set {
	char name[64];
	size_t size;			/* declared size; 0 = none */
	struct el_list el;
};

struct elements {
	bool exists;			/* live: the table exists */
	bool ours;			/* live: it carries svcnft's comment */
	bool dormant;			/* live: someone set `flags dormant` */
	int layout;			/* layout version; -1 = unknown */
	struct el_set *sets;		/* in declaration order */
	size_t n_sets, cap_sets;
	struct el_list chains;
	/* the base chains: "NAME: type T hook H priority P policy V" */
	struct el_list base;
	char masq[2][256];		/* masquerade4/6 rule comments, ", " */
	uint64_t rules_hash;		/* live: every rule as the kernel has it */
	/* live: the set with elements svcnft did not write (in SETS) */
	const char *foreign_set;
	/* plan only: pairs of an owner key (el_owner_key) and "ns/name" */
	struct el_list owners;
};

/* Canonical text of single elements (render_nft prints these). */
void el_fmt_ip(struct svcnft_buf *b, const struct ipaddr *a);
void el_fmt_key(struct svcnft_buf *b, const struct plan_entry *e);
void el_fmt_dispatch(struct svcnft_buf *b, const struct plan_family *f,
		     const struct plan_entry *e);
void el_fmt_backend(struct svcnft_buf *b, const struct plan_entry *e,
		    size_t slot);
void el_fmt_hairpin(struct svcnft_buf *b, const struct ipaddr *a);
void el_fmt_cidr(struct svcnft_buf *b, const struct svcnft_cidr *c);
/* A firewall-allow element: E's key . the source range C. */
void el_fmt_fw(struct svcnft_buf *b, const struct plan_entry *e,
	       const struct svcnft_cidr *c);
/* An affinity id element: E's key : its id. */
void el_fmt_id(struct svcnft_buf *b, const struct plan_entry *e);
/* A slot map element: "SLOT : goto CHAIN". */
void el_fmt_slot(struct svcnft_buf *b, size_t slot, const char *chain);
/* The comments of the masquerade chain's rules, joined with ", ". */
void el_fmt_masq(char *buf, size_t len, const struct plan_family *f,
		 const struct plan *p);

/* Append the base chains as render_nft declares them to L (in the form of
 * struct elements' base). */
void el_base_chains(struct el_list *l);
/* The canonical text of one base chain; HOOK a netfilter hook number,
 * POLICY NF_ACCEPT or NF_DROP. */
void el_fmt_base(struct svcnft_buf *b, const char *name, const char *type,
		 unsigned int hook, int prio, unsigned int policy);

/* Build everything from a plan. */
void elements_from_plan(struct elements *els, const struct plan *p);
void elements_init(struct elements *els);
void elements_free(struct elements *els);

struct el_set *elements_add_set(struct elements *els, const char *name,
				size_t size);
struct el_set *elements_find(const struct elements *els, const char *name);
void el_add(struct el_list *l, const char *s, size_t len);
/* Index the strings of L (call once after the last el_add). */
void el_finish(struct el_list *l);
void elements_finish(struct elements *els);

/* Chains, sets and maps that come and go with the endpoint counts and
 * affinity timeouts in use; everything else is fixed by the layout. */
bool el_dynamic_chain(const char *name);
/* NAME is a backend slot chain (plan_chain_backend). */
bool el_backend_chain(const char *name);
bool el_dynamic_set(const char *name);
/* Sets whose elements belong to one service port (keyed by its address,
 * protocol and port, or its node port), and their rank in the order
 * render_nft declares them (-1: not one). */
bool el_service_set(const char *name);
int el_service_rank(const char *name);
/* The verdict maps whose element comments name the service port. */
bool el_dispatch_set(const char *name);
/* Length of the prefix of element ELEM of service set SET that names its
 * service port (or, in cluster-ips, the cluster IP): the key without a
 * comment, data, backend slot or firewall source range. */
size_t el_owner_key(const char *set, const char *elem);

/* Parse a script svcnft printed (compile -o nft) into ELS; false with a
 * message in ERR when it is not one. */
bool elements_parse_script(struct elements *els, const char *text,
			   char *err, size_t errlen);

/* The layout of the canonical elements of set NAME ("backends4", a slot
 * map): *KEY and *DATA list their parts, 'a' an address, 'p' a protocol,
 * 'n' a port, 's' a slot, 'v' a verdict (DATA "" for a set).  False for
 * the interval sets, whose elements are ranges.  compiler/record.h lays
 * out and prints elements by it. */
bool el_form(const char *name, const char **key, const char **data);
/* Whether the set of base name BASE ("backends") has such a layout and is
 * large: its elements are sent by svcnft, not in the skeleton script. */
bool el_direct_set(const char *base);

#endif
