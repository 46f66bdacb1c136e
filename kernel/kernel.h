/* kernel: libnftables transactions and the state of svcnft's table.
 * All of kernel/ talks to the kernel; netlink goes through netlink.h.
 * kernel/ prints nothing: it returns errno values and struct kfail, and
 * cmd/owner.h has the one message for each. */
#ifndef SVCNFT_KERNEL_H
#define SVCNFT_KERNEL_H

#include "svcnft.h"

/* What kernel/ could not do, as data.  Start from {0}; the function that
 * fails fills it (the last failure wins); kfail_free() frees TEXT. */
enum kfail_kind {
	KF_NONE,
	KF_NO_CONTEXT,		/* no libnftables context */
	KF_SCRIPT,		/* libnftables refused a script: TEXT, its messages */
	KF_SOCKET,		/* no netlink socket: ERR */
	KF_SEND,		/* the batch (BYTES) could not be sent: ERR */
	KF_REFUSED,		/* the kernel refused OBJ with ERR, and MORE errors */
	KF_OVERFLOW,		/* refused, with more errors than the socket held */
	KF_NOT_COMMITTED,	/* no error, yet the ruleset generation did not move */
	KF_NO_NETNS,		/* the batch's template: no private namespace */
	KF_TEMPLATE,		/* the batch's template failed: ERR, its status */
};

struct kfail {
	enum kfail_kind kind;
	int err;
	unsigned int more;
	size_t bytes;
	char obj[128];		/* "chain X", "the elements of set Y" */
	char *text;
};

/* F as KIND with ERR (and OBJ unless NULL), the rest cleared. */
void kfail_set(struct kfail *f, enum kfail_kind kind, int err, const char *obj);
void kfail_free(struct kfail *f);

enum table_state { TABLE_ABSENT, TABLE_OURS, TABLE_FOREIGN, TABLE_ERROR };

struct nlattr;
/* The comment in table, element or rule userdata A (a TLV list; type 0
 * is libnftnl's comment): its length, *OUT pointing into A; 0 if none. */
size_t kernel_udata_comment(const struct nlattr *a, const char **out);
/* True if table userdata carries svcnft's comment "svcnft layout N";
 * N into *LAYOUT unless NULL. */
bool kernel_owner_comment(const struct nlattr *userdata, int *layout);

/* Look up table inet NAME over netlink; OURS if it carries svcnft's
 * comment and marker set (live_owner), *HANDLE then its handle.  On
 * TABLE_ERROR, *err holds errno. */
enum table_state kernel_table_state(const char *name, int *err, uint64_t *handle);

/* Move the calling process into a network namespace of its own, inside a
 * user namespace of its own with OWN_USER or when it lacks CAP_SYS_ADMIN
 * (in it the process holds CAP_NET_ADMIN; unprivileged users may do this
 * where the system allows them user namespaces): 0 or -errno.  Nothing it
 * does there reaches the caller's ruleset. */
int kernel_private_netns(bool own_user);

/* Run SCRIPT through libnftables as one transaction (or only check it when
 * DRY_RUN).  Returns SVCNFT_OK or SVCNFT_EKERNEL with *F filled
 * (KF_SCRIPT, KF_NO_CONTEXT). */
enum svcnft_status kernel_run(const char *script, bool dry_run,
			      struct kfail *f);

/* Whether nft's parser reads NAME as a name (not one of its keywords:
 * "ip", "counter", ...; nft 1.0.6 cannot quote a table's name).  Asks
 * libnftables, as a dry run that needs no root: it sends the kernel only
 * a request for the generation id, and prints nothing. */
bool kernel_name_parses(const char *name);

/* Re-execute once with glibc's malloc using transparent huge pages
 * (GLIBC_TUNABLES=glibc.malloc.hugetlb=1) unless already set or disabled by
 * SVCNFT_NO_HUGEPAGES.  libnftables allocates ~400 MB to load 10k services;
 * page faults were a third of apply time (README, "Performance").  Returns
 * only if it did not re-execute. */
void kernel_tune_malloc(char **argv);

#endif
