/* ftnode: one cluster node.  Gossips heartbeats, takes part in the
 * ZooKeeper election, works as a worker, and leads when elected. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/httpd.h"
#include "lib/log.h"
#include "gossip/hblog.h"
#include "lib/metrics.h"
#include "gossip/gossip_metrics.h"
#include "conf/daemon.h"
#include "conf/reload.h"
#include "lib/sdnotify.h"
#include "lib/util.h"
#include "node/node.h"

/* How long the work port stops accepting when out of descriptors. */
#define ACCEPT_PAUSE_MS 200

enum peer_kind { PEER_UNKNOWN, PEER_GATEWAY, PEER_LEADER };

struct accepted {
	struct ft_node *n;
	enum peer_kind kind;
	/* Until its HELLO: linked in n->unidentified, closed at the timer. */
	struct accepted *next;
	struct ft_conn *c;
	sd_event_source *hello_timer;
	char ip[64];
};

/* An accepted connection has said who it is (or is gone): it no longer
 * counts against its address, nor waits for a timer. */
static void identified(struct accepted *a)
{
	a->hello_timer = sd_event_source_disable_unref(a->hello_timer);
	for (struct accepted **p = &a->n->unidentified; *p; p = &(*p)->next) {
		if (*p == a) {
			*p = a->next;
			break;
		}
	}
	a->next = NULL;
}

/* ftnode_connections_refused_total, by reason. */
static struct ft_metric *refused_metric;
static const char *const refusal_reasons[] = { "unidentified_limit", "no_hello", "bad_hello",
					       "bad_key", NULL };

static int hello_timeout(sd_event_source *s, uint64_t usec, void *ud)
{
	(void)s;
	(void)usec;
	struct accepted *a = ud;
	ft_metric_inc(refused_metric, "no_hello");
	a->hello_timer = sd_event_source_disable_unref(a->hello_timer);
	ft_conn_close(a->c, "no HELLO in time (limits.hello_timeout_ms)");
	return 0;
}

static size_t unidentified_from(const struct ft_node *n, const char *ip)
{
	size_t k = 0;
	for (const struct accepted *a = n->unidentified; a; a = a->next)
		k += strcmp(a->ip, ip) == 0;
	return k;
}

static void usage(FILE *to)
{
	fprintf(to,
		"Usage: ftnode [--config FILE] --id N [--check-config]\n"
		"\n"
		"A node of an ftcluster: gossips heartbeats, takes part in the ZooKeeper\n"
		"leader election, compiles and runs Java programs, and leads when elected.\n"
		"\n"
		"  -c, --config FILE   cluster configuration (default " FT_DEFAULT_CONFIG ")\n"
		"  -i, --id N          this node's ID, an entry of the config's nodes list\n"
		"      --check-config  validate the configuration (and --id, if given), then exit\n"
		"  -h, --help          show this help\n"
		"  -V, --version       show the version\n");
}

/* ---- accepted TCP connections: gateway or leader, told by their HELLO ---- */

static void acc_frame(struct ft_conn *c, const struct ft_frame *f, void *ud)
{
	struct accepted *a = ud;
	struct ft_node *n = a->n;
	if (a->kind == PEER_UNKNOWN) {
		identified(a);
		const char *role = ft_meta_str(f, "role", "");
		if (f->type != FT_FRAME_HELLO) {
			ft_metric_inc(refused_metric, "bad_hello");
			ft_conn_close(c, "first frame is not HELLO");
			return;
		}
		if (strcmp(role, "gateway") == 0) {
			a->kind = PEER_GATEWAY;
			if (!n->leader) {
				struct json_object *m = json_object_new_object();
				json_object_object_add(m, "reason",
						       json_object_new_string("not the leader"));
				ft_conn_send(c, FT_FRAME_REJECT, m, NULL, 0);
				json_object_put(m);
				ft_conn_close(c, "gateway connected to a node that is not leading");
				return;
			}
			ft_leader_gateway_hello(n->leader, c, f);
		} else if (strcmp(role, "leader") == 0) {
			a->kind = PEER_LEADER;
			ft_worker_leader_hello(n->worker, c, f);
		} else {
			ft_metric_inc(refused_metric, "bad_hello");
			ft_conn_close(c, "HELLO with an unknown role");
		}
		return;
	}
	if (a->kind == PEER_GATEWAY) {
		if (n->leader)
			ft_leader_gateway_frame(n->leader, c, f);
		else
			ft_conn_close(c, "no longer leading");
	} else {
		ft_worker_frame(n->worker, c, f);
	}
}

