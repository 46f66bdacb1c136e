/* httpd: /healthz, /livez, /metrics and healthCheckNodePort listeners. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "apply.h"
#include "httpd.h"
#include "util.h"

/* Sync durations: 1 ms doubling to 16.384 s, as kube-proxy's. */
#define N_BUCKETS 15
#define MAX_SERIES 64		/* label sets per counter; more are dropped */
#define LABEL_MAX 32

struct series {
	char a[LABEL_MAX], b[LABEL_MAX];	/* label values; B unused for restarts */
	unsigned long long n;
};

/* A healthCheckNodePort: what its answers say (under the mutex) and its
 * listener (the caller's thread only). */
struct hc {
	unsigned int port;
	char ns[64], name[64];
	size_t local;
	struct MHD_Daemon *d;
	bool warned;		/* its bind failure was logged */
};

/* A --health-addr or --metrics-addr server. */
struct srv {
	const char *what;
	struct sockaddr_storage sa;
	bool on, warned;
	struct MHD_Daemon *d;
};

static struct {
	pthread_mutex_t mu;
	bool ok_once, failing;
	double last_ok;				/* wall clock, s */
	unsigned long long n_ok, n_fail, bucket[N_BUCKETS];
	double sum;
	size_t services, service_ports, endpoints;
	struct series events[MAX_SERIES], restarts[MAX_SERIES];
	size_t n_events, n_restarts;
	struct hc *hcs;
	size_t n_hcs;
	struct srv health, metrics;
} S = { .mu = PTHREAD_MUTEX_INITIALIZER, .health.what = "--health-addr",
	.metrics.what = "--metrics-addr" };

static void warn(const char *fmt, ...) PRINTF(1, 2);

static void warn(const char *fmt, ...)
{
	va_list ap;

	diff_log_prefix();
	fputs("warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static bool addr_off(const char *addr)
{
	return !addr || !*addr || !strcmp(addr, "off");
}

/* "1.2.3.4:80" or "[::1]:80" into SA; false if it is neither. */
static bool parse_addr(const char *addr, struct sockaddr_storage *sa)
{
	char host[64];
	const char *colon = strrchr(addr, ':');
	size_t hl = colon ? (size_t)(colon - addr) : 0;
	char *end;
	unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;
	struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;

	memset(sa, 0, sizeof(*sa));
	if (!colon || !colon[1] || *end || colon[1] < '0' || colon[1] > '9' ||
	    port > 65535 || hl >= sizeof(host))
		return false;
	if (addr[0] == '[' && hl >= 2 && addr[hl - 1] == ']') {
		snprintf(host, sizeof(host), "%.*s", (int)hl - 2, addr + 1);
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host, &v6->sin6_addr) == 1;
	}
	snprintf(host, sizeof(host), "%.*s", (int)hl, addr);
	v4->sin_family = AF_INET;
	v4->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &v4->sin_addr) == 1;
}

