/* health: counts and healthCheckNodePort answers of a validated model. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "health.h"
#include "endpoints.h"
#include "util.h"

static int backend_cmp(const void *a, const void *b)
{
	const struct backend *x = a, *y = b;
	int c = ipaddr_cmp(&x->ip, &y->ip);

	return c ? c : (x->port > y->port) - (x->port < y->port);
}

/* Distinct ready endpoints of S on NODE, over its ports and families (a
 * node with only terminating ones fails the check, so that the load
 * balancer drains it, as kube-proxy). */
static size_t local_endpoints(const struct svcnft_model *m, const struct svc *s,
			      const char *node)
{
	struct backend *all = NULL;
	size_t n = 0, cap = 0, uniq = 0;
	static const int fams[] = { AF_INET, AF_INET6 };

	for (size_t i = 0; i < s->n_ports; i++)
		for (size_t f = 0; f < 2; f++) {
			struct backend *b = NULL;
			size_t k = model_ready_backends(m, s, &s->ports[i], fams[f], node, &b);

			for (size_t j = 0; j < k; j++) {
				all = grow(all, &cap, n, sizeof(*all));
				all[n++] = b[j];
			}
			free(b);
		}
	if (n)
		qsort(all, n, sizeof(*all), backend_cmp);
	for (size_t i = 0; i < n; i++)
		uniq += !i || backend_cmp(&all[i], &all[i - 1]);
	free(all);
	return uniq;
}

/* Usable endpoints of S's ports, in the families of its cluster IPs. */
static size_t usable_endpoints(const struct svcnft_model *m, const struct svc *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n_ports; i++)
		for (size_t v = 0; v < s->n_vip; v++) {
			struct backend *b = NULL;

			n += model_backends(m, s, &s->ports[i], s->vip[v].family, NULL, &b);
			free(b);
		}
	return n;
}

static int check_cmp(const void *a, const void *b)
{
	const struct health_check *x = a, *y = b;

	return (x->port > y->port) - (x->port < y->port);
}

static void add_check(struct svcnft_health *h, size_t *cap,
		      const struct svcnft_model *m, const struct svc *s,
		      const char *node)
{
	h->checks = grow(h->checks, cap, h->n_checks, sizeof(*h->checks));
	h->checks[h->n_checks++] = (struct health_check){
		xstrdup(s->ns), xstrdup(s->name), (unsigned int)s->hc_port.v,
		node ? local_endpoints(m, s, node) : 0 };
}

void health_build(const struct svcnft_model *m, const struct svcnft_config *cfg,
		  struct svcnft_health *h)
{
	size_t cap = 0;

	memset(h, 0, sizeof(*h));
	for (size_t i = 0; i < m->n_svcs; i++) {
		const struct svc *s = &m->svcs[i];

		if (s->invalid || s->type == SVC_EXTERNAL_NAME)
			continue;
		/* validation allows it only for LoadBalancer + Local */
		if (s->hc_port.v > 0 && !s->hc_port.bad_type)
			add_check(h, &cap, m, s, cfg->node_name);
		if (s->headless || !s->n_vip)
			continue;
		h->services++;
		h->service_ports += s->n_ports;
		h->endpoints += usable_endpoints(m, s);
	}
	health_sort(h);
}

void health_sort(struct svcnft_health *h)
{
	if (h->n_checks)
		qsort(h->checks, h->n_checks, sizeof(*h->checks), check_cmp);
}

void health_free(struct svcnft_health *h)
{
	for (size_t i = 0; i < h->n_checks; i++) {
		free(h->checks[i].ns);
		free(h->checks[i].name);
	}
	free(h->checks);
	memset(h, 0, sizeof(*h));
}
