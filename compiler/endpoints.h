/* endpoints: the backends of a service port, as kube-proxy picks them
 * (named ports, readiness, terminating fallback, node and topology).
 * Ownership: each function's *OUT array is malloc'd; the caller frees it. */
#ifndef SVCNFT_ENDPOINTS_H
#define SVCNFT_ENDPOINTS_H

#include "model.h"

/* Resolve the usable backends of service port P of S in FAMILY; with NODE
 * only those on that node, the ready / serving+terminating choice made
 * among them.  Applies named-port matching and duplicate collapse.  Returns
 * how many were stored in *OUT, sorted (caller frees). */
size_t model_backends(const struct svcnft_model *m, const struct svc *s,
		      const struct svc_port *p, int family, const char *node,
		      struct backend **out);
/* Only the ready backends of P of S on NODE (no terminating fallback):
 * what kube-proxy's load-balancer health check counts. */
size_t model_ready_backends(const struct svcnft_model *m, const struct svc *s,
			    const struct svc_port *p, int family, const char *node,
			    struct backend **out);
/* Like model_backends without NODE, but as kube-proxy's topology rules
 * choose among them for cluster traffic from this node (T): when every
 * ready endpoint carries node hints and one names T's node, those; else
 * when every ready endpoint carries zone hints and one names T's zone,
 * those; else all. */
size_t model_cluster_backends(const struct svcnft_model *m,
			      const struct svc *s, const struct svc_port *p,
			      int family, const struct topology *t,
			      struct backend **out);

#endif
