/* The daemons' standard metrics that are fed plain values (leadership, a
 * node's runs), and the process-wide ring of recent cluster events.  See
 * metrics.h, part 3. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/events.h"
#include "lib/metrics.h"
#include "lib/util.h"

static const double latency_bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
					 1,	2.5,  5,     10,   30,	60,   120 };

static const char *const verdicts[] = {
	"ok",		"compile_error",  "runtime_error", "time_limit", "memory_limit",
	"output_limit", "internal_error", "other",	   NULL
};
static const char *const shed_reasons[] = { "expired", "queue_full", NULL };

static struct {
	bool inited;
	int self_id;
	bool node;
	struct ft_metric *leader, *epoch, *leader_changes, *leaderships;
	struct ft_metric *runs, *run_seconds, *assigned, *reassigned, *shed;
	struct ft_metric *handshakes_failed;
	int last_leader;
	uint64_t last_epoch;
} M = { .last_leader = -1 };

static struct ft_event_ring ring;

/* At ft_metrics_shutdown: the families are gone with the registry. */
static void forget(void)
{
	memset(&M, 0, sizeof(M));
	M.last_leader = -1;
	memset(&ring, 0, sizeof(ring));
}

void ft_metrics_daemon_init(const char *daemon, int self_id)
{
	struct ft_metrics *m = ft_metrics_global();
	M.self_id = self_id;
	if (M.inited)
		return;
	M.inited = true;
	ft_metrics_on_shutdown(forget);
	M.node = daemon && strcmp(daemon, "ftnode") == 0;
	M.leader = ft_metrics_gauge(m, "ftcluster_leader",
				    "ID of the leader this daemon knows, -1 for none", NULL, NULL);
	ft_metric_set(M.leader, NULL, -1);
	M.epoch = ft_metrics_gauge(m, "ftcluster_epoch",
				   "Newest leadership epoch (leader znode czxid) this daemon knows",
				   NULL, NULL);
	M.leader_changes = ft_metrics_counter(
		m, "ftcluster_leader_changes_total",
		"New leaderships (leader ID or epoch changed) this daemon saw, the first included",
		NULL, NULL);
	M.handshakes_failed = ft_metrics_counter(
		m, "ftcluster_handshakes_failed_total",
		"TCP connections with members closed because the peer did not prove it holds the "
		"cluster key (another key, a stranger, a replay, not an ftcluster peer)",
		NULL, NULL);
	if (!M.node)
		return;
	M.leaderships = ft_metrics_counter(m, "ftnode_leaderships_total",
					   "Times this node became the leader", NULL, NULL);
	M.runs = ft_metrics_counter(m, "ftnode_runs_total",
				    "Runs finished on this worker by verdict", "verdict", verdicts);
	M.run_seconds = ft_metrics_histogram(m, "ftnode_run_duration_seconds",
					     "Wall time of compile and run on this worker", NULL,
					     NULL, latency_bounds, FT_ARRAY_SIZE(latency_bounds));
	M.assigned =
		ft_metrics_counter(m, "ftnode_assignments_total",
				   "Requests this node, as leader, handed to a worker", NULL, NULL);
	M.reassigned = ft_metrics_counter(
		m, "ftnode_reassignments_total",
		"Requests this node, as leader, took back from a worker to assign again", NULL,
		NULL);
	M.shed = ft_metrics_counter(
		m, "ftnode_requests_shed_total",
		"Requests this node, as leader, never ran: still queued when their gateway gave up "
		"(expired), or refused with the queue full (queue_full)",
		"reason", shed_reasons);
}

void ft_metrics_event(const char *type, int node, int src, uint64_t incarnation, int leader,
		      uint64_t epoch)
{
	ft_metrics_on_shutdown(forget); /* the ring is in use even before init */
	ft_event_ring_push(&ring, (struct ft_event){
					  .time_ms = ft_wall_ms(),
					  .type = type,
					  .node = node,
					  .src = src,
					  .incarnation = incarnation,
					  .leader = leader,
					  .epoch = epoch,
				  });
}

struct json_object *ft_metrics_events_json(uint64_t since)
{
	return ft_event_ring_json(&ring, since);
}

void ft_metrics_election(int leader, uint64_t epoch)
{
	ft_metric_set(M.leader, NULL, leader);
	ft_metric_set(M.epoch, NULL, (double)epoch);
	if (leader == M.last_leader && (leader < 0 || epoch == M.last_epoch))
		return;
	if (leader >= 0) {
		ft_metric_inc(M.leader_changes, NULL);
		if (M.node && leader == M.self_id)
			ft_metric_inc(M.leaderships, NULL);
		ft_metrics_event("leader_elected", leader, -1, 0, leader, epoch);
	} else {
		ft_metrics_event("leader_lost", M.last_leader, -1, 0, -1, M.last_epoch);
	}
	M.last_leader = leader;
	M.last_epoch = epoch;
}

void ft_metrics_run_done(const char *verdict, int64_t wall_ms)
{
	ft_metric_inc(M.runs, verdict ? verdict : "other");
	if (wall_ms >= 0)
		ft_metric_observe(M.run_seconds, NULL, (double)wall_ms / 1000.0);
}

void ft_metrics_handshake_failed(void)
{
	ft_metric_inc(M.handshakes_failed, NULL);
}

void ft_metrics_assigned(void)
{
	ft_metric_inc(M.assigned, NULL);
}

void ft_metrics_reassigned(size_t n)
{
	ft_metric_add(M.reassigned, NULL, (double)n);
}

void ft_metrics_shed(const char *reason)
{
	ft_metric_inc(M.shed, reason);
}
