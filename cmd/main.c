/* svcnft CLI: options, the pipeline, and the kernel calls at the edge. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "diff.h"
#include "kernel.h"
#include "svcnft.h"
#include "util.h"
#include "watch.h"

#ifndef SVCNFT_VERSION
#define SVCNFT_VERSION "0.0.0"
#endif

enum cmd { CMD_NONE, CMD_COMPILE, CMD_CHECK, CMD_APPLY, CMD_DELETE, CMD_ENV, CMD_DNS,
	   CMD_DIFF, CMD_WATCH };

#define C(x) (1u << (x))
#define ALL (C(CMD_COMPILE) | C(CMD_CHECK) | C(CMD_APPLY) | C(CMD_DELETE) | LIVE)
#define INPUT (C(CMD_COMPILE) | C(CMD_CHECK) | C(CMD_APPLY) | LIVE)
#define LIVE (C(CMD_DIFF) | C(CMD_WATCH))
#define DISC (C(CMD_ENV) | C(CMD_DNS))

static const struct command {
	const char *name;
	enum cmd cmd;
	const char *args;
	const char *help;
} commands[] = {
	{ "compile", CMD_COMPILE, "PATH...",
	  "print the ruleset as an nft script (or libnftables JSON with -o json)" },
	{ "check", CMD_CHECK, "PATH...",
	  "validate the input, then have the kernel check the ruleset without committing" },
	{ "apply", CMD_APPLY, "PATH...",
	  "replace svcnft's table with the ruleset in one kernel transaction" },
	{ "delete", CMD_DELETE, "",
	  "remove svcnft's table, and only it" },
	{ "env", CMD_ENV, "PATH...",
	  "print the service environment variables the kubelet gives a pod in --namespace" },
	{ "dns", CMD_DNS, "PATH...",
	  "print the cluster DNS zone (or with --ptr its reverse zone, with --hosts /etc/hosts lines)" },
	{ "diff", CMD_DIFF, "PATH...",
	  "show what apply would change (exit 0 none, 1 changes, >=2 error)" },
	{ "watch", CMD_WATCH, "PATH...",
	  "apply, then re-apply whenever the input files change (inotify)" },
};

enum { OPT_MASQ_ALL = 256, OPT_NODE_NAME, OPT_ZONE, OPT_TTL, OPT_PTR, OPT_HOSTS, OPT_LIMIT,
       OPT_AGAINST, OPT_FULL, OPT_DEBOUNCE, OPT_INTERVAL, OPT_NP_ADDRS,
       OPT_NP_RANGE };

/* One table feeds getopt_long and --help. */
static const struct option_desc {
	const char *name;
	int has_arg;
	int val;
	const char *arg;
	unsigned int cmds;
	const char *help;
} options[] = {
	{ "table", 1, 't', "NAME", ALL, "nftables table (family inet) owned by svcnft; default svcnft" },
	{ "service-cidr", 1, 's', "CIDR", INPUT | DISC, "range of valid cluster IPs, repeatable; default 10.96.0.0/12" },
	{ "cluster-cidr", 1, 'c', "CIDR", INPUT, "pod network, repeatable: traffic from outside it is masqueraded" },
	{ "masquerade-all", 0, OPT_MASQ_ALL, NULL, INPUT, "masquerade all traffic to service IPs" },
	{ "node-name", 1, OPT_NODE_NAME, "NAME", INPUT, "this node: its endpoints serve Local traffic policies and hairpin" },
	{ "nodeport-addresses", 1, OPT_NP_ADDRS, "CIDR", INPUT, "node ports answer on local addresses in CIDR, repeatable; default all but loopback" },
	{ "service-node-port-range", 1, OPT_NP_RANGE, "MIN-MAX", INPUT, "range of valid node ports; default 30000-32767" },
	{ "output", 1, 'o', "FORMAT", C(CMD_COMPILE) | C(CMD_ENV), "nft (default) or json; env: env (default), json or docker (--env words)" },
	{ "namespace", 1, 'n', "NS", C(CMD_ENV), "namespace of the pod; default default" },
	{ "zone", 1, OPT_ZONE, "ZONE", C(CMD_DNS), "cluster domain; default cluster.local" },
	{ "ttl", 1, OPT_TTL, "SECONDS", C(CMD_DNS), "TTL of the records; default 30" },
	{ "ptr", 0, OPT_PTR, NULL, C(CMD_DNS), "print the reverse zone (PTR records, origin arpa.)" },
	{ "hosts", 0, OPT_HOSTS, NULL, C(CMD_DNS), "print an /etc/hosts fragment (A/AAAA names)" },
	{ "limit", 1, OPT_LIMIT, "NAME=N", INPUT | DISC, "bound the input: input-bytes, depth, string-bytes, objects, ports, endpoints" },
	{ "against", 1, OPT_AGAINST, "FILE", C(CMD_DIFF), "diff against a script saved from compile instead of the kernel" },
	{ "full", 0, OPT_FULL, NULL, C(CMD_APPLY), "replace the whole table, not only what changed" },
	{ "debounce", 1, OPT_DEBOUNCE, "MS", C(CMD_WATCH), "wait for MS milliseconds of quiet before re-applying; default 200" },
	{ "interval", 1, OPT_INTERVAL, "SECONDS", C(CMD_WATCH), "also re-check the kernel every SECONDS and repair drift" },
	{ "help", 0, 'h', NULL, ALL | DISC, "show this help" },
	{ "version", 0, 'V', NULL, ALL | DISC, "show the version" },
};

