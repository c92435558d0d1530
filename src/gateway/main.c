/* ftgw: the gateway.  Serves users over HTTP, assigns request IDs, keeps
 * every unanswered request, and forwards them to the leader ZooKeeper names;
 * when the leader changes it re-sends what is unanswered to the new one.
 *
 * This file only wires the parts together: the configuration, the loop and
 * its signals, gossip, the election, the HTTP routing.  The requests
 * themselves are the core's (core.c), the connection to the leader is
 * link.c's, and each front end has a file of its own. */
#include "config.h"

#include <curl/curl.h>
#include <sodium.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "conf/daemon.h"
#include "conf/reload.h"
#include "election/election.h"
#include "gateway/api_v1.h"
#include "gateway/callback.h"
#include "gateway/cluster.h"
#include "gateway/core.h"
#include "gateway/dashboard.h"
#include "gateway/guard.h"
#include "gateway/link.h"
#include "gateway/metrics.h"
#include "gateway/judge0.h"
#include "gateway/piston.h"
#include "gateway/plain_api.h"
#include "gateway/tls.h"
#include "gossip/gossip.h"
#include "lib/httpd.h"
#include "lib/log.h"
#include "gossip/hblog.h"
#include "lib/metrics.h"
#include "gossip/gossip_metrics.h"
#include "lib/sdnotify.h"
#include "lib/util.h"

#define SWEEP_MS 250

struct gw {
	sd_event *ev;
	struct ft_config cfg;
	struct ft_httpd *httpd;
	struct ft_gossip *gossip;
	struct ft_election *election;
	struct gw_core *core;
	bool stopping; /* a stop signal came: answering, then exiting */
	struct gw_link *link;
	struct gw_metrics *metrics;
	struct gw_cluster cluster;
	struct gw_plain_api plain;
	struct gw_api_v1 *api;
	struct gw_piston piston;
	struct gw_judge0 judge0;
	struct gw_callbacks *callbacks;
	struct gw_guard *guard;
	sd_event_source *sweep;
	const char *role;
	int64_t started_ms; /* for zookeeper.start_wait_ms */
};

static void usage(FILE *to)
{
	fprintf(to,
		"Usage: ftgw [--config FILE] [--check-config]\n"
		"\n"
		"The ftcluster gateway: accepts Java programs over HTTP (POST /compileandrun),\n"
		"forwards them to the cluster leader and answers with their result;\n"
		"GET /cluster shows the cluster; /v1/... is the JSON API (docs/openapi.yaml),\n"
		"/api/v2/... Piston's API and /submissions... Judge0's (Java only),\n"
		"/metrics the Prometheus metrics and / a live dashboard.\n"
		"\n"
		"  -c, --config FILE   cluster configuration (default " FT_DEFAULT_CONFIG ")\n"
		"      --check-config  validate the configuration, then exit\n"
		"  -h, --help          show this help\n"
		"  -V, --version       show the version\n");
}

static void set_role(struct gw *g, const char *role)
{
	if (strcmp(g->role, role) == 0)
		return;
	ft_hb_switch(g->role, role);
	g->role = role;
}

/* STATUS= and READY=1 (HTTP is served from start; with ZooKeeper the
 * gateway also finds the leader): on every election change and every
 * second. */
static void report_to_systemd(struct gw *g)
{
	bool connected = ft_election_connected(g->election);
	if (ft_sd_ready_when(connected, g->started_ms, ft_now_ms(), g->cfg.zk_start_wait_ms))
		ft_log_warn("zookeeper: no session within %d ms (zookeeper.start_wait_ms) at %s; "
			    "ready anyway and still trying; requests wait for a leader meanwhile",
			    g->cfg.zk_start_wait_ms, g->cfg.zk_connect);
	char zk[FT_PATH_MAX];
	ft_sd_status("leader %d, epoch %" PRIu64 "; %zu request(s) pending; %" PRIu64
		     " answered; %s",
		     ft_election_leader(g->election), ft_election_epoch(g->election),
		     gw_core_pending(g->core), gw_core_answered(g->core),
		     ft_election_describe(g->election, zk, sizeof(zk)));
}

static void status_tick(void *ud)
{
	report_to_systemd(ud);
}

static void on_election_change(void *ud)
{
	struct gw *g = ud;
	ft_metrics_election(ft_election_leader(g->election), ft_election_epoch(g->election));
	set_role(g, ft_election_connected(g->election) ? "OBSERVER" : "LOOKING");
	gw_link_follow(g->link, g->election);
	report_to_systemd(g);
}

/* Deadlines. */
static int sweep_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	struct gw *g = ud;
	gw_core_expire(g->core, ft_now_ms());
	sd_event_source_set_time(s, usec + SWEEP_MS * 1000);
	return 0;
}

