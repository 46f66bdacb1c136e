/* health: what a node agent reports about a validated model — the counts
 * its metrics show and the Services it answers load-balancer health
 * checks for (spec.healthCheckNodePort, as kube-proxy).  Pure.  A
 * svcnft_health owns its checks and their names; health_free releases
 * them. */
#ifndef SVCNFT_HEALTH_H
#define SVCNFT_HEALTH_H

#include <stddef.h>

#include "model.h"

/* One healthCheckNodePort: LOCAL_ENDPOINTS is how many distinct ready
 * endpoints (address . port, any port, either family) of the Service run
 * on this node; 0 makes the check fail (503). */
struct health_check {
	char *ns, *name;
	unsigned int port;
	size_t local_endpoints;
};

struct svcnft_health {
	size_t services;		/* with a cluster IP: they get rules */
	size_t service_ports;		/* their ports (once per dual-stack port) */
	size_t endpoints;		/* usable endpoints summed over those ports
				 * (per cluster IP family) */
	struct health_check *checks;	/* sorted by port */
	size_t n_checks;
};

/* Fill H from M (validated; invalid Services count nothing) for the node
 * CFG->node_name: without a node name no endpoint is local. */
void health_build(const struct svcnft_model *m, const struct svcnft_config *cfg,
		  struct svcnft_health *h);
void health_free(struct svcnft_health *h);
/* Sort H's checks by port (after adding some by hand). */
void health_sort(struct svcnft_health *h);

#endif
