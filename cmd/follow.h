/* follow: a node agent fed live by kubectl watch streams. */
#ifndef SVCNFT_FOLLOW_H
#define SVCNFT_FOLLOW_H

#include "svcnft.h"

struct follow_opts {
	const struct svcnft_config *cfg;
	const char *kubectl;		/* --kubectl; default "kubectl" on PATH */
	const char *kubeconfig;		/* passed through, or NULL */
	const char *context;		/* passed through, or NULL */
	unsigned int debounce_ms;	/* default 10 */
	unsigned int resync_s;		/* complete lists every SECONDS; 0 never; default 300 */
	bool allow_empty;		/* a cluster without Services is meant */
	const char *health_addr;	/* --health-addr, --metrics-addr (httpd.h) */
	const char *metrics_addr;
};

/* Runs until SIGTERM or SIGINT (then 0, the rules stay), or a setup error
 * (2: kubectl missing or not executable). */
enum svcnft_status cmd_follow(const struct follow_opts *o);

#endif