#define N_OPTS (sizeof(options) / sizeof(options[0]))
#define MAX_CIDRS 64

struct cli {
	enum cmd cmd;
	const char *output;
	struct svcnft_cidr svc_cidrs[MAX_CIDRS], pod_cidrs[MAX_CIDRS];
	struct svcnft_cidr np_cidrs[MAX_CIDRS];
	struct svcnft_config cfg;
	char **paths;
	int n_paths;
	bool help, version;
	const char *ns;			/* env */
	struct svcnft_dns_config dns;	/* dns */
	const char *against;		/* diff */
	bool full;			/* apply */
	struct watch_opts watch;	/* watch */
};

static void usage(FILE *f, enum cmd only)
{
	fprintf(f, "Usage: svcnft COMMAND [OPTIONS] [PATH...]\n\n"
		   "Compile Kubernetes Services and Endpoints/EndpointSlices into one\n"
		   "atomic nftables table.  PATH is a JSON or YAML file, a directory (its\n"
		   "*.json, *.yaml and *.yml files in order) or - for standard input.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!only || commands[i].cmd == only)
			fprintf(f, "  %-8s %-8s %s\n", commands[i].name,
				commands[i].args, commands[i].help);
	fputs("\nOptions:\n", f);
	for (size_t i = 0; i < N_OPTS; i++) {
		char lhs[64];

		if (only && !(options[i].cmds & C(only)))
			continue;
		if (options[i].val < 256)
			snprintf(lhs, sizeof(lhs), "-%c, ", options[i].val);
		else
			snprintf(lhs, sizeof(lhs), "    ");
		snprintf(lhs + 4, sizeof(lhs) - 4, "--%s%s%s", options[i].name,
			 options[i].arg ? " " : "", options[i].arg ? options[i].arg : "");
		/* a long left side gets the help on a line of its own */
		if (strlen(lhs) > 28)
			fprintf(f, "  %s\n  %-28s %s\n", lhs, "", options[i].help);
		else
			fprintf(f, "  %-28s %s\n", lhs, options[i].help);
	}
	fputs("\nExit status: 0 success, 2 usage or I/O error or malformed JSON/YAML,\n"
	      "3 invalid input (what the API server rejects with 422),\n"
	      "4 the kernel or libnftables refused.\n", f);
}

/* Same family and equal in their first min(prefix) bits. */
static bool cidr_overlap(const struct svcnft_cidr *a, const struct svcnft_cidr *b)
{
	unsigned int bits = a->plen < b->plen ? a->plen : b->plen;

	if (a->family != b->family)
		return false;
	for (unsigned int i = 0; i < bits; i++)
		if ((a->addr[i / 8] ^ b->addr[i / 8]) & (0x80 >> (i % 8)))
			return false;
	return true;
}

/* Add CIDR S to V; with DISJOINT (pod networks go into an nft interval
 * set) a repeat is dropped and an overlap is a usage error. */
static int add_cidr(struct svcnft_cidr *v, size_t *n, const char *s,
		    const char *opt, bool disjoint)
{
	if (*n >= MAX_CIDRS) {
		fprintf(stderr, "svcnft: too many --%s options (at most %d)\n", opt, MAX_CIDRS);
		return -1;
	}
	if (!svcnft_cidr_parse(s, &v[*n])) {
		fprintf(stderr, "svcnft: --%s: invalid CIDR \"%s\"\n", opt, s);
		return -1;
	}
	for (size_t i = 0; disjoint && i < *n; i++) {
		if (!cidr_overlap(&v[i], &v[*n]))
			continue;
		if (v[i].plen == v[*n].plen)
			return 0;	/* the same range twice */
		fprintf(stderr, "svcnft: --%s: \"%s\" overlaps another --%s\n", opt, s, opt);
		return -1;
	}
	(*n)++;
	return 0;
}

/* env and dns options. */
static int handle_disc_opt(struct cli *c, int opt, const char *arg)
{
	enum svcnft_dns_output out = opt == OPT_PTR ? SVCNFT_DNS_PTR : SVCNFT_DNS_HOSTS;
	unsigned long v;
	char *end;

	switch (opt) {
	case 'n':
		c->ns = arg;
		return 0;
	case OPT_ZONE:
		c->dns.zone = arg;
		return 0;
	case OPT_TTL:
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (arg[0] < '0' || arg[0] > '9' || *end || errno || v > 2147483647) {
			fprintf(stderr, "svcnft: --ttl: invalid TTL \"%s\" (0 to 2147483647 seconds)\n", arg);
			return -1;
		}
		c->dns.ttl = (uint32_t)v;
		return 0;
	default:
		if (c->dns.output != SVCNFT_DNS_ZONE && c->dns.output != out) {
			fputs("svcnft: --ptr and --hosts exclude each other\n", stderr);
			return -1;
		}
		c->dns.output = out;
		return 0;
	}
}

/* --limit NAME=N: the limits are process-wide in the library. */
static int set_limit(const char *arg)
{
	struct svcnft_limits l;
	const char *msg;

	svcnft_limits_get(&l);
	if ((msg = svcnft_limit_parse(&l, arg))) {
		fprintf(stderr, "svcnft: --limit \"%s\": %s\n", arg, msg);
		return -1;
	}
	svcnft_limits_set(&l);
	return 0;
}

/* --debounce (ms), --interval (s): 0 to MAX. */
static int set_uint(unsigned int *v, const char *arg, const char *opt,
		    unsigned long max)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end || errno || n > max) {
		fprintf(stderr, "svcnft: --%s: invalid number \"%s\"\n", opt, arg);
		return -1;
	}
	*v = (unsigned int)n;
	return 0;
}

