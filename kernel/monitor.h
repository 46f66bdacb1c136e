/* monitor: nf_tables change notifications for a long-running svcnft.
 *
 * The saved state (state.h) is used only while the ruleset generation id
 * has not moved, and on a busy node other tables move it all the time.
 * watch subscribes to the kernel's nf_tables notifications; a transaction
 * (object events, then NEWGEN) that touched svcnft's table makes the state
 * stale, anything else leaves it good.  While svcnft itself commits, the
 * subscription is suspended (a full load notifies every element), so every
 * transaction seen is someone else's; it is resumed before the state is
 * saved, whose generation check covers the gap.  A lost notification
 * (ENOBUFS) starts the subscription again: older states are not vouched for.  Without
 * monitor_start() every call here is a no-op and nothing is vouched for. */
#ifndef SVCNFT_MONITOR_H
#define SVCNFT_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

/* Subscribe (watch); false with errno if that fails (then no vouching). */
bool monitor_start(const char *table);
/* The descriptor to poll for POLLIN, or -1. */
int monitor_fd(void);
/* Read what is pending. */
void monitor_drain(void);
void monitor_suspend(void);
void monitor_resume(void);
/* Whether the contents svcnft saved at generation SAVED are still those of
 * the table at generation NOW: watched without a gap since before SAVED,
 * and no transaction of someone else touched the table up to NOW. */
bool monitor_vouches(uint32_t saved, uint32_t now);

#endif
