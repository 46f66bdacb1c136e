/* nlbatch: building, preparing and sending nf_tables netlink batches.
 *
 * Messages are built back to back in a buffer (set elements with
 * kernel/elcodec.h).  The template is the skeleton script loaded
 * by libnftables into a private network namespace and dumped back, the
 * kernel's own encoding of chains, rules and declarations. */
#ifndef SVCNFT_NLBATCH_H
#define SVCNFT_NLBATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kernel.h"
#include "svcnft.h"

struct nlmsghdr;

/* Netlink messages back to back, and what each one is (for errors). */
struct msgs {
	struct svcnft_buf b;
	uint32_t seq;			/* of the last message */
	uint32_t genid;			/* nb_begin's */
	struct what { uint32_t seq; char s[128]; } *w;
	size_t n_w, cap_w;
};

/* A message of nf_tables TYPE (or a batch begin/end); WHAT names it in
 * errors ("chain X").  Returns its offset for nb_msg_end(). */
size_t nb_msg_begin(struct msgs *m, uint16_t type, uint16_t flags,
		    const char *what);
void nb_msg_end(struct msgs *m, size_t off);
void nb_attr(struct msgs *m, uint16_t type, const void *p, size_t n);
void nb_attr_str(struct msgs *m, uint16_t type, const char *s);
/* A nested attribute: its offset, for nb_nest_end() after its contents. */
size_t nb_nest_begin(struct msgs *m, uint16_t type);
void nb_nest_end(struct msgs *m, size_t off);
void nb_msgs_free(struct msgs *m);

/* Batch begin, with generation GENID to check unless 0 (the kernel then
 * refuses the batch with ERESTART once the ruleset has moved on). */
void nb_begin(struct msgs *m, uint32_t genid);
void nb_end(struct msgs *m);

/* The template, in a child process: start it, do other work, finish it
 * to get the dumped messages (table, chains, sets, elements, rules, in
 * that order).  False when no private namespace could be made or
 * libnftables refused the skeleton: load the script instead (*F then says
 * why, KF_NO_NETNS or KF_TEMPLATE; KF_NONE when libnftables refused: the
 * script will say what).  SKELETON and TABLE must live until the finish. */
struct template {
	pid_t pid;		/* 0: the daemon's template process has it */
	int fd;
	const char *skeleton, *table;
};
bool nb_template_start(struct template *t, const char *skeleton,
		       const char *table);
bool nb_template_finish(struct template *t, struct svcnft_buf *out,
			struct kfail *f);

/* For daemons, early while the process is small: one template process
 * kept for the process's life (forked now, in a private namespace of its
 * own, ending with its parent), so that a template costs no fork, no new
 * namespace and no cold libnftables.  Without it, or once it has failed,
 * each template forks a child. */
void nb_template_daemon(void);

/* From the live ruleset: the inet tables (NEWTABLE messages: the kernel
 * does not filter the dump by name) and the elements of those of the N
 * SETS that TABLE has, appended to OUT as dumped (live_dump); 0 or
 * -errno. */
int nb_dump_live(const char *table, const char *const *sets, size_t n,
		 struct svcnft_buf *out);

/* Template messages: the nf_tables type (NFT_MSG_NEWCHAIN ...), and the
 * name of the object or the chain or set it belongs to. */
uint16_t nb_type(const struct nlmsghdr *h);
const char *nb_name(const struct nlmsghdr *h);
/* Append template message H to M as a new object (not its handle, use
 * count or counters); "chain X" etc. as its WHAT. */
void nb_copy(struct msgs *m, const struct nlmsghdr *h);
/* Iterate the messages of a template: for (h = nb_first(t, &len); h;
 * h = nb_next(h, &len)). */
const struct nlmsghdr *nb_first(const struct svcnft_buf *t, int *len);
const struct nlmsghdr *nb_next(const struct nlmsghdr *h, int *len);

/* Send PARTS as one sendmsg (PARTS[0] begins the batch); SVCNFT_OK,
 * SVCNFT_EKERNEL with *F filled (KF_REFUSED naming the first refused
 * object, KF_OVERFLOW, KF_SOCKET, KF_SEND; KF_NOT_COMMITTED when a batch
 * checked by generation was dropped: the generation did not move), or
 * NB_RESTART (the generation had moved: nothing was done). */
#define NB_RESTART (-2)
int nb_send(struct msgs *const *parts, size_t n, struct kfail *f);

/* Delete table inet TABLE in a batch checked against generation GENID
 * (read before the caller's ownership check): same results as nb_send. */
int nb_delete_table(const char *table, uint32_t genid, struct kfail *f);

#endif