/* --service-node-port-range MIN-MAX (the API server also takes MIN+SPAN
 * and a single port). */
static int set_np_range(struct svcnft_config *cfg, const char *arg)
{
	unsigned long lo, hi;
	char *end;

	errno = 0;
	lo = hi = strtoul(arg, &end, 10);
	if (arg[0] >= '0' && arg[0] <= '9' && (!*end || ((*end == '-' || *end == '+') &&
	    end[1] >= '0' && end[1] <= '9'))) {
		char sep = *end;

		if (sep)
			hi = strtoul(end + 1, &end, 10);
		if (sep == '+')
			hi += lo;
		if (!*end && !errno && lo >= 1 && lo <= hi && hi <= 65535) {
			cfg->node_port_min = (unsigned int)lo;
			cfg->node_port_max = (unsigned int)hi;
			return 0;
		}
	}
	fprintf(stderr, "svcnft: --service-node-port-range: invalid range \"%s\" (want MIN-MAX within 1-65535)\n", arg);
	return -1;
}

static int handle_opt(struct cli *c, int opt, const char *arg)
{
	switch (opt) {
	case 't':
		c->cfg.table = arg;
		return 0;
	case 's':
		return add_cidr(c->svc_cidrs, &c->cfg.n_service_cidrs, arg, "service-cidr", false);
	case 'c':
		return add_cidr(c->pod_cidrs, &c->cfg.n_cluster_cidrs, arg, "cluster-cidr", true);
	case OPT_MASQ_ALL:
		c->cfg.masquerade_all = true;
		return 0;
	case OPT_NODE_NAME:
		c->cfg.node_name = *arg ? arg : NULL;
		return 0;
	case OPT_NP_ADDRS:
		return add_cidr(c->np_cidrs, &c->cfg.n_nodeport_cidrs, arg, "nodeport-addresses", true);
	case OPT_NP_RANGE:
		return set_np_range(&c->cfg, arg);
	case OPT_LIMIT:
		return set_limit(arg);
	case OPT_AGAINST:
		c->against = arg;
		return 0;
	case OPT_FULL:
		c->full = true;
		return 0;
	case OPT_DEBOUNCE:
	case OPT_INTERVAL:
		if (opt == OPT_DEBOUNCE)
			return set_uint(&c->watch.debounce_ms, arg, "debounce", 86400000);
		return set_uint(&c->watch.interval_s, arg, "interval", 86400);
	case 'n':
	case OPT_ZONE:
	case OPT_TTL:
	case OPT_PTR:
	case OPT_HOSTS:
		return handle_disc_opt(c, opt, arg);
	case 'o':
		c->output = arg;
		return 0;
	case 'h':
		c->help = true;
		return 0;
	case 'V':
		c->version = true;
		return 0;
	default:
		return -1;
	}
}