bool httpd_addr_valid(const char *addr)
{
	struct sockaddr_storage sa;

	return addr_off(addr) || parse_addr(addr, &sa);
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned int status,
			       const char *type, const char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *c, unsigned int status,
				    const char *text)
{
	return respond(c, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* JSON answers: J is consumed. */
static enum MHD_Result respond_json(struct MHD_Connection *c, unsigned int status,
				    json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	enum MHD_Result ret = s ? respond(c, status, "application/json", s, strlen(s)) : MHD_NO;

	free(s);
	json_decref(j);
	return ret;
}

static void rfc3339(double t, char *buf, size_t len)
{
	time_t sec = (time_t)t;
	struct tm tm;
	char d[32];

	gmtime_r(&sec, &tm);
	strftime(d, sizeof(d), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", d, (int)((t - (double)sec) * 1000) % 1000);
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* /healthz as kube-proxy: lastUpdated is the last successful sync ("" before). */
static enum MHD_Result healthz(struct MHD_Connection *c)
{
	char last[40] = "", now[40];
	bool ok;

	pthread_mutex_lock(&S.mu);
	ok = S.ok_once && !S.failing;
	if (S.ok_once)
		rfc3339(S.last_ok, last, sizeof(last));
	pthread_mutex_unlock(&S.mu);
	rfc3339(wall_now(), now, sizeof(now));
	return respond_json(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
			    json_pack("{s:s,s:s}", "lastUpdated", last, "currentTime", now));
}

/* Only GET and HEAD are answered (others: 405). */
static bool bad_method(const char *method)
{
	return strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD);
}

static enum MHD_Result on_health(void *cls, struct MHD_Connection *c, const char *url,
				 const char *method, const char *version,
				 const char *data, size_t *data_size, void **ctx)
{
	(void)cls, (void)version, (void)data, (void)data_size, (void)ctx;
	if (bad_method(method))
		return respond_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (!strcmp(url, "/healthz"))
		return healthz(c);
	if (!strcmp(url, "/livez"))
		return respond_text(c, MHD_HTTP_OK, "ok\n");
	return respond_text(c, MHD_HTTP_NOT_FOUND, "404 page not found\n");
}

/* A Prometheus label value: backslash, quote and newline escaped. */
static void label(struct svcnft_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			buf_putc(b, '\\');
		if (*s == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *s);
	}
}

static void head(struct svcnft_buf *b, const char *name, const char *type,
		 const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void histogram(struct svcnft_buf *b)
{
	unsigned long long cum = 0;

	head(b, "svcnft_sync_duration_seconds", "histogram",
	     "Duration of one sync (load, validate, apply) in seconds.");
	for (int i = 0; i < N_BUCKETS; i++) {
		cum += S.bucket[i];
		buf_printf(b, "svcnft_sync_duration_seconds_bucket{le=\"%g\"} %llu\n",
			   0.001 * (double)(1u << i), cum);
	}
	buf_printf(b, "svcnft_sync_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
		   S.n_ok + S.n_fail);
	buf_printf(b, "svcnft_sync_duration_seconds_sum %.6f\n", S.sum);
	buf_printf(b, "svcnft_sync_duration_seconds_count %llu\n", S.n_ok + S.n_fail);
}

static void counters(struct svcnft_buf *b)
{
	head(b, "svcnft_events_total", "counter", "Watch events received, by resource and type.");
	for (size_t i = 0; i < S.n_events; i++) {
		buf_puts(b, "svcnft_events_total{resource=\"");
		label(b, S.events[i].a);
		buf_puts(b, "\",type=\"");
		label(b, S.events[i].b);
		buf_printf(b, "\"} %llu\n", S.events[i].n);
	}
	head(b, "svcnft_kubectl_restarts_total", "counter", "kubectl children restarted, by resource.");
	for (size_t i = 0; i < S.n_restarts; i++) {
		buf_puts(b, "svcnft_kubectl_restarts_total{resource=\"");
		label(b, S.restarts[i].a);
		buf_printf(b, "\"} %llu\n", S.restarts[i].n);
	}
}

/* The whole exposition, under the mutex. */
static void metrics_text(struct svcnft_buf *b)
{
	histogram(b);
	head(b, "svcnft_sync_total", "counter", "Sync attempts by result.");
	buf_printf(b, "svcnft_sync_total{result=\"success\"} %llu\n", S.n_ok);
	buf_printf(b, "svcnft_sync_total{result=\"failure\"} %llu\n", S.n_fail);
	head(b, "svcnft_last_sync_timestamp_seconds", "gauge",
	     "Unix time of the last successful sync (0: none yet).");
	buf_printf(b, "svcnft_last_sync_timestamp_seconds %.3f\n", S.ok_once ? S.last_ok : 0.0);
	head(b, "svcnft_services", "gauge", "Services with a cluster IP in the last applied state.");
	buf_printf(b, "svcnft_services %zu\n", S.services);
	head(b, "svcnft_service_ports", "gauge", "Ports of those services.");
	buf_printf(b, "svcnft_service_ports %zu\n", S.service_ports);
	head(b, "svcnft_endpoints", "gauge", "Usable endpoints summed over those service ports.");
	buf_printf(b, "svcnft_endpoints %zu\n", S.endpoints);
	counters(b);
}

static enum MHD_Result on_metrics(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *data, size_t *data_size, void **ctx)
{
	struct svcnft_buf b = {0};
	enum MHD_Result ret;

	(void)cls, (void)version, (void)data, (void)data_size, (void)ctx;
	if (bad_method(method))
		return respond_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (strcmp(url, "/metrics"))
		return respond_text(c, MHD_HTTP_NOT_FOUND, "404 page not found\n");
	pthread_mutex_lock(&S.mu);
	metrics_text(&b);
	pthread_mutex_unlock(&S.mu);
	ret = respond(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
	svcnft_buf_free(&b);
	return ret;
}

/* A healthCheckNodePort: CLS is the port.  Any path, as kube-proxy. */
static enum MHD_Result on_hc(void *cls, struct MHD_Connection *c, const char *url,
			     const char *method, const char *version,
			     const char *data, size_t *data_size, void **ctx)
{
	unsigned int port = (unsigned int)(uintptr_t)cls;
	json_t *j = NULL;
	size_t local = 0;

	(void)url, (void)version, (void)data, (void)data_size, (void)ctx;
	if (bad_method(method))
		return respond_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	pthread_mutex_lock(&S.mu);
	for (size_t i = 0; i < S.n_hcs && !j; i++)
		if (S.hcs[i].port == port) {
			local = S.hcs[i].local;
			j = json_pack("{s:{s:s,s:s},s:I}", "service", "namespace", S.hcs[i].ns,
				      "name", S.hcs[i].name, "localEndpoints", (json_int_t)local);
		}
	pthread_mutex_unlock(&S.mu);
	if (!j)		/* closing: the service is gone */
		return respond_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no such service\n");
	return respond_json(c, local ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, j);
}

/* Listen on SA (all addresses of both families when ANY_PORT is set). */
static struct MHD_Daemon *listen_on(const struct sockaddr_storage *sa,
				    unsigned int any_port, MHD_AccessHandlerCallback h,
				    void *cls)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
	const struct sockaddr *a = (const struct sockaddr *)sa;

	struct MHD_Daemon *d;

	/* [::] with IPV6_V6ONLY off (IPv4 too), or 0.0.0.0 without IPv6 */
	if (any_port && (d = MHD_start_daemon(flags | MHD_USE_DUAL_STACK, (uint16_t)any_port,
					      NULL, NULL, h, cls, MHD_OPTION_CONNECTION_LIMIT, 64u,
					      MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END)))
		return d;
	if (any_port)
		return MHD_start_daemon(flags, (uint16_t)any_port, NULL, NULL, h, cls,
					MHD_OPTION_CONNECTION_LIMIT, 64u,
					MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	return MHD_start_daemon(flags | (a->sa_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0,
				NULL, NULL, h, cls, MHD_OPTION_SOCK_ADDR, a,
				MHD_OPTION_CONNECTION_LIMIT, 64u,
				MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
}

static void srv_try(struct srv *s, MHD_AccessHandlerCallback h)
{
	char a[INET6_ADDRSTRLEN];
	const struct sockaddr_in *v4 = (const struct sockaddr_in *)&s->sa;
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&s->sa;
	bool six = s->sa.ss_family == AF_INET6;
	int err;

	if (!s->on || s->d || (s->d = listen_on(&s->sa, 0, h, NULL)))
		return;
	err = errno;
	if (s->warned)
		return;
	s->warned = true;
	inet_ntop(s->sa.ss_family, six ? (const void *)&v6->sin6_addr : (const void *)&v4->sin_addr,
		  a, sizeof(a));
	warn("%s: cannot listen on %s%s%s:%u (%s); trying again at each sync", s->what,
	     six ? "[" : "", a, six ? "]" : "", ntohs(six ? v6->sin6_port : v4->sin_port),
	     strerror(err));
}

static void srv_setup(struct srv *s, const char *addr)
{
	s->on = !addr_off(addr) && parse_addr(addr, &s->sa);
}

void httpd_start(const char *health_addr, const char *metrics_addr)
{
	srv_setup(&S.health, health_addr);
	srv_setup(&S.metrics, metrics_addr);
	srv_try(&S.health, on_health);
	srv_try(&S.metrics, on_metrics);
}

void httpd_sync_result(bool ok, double seconds)
{
	int i = 0;

	while (i < N_BUCKETS - 1 && seconds > 0.001 * (double)(1u << i))
		i++;
	pthread_mutex_lock(&S.mu);
	if (seconds <= 0.001 * (double)(1u << i))
		S.bucket[i]++;
	S.sum += seconds;
	S.failing = !ok;
	if (ok) {
		S.n_ok++;
		S.ok_once = true;
		S.last_ok = wall_now();
	} else {
		S.n_fail++;
	}
	pthread_mutex_unlock(&S.mu);
	srv_try(&S.health, on_health);
	srv_try(&S.metrics, on_metrics);
}

static struct hc *hc_find(struct hc *v, size_t n, unsigned int port)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].port == port)
			return &v[i];
	return NULL;
}

/* The listeners of OLD whose port is not in NEW are stopped (outside the
 * mutex: a handler may be waiting for it); NEW's missing ones started. */
static void hc_listeners(struct hc *old, size_t n_old)
{
	struct sockaddr_storage none = {0};

	for (size_t i = 0; i < n_old; i++)
		if (old[i].d && !hc_find(S.hcs, S.n_hcs, old[i].port))
			MHD_stop_daemon(old[i].d);
	for (size_t i = 0; i < S.n_hcs; i++) {
		struct hc *h = &S.hcs[i];

		if (h->d || (h->d = listen_on(&none, h->port, on_hc, (void *)(uintptr_t)h->port)))
			continue;
		if (!h->warned)
			warn("healthCheckNodePort %u of Service \"%s/%s\": cannot listen (%s); trying again at each sync",
			     h->port, h->ns, h->name, strerror(errno));
		h->warned = true;
	}
}

void httpd_set_health(const struct svcnft_health *h)
{
	struct hc *v = xcalloc(h->n_checks + 1, sizeof(*v)), *old;
	size_t n_old;

	for (size_t i = 0; i < h->n_checks; i++) {
		const struct health_check *c = &h->checks[i];
		struct hc *was = hc_find(S.hcs, S.n_hcs, c->port);

		v[i].port = c->port;
		snprintf(v[i].ns, sizeof(v[i].ns), "%s", c->ns);
		snprintf(v[i].name, sizeof(v[i].name), "%s", c->name);
		v[i].local = c->local_endpoints;
		if (was) {
			v[i].d = was->d;
			v[i].warned = was->warned;
		}
	}
	pthread_mutex_lock(&S.mu);
	old = S.hcs;
	n_old = S.n_hcs;
	S.hcs = v;
	S.n_hcs = h->n_checks;
	S.services = h->services;
	S.service_ports = h->service_ports;
	S.endpoints = h->endpoints;
	pthread_mutex_unlock(&S.mu);
	hc_listeners(old, n_old);
	free(old);
}

void httpd_applied(bool ok, double seconds, const struct svcnft_model *m,
		   const struct svcnft_config *cfg)
{
	struct svcnft_health h;

	httpd_sync_result(ok, seconds);
	if (!ok || !m)
		return;
	health_build(m, cfg, &h);
	httpd_set_health(&h);
	health_free(&h);
}

/* Count one more for label values A, B in V (N entries). */
static void bump(struct series *v, size_t *n, const char *a, const char *b)
{
	size_t i = 0;

	pthread_mutex_lock(&S.mu);
	while (i < *n && (strncmp(v[i].a, a, LABEL_MAX - 1) || strncmp(v[i].b, b, LABEL_MAX - 1)))
		i++;
	if (i == *n && *n < MAX_SERIES) {
		snprintf(v[i].a, LABEL_MAX, "%s", a);
		snprintf(v[i].b, LABEL_MAX, "%s", b);
		(*n)++;
	}
	if (i < *n)
		v[i].n++;
	pthread_mutex_unlock(&S.mu);
}

void httpd_event(const char *resource, const char *type)
{
	bump(S.events, &S.n_events, resource, type);
}

void httpd_kubectl_restart(const char *resource)
{
	bump(S.restarts, &S.n_restarts, resource, "");
}

void httpd_stop(void)
{
	struct svcnft_health none = {0};

	httpd_set_health(&none);
	if (S.health.d)
		MHD_stop_daemon(S.health.d);
	if (S.metrics.d)
		MHD_stop_daemon(S.metrics.d);
	S.health.d = S.metrics.d = NULL;
}
