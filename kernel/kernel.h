/* kernel: libnftables transactions and the owner check of svcnft's table.
 * All of kernel/ talks to the kernel; netlink goes through netlink.h. */
#ifndef SVCNFT_KERNEL_H
#define SVCNFT_KERNEL_H

#include "svcnft.h"

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

/* The one message for a failed access to table inet TABLE by command WHAT
 * ("apply"): ERR an errno (EPERM/EACCES: privilege; EINTR: kept changing;
 * EAGAIN: no answer), or 0 for a table svcnft did not create. */
void kernel_report(const char *what, const char *table, int err);

/* Refuse a table of the same name that svcnft did not create, with a
 * message: SVCNFT_OK (and *EXISTS) or SVCNFT_EKERNEL.  WHAT names the
 * command for the missing-privilege message ("apply"). */
enum svcnft_status kernel_check_owner(const char *table, const char *what,
				      bool *exists);
/* The same, with the handle of svcnft's table into *HANDLE (0: there is
 * none): a transaction that names it fails if the table was replaced. */
enum svcnft_status kernel_owned_table(const char *table, const char *what,
				      uint64_t *handle);

/* Move the calling process into a network namespace of its own, inside a
 * user namespace of its own with OWN_USER or when it lacks CAP_SYS_ADMIN
 * (in it the process holds CAP_NET_ADMIN; unprivileged users may do this
 * where the system allows them user namespaces): 0 or -errno.  Nothing it
 * does there reaches the caller's ruleset. */
int kernel_private_netns(bool own_user);

/* check's kernel part: refuse a foreign table of the same name, then have
 * the kernel check SCRIPT without committing it.  Without CAP_NET_ADMIN
 * the check runs in a private network namespace (kernel_private_netns,
 * the process stays there) and *PRIVATE is set; only when that is not
 * allowed either does it fail with the missing-privilege message. */
enum svcnft_status kernel_check_script(const char *table, const char *script,
				       bool *private);

/* Run SCRIPT through libnftables as one transaction (or only check it when
 * DRY_RUN).  Returns SVCNFT_OK or SVCNFT_EKERNEL with libnftables' message
 * printed to stderr. */
enum svcnft_status kernel_run(const char *script, bool dry_run);

/* Re-execute once with glibc's malloc using transparent huge pages
 * (GLIBC_TUNABLES=glibc.malloc.hugetlb=1) unless already set or disabled by
 * SVCNFT_NO_HUGEPAGES.  libnftables allocates ~400 MB to load 10k services;
 * page faults were a third of apply time (README, "Performance").  Returns
 * only if it did not re-execute. */
void kernel_tune_malloc(char **argv);

#endif
