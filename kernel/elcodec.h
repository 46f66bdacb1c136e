/* elcodec: set element records (compiler/record.h) <-> nf_tables netlink
 * attributes, the one encoding of elements in both directions.
 *
 * An element is an NFTA_LIST_ELEM: NFTA_SET_ELEM_KEY (and _KEY_END) as
 * NFTA_DATA_VALUE, NFTA_SET_ELEM_DATA as a value or an NFTA_DATA_VERDICT
 * (code, chain), NFTA_SET_ELEM_FLAGS, and the comment as libnftnl's
 * NFTA_SET_ELEM_USERDATA (TLV type 0 with its NUL).  Messages are built
 * with kernel/nlbatch.h; attributes are read with kernel/netlink.h.
 * Decoded records are copies: they do not point into the message. */
#ifndef SVCNFT_ELCODEC_H
#define SVCNFT_ELCODEC_H

#include <stdbool.h>

#include "nlbatch.h"
#include "record.h"

struct nlattr;
struct nlmsghdr;

/* Append R as one NFTA_LIST_ELEM to M: its key, and unless KEY_ONLY its
 * data or verdict and comment. */
void elc_put(struct msgs *m, const struct el_record *r, bool key_only);

/* Decode the NFTA_LIST_ELEM A into R (its set name untouched); false if
 * it has no key, or a key, data or comment that does not fit a record. */
bool elc_get(const struct nlattr *a, struct el_record *r);

/* Feed every element of the NEWSETELEM message H (its set name in the
 * record) to CB; false if one does not decode (CB then not called for it
 * or any after it). */
typedef void (*elc_cb)(const struct el_record *r, void *arg);
bool elc_each(const struct nlmsghdr *h, elc_cb cb, void *arg);

/* Writes records as NFT_MSG_NEWSETELEM (DELSETELEM when del: keys only)
 * messages of table TABLE: a message per run of records of one set,
 * split where an element list would outgrow its 16-bit length.  Set m,
 * table and del, then elc_add() each record and elc_close() at the end. */
struct elc_writer {
	struct msgs *m;
	const char *table;
	bool del;
	char set[REC_NAME_MAX];		/* of the open message */
	size_t msg, list;
	bool open;
};
void elc_add(struct elc_writer *w, const struct el_record *r);
void elc_close(struct elc_writer *w);

#endif