static void http_handler(void *ud, struct ft_http_req *r)
{
	struct gw *g = ud;
	if (gw_guard_check(g->guard, r))
		return;
	if (gw_plain_api_route(&g->plain, r) || gw_api_v1_route(g->api, r) ||
	    gw_piston_route(&g->piston, r) || gw_judge0_route(&g->judge0, r) ||
	    gw_dashboard_route(r) || gw_metrics_route(g->metrics, r))
		return;
	gw_plain_api_not_found(r);
}

/* ---- life cycle ---- */

static double pending_count(void *ud)
{
	const struct gw *g = ud;
	return (double)gw_core_pending(g->core);
}

/* Gossip ticks on the loop, and the ZooKeeper client's threads answer. */
static bool healthy(void *ud)
{
	const struct gw *g = ud;
	return ft_gossip_ticking(g->gossip, g->cfg.gossip.interval_ms) &&
	       ft_election_responsive(g->election);
}

/* Time for the answers of a clean stop to leave. */
#define STOP_FLUSH_MS 300

static int stop_now(sd_event_source *s, uint64_t usec, void *ud)
{
	struct gw *g = ud;
	sd_event_exit(g->ev, 0);
	return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
	struct gw *g = ud;
	if (g->stopping)
		return 0;
	g->stopping = true;
	ft_log_notice("received signal %u, shutting down; answering %zu waiting requests",
		      si->ssi_signo, gw_core_pending(g->core));
	ft_sd_stopping();
	/* Waiting clients get an answer, not a reset: the loop runs a little
	 * longer to send them (ft_httpd_free answers whatever still waits). */
	gw_core_stop(g->core, ft_now_ms());
	sd_event_add_time_relative(g->ev, NULL, CLOCK_MONOTONIC, STOP_FLUSH_MS * 1000, 10000,
				   stop_now, g);
	return 0;
}

/* The core, its leader link and its metrics, which refer to each other. */
/* 64 random bits: nobody can guess another request's ID.  JSON carries
 * them as numbers beyond JavaScript's exact range: the dashboard reads
 * them as text (dashboard/index.html, getJSON). */
static uint64_t random_request_id(void *ud)
{
	(void)ud;
	uint64_t id;
	randombytes_buf(&id, sizeof(id));
	return id;
}

static void make_core(struct gw *g)
{
	g->link = gw_link_new(g->ev, &g->cfg);
	g->metrics = gw_metrics_new(&g->cfg);
	struct gw_core_conf cc = {
		.limits = &g->cfg.limits,
		.new_id = random_request_id,
		.link = &gw_link_core_ops,
		.link_ud = g->link,
		.hooks = &gw_metrics_core_hooks,
		.hooks_ud = g->metrics,
	};
	g->core = gw_core_new(&cc);
	gw_link_set_core(g->link, g->core);
	gw_metrics_set_core(g->metrics, g->core);
}

