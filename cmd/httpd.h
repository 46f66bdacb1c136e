/* httpd: the node agent's HTTP side (libmicrohttpd), used by watch and
 * follow: /healthz and /livez on --health-addr, /metrics (Prometheus text
 * 0.0.4) on --metrics-addr, and one listener per healthCheckNodePort.
 *
 * Every server runs in libmicrohttpd's own thread, so a slow apply never
 * delays a health probe; the state the answers are made from is copied in
 * under one mutex by the calls below.  All calls come from one thread (the
 * command's loop).  httpd copies what it is given; the caller keeps
 * ownership of its arguments. */
#ifndef SVCNFT_HTTPD_H
#define SVCNFT_HTTPD_H

#include <stdbool.h>

#include "health.h"
#include "svcnft.h"

#define HTTPD_HEALTH_DEFAULT "0.0.0.0:10256"
#define HTTPD_METRICS_DEFAULT "127.0.0.1:10249"

/* Whether ADDR is a valid --health-addr / --metrics-addr: "IPv4:PORT",
 * "[IPv6]:PORT", or "" / "off" (that server disabled). */
bool httpd_addr_valid(const char *addr);

/* Start the health and metrics servers (either may be NULL, "" or "off").
 * An address that cannot be bound is a logged warning, tried again at
 * each sync; nothing here is fatal. */
void httpd_start(const char *health_addr, const char *metrics_addr);

/* One sync attempt: its result and duration.  /healthz answers 200 once
 * one succeeded and while the last one did not fail. */
void httpd_sync_result(bool ok, double seconds);

/* What the last good model holds: the counts and the health checks to
 * serve (listeners opened and closed to match). */
void httpd_set_health(const struct svcnft_health *h);

/* The two above for one apply of M (NULL or !OK: only the result). */
void httpd_applied(bool ok, double seconds, const struct svcnft_model *m,
		   const struct svcnft_config *cfg);

/* follow: a watch event of RESOURCE ("services", "endpointslices") of
 * TYPE ("ADDED", ...), and a restarted kubectl child. */
void httpd_event(const char *resource, const char *type);
void httpd_kubectl_restart(const char *resource);

/* Stop every server (the process goes on without them). */
void httpd_stop(void);

#endif