static void acc_close(struct ft_conn *c, const char *why, void *ud)
{
	struct accepted *a = ud;
	identified(a);
	if (a->kind == PEER_UNKNOWN && ft_conn_handshake_failed(c))
		ft_metric_inc(refused_metric, "bad_key");
	if (a->kind == PEER_GATEWAY && a->n->leader)
		ft_leader_gateway_closed(a->n->leader, c);
	else if (a->kind == PEER_LEADER)
		ft_worker_conn_closed(a->n->worker, c);
	free(a);
}

static const struct ft_conn_ops acc_ops = {
	.on_frame = acc_frame,
	.on_close = acc_close,
};

static int accept_resume(sd_event_source *s, uint64_t usec, void *ud)
{
	(void)s;
	(void)usec;
	struct ft_node *n = ud;
	n->accept_pause = sd_event_source_disable_unref(n->accept_pause);
	sd_event_source_set_enabled(n->listen_src, SD_EVENT_ON);
	return 0;
}

/* Out of file descriptors: the pending connection stays in the backlog and
 * the socket readable, so accepting again at once would spin.  Stop
 * listening for a while instead (the connections that hold the fds may go
 * meanwhile). */
static void accept_back_off(struct ft_node *n, int err)
{
	int64_t now = ft_now_ms();
	if (now - n->accept_warned_ms >= 10000) {
		n->accept_warned_ms = now;
		ft_log_warn("cannot accept connections on %s: %s; pausing %d ms",
			    n->self->work.text, strerror(err), ACCEPT_PAUSE_MS);
	}
	sd_event_source_set_enabled(n->listen_src, SD_EVENT_OFF);
	if (!n->accept_pause) {
		uint64_t t;
		sd_event_now(n->ev, CLOCK_MONOTONIC, &t);
		sd_event_add_time(n->ev, &n->accept_pause, CLOCK_MONOTONIC,
				  t + (uint64_t)ACCEPT_PAUSE_MS * 1000, 10000, accept_resume, n);
	}
}

static void refused_connection(struct ft_node *n, const char *ip)
{
	n->refused_connections++;
	ft_metric_inc(refused_metric, "unidentified_limit");
	int64_t now = ft_now_ms();
	if (now - n->refused_warned_ms >= 10000) {
		n->refused_warned_ms = now;
		ft_log_warn("work port: refused a connection from %s: %d already wait for their "
			    "HELLO (limits.max_unidentified_per_address); %llu refused so far",
			    ip, n->cfg.limits.max_unidentified_per_address,
			    (unsigned long long)n->refused_connections);
	}
}

static int accept_cb(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct ft_node *n = ud;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				accept_back_off(n, errno);
			break;
		}
		struct accepted *a = ft_xcalloc(1, sizeof(*a));
		a->n = n;
		ft_sockaddr_ip((const struct sockaddr *)&ss, a->ip, sizeof(a->ip));
		/* Strangers cannot hold the port: few connections per address
		 * before they say who they are, and not for long. */
		if (unidentified_from(n, a->ip) >=
		    (size_t)n->cfg.limits.max_unidentified_per_address) {
			refused_connection(n, a->ip);
			close(cfd);
			free(a);
			continue;
		}
		a->c = ft_conn_adopt(n->ev, cfd, &n->conn_limits, &acc_ops, a);
		if (!a->c) {
			free(a);
			continue;
		}
		a->next = n->unidentified;
		n->unidentified = a;
		sd_event_add_time_relative(n->ev, &a->hello_timer, CLOCK_MONOTONIC,
					   (uint64_t)n->cfg.limits.hello_timeout_ms * 1000, 10000,
					   hello_timeout, a);
	}
	return 0;
}

