/* svcnft CLI: options, the pipeline, and the kernel calls at the edge. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "diff.h"
#include "explain_cmd.h"
#include "httpd.h"
#include "follow.h"
#include "kernel.h"
#include "localaddr.h"
#include "model.h"
#include "names.h"
#include "owner.h"
#include "snapshot.h"
#include "state.h"
#include "svcnft.h"
#include "trace_cmd.h"
#include "util.h"
#include "watch.h"
#include "input.h"

#ifndef SVCNFT_VERSION
#define SVCNFT_VERSION "0.0.0"
#endif

enum cmd { CMD_NONE, CMD_COMPILE, CMD_CHECK, CMD_APPLY, CMD_DELETE, CMD_ENV, CMD_DNS,
	   CMD_DIFF, CMD_WATCH, CMD_EXPLAIN, CMD_TRACE, CMD_FOLLOW };

#define C(x) (1u << (x))
#define ALL (C(CMD_COMPILE) | C(CMD_CHECK) | C(CMD_APPLY) | C(CMD_DELETE) | LIVE | C(CMD_TRACE))
#define INPUT (C(CMD_COMPILE) | C(CMD_CHECK) | C(CMD_APPLY) | LIVE | C(CMD_EXPLAIN))
#define LIVE (C(CMD_DIFF) | C(CMD_WATCH) | C(CMD_FOLLOW))
#define DAEMON (C(CMD_WATCH) | C(CMD_FOLLOW))
#define DISC (C(CMD_ENV) | C(CMD_DNS))
#define AGENT DAEMON		/* the long-running commands: HTTP servers */

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
	{ "explain", CMD_EXPLAIN, "DEST:PORT[/PROTO]... PATH...",
	  "show where the ruleset sends a new connection to DEST, and why (offline)" },
	{ "trace", CMD_TRACE, "DEST:PORT[/PROTO]",
	  "trace that flow through the live table (nftrace) with service and endpoint names" },
	{ "follow", CMD_FOLLOW, "",
	  "apply, then apply every change that kubectl --watch reports (a node agent)" },
};

enum { OPT_MASQ_ALL = 256, OPT_NODE_NAME, OPT_ZONE, OPT_TTL, OPT_PTR, OPT_HOSTS, OPT_LIMIT,
       OPT_AGAINST, OPT_FULL, OPT_DEBOUNCE, OPT_INTERVAL, OPT_NP_ADDRS,
       OPT_NP_RANGE, OPT_ALLOW_EMPTY, OPT_MAX_REMOVAL, OPT_FORCE, OPT_LOCK_TIMEOUT,
       OPT_NODE_ZONE, OPT_FROM, OPT_LOCAL_ADDR, OPT_COUNT, OPT_TIMEOUT, OPT_HEALTH_ADDR,
       OPT_METRICS_ADDR, OPT_KUBECTL, OPT_KUBECONFIG, OPT_CONTEXT, OPT_RESYNC };

