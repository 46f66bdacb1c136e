/* plan_records: see plan_records.h. */
#include <stdio.h>
#include <string.h>

#include "elements.h"
#include "plan_records.h"
#include "util.h"

struct walk {
	rec_cb each;
	void *arg;
	const struct plan_family *f;
	struct el_record r;
};

static void set_of(struct walk *x, const char *base)
{
	char name[REC_NAME_MAX];

	snprintf(name, sizeof(name), "%s%s", base, x->f->sfx);
	rec_init(&x->r, name);
}

static void emit(struct walk *x)
{
	x->each(&x->r, x->arg);
}

static void addrs(struct walk *x)
{
	const struct plan_family *f = x->f;

	set_of(x, "cluster-ips");
	for (size_t i = 0; i < f->n_vips; i++) {
		rec_addr(&x->r, &f->vips[i]);
		emit(x);
	}
	set_of(x, "hairpin");
	for (size_t i = 0; i < f->n_hairpin; i++) {
		rec_hairpin(&x->r, &f->hairpin[i]);
		emit(x);
	}
}

static void ports(struct walk *x)
{
	const struct plan_family *f = x->f;

	set_of(x, "service-ports");
	for (size_t i = 0; i < f->n_e; i++) {
		if (!plan_entry_is_port(&f->e[i]))
			continue;
		rec_entry(&x->r, &f->e[i]);
		emit(x);
	}
	set_of(x, "firewall");
	for (size_t i = 0; i < f->n_fw; i++) {
		rec_entry(&x->r, &f->e[f->fw[i].e]);
		emit(x);
	}
}

/* A dispatch map: the entry's chain, or reject, or drop. */
static void dispatch(struct walk *x, const char *map)
{
	const struct plan_family *f = x->f;

	set_of(x, map);
	for (size_t i = 0; i < f->n_e; i++) {
		if (!plan_entry_in_map(&f->e[i], map))
			continue;
		rec_dispatch(&x->r, f, &f->e[i]);
		emit(x);
	}
}

/* KEY . slot : backend address . port. */
static void backends(struct walk *x, const char *map)
{
	const struct plan_family *f = x->f;

	set_of(x, map);
	for (size_t i = 0; i < f->n_e; i++) {
		const struct plan_entry *e = &f->e[i];

		if (strcmp(plan_views[e->view].backends, map))
			continue;
		for (size_t j = 0; j < e->n; j++) {
			rec_backend(&x->r, e, j);
			emit(x);
		}
	}
}

/* KEY : the service port's affinity id. */
static void ids(struct walk *x, const char *map)
{
	const struct plan_family *f = x->f;

	set_of(x, map);
	for (size_t i = 0; i < f->n_e; i++) {
		const struct plan_entry *e = &f->e[i];

		if (!plan_entry_has_id(e) || strcmp(plan_ids_map(e->view), map))
			continue;
		rec_id(&x->r, e);
		emit(x);
	}
}

static void direct(struct walk *x)
{
	static const char *const maps[] = {
		"service-ips", "external-local", "nodeports", "nodeports-local",
	};

	addrs(x);
	ports(x);
	for (size_t k = 0; k < ARRAY_SIZE(maps); k++)
		dispatch(x, maps[k]);
	backends(x, "backends");
	backends(x, "nodeport-backends");
	ids(x, "affinity-ids");
	ids(x, "nodeport-affinity-ids");
}

static void cidrs(struct walk *x, const char *set, const struct svcnft_cidr *c,
		  size_t n)
{
	set_of(x, set);
	for (size_t i = 0; i < n; i++) {
		rec_cidr(&x->r, &c[i]);
		emit(x);
	}
}

/* The interval sets and the slot maps. */
static void others(struct walk *x)
{
	const struct plan_family *f = x->f;
	char name[REC_NAME_MAX];

	cidrs(x, "pod-cidrs", f->pod_cidrs, f->n_pod_cidrs);
	cidrs(x, "service-cidrs", f->svc_cidrs, f->n_svc_cidrs);
	cidrs(x, "nodeport-addresses", f->np_cidrs, f->n_np_cidrs);
	set_of(x, "firewall-allow");
	for (size_t i = 0; i < f->n_fw; i++)
		for (size_t k = 0; k < f->fw[i].n_ranges; k++) {
			if (f->fw[i].ranges[k].family != f->family)
				continue;
			rec_fw(&x->r, &f->e[f->fw[i].e], &f->fw[i].ranges[k]);
			emit(x);
		}
	for (size_t t = 0; t < f->n_affs; t++) {
		plan_slot_map(name, sizeof(name), f, &f->affs[t]);
		rec_init(&x->r, name);
		for (size_t i = 0; i < f->affs[t].slots; i++) {
			plan_chain_slot(name, sizeof(name), f, &f->affs[t], i);
			rec_slot(&x->r, i, name);
			emit(x);
		}
	}
	for (int v = 0; v < PLAN_N_VIEWS; v++) {
		if (!f->backend_slots[v])
			continue;
		plan_backend_map(name, sizeof(name), f, (enum plan_view)v);
		rec_init(&x->r, name);
		for (size_t i = 0; i < f->backend_slots[v]; i++) {
			plan_chain_backend(name, sizeof(name), f, (enum plan_view)v, i);
			rec_slot(&x->r, i, name);
			emit(x);
		}
	}
}

void plan_records(const struct plan *p, bool all, rec_cb each, void *arg)
{
	struct walk x = { .each = each, .arg = arg };

	for (int i = 0; i < 2; i++) {
		x.f = &p->fam[i];
		direct(&x);
		if (all)
			others(&x);
	}
}

void plan_objects(const struct plan *p,
		  void (*each)(const char *name, bool map, void *arg), void *arg)
{
	char name[REC_NAME_MAX];

	for (int i = 0; i < 2; i++) {
		const struct plan_family *f = &p->fam[i];

		for (size_t k = 0; k < f->n_groups; k++) {
			plan_chain_lb(name, sizeof(name), f, &f->groups[k]);
			each(name, false, arg);
		}
		for (size_t t = 0; t < f->n_affs; t++) {
			plan_slot_map(name, sizeof(name), f, &f->affs[t]);
			each(name, true, arg);
			for (size_t k = 0; k < f->affs[t].slots; k++) {
				plan_chain_slot(name, sizeof(name), f, &f->affs[t], k);
				each(name, false, arg);
			}
		}
		for (int v = 0; v < PLAN_N_VIEWS; v++) {
			if (!f->backend_slots[v])
				continue;
			plan_backend_map(name, sizeof(name), f, (enum plan_view)v);
			each(name, true, arg);
			for (size_t k = 0; k < f->backend_slots[v]; k++) {
				plan_chain_backend(name, sizeof(name), f,
						   (enum plan_view)v, k);
				each(name, false, arg);
			}
		}
	}
}
