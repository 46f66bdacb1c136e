/* record: one set element as typed bytes, laid out as the kernel holds it.
 *
 * Keys and data are nf_tables' register layout of a concatenation (what
 * nft 1.0.6 sends): every part padded to a multiple of 4 bytes; an IPv4
 * address 4 bytes, IPv6 16; a protocol one byte; a port 2 bytes
 * big-endian; a slot or affinity id 4 bytes in host order (numgen's
 * register).  The canonical strings of elements.h are a view of records:
 * rec_format() prints one, rec_parse() reads it back, both by the set's
 * el_form().  kernel/elcodec.h turns records into netlink attributes and
 * back.  A record owns nothing: every field is inline. */
#ifndef SVCNFT_RECORD_H
#define SVCNFT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lower.h"

#define REC_NAME_MAX 64
#define REC_KEY_MAX 48
#define REC_DATA_MAX 24
/* userdata holds at most 256 bytes: a comment TLV of 2 + 253 + NUL */
#define REC_COMMENT_MAX 254

struct el_record {
	char set[REC_NAME_MAX];
	uint8_t key[REC_KEY_MAX], data[REC_DATA_MAX];
	size_t klen, dlen;
	/* a verdict map's data (when has_verdict): the kernel's verdict code
	 * (NF_DROP, NF_ACCEPT, NFT_GOTO, NFT_JUMP) and the chain of a goto
	 * or jump */
	bool has_verdict;
	int32_t verdict;
	char chain[REC_NAME_MAX];
	char comment[REC_COMMENT_MAX];	/* "" = none */
	/* interval sets (read back only): the end of a concatenated range
	 * (firewall-allow), or the flag marking an interval's end */
	uint8_t key_end[REC_KEY_MAX];
	size_t kelen;
	bool interval_end;
};

/* Start a record of set NAME (every other field empty). */
void rec_init(struct el_record *r, const char *set);
/* Empty every field but the set name. */
void rec_clear(struct el_record *r);

/* Records from the plan, one per element of each set form; each clears
 * R first and keeps its set name.  The text of every one equals the
 * matching el_fmt_* string. */
void rec_addr(struct el_record *r, const struct ipaddr *a);	/* cluster-ips */
void rec_hairpin(struct el_record *r, const struct ipaddr *a);
/* "[VIP . ]protocol . port": service-ports and firewall */
void rec_entry(struct el_record *r, const struct plan_entry *e);
/* A dispatch map: E's chain, reject-service or drop, and its comment. */
void rec_dispatch(struct el_record *r, const struct plan_family *f,
		  const struct plan_entry *e);
void rec_backend(struct el_record *r, const struct plan_entry *e,
		 size_t slot);
void rec_id(struct el_record *r, const struct plan_entry *e);
/* A slot map element: SLOT : goto CHAIN. */
void rec_slot(struct el_record *r, size_t slot, const char *chain);

/* The interval sets' elements (CIDR sets, firewall-allow): the range
 * is the key's last part (its first address) and key_end's (its last);
 * the text shows it as "addr/len", else "start-end" (END exclusive). */
void rec_cidr(struct el_record *r, const struct svcnft_cidr *c);
void rec_fw(struct el_record *r, const struct plan_entry *e,
	    const struct svcnft_cidr *c);

/* Append the canonical text of R (its set's form) to B; false (B then
 * holds a partial text) when R's bytes do not have that form: a key or
 * data of another length, no verdict, a set without a form.
 * Besides el_form()'s sets it prints the interval sets' elements. */
bool rec_format(struct svcnft_buf *b, const struct el_record *r);
/* Whether the kernel holds set NAME's elements as records rec_format()
 * prints one by one (not the CIDR sets: the kernel splits their ranges
 * into a start and an end element). */
bool rec_formatted(const char *set);
/* Canonical element TEXT of set r->set into R (cleared first): its key,
 * and unless KEY_ONLY its comment and data (an interval set's element
 * whole).  False if the set has no such form or TEXT is not of it. */
bool rec_parse(struct el_record *r, const char *text, bool key_only);

/* The range [S, E) of FAMILY's addresses (E NULL: to the end of the
 * address space) as "addr/len" when it is a prefix, else "S-E". */
void rec_format_range(struct svcnft_buf *b, int family, const uint8_t *s,
		      const uint8_t *e);

#endif