/* ---- roles ---- */

/* STATUS= and READY=1: called on every election change and every second. */
static void report_to_systemd(struct ft_node *n)
{
	bool connected = ft_election_connected(n->election);
	if (ft_sd_ready_when(connected, n->started_ms, ft_now_ms(), n->cfg.zk_start_wait_ms))
		ft_log_warn("zookeeper: no session within %d ms (zookeeper.start_wait_ms) at %s; "
			    "ready anyway, serving gossip and HTTP, and still trying; the node "
			    "leads or runs work once connected",
			    n->cfg.zk_start_wait_ms, n->cfg.zk_connect);
	char zk[FT_PATH_MAX];
	ft_sd_status("%s; leader %d, epoch %llu; %zu running, %zu results held; %s", n->role,
		     ft_election_leader(n->election),
		     (unsigned long long)ft_election_epoch(n->election),
		     ft_worker_running(n->worker), ft_worker_held(n->worker),
		     ft_election_describe(n->election, zk, sizeof(zk)));
}

static void status_tick(void *ud)
{
	report_to_systemd(ud);
}

static void set_role(struct ft_node *n, const char *role)
{
	if (strcmp(n->role, role) == 0)
		return;
	ft_hb_switch(n->role, role);
	n->role = role;
}

static void stop_leading(struct ft_node *n)
{
	ft_log_election(LOG_NOTICE, ft_leader_epoch(n->leader), n->self->id,
			"stopping leadership of epoch %llu",
			(unsigned long long)ft_leader_epoch(n->leader));
	ft_leader_free(n->leader);
	n->leader = NULL;
	n->leader_unsure = sd_event_source_disable_unref(n->leader_unsure);
}

static void on_election_change(void *ud);

/* Step-downs further apart than this start the hold-off afresh. */
#define STEP_DOWN_MEMORY_MS (10 * 60 * 1000)
#define STEP_DOWN_MAX_DOUBLINGS 4

void ft_node_step_down(struct ft_node *n)
{
	int64_t now = ft_now_ms();
	if (n->last_step_down_ms && now - n->last_step_down_ms < STEP_DOWN_MEMORY_MS)
		n->step_downs++;
	else
		n->step_downs = 0;
	n->last_step_down_ms = now;
	unsigned doublings =
		n->step_downs < STEP_DOWN_MAX_DOUBLINGS ? n->step_downs : STEP_DOWN_MAX_DOUBLINGS;
	int64_t hold = (int64_t)n->cfg.leader.hold_off_ms << doublings;
	ft_log_notice("standing aside for %lld ms (leader.hold_off_ms, step-down %u in a row): "
		      "the next highest ID leads; serving as a worker meanwhile",
		      (long long)hold, n->step_downs + 1);
	/* Stood aside as long as the fault it left for had lasted, it is as good
	 * a candidate as any when no other is left. */
	ft_election_step_aside(n->election, hold > INT32_MAX ? INT32_MAX : (int)hold,
			       n->cfg.leader.lease_ms);
}

static int unsure_too_long(sd_event_source *s, uint64_t usec, void *ud)
{
	struct ft_node *n = ud;
	/* The server has ended the session by now, whatever the client was
	 * told: another node may lead. */
	ft_log_warn("zookeeper: out of reach for the whole session timeout (%d ms); giving "
		    "leadership up",
		    n->cfg.zk_session_timeout_ms);
	if (n->leader)
		stop_leading(n);
	on_election_change(n);
	return 0;
}

/* A connection blip within the session: ZooKeeper may still name us, so
 * tables and links are kept and only new dispatch waits; when the session
 * answers again and still names us, work goes on where it was.  A newer
 * leader, an expired session, or no answer within the session timeout
 * ends it. */