static int run(struct gw *g)
{
	char dir[FT_PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/gateway", g->cfg.log_dir);
	struct ft_daemon d = {
		.name = "ftgw",
		.member_id = FT_GATEWAY_ID,
		.log_dir = dir,
		.on_stop = on_signal,
		.ud = g,
	};
	g->started_ms = ft_now_ms();
	if (ft_daemon_start(&d, &g->cfg, &g->ev) != FT_EXIT_OK)
		return FT_EXIT_SETUP;
	ft_sd_status("starting");
	g->role = "LOOKING";
	make_core(g);
	g->cluster = (struct gw_cluster){ .cfg = &g->cfg };
	g->plain = (struct gw_plain_api){ .core = g->core, .cfg = &g->cfg, .cluster = &g->cluster };

	char err[512];
	struct gw_tls tls;
	if (gw_tls_read(&g->cfg.gw_access, &tls, err, sizeof(err)) < 0) {
		ft_log_err("%s: %s", g->cfg.path, err);
		return FT_EXIT_CONFIG;
	}
	bool https = tls.cert != NULL;
	g->guard = gw_guard_new(&g->cfg, g->metrics, https, err, sizeof(err));
	if (!g->guard) {
		ft_log_err("%s: %s", g->cfg.path, err);
		gw_tls_clear(&tls);
		return FT_EXIT_CONFIG;
	}
	struct ft_httpd_conf hc = {
		.addr = g->cfg.gw_http.sa,
		.max_body_bytes = g->cfg.limits.max_body_bytes,
		.max_connections = (unsigned)g->cfg.limits.max_connections,
		.connection_timeout_s = (unsigned)g->cfg.limits.connection_timeout_s,
		.max_connections_per_address =
			(unsigned)g->cfg.gw_access.max_connections_per_address,
		.tls_cert_pem = tls.cert,
		.tls_key_pem = tls.key,
		.on_refused = gw_guard_http_refused,
		.refused_ud = g->guard,
	};
	g->httpd = ft_httpd_new(g->ev, &hc, http_handler, g);
	int serve_errno = errno;
	gw_tls_clear(&tls);
	if (!g->httpd) {
		errno = serve_errno;
		if (https)
			ft_log_err("cannot serve HTTPS on %s: %s (are gateway.tls_cert_file and "
				   "gateway.tls_key_file a certificate and its key, in PEM?)",
				   g->cfg.gw_http.text, strerror(errno));
		else
			ft_log_err("cannot serve HTTP on %s: %s", g->cfg.gw_http.text,
				   strerror(errno));
		return FT_EXIT_SETUP;
	}
	g->gossip = ft_gossip_new(g->ev, &g->cfg, FT_GATEWAY_ID, ft_metrics_on_member_event, NULL);
	if (!g->gossip)
		return FT_EXIT_SETUP;
	g->cluster.gossip = g->gossip;
	ft_metrics_init("ftgw", FT_GATEWAY_ID, g->gossip);
	/* Its metrics exist from the first scrape on. */
	g->api = gw_api_v1_new(g->core, &g->cfg, &g->cluster, g->metrics);
	g->callbacks = gw_callbacks_new(&g->cfg.callbacks, err, sizeof(err));
	if (!g->callbacks) {
		ft_log_err("%s: %s", g->cfg.path, err);
		return FT_EXIT_CONFIG;
	}
	gw_callbacks_register_metrics(g->callbacks);
	gw_api_v1_runsvc(g->api)->callbacks = g->callbacks;
	g->piston = (struct gw_piston){ .sv = gw_api_v1_runsvc(g->api),
					.cfg = &g->cfg,
					.java_version = gw_api_v1_java_version(g->api) };
	g->judge0 = (struct gw_judge0){ .sv = g->piston.sv,
					.cfg = &g->cfg,
					.java_version = g->piston.java_version };
	ft_metrics_gauge_fn("ftgw_pending_requests",
			    "Requests the gateway accepted and has not answered yet", pending_count,
			    g);
	g->election = ft_election_new(g->ev, &g->cfg, FT_GATEWAY_ID, on_election_change, g);
	if (!g->election)
		return FT_EXIT_SETUP;
	g->cluster.election = g->election;
	uint64_t now;
	sd_event_now(g->ev, CLOCK_MONOTONIC, &now);
	sd_event_add_time(g->ev, &g->sweep, CLOCK_MONOTONIC, now + SWEEP_MS * 1000, 50000, sweep_cb,
			  g);
	/* A time source is one-shot unless told otherwise: without this the
	 * request timeout was swept once, at start, and never again. */
	sd_event_source_set_enabled(g->sweep, SD_EVENT_ON);
	ft_sd_watchdog_start(g->ev, healthy, g);
	ft_sd_status_timer(g->ev, 1000, status_tick, g);
	report_to_systemd(g);
	ft_log_notice("gateway up: %s %s, gossip %s, zookeeper %s", https ? "https" : "http",
		      g->cfg.gw_http.text, g->cfg.gw_gossip.text, g->cfg.zk_connect);
	int r = sd_event_loop(g->ev);

	ft_election_free(g->election);
	ft_gossip_free(g->gossip);
	ft_httpd_free(g->httpd);
	gw_guard_free(g->guard);
	gw_api_v1_free(g->api);
	gw_core_free(g->core);
	sd_event_source_disable_unref(g->sweep);
	gw_link_free(g->link);
	sd_event_unref(g->ev);
	ft_metrics_shutdown();
	gw_callbacks_free(g->callbacks);
	gw_metrics_free(g->metrics);
	ft_log_close();
	return r < 0 ? FT_EXIT_SETUP : FT_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	/* Static: the configuration is large. */
	static struct gw gw;
	const char *config = FT_DEFAULT_CONFIG;
	bool check = false;
	int o;
	while ((o = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			config = optarg;
			break;
		case 'C':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return FT_EXIT_OK;
		case 'V':
			printf("ftgw %s\n", PACKAGE_VERSION);
			return FT_EXIT_OK;
		default:
			usage(stderr);
			return FT_EXIT_USAGE;
		}
	}
	if (ft_daemon_load_config("ftgw", config, &gw.cfg) != FT_EXIT_OK)
		return FT_EXIT_CONFIG;
	if (check) {
		ft_daemon_config_ok(config, &gw.cfg);
		return FT_EXIT_OK;
	}
	/* Before any thread: the callback senders use libcurl; request IDs
	 * and callback signatures libsodium. */
	if (sodium_init() < 0) {
		fprintf(stderr, "ftgw: libsodium could not be initialised\n");
		return FT_EXIT_SETUP;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = run(&gw);
	curl_global_cleanup();
	return rc;
}