static enum cmd find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return commands[i].cmd;
	return CMD_NONE;
}

/* What getopt found wrong (OPT '?' or ':') about WORD, in svcnft's form. */
static void bad_option(int opt, const char *word)
{
	int n = (int)strcspn(word, "=");
	bool is_long = !strncmp(word, "--", 2);

	if (opt == ':' && is_long)
		fprintf(stderr, "svcnft: option %.*s needs an argument\n", n, word);
	else if (opt == ':')
		fprintf(stderr, "svcnft: option -%c needs an argument\n", optopt);
	else if (is_long)
		fprintf(stderr, "svcnft: unrecognized option %.*s\n", n, word);
	else
		fprintf(stderr, "svcnft: invalid option -%c\n", optopt);
}

static int parse_args(struct cli *c, int argc, char **argv)
{
	struct option lo[N_OPTS + 1];
	int opt;

	memset(lo, 0, sizeof(lo));
	for (size_t i = 0; i < N_OPTS; i++)
		lo[i] = (struct option){ options[i].name, options[i].has_arg, NULL,
					 options[i].val };
	opterr = 0;	/* getopt would name the program by argv[0] */
	while ((opt = getopt_long(argc, argv, ":t:s:c:o:n:hV", lo, NULL)) != -1) {
		if (opt == '?' || opt == ':') {
			bad_option(opt, argv[optind - 1]);
			return -1;
		}
		if (handle_opt(c, opt, optarg) < 0)
			return -1;
	}
	if (optind < argc) {
		c->cmd = find_command(argv[optind]);
		if (c->cmd == CMD_NONE) {
			fprintf(stderr, "svcnft: unknown command \"%s\"\n", argv[optind]);
			return -1;
		}
		optind++;
	}
	c->paths = argv + optind;
	c->n_paths = argc - optind;
	return 0;
}

static int check_disc(const struct cli *c)
{
	const char *msg;

	if (c->cmd == CMD_ENV && c->output && strcmp(c->output, "env") &&
	    strcmp(c->output, "json") && strcmp(c->output, "docker")) {
		fprintf(stderr, "svcnft: --output: unknown format \"%s\" for env (env, json or docker)\n",
			c->output);
		return -1;
	}
	if (c->cmd == CMD_DNS && c->output) {
		fputs("svcnft: dns takes no --output (see --ptr and --hosts)\n", stderr);
		return -1;
	}
	if (!svcnft_namespace_valid(c->ns)) {
		fprintf(stderr, "svcnft: --namespace: invalid namespace \"%s\"\n", c->ns);
		return -1;
	}
	if ((msg = svcnft_dns_zone_check(c->dns.zone))) {
		fprintf(stderr, "svcnft: --zone: invalid zone \"%s\": %s\n", c->dns.zone, msg);
		return -1;
	}
	return 0;
}