static void hold_or_resume(struct ft_node *n, bool lead, uint64_t epoch)
{
	if (!lead && ft_election_unsure(n->election)) {
		if (n->leader_unsure)
			return;
		ft_log_election(LOG_WARNING, epoch, n->self->id,
				"zookeeper: out of reach; leadership of epoch %llu held (nothing "
				"new dispatched, tables and links kept) for up to %d ms",
				(unsigned long long)ft_leader_epoch(n->leader),
				n->cfg.zk_session_timeout_ms);
		ft_leader_hold(n->leader, true);
		n->unsure_since_ms = ft_now_ms();
		sd_event_add_time_relative(n->ev, &n->leader_unsure, CLOCK_MONOTONIC,
					   (uint64_t)n->cfg.zk_session_timeout_ms * 1000, 10000,
					   unsure_too_long, n);
	} else if (!lead || ft_leader_epoch(n->leader) != epoch) {
		stop_leading(n);
	} else if (n->leader_unsure) {
		ft_log_election(LOG_NOTICE, epoch, n->self->id,
				"zookeeper: answering again within the session, still naming us: "
				"dispatching again (held %lld ms)",
				(long long)(ft_now_ms() - n->unsure_since_ms));
		n->leader_unsure = sd_event_source_disable_unref(n->leader_unsure);
		ft_leader_hold(n->leader, false);
	}
}

static void on_election_change(void *ud)
{
	struct ft_node *n = ud;
	bool lead = ft_election_is_leader(n->election);
	ft_metrics_election(ft_election_leader(n->election), ft_election_epoch(n->election));
	uint64_t epoch = ft_election_epoch(n->election);
	if (n->leader)
		hold_or_resume(n, lead, epoch);
	if (lead && !n->leader) {
		ft_log_election(LOG_NOTICE, epoch, n->self->id, "leading with epoch %llu",
				(unsigned long long)epoch);
		n->leader = ft_leader_new(n, epoch);
	}
	if (n->worker)
		ft_worker_election_changed(n->worker);
	if (n->leader)
		set_role(n, "LEADING");
	else if (ft_election_connected(n->election) && ft_election_leader(n->election) >= 0)
		set_role(n, "FOLLOWING");
	else
		set_role(n, "LOOKING");
	report_to_systemd(n);
}

static void on_member_event(void *ud, const struct ft_member_event_info *ev)
{
	struct ft_node *n = ud;
	ft_metrics_on_member_event(NULL, ev);
	if (n->leader)
		ft_leader_member_event(n->leader, ev);
}

/* ---- heartbeat log endpoints ---- */

static void serve_file(struct ft_http_req *r, const char *path)
{
	FILE *f = path[0] ? fopen(path, "r") : NULL;
	if (!f) {
		const char *msg = "log file not available\n";
		ft_http_respond(r, 404, "text/plain", msg, strlen(msg));
		return;
	}
	struct ft_buf b = { 0 };
	char tmp[65536];
	size_t k;
	while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0)
		ft_buf_append(&b, tmp, k);
	fclose(f);
	const char *tail = ft_http_arg(r, "tail");
	const char *start = b.data ? b.data : "";
	size_t len = b.len;
	if (tail && atol(tail) > 0) {
		long want = atol(tail);
		const char *p = start + len;
		while (p > start && want >= 0) {
			p--;
			if (*p == '\n' && p != start + len - 1 && --want == 0) {
				p++;
				break;
			}
		}
		len -= (size_t)(p - start);
		start = p;
	}
	ft_http_respond(r, 200, "text/plain; charset=utf-8", start, len);
	ft_buf_free(&b);
}

static void http_handler(void *ud, struct ft_http_req *r)
{
	const char *path = ft_http_path(r);
	if (ft_metrics_route(r))
		return;
	if (strcmp(ft_http_method(r), "GET") != 0) {
		ft_http_add_header(r, "Allow", "GET");
		const char *msg = "method not allowed\n";
		ft_http_respond(r, 405, "text/plain", msg, strlen(msg));
	} else if (strcmp(path, "/log/summary") == 0) {
		serve_file(r, ft_log_summary_path());
	} else if (strcmp(path, "/log/verbose") == 0) {
		serve_file(r, ft_log_verbose_path());
	} else {
		const char *msg = "not found: try /log/summary or /log/verbose\n";
		ft_http_respond(r, 404, "text/plain", msg, strlen(msg));
	}
}