/* One table feeds getopt_long, the check that a command takes an option,
 * --help and the shell completion. */
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
	{ "node-zone", 1, OPT_NODE_ZONE, "ZONE", INPUT, "this node's zone: EndpointSlice zone hints for it are followed" },
	{ "nodeport-addresses", 1, OPT_NP_ADDRS, "CIDR", INPUT, "node ports answer on local addresses in CIDR, repeatable; default all but loopback" },
	{ "service-node-port-range", 1, OPT_NP_RANGE, "MIN-MAX", INPUT, "range of valid node ports; default 30000-32767" },
	{ "output", 1, 'o', "FORMAT", C(CMD_COMPILE) | C(CMD_ENV) | C(CMD_EXPLAIN), "nft (default) or json; env: env (default), json or docker (--env words); explain: text or json" },
	{ "namespace", 1, 'n', "NS", C(CMD_ENV), "namespace of the pod; default default" },
	{ "zone", 1, OPT_ZONE, "ZONE", C(CMD_DNS), "cluster domain; default cluster.local" },
	{ "ttl", 1, OPT_TTL, "SECONDS", C(CMD_DNS), "TTL of the records; default 30" },
	{ "ptr", 0, OPT_PTR, NULL, C(CMD_DNS), "print the reverse zone (PTR records, origin arpa.)" },
	{ "hosts", 0, OPT_HOSTS, NULL, C(CMD_DNS), "print an /etc/hosts fragment (A/AAAA names)" },
	{ "limit", 1, OPT_LIMIT, "NAME=N", INPUT | DISC, "bound the input: input-bytes, depth, string-bytes, objects, ports, endpoints" },
	{ "against", 1, OPT_AGAINST, "FILE", C(CMD_DIFF), "diff against a script saved from compile instead of the kernel" },
	{ "full", 0, OPT_FULL, NULL, C(CMD_APPLY), "replace the whole table, not only what changed" },
	{ "allow-empty", 0, OPT_ALLOW_EMPTY, NULL, C(CMD_APPLY) | LIVE, "accept an input without any Service (an empty cluster is meant)" },
	{ "max-removal", 1, OPT_MAX_REMOVAL, "PERCENT", C(CMD_APPLY) | C(CMD_WATCH), "refuse to lose more of the live services or of the service ports with endpoints; default 50, 100 never refuses" },
	{ "force", 0, OPT_FORCE, NULL, C(CMD_APPLY), "apply even what --max-removal refuses" },
	{ "lock-timeout", 1, OPT_LOCK_TIMEOUT, "SECONDS", C(CMD_APPLY) | C(CMD_DELETE) | DAEMON, "wait at most SECONDS for another svcnft's lock; default 30" },
	{ "debounce", 1, OPT_DEBOUNCE, "MS", DAEMON, "apply at most once per MS milliseconds, a change after a quiet period at once; default 200 (follow: 10)" },
	{ "interval", 1, OPT_INTERVAL, "SECONDS", C(CMD_WATCH), "also re-check the kernel every SECONDS and repair drift" },
	{ "health-addr", 1, OPT_HEALTH_ADDR, "ADDR:PORT", AGENT, "serve /healthz and /livez there (\"\" or off: not at all); default " HTTPD_HEALTH_DEFAULT },
	{ "metrics-addr", 1, OPT_METRICS_ADDR, "ADDR:PORT", AGENT, "serve Prometheus /metrics there (\"\" or off: not at all); default " HTTPD_METRICS_DEFAULT },
	{ "kubectl", 1, OPT_KUBECTL, "PATH", C(CMD_FOLLOW), "the kubectl to run; default kubectl on PATH" },
	{ "kubeconfig", 1, OPT_KUBECONFIG, "FILE", C(CMD_FOLLOW), "passed to kubectl" },
	{ "context", 1, OPT_CONTEXT, "NAME", C(CMD_FOLLOW), "passed to kubectl" },
	{ "resync", 1, OPT_RESYNC, "SECONDS", C(CMD_FOLLOW), "list every object again every SECONDS (removes what a watch missed); default 300, 0 never" },
	{ "from", 1, OPT_FROM, "ADDR|node", C(CMD_EXPLAIN) | C(CMD_TRACE), "the client's address, or node for the node's own traffic; default any outside client" },
	{ "local-address", 1, OPT_LOCAL_ADDR, "ADDR", C(CMD_EXPLAIN), "an address of the node, repeatable; default this host's addresses" },
	{ "count", 1, OPT_COUNT, "N", C(CMD_TRACE), "stop after N packets of the flow" },
	{ "timeout", 1, OPT_TIMEOUT, "SECONDS", C(CMD_TRACE), "stop after SECONDS" },
	{ "help", 0, 'h', NULL, ALL | DISC | C(CMD_EXPLAIN), "show this help" },
	{ "version", 0, 'V', NULL, ALL | DISC | C(CMD_EXPLAIN), "show the version" },
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
	bool allow_empty;		/* apply, diff, watch */
	struct apply_limits limits;	/* apply, delete, watch */
	struct watch_opts watch;	/* watch */
	const char *health_addr;	/* AGENT: watch, follow */
	const char *metrics_addr;
	struct follow_opts follow;	/* follow */
	struct flow_opts flow;		/* explain */
	struct trace_opts trace;	/* trace */
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

/* Shell completion: which operands and option values are paths. */
static bool is_path(const char *arg)
{
	return arg && (strstr(arg, "PATH") || strstr(arg, "FILE") || strstr(arg, "DIR"));
}

/* The options that take a value as a case pattern ("--table|-t|..."):
 * PATHS 1 only those whose value is a path, -1 only the others, 0 all. */