static int check_cli(struct cli *c)
{
	static struct svcnft_cidr dflt;

	if (!svcnft_table_name_valid(c->cfg.table)) {
		fprintf(stderr, "svcnft: --table: invalid table name \"%s\"\n", c->cfg.table);
		return -1;
	}
	if (check_disc(c) < 0)
		return -1;
	if (c->output && c->cmd != CMD_COMPILE && c->cmd != CMD_ENV) {
		fputs("svcnft: --output applies to compile and env only\n", stderr);
		return -1;
	}
	if (c->cmd == CMD_COMPILE && c->output && strcmp(c->output, "nft") && strcmp(c->output, "json")) {
		fprintf(stderr, "svcnft: --output: unknown format \"%s\" (nft or json)\n", c->output);
		return -1;
	}
	if (c->cmd == CMD_DELETE && c->n_paths) {
		fputs("svcnft: delete takes no PATH\n", stderr);
		return -1;
	}
	if (c->cmd != CMD_DELETE && !c->n_paths) {
		fputs("svcnft: no input PATH given (use - for standard input)\n", stderr);
		return -1;
	}
	if (!c->cfg.n_service_cidrs) {
		svcnft_cidr_parse("10.96.0.0/12", &dflt);
		c->cfg.service_cidrs = &dflt;
		c->cfg.n_service_cidrs = 1;
	}
	return 0;
}

/* Load every PATH and validate: the status of the worst error. */
static enum svcnft_status load(struct cli *c, struct svcnft_model *m)
{
	struct svcnft_errors errs = {0};
	enum svcnft_status st;

	for (int i = 0; i < c->n_paths; i++)
		svcnft_model_load_path(m, c->paths[i], &errs);
	if (svcnft_errors_status(&errs) != SVCNFT_EUSAGE)
		svcnft_model_validate(m, &c->cfg, &errs);
	if (svcnft_errors_status(&errs) == SVCNFT_OK && (C(c->cmd) & INPUT))
		svcnft_model_warn_no_endpoints(m, &c->cfg, &errs);
	svcnft_errors_print(&errs, stderr);
	st = svcnft_errors_status(&errs);
	svcnft_errors_free(&errs);
	return st;
}

/* Refuse to touch a table of the same name that svcnft did not create. */
static enum svcnft_status check_owner(const struct cli *c, bool *exists)
{
	return kernel_check_owner(c->cfg.table, c->cmd == CMD_CHECK ?
				  "the input is valid; the kernel check" :
				  commands[c->cmd - 1].name, exists);
}

static enum svcnft_status run_delete(const struct cli *c)
{
	char script[128];
	bool exists;
	enum svcnft_status st;
	int lock = apply_lock(c->cfg.table, "delete");	/* never during an apply */

	if (lock < 0)
		return SVCNFT_EKERNEL;
	st = check_owner(c, &exists);
	if (st == SVCNFT_OK && !exists)
		fprintf(stderr, "svcnft: no table inet %s, nothing to delete\n", c->cfg.table);
	else if (st == SVCNFT_OK) {
		snprintf(script, sizeof(script), "delete table inet %s\n", c->cfg.table);
		st = kernel_run(script, false);
		if (st == SVCNFT_OK)
			apply_forget(c->cfg.table);
	}
	close(lock);
	return st;
}

static enum svcnft_status emit(const struct cli *c, struct svcnft_model *m)
{
	struct svcnft_buf out = {0};
	struct svcnft_stats st;
	enum svcnft_status rc = SVCNFT_OK;
	bool json = c->output && !strcmp(c->output, "json");
	bool exists;