/* ---- metrics sampled at each scrape ---- */

static double m_running(void *ud)
{
	return (double)ft_worker_running(((struct ft_node *)ud)->worker);
}

static double m_held(void *ud)
{
	return (double)ft_worker_held(((struct ft_node *)ud)->worker);
}

static double m_leader_requests(void *ud)
{
	struct ft_node *n = ud;
	return n->leader ? (double)ft_leader_in_flight(n->leader) : 0;
}

/* ---- health for the watchdog ---- */

/* The loop runs (this is called from it), gossip ticks on it, and the
 * ZooKeeper client's threads answer; the runner's children are watched by
 * the loop itself. */
static bool healthy(void *ud)
{
	struct ft_node *n = ud;
	return ft_gossip_ticking(n->gossip, n->cfg.gossip.interval_ms) &&
	       ft_election_responsive(n->election);
}

static int drain_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	struct ft_node *n = ud;
	/* Finished results stay until a leader has delivered them (RELEASE),
	 * bounded so that a stop never hangs. */
	if (ft_worker_held(n->worker) == 0 || ft_now_ms() >= n->drain_deadline_ms) {
		if (ft_worker_held(n->worker))
			ft_log_warn("stopping with %zu undelivered result(s): no leader took them",
				    ft_worker_held(n->worker));
		sd_event_exit(n->ev, 0);
		return 0;
	}
	sd_event_source_set_time(s, usec + 100000);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT); /* it fired: off until re-armed */
	return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
	struct ft_node *n = ud;
	if (n->stopping) {
		sd_event_exit(n->ev, 0);
		return 0;
	}
	n->stopping = true;
	ft_log_notice("received signal %u, shutting down", si->ssi_signo);
	ft_sd_stopping();
	ft_worker_hand_back(n->worker);
	n->drain_deadline_ms = ft_now_ms() + n->cfg.limits.stop_drain_ms;
	sd_event_add_time_relative(n->ev, NULL, CLOCK_MONOTONIC, 0, 10000, drain_cb, n);
	return 0;
}

