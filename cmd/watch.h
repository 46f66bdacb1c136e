/* watch: apply, then re-apply whenever the input files change. */
#ifndef SVCNFT_WATCH_H
#define SVCNFT_WATCH_H

#include "svcnft.h"

struct watch_opts {
	const struct svcnft_config *cfg;
	char **paths;
	int n_paths;
	unsigned int debounce_ms;	/* default 200 */
	unsigned int interval_s;	/* drift check; 0 = never */
	bool allow_empty;		/* an input without Services is meant */
	const char *health_addr;	/* httpd_start's; NULL: off */
	const char *metrics_addr;
};

/* Runs until SIGTERM or SIGINT (then 0), or a setup error (>= 2). */
enum svcnft_status cmd_watch(const struct watch_opts *o);

/* A log line of a long-running command (watch, follow): timestamped, on
 * standard error. */
void watch_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Each message of ERRS as a log line (a message's own "svcnft: " is not
 * repeated). */
struct svcnft_errors;
void watch_log_errors(const struct svcnft_errors *errs);
/* SIGTERM or SIGINT is pending (blocked for a signalfd): give up waiting
 * for the lock (apply_lock_stop). */
bool watch_stop_pending(void);

#endif