static void case_pattern(FILE *f, int paths)
{
	const char *sep = "";

	for (size_t i = 0; i < N_OPTS; i++) {
		if (!options[i].has_arg || (paths && (paths > 0) != is_path(options[i].arg)))
			continue;
		fprintf(f, "%s--%s", sep, options[i].name);
		if (options[i].val < 256)
			fprintf(f, "|-%c", options[i].val);
		sep = "|";
	}
	if (!*sep)
		fputs("--", f);	/* none: a word that is never an option's */
}

static const char comp_head[] =
	"# bash completion for svcnft(8); generated by `svcnft completion bash`\n"
	"# from svcnft's option table.\n"
	"_svcnft()\n{\n"
	"\tlocal cur=${COMP_WORDS[COMP_CWORD]} opt=${COMP_WORDS[COMP_CWORD-1]}\n"
	"\tlocal cmd='' skip='' w i\n"
	"\tCOMPREPLY=()\n"
	"\t# the command: the first word that is neither an option nor a value\n"
	"\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	"\t\tw=${COMP_WORDS[i]}\n"
	"\t\tif [[ $w == = ]]; then skip=1; continue; fi\n"
	"\t\tif [[ -n $skip ]]; then skip=; continue; fi\n"
	"\t\tcase $w in\n\t\t";

static const char comp_value[] =
	") skip=1 ;;\n"
	"\t\t-*) ;;\n"
	"\t\t*) cmd=$w; break ;;\n"
	"\t\tesac\n"
	"\tdone\n"
	"\t# an option's value (--opt VALUE, --opt=VALUE)\n"
	"\tif [[ $cur == = ]]; then cur=\n"
	"\telif [[ $opt == = ]]; then opt=${COMP_WORDS[COMP_CWORD-2]}\n"
	"\tfi\n"
	"\tcase $opt in\n\t";

static const char comp_files[] =
	") compopt -o filenames 2>/dev/null\n"
	"\t\tmapfile -t COMPREPLY < <(compgen -f -- \"$cur\"); return ;;\n\t";

#define N_CMDS (sizeof(commands) / sizeof(commands[0]))

/* Each command's long options; any option before the command. */
static void comp_options(FILE *f)
{
	for (size_t k = 0; k <= N_CMDS; k++) {
		fprintf(f, "\t\t%s) w='", k < N_CMDS ? commands[k].name : "*");
		for (size_t i = 0; i < N_OPTS; i++)
			if (k == N_CMDS || (options[i].cmds & C(commands[k].cmd)))
				fprintf(f, " --%s", options[i].name);
		fputs("' ;;\n", f);
	}
}

/* Operands: a command, or paths for the commands that take them. */
static void comp_operands(FILE *f)
{
	const char *sep = "\t";

	fputs("\t'') w='", f);
	for (size_t k = 0; k < N_CMDS; k++)
		fprintf(f, " %s", commands[k].name);
	fputs("'\n\t\tmapfile -t COMPREPLY < <(compgen -W \"$w\" -- \"$cur\") ;;\n", f);
	for (size_t k = 0; k < N_CMDS; k++)
		if (is_path(commands[k].args)) {
			fprintf(f, "%s%s", sep, commands[k].name);
			sep = "|";
		}
	if (*sep == '\t')
		fputs("\t--", f);
	fputs(comp_files, f);
}