static int run(struct ft_node *n)
{
	char dir[FT_PATH_MAX + 32];
	snprintf(dir, sizeof(dir), "%s/node-%d", n->cfg.log_dir, n->self->id);
	struct ft_daemon d = {
		.name = "ftnode",
		.member_id = n->self->id,
		.log_dir = dir,
		.children = true,
		.on_stop = on_signal,
		.ud = n,
	};
	n->started_ms = ft_now_ms();
	if (ft_daemon_start(&d, &n->cfg, &n->ev) != FT_EXIT_OK)
		return FT_EXIT_SETUP;
	ft_sd_status("starting");

	n->conn_limits.max_frame_bytes = n->cfg.limits.max_frame_bytes;
	n->conn_limits.max_out_bytes = 16 * n->cfg.limits.max_frame_bytes;
	n->conn_limits.heartbeat_ms = n->cfg.limits.link_heartbeat_ms;
	n->conn_limits.timeout_ms = n->cfg.limits.link_timeout_ms;
	n->conn_limits.connect_timeout_ms = n->cfg.limits.connect_timeout_ms;
	n->role = "LOOKING";

	n->listen_fd = ft_tcp_listen(&n->self->work.sa);
	if (n->listen_fd < 0) {
		ft_log_err("cannot listen on %s: %s", n->self->work.text, strerror(errno));
		return FT_EXIT_SETUP;
	}
	sd_event_add_io(n->ev, &n->listen_src, n->listen_fd, EPOLLIN, accept_cb, n);

	struct ft_httpd_conf hc = {
		.addr = n->self->http.sa,
		.max_body_bytes = 4096,
		.max_connections = 64,
		.connection_timeout_s = 30,
	};
	n->httpd = ft_httpd_new(n->ev, &hc, http_handler, n);
	if (!n->httpd) {
		ft_log_err("cannot serve HTTP on %s", n->self->http.text);
		return FT_EXIT_SETUP;
	}
	n->worker = ft_worker_new(n);
	if (!n->worker)
		return FT_EXIT_SETUP;
	n->gossip = ft_gossip_new(n->ev, &n->cfg, n->self->id, on_member_event, n);
	if (!n->gossip)
		return FT_EXIT_SETUP;
	ft_metrics_init("ftnode", n->self->id, n->gossip);
	refused_metric = ft_metrics_counter(
		ft_metrics_global(), "ftnode_connections_refused_total",
		"Connections to the work port closed before they said who they are: over "
		"limits.max_unidentified_per_address, no HELLO within limits.hello_timeout_ms, "
		"a first frame that is not a valid HELLO, or a peer without the cluster key",
		"reason", refusal_reasons);
	ft_metrics_gauge_fn("ftnode_running_jobs", "Runs in progress on this worker", m_running, n);
	ft_metrics_gauge_fn("ftnode_held_results",
			    "Finished results this worker keeps until a leader has delivered them",
			    m_held, n);
	ft_metrics_gauge_fn("ftnode_leader_requests",
			    "Requests this node tracks as leader (queued, assigned, answered "
			    "but not acknowledged); 0 when not leading",
			    m_leader_requests, n);
	n->election = ft_election_new(n->ev, &n->cfg, n->self->id, on_election_change, n);
	if (!n->election)
		return FT_EXIT_SETUP;
	ft_sd_watchdog_start(n->ev, healthy, n);
	ft_sd_status_timer(n->ev, 1000, status_tick, n);
	ft_log_notice("node %d up: gossip %s, work %s, http %s, zookeeper %s", n->self->id,
		      n->self->gossip.text, n->self->work.text, n->self->http.text,
		      n->cfg.zk_connect);
	ft_log_info("heartbeat logs: %s and %s", ft_log_summary_path(), ft_log_verbose_path());
	report_to_systemd(n);
	int r = sd_event_loop(n->ev);

	if (n->leader)
		ft_leader_free(n->leader);
	sd_event_source_disable_unref(n->leader_unsure);
	ft_election_free(n->election);
	ft_worker_free(n->worker);
	ft_gossip_free(n->gossip);
	ft_httpd_free(n->httpd);
	sd_event_source_disable_unref(n->listen_src);
	sd_event_source_disable_unref(n->accept_pause);
	close(n->listen_fd);
	sd_event_unref(n->ev);
	ft_metrics_shutdown();
	ft_log_close();
	return r < 0 ? FT_EXIT_SETUP : FT_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "id", required_argument, NULL, 'i' },
		{ "check-config", no_argument, NULL, 'C' }, { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },	    { 0 },
	};
	const char *config = FT_DEFAULT_CONFIG;
	int id = -1;
	bool check = false;
	int o;
	while ((o = getopt_long(argc, argv, "c:i:hV", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			config = optarg;
			break;
		case 'i': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 65535) {
				fprintf(stderr, "ftnode: --id must be a node ID (1..65535)\n");
				return FT_EXIT_USAGE;
			}
			id = (int)v;
			break;
		}
		case 'C':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return FT_EXIT_OK;
		case 'V':
			printf("ftnode %s\n", PACKAGE_VERSION);
			return FT_EXIT_OK;
		default:
			usage(stderr);
			return FT_EXIT_USAGE;
		}
	}
	static struct ft_node node;
	if (ft_daemon_load_config("ftnode", config, &node.cfg) != FT_EXIT_OK)
		return FT_EXIT_CONFIG;
	if (id >= 0) {
		node.self = ft_config_node(&node.cfg, id);
		if (!node.self) {
			fprintf(stderr, "ftnode: %s: no node with id %d in nodes\n", config, id);
			return FT_EXIT_CONFIG;
		}
	}
	if (check) {
		ft_daemon_config_ok(config, &node.cfg);
		return FT_EXIT_OK;
	}
	if (id < 0) {
		fprintf(stderr, "ftnode: --id is required\n");
		usage(stderr);
		return FT_EXIT_USAGE;
	}
	return run(&node);
}
