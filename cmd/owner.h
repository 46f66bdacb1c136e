/* owner: the ownership check of svcnft's table, and the one message for
 * each way an access to it fails (kernel/ prints nothing: it returns the
 * state and errno, or a struct kfail). */
#ifndef SVCNFT_OWNER_H
#define SVCNFT_OWNER_H

#include <stdbool.h>
#include <stdint.h>

#include "elements.h"
#include "kernel.h"
#include "svcnft.h"

/* The message for command WHAT ("apply") lacking CAP_NET_ADMIN; DETAIL
 * (may be NULL) says what failed ("cannot open /run/...: Permission
 * denied"). */
void owner_no_privilege(const char *what, const char *detail);

/* The message for a failed access to table inet TABLE by command WHAT:
 * ERR an errno (EPERM/EACCES: privilege; EINTR: kept changing; EAGAIN: no
 * answer), or 0 for a table svcnft did not create. */
void owner_report(const char *what, const char *table, int err);
/* owner_report after a live read into LIVE (it names a set holding
 * elements svcnft did not write). */
void owner_report_live(const char *what, const char *table, int err,
		       const struct elements *live);

/* The message for what kernel/ could not do (none for KF_NONE); frees
 * F's text and clears it. */
void owner_kfail(struct kfail *f);

/* Refuse a table of the same name that svcnft did not create, with the
 * message: SVCNFT_OK with *HANDLE the handle of svcnft's table (0: none;
 * a transaction naming it fails if the table was replaced since), or
 * SVCNFT_EKERNEL. */
enum svcnft_status owner_handle(const char *table, const char *what,
				uint64_t *handle);
/* The same, with only whether svcnft's table exists. */
enum svcnft_status owner_check(const char *table, const char *what,
			       bool *exists);

/* check's kernel part: refuse a foreign table of the same name, then have
 * the kernel check SCRIPT without committing it.  Without CAP_NET_ADMIN
 * the check runs in a private network namespace (kernel_private_netns,
 * the process stays there) and *PRIVATE is set; only when that is not
 * allowed either does it fail with the missing-privilege message. */
enum svcnft_status owner_check_script(const char *table, const char *script,
				      bool *private);

#endif