	if (c->cmd == CMD_APPLY)	/* renders only what it sends */
		return cmd_apply(m, &c->cfg, c->full);
	if (!(json ? svcnft_render_json : svcnft_render_nft)(m, &c->cfg, &out)) {
		fputs("svcnft: cannot render the ruleset\n", stderr);
		return SVCNFT_EUSAGE;
	}
	if (c->cmd == CMD_COMPILE) {
		if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout))
			rc = SVCNFT_EUSAGE;
	} else if ((rc = check_owner(c, &exists)) == SVCNFT_OK) {
		rc = kernel_run(out.data, true);
		svcnft_model_stats(m, &c->cfg, &st);
		if (rc == SVCNFT_OK)
			fprintf(stderr, "svcnft: kernel accepts table inet %s: %zu service%s, %zu service port%s, %zu backend%s\n",
				c->cfg.table, st.services, plural(st.services),
				st.service_ports, plural(st.service_ports), st.backends,
				plural(st.backends));
	}
	svcnft_buf_free(&out);
	return rc;
}

/* env and dns: renderers only, no kernel.  The SOA serial is the time, or
 * SOURCE_DATE_EPOCH when set (reproducible output). */
static enum svcnft_status emit_disc(struct cli *c, const struct svcnft_model *m)
{
	static const char *const fmts[] = { "env", "json", "docker" };
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	enum svcnft_env_format f = SVCNFT_ENV_SH;
	struct svcnft_errors errs = {0};
	struct svcnft_buf out = {0};
	bool ok;

	for (size_t i = 0; c->output && i < sizeof(fmts) / sizeof(fmts[0]); i++)
		if (!strcmp(c->output, fmts[i]))
			f = (enum svcnft_env_format)i;
	c->dns.serial = sde ? (uint32_t)strtoul(sde, NULL, 10) : (uint32_t)time(NULL);
	if (c->cmd == CMD_ENV)
		ok = svcnft_render_env(m, c->ns, f, &out);
	else
		ok = svcnft_render_dns(m, &c->dns, &out, &errs);
	svcnft_errors_print(&errs, stderr);
	svcnft_errors_free(&errs);
	if (ok && out.len && (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout)))
		ok = false;
	svcnft_buf_free(&out);
	return ok ? SVCNFT_OK : SVCNFT_EUSAGE;
}

int main(int argc, char **argv)
{
	struct cli c = { .cfg.table = "svcnft", .ns = "default",
			 .dns = { .zone = "cluster.local", .ttl = 30 },
			 .watch = { .debounce_ms = 200 } };
	struct svcnft_model *m;
	enum svcnft_status st;

	kernel_tune_malloc(argv);
	c.cfg.service_cidrs = c.svc_cidrs;
	c.cfg.cluster_cidrs = c.pod_cidrs;
	c.cfg.nodeport_cidrs = c.np_cidrs;
	if (parse_args(&c, argc, argv) < 0) {
		fputs("svcnft: see svcnft --help\n", stderr);
		return SVCNFT_EUSAGE;
	}
	if (c.help || c.version) {
		if (c.version)
			printf("svcnft %s (layout %d)\n", SVCNFT_VERSION, SVCNFT_LAYOUT_VERSION);
		else
			usage(stdout, c.cmd);
		return SVCNFT_OK;
	}
	if (c.cmd == CMD_NONE) {
		usage(stderr, CMD_NONE);
		return SVCNFT_EUSAGE;
	}
	if (check_cli(&c) < 0)
		return SVCNFT_EUSAGE;
	if (c.cmd == CMD_DELETE)
		return run_delete(&c);
	if (c.cmd == CMD_WATCH) {
		c.watch.cfg = &c.cfg;
		c.watch.paths = c.paths;
		c.watch.n_paths = c.n_paths;
		return cmd_watch(&c.watch);
	}
	m = svcnft_model_new();
	st = load(&c, m);
	if (st == SVCNFT_OK)
		st = c.cmd == CMD_DIFF ? cmd_diff(m, &c.cfg, c.against) :
		     c.cmd >= CMD_ENV ? emit_disc(&c, m) : emit(&c, m);
	svcnft_model_free(m);
	return st;
}