/* `svcnft completion bash`. */
static int print_completion(FILE *f)
{
	fputs(comp_head, f);
	case_pattern(f, 0);
	fputs(comp_value, f);
	case_pattern(f, 1);
	fputs(comp_files, f);
	case_pattern(f, -1);
	fputs(") return ;;\n\tesac\n\tif [[ $cur == -* ]]; then\n\t\tcase $cmd in\n", f);
	comp_options(f);
	fputs("\t\tesac\n\t\tmapfile -t COMPREPLY < <(compgen -W \"$w\" -- \"$cur\")\n"
	      "\t\treturn\n\tfi\n\tcase $cmd in\n", f);
	comp_operands(f);
	fputs("esac\n}\ncomplete -F _svcnft svcnft\n", f);
	return fflush(f) || ferror(f) ? SVCNFT_EUSAGE : SVCNFT_OK;
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

/* kube-apiserver's limit on --service-cluster-ip-range (maxCIDRBits 20):
 * a wider range would also cover the node's own addresses. */
static int service_cidr_size(const struct svcnft_cidr *c, const char *s)
{
	unsigned int bits = c->family == AF_INET ? 32 : 128;

	if (bits - c->plen <= 20)
		return 0;
	fprintf(stderr, "svcnft: --service-cidr %s: specified --service-cluster-ip-range is too large; for %u-bit addresses, the mask must be >= %u\n",
		s, bits, bits - 20);
	return -1;
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

/* --debounce (ms), --interval (s), --max-removal (%), --lock-timeout (s):
 * 0 to MAX. */
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

/* --node-name: a node's name as an endpoint's nodeName must be ("" is
 * none). */
static int set_node_name(struct svcnft_config *cfg, const char *arg)
{
	const char *msg = *arg ? check_dns1123_subdomain(arg) : NULL;

	if (msg) {
		fprintf(stderr, "svcnft: --node-name: invalid value \"%s\": %s\n", arg, msg);
		return -1;
	}
	cfg->node_name = *arg ? arg : NULL;
	return 0;
}

static int set_http_addr(struct cli *c, int opt, const char *arg)
{
	if (!httpd_addr_valid(arg)) {
		fprintf(stderr, "svcnft: --%s: invalid address \"%s\" (want IPv4:PORT, [IPv6]:PORT, or off)\n",
			opt == OPT_HEALTH_ADDR ? "health-addr" : "metrics-addr", arg);
		return -1;
	}
	if (opt == OPT_HEALTH_ADDR)
		c->health_addr = arg;
	else
		c->metrics_addr = arg;
	return 0;
}

/* follow's own options. */
static size_t opt_index(int val);

static int handle_follow_opt(struct cli *c, int opt, const char *arg)
{
	if (opt == OPT_RESYNC)
		return set_uint(&c->follow.resync_s, arg, "resync", 86400 * 365);
	if (!*arg) {
		fprintf(stderr, "svcnft: --%s: empty value\n", options[opt_index(opt)].name);
		return -1;
	}
	if (opt == OPT_KUBECTL)
		c->follow.kubectl = arg;
	else if (opt == OPT_KUBECONFIG)
		c->follow.kubeconfig = arg;
	else
		c->follow.context = arg;
	return 0;
}

/* The options that shape the ruleset (the config), or 1: not one. */
static int handle_rules_opt(struct cli *c, int opt, const char *arg)
{
	switch (opt) {
	case 't':
		c->cfg.table = arg;
		return 0;
	case 's':
		if (add_cidr(c->svc_cidrs, &c->cfg.n_service_cidrs, arg, "service-cidr", false))
			return -1;
		return service_cidr_size(&c->svc_cidrs[c->cfg.n_service_cidrs - 1], arg);
	case 'c':
		return add_cidr(c->pod_cidrs, &c->cfg.n_cluster_cidrs, arg, "cluster-cidr", true);
	case OPT_MASQ_ALL:
		c->cfg.masquerade_all = true;
		return 0;
	case OPT_NODE_NAME:
		return set_node_name(&c->cfg, arg);
	case OPT_NODE_ZONE:
		c->cfg.node_zone = *arg ? arg : NULL;
		return 0;
	case OPT_NP_ADDRS:
		return add_cidr(c->np_cidrs, &c->cfg.n_nodeport_cidrs, arg, "nodeport-addresses", true);
	case OPT_NP_RANGE:
		return set_np_range(&c->cfg, arg);
	default:
		return 1;
	}
}

/* The options of apply, diff and the daemons, or 1: not one. */
static int handle_apply_opt(struct cli *c, int opt, const char *arg)
{
	switch (opt) {
	case OPT_AGAINST:
		c->against = arg;
		return 0;
	case OPT_FULL:
		c->full = true;
		return 0;
	case OPT_ALLOW_EMPTY:
		c->allow_empty = true;
		return 0;
	case OPT_FORCE:
		c->limits.force = true;
		return 0;
	case OPT_MAX_REMOVAL:
		return set_uint(&c->limits.max_removal, arg, "max-removal", 100);
	case OPT_LOCK_TIMEOUT:
		return set_uint(&c->limits.lock_timeout_s, arg, "lock-timeout", 86400);
	case OPT_DEBOUNCE:
		if (set_uint(&c->watch.debounce_ms, arg, "debounce", 86400000) < 0)
			return -1;
		return set_uint(&c->follow.debounce_ms, arg, "debounce", 86400000);
	case OPT_INTERVAL:
		return set_uint(&c->watch.interval_s, arg, "interval", 86400);
	default:
		return 1;
	}
}

static int handle_opt(struct cli *c, int opt, const char *arg)
{
	int ret = handle_rules_opt(c, opt, arg);

	if (ret <= 0 || (ret = handle_apply_opt(c, opt, arg)) <= 0)
		return ret;
	switch (opt) {
	case OPT_LIMIT:
		return set_limit(arg);
	case OPT_HEALTH_ADDR:
	case OPT_METRICS_ADDR:
		return set_http_addr(c, opt, arg);
	case OPT_KUBECTL:
	case OPT_KUBECONFIG:
	case OPT_CONTEXT:
	case OPT_RESYNC:
		return handle_follow_opt(c, opt, arg);
	case OPT_FROM:
		c->flow.from = arg;
		return 0;
	case OPT_LOCAL_ADDR:
		if (c->flow.n_local >= EXPLAIN_MAX_LOCAL) {
			fprintf(stderr, "svcnft: too many --local-address options (at most %d)\n",
				EXPLAIN_MAX_LOCAL);
			return -1;
		}
		c->flow.local[c->flow.n_local++] = arg;
		return 0;
	case OPT_COUNT:
		return set_uint(&c->trace.count, arg, "count", 1000000);
	case OPT_TIMEOUT:
		return set_uint(&c->trace.timeout_s, arg, "timeout", 86400);
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
	/* an unknown short option inside a group (-xh) leaves optind on the
	 * word before it; getopt sets optopt only for short ones */
	bool is_long = opt == '?' ? optopt == 0 : !strncmp(word, "--", 2);

	if (opt == ':' && is_long)
		fprintf(stderr, "svcnft: option %.*s needs an argument\n", n, word);
	else if (opt == ':')
		fprintf(stderr, "svcnft: option -%c needs an argument\n", optopt);
	else if (is_long)
		fprintf(stderr, "svcnft: unrecognized option %.*s\n", n, word);
	else
		fprintf(stderr, "svcnft: invalid option -%c\n", optopt);
}

/* getopt's short options from the table: "t:s:...". */
static void short_opts(char *s)
{
	for (size_t i = 0; i < N_OPTS; i++) {
		if (options[i].val >= 256)
			continue;
		*s++ = (char)options[i].val;
		if (options[i].has_arg)
			*s++ = ':';
	}
	*s = '\0';
}

static size_t opt_index(int val)
{
	size_t i = 0;

	while (i < N_OPTS - 1 && options[i].val != val)
		i++;
	return i;
}

/* An option the command does not use is a usage error. */
static int check_taken(enum cmd cmd, size_t i, char short_name)
{
	if (cmd == CMD_NONE || (options[i].cmds & C(cmd)))
		return 0;
	if (short_name)
		fprintf(stderr, "svcnft: %s does not take -%c (--%s)\n",
			commands[cmd - 1].name, short_name, options[i].name);
	else
		fprintf(stderr, "svcnft: %s does not take --%s\n",
			commands[cmd - 1].name, options[i].name);
	return -1;
}

struct seen {
	size_t i;		/* in options[] */
	char short_name;	/* as spelled, or 0 for the long name */
	const char *arg;
};

/* The options on the command line in order into SEEN (ARGC entries):
 * their count, or -1 after getopt reported an unknown one. */
static int collect_opts(int argc, char **argv, struct seen *seen)
{
	struct option lo[N_OPTS + 1];
	char so[2 * N_OPTS + 2];
	int opt, li = -1, n = 0;

	memset(lo, 0, sizeof(lo));
	for (size_t i = 0; i < N_OPTS; i++)
		lo[i] = (struct option){ options[i].name, options[i].has_arg, NULL,
					 options[i].val };
	so[0] = ':';	/* ':' for a missing argument */
	short_opts(so + 1);
	opterr = 0;	/* getopt would name the program by argv[0] */
	while ((opt = getopt_long(argc, argv, so, lo, &li)) != -1) {
		if (opt == '?' || opt == ':') {
			bad_option(opt, argv[optind - 1]);
			return -1;
		}
		seen[n++] = (struct seen){ li >= 0 ? (size_t)li : opt_index(opt),
					   li >= 0 ? 0 : (char)opt, optarg };
		li = -1;
	}
	return n;
}

/* Options may come before or after the command (getopt permutes): they
 * are collected first, checked against the command, then handled. */
static int parse_args(struct cli *c, int argc, char **argv)
{
	struct seen *seen = calloc((size_t)argc, sizeof(*seen));
	int n = seen ? collect_opts(argc, argv, seen) : -1;
	int rc = n < 0 ? -1 : 0;

	if (rc == 0 && optind < argc) {
		c->cmd = find_command(argv[optind]);
		if (c->cmd == CMD_NONE) {
			fprintf(stderr, "svcnft: unknown command \"%s\"\n", argv[optind]);
			rc = -1;
		}
		optind++;
	}
	for (int k = 0; rc == 0 && k < n; k++)
		rc = check_taken(c->cmd, seen[k].i, seen[k].short_name);
	for (int k = 0; rc == 0 && k < n; k++)
		rc = handle_opt(c, options[seen[k].i].val, seen[k].arg);
	free(seen);
	c->paths = argv + optind;
	c->n_paths = argc - optind;
	return rc;
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

/* explain: DEST:PORT[/PROTO] first, then the input PATHs. */
static int check_flow(struct cli *c)
{
	if (c->cmd == CMD_TRACE && c->n_paths != 1) {
		fputs("svcnft: trace takes DEST:PORT[/PROTO] and no PATH\n", stderr);
		return -1;
	}
	if (c->cmd == CMD_TRACE)
		c->trace.dest = c->paths[0];
	if (c->cmd != CMD_EXPLAIN)
		return 0;
	if (c->output && strcmp(c->output, "text") && strcmp(c->output, "json")) {
		fprintf(stderr, "svcnft: --output: unknown format \"%s\" for explain (text or json)\n",
			c->output);
		return -1;
	}
	c->flow.json = c->output && !strcmp(c->output, "json");
	if (!c->n_paths) {
		fputs("svcnft: explain needs DEST:PORT[/PROTO], then the input PATHs\n", stderr);
		return -1;
	}
	/* the first is a destination, and so are those after it that look
	 * like one, up to the last argument */
	c->flow.dests = c->paths;
	do {
		c->flow.n_dests++;
		c->paths++;
		c->n_paths--;
	} while (c->n_paths > 1 && flow_is_dest(c->paths[0]));
	return 0;
}

static int check_cli(struct cli *c)
{
	static struct svcnft_cidr dflt;

	if (!svcnft_table_name_valid(c->cfg.table)) {
		fprintf(stderr, "svcnft: --table: invalid table name \"%s\"\n", c->cfg.table);
		return -1;
	}
	/* the default parses; nft 1.0.6 cannot quote the others */
	if (strcmp(c->cfg.table, "svcnft") && !kernel_name_parses(c->cfg.table)) {
		fprintf(stderr, "svcnft: --table: \"%s\" is a word of nft's language, which nft "
			"cannot parse as a table name; choose another\n", c->cfg.table);
		return -1;
	}
	if (check_disc(c) < 0)
		return -1;
	if (check_flow(c) < 0)
		return -1;
	if (c->cmd == CMD_COMPILE && c->output && strcmp(c->output, "nft") && strcmp(c->output, "json")) {
		fprintf(stderr, "svcnft: --output: unknown format \"%s\" (nft or json)\n", c->output);
		return -1;
	}
	if ((c->cmd == CMD_DELETE || c->cmd == CMD_FOLLOW) && c->n_paths) {
		fprintf(stderr, "svcnft: %s takes no PATH\n", commands[c->cmd - 1].name);
		return -1;
	}
	if (c->cmd != CMD_DELETE && c->cmd != CMD_FOLLOW && !c->n_paths) {
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

/* apply, watch, follow: the node's addresses into C's config (kept for
 * the process's life); a --service-cidr holding one is refused (usage),
 * and so is the default one (svcnft cannot know the cluster's then). */
static enum svcnft_status node_addrs(struct cli *c)
{
	static struct svcnft_node_addr *addrs;
	const struct svcnft_cidr *sc = NULL;
	const struct svcnft_node_addr *a = NULL;
	struct svcnft_buf b = {0};
	struct ipaddr net = {0};
	char text[64];
	int err;

	if (!(C(c->cmd) & (C(CMD_APPLY) | DAEMON)))
		return SVCNFT_OK;
	if ((err = local_addrs(&addrs, &c->cfg.n_node_addrs))) {
		fprintf(stderr, "svcnft: reading this node's addresses: %s\n", strerror(-err));
		return SVCNFT_EKERNEL;
	}
	c->cfg.node_addrs = addrs;
	for (size_t i = 0; !a && i < c->cfg.n_service_cidrs; i++)
		a = node_addr_in(sc = &c->cfg.service_cidrs[i], &c->cfg);
	if (!a)
		return SVCNFT_OK;
	net.family = sc->family;
	memcpy(net.a, sc->addr, sizeof(net.a));
	ipaddr_format(&net, text, sizeof(text));
	node_addr_refusal(&b, a);
	fprintf(stderr, "svcnft: --service-cidr %s/%u%s: %s\n", text, sc->plen,
		c->cfg.service_cidrs == c->svc_cidrs ? "" :
		" (the default: give the cluster's with --service-cidr)", b.data);
	svcnft_buf_free(&b);
	return SVCNFT_EUSAGE;
}

/* Load and validate C's paths as one snapshot into S; *CLEAN: nothing at
 * all was said.  The status of the worst message. */
static enum svcnft_status load(struct cli *c, struct snapshot *s, bool *clean)
{
	struct svcnft_errors errs = {0};
	unsigned int flags = C(c->cmd) & INPUT ? SNAPSHOT_WARN : 0;
	enum svcnft_status st;

	if ((c->cmd == CMD_APPLY || c->cmd == CMD_DIFF) && !c->allow_empty)
		flags |= SNAPSHOT_REQUIRE;
	snapshot_load(s, c->paths, c->n_paths, &c->cfg, flags, &errs);
	svcnft_errors_print(&errs, stderr);
	st = svcnft_errors_status(&errs);
	*clean = errs.n == 0;
	svcnft_errors_free(&errs);
	return st;
}

/* What an apply's table depends on besides the input files: this binary,
 * the command line and the SVCNFT_* environment (test hooks, loader). */
static uint64_t options_digest(int argc, char **argv)
{
	extern char **environ;
	struct stat st;
	uint64_t h = hash64(HASH64_INIT, SVCNFT_VERSION, sizeof(SVCNFT_VERSION));

	if (stat("/proc/self/exe", &st) == 0) {
		uint64_t id[] = { st.st_dev, st.st_ino, (uint64_t)st.st_size,
				  (uint64_t)st.st_mtim.tv_sec, (uint64_t)st.st_mtim.tv_nsec };

		h = hash64(h, id, sizeof(id));
	}
	for (int i = 1; i < argc; i++)
		h = hash64(h, argv[i], strlen(argv[i]) + 1);
	for (char **e = environ; *e; e++)
		if (!strncmp(*e, "SVCNFT_", 7))
			h = hash64(h, *e, strlen(*e) + 1);
	return h;
}

/* Digest OPTS with the inputs' digest IN: what the saved state records. */
static uint64_t apply_input(uint64_t opts, uint64_t in)
{
	return in ? hash64(opts, &in, sizeof(in)) : 0;
}

/* apply without --full: nothing to do when the inputs and options are those
 * of the last commit and the saved state vouches for the table. */
static bool apply_unchanged(const struct cli *c, uint64_t opts)
{
	uint64_t in;

	return c->cmd == CMD_APPLY && !c->full &&
	       input_digest((const char *const *)c->paths, (size_t)c->n_paths, &in) &&
	       apply_up_to_date(c->cfg.table, apply_input(opts, in));
}

static bool write_out(void *f, const char *data, size_t len)
{
	return fwrite(data, 1, len, f) == len;
}

static enum svcnft_status emit(const struct cli *c, struct svcnft_model *m)
{
	struct svcnft_buf out = {0};
	struct svcnft_stats st;
	enum svcnft_status rc = SVCNFT_OK;
	bool json = c->output && !strcmp(c->output, "json");
	bool private;

	if (c->cmd == CMD_APPLY)	/* renders only what it sends */
		return cmd_apply(m, &c->cfg, c->full);
	if (c->cmd == CMD_COMPILE && !json)	/* never held whole */
		return svcnft_render_nft_stream(m, &c->cfg, write_out, stdout) &&
		       !fflush(stdout) ? SVCNFT_OK : SVCNFT_EUSAGE;
	if (!(json ? svcnft_render_json : svcnft_render_nft)(m, &c->cfg, &out)) {
		fputs("svcnft: cannot render the ruleset\n", stderr);
		return SVCNFT_EUSAGE;
	}
	if (c->cmd == CMD_COMPILE) {
		if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout))
			rc = SVCNFT_EUSAGE;
	} else if ((rc = owner_check_script(c->cfg.table, out.data, &private)) == SVCNFT_OK) {
		svcnft_model_stats(m, &c->cfg, &st);
		fprintf(stderr, "svcnft: kernel accepts table inet %s%s: %zu service%s, %zu service port%s, %zu backend%s\n",
			c->cfg.table, private ? " (checked in a private network namespace)" : "",
			st.services, plural(st.services), st.service_ports,
			plural(st.service_ports), st.backends, plural(st.backends));
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

/* svcnft completion bash: the bash completion script. */
static int completion(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[2], "bash"))
		return print_completion(stdout);
	fputs("svcnft: usage: svcnft completion bash\n", stderr);
	return SVCNFT_EUSAGE;
}

/* The commands that read no snapshot first (delete, trace) or keep
 * their own (watch, follow): their status, or -1 for the others. */
static int run_direct(struct cli *c)
{
	if (c->cmd == CMD_DELETE)
		return apply_delete(c->cfg.table);
	if (c->cmd == CMD_TRACE) {
		c->trace.table = c->cfg.table;
		c->trace.flow = c->flow;
		return cmd_trace(&c->trace);
	}
	if (c->cmd == CMD_WATCH) {
		c->watch.cfg = &c->cfg;
		c->watch.paths = c->paths;
		c->watch.n_paths = c->n_paths;
		c->watch.allow_empty = c->allow_empty;
		c->watch.health_addr = c->health_addr;
		c->watch.metrics_addr = c->metrics_addr;
		return cmd_watch(&c->watch);
	}
	if (c->cmd == CMD_FOLLOW) {
		c->cfg.api_allocated = true;
		c->follow.cfg = &c->cfg;
		c->follow.allow_empty = c->allow_empty;
		c->follow.health_addr = c->health_addr;
		c->follow.metrics_addr = c->metrics_addr;
		return cmd_follow(&c->follow);
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct cli c = { .cfg.table = "svcnft", .ns = "default",
			 .dns = { .zone = "cluster.local", .ttl = 30 },
			 .watch = { .debounce_ms = 200 },
			 .health_addr = HTTPD_HEALTH_DEFAULT, .metrics_addr = HTTPD_METRICS_DEFAULT,
			 .follow = { .kubectl = "kubectl", .debounce_ms = 10, .resync_s = 300 },
			 .limits = APPLY_LIMITS_DEFAULT };
	struct snapshot snap;
	enum svcnft_status st;
	uint64_t opts;
	bool clean;
	int ret;

	if (argc > 1 && !strcmp(argv[1], "completion"))	/* hidden */
		return completion(argc, argv);
	kernel_tune_malloc(argv);
	opts = options_digest(argc, argv);	/* before getopt reorders argv */
	c.cfg.service_cidrs = c.svc_cidrs;
	c.cfg.cluster_cidrs = c.pod_cidrs;
	c.cfg.nodeport_cidrs = c.np_cidrs;
	if (parse_args(&c, argc, argv) < 0) {
		fprintf(stderr, "svcnft: see svcnft %s%s--help\n", c.cmd ? commands[c.cmd - 1].name : "",
			c.cmd ? " " : "");
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
	if ((st = node_addrs(&c)) != SVCNFT_OK)
		return st;
	/* follow trusts the API server: its lists are complete, its events
	 * authoritative; only an empty cluster is refused (--allow-empty) */
	if (c.cmd == CMD_FOLLOW)
		c.limits.max_removal = 100;
	apply_set_limits(&c.limits);
	if ((ret = run_direct(&c)) >= 0)
		return ret;
	if (apply_unchanged(&c, opts))
		return SVCNFT_OK;
	st = load(&c, &snap, &clean);
	if (clean)
		state_set_input(apply_input(opts, snap.digest));
	if (st == SVCNFT_OK)
		st = c.cmd == CMD_DIFF ? cmd_diff(snap.view, &c.cfg, c.against) :
		     c.cmd == CMD_EXPLAIN ? cmd_explain(snap.view, &c.cfg, &c.flow) :
		     c.cmd >= CMD_ENV ? emit_disc(&c, snap.view) : emit(&c, snap.view);
	snapshot_free(&snap);
	return st;
}
