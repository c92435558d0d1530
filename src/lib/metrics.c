/* Prometheus metrics: the registry, the daemons' standard metrics and the
 * recent-events ring.  See metrics.h. */
#include "lib/metrics.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/httpd.h"
#include "lib/util.h"
#include "gossip/gossip.h"
#include "gossip/membership.h"

#define MAX_BOUNDS 32
#define MAX_COLLECTORS 8

struct series {
	char *value; /* label value, or NULL */
	double v;    /* counter / gauge value; histogram sum */
	uint64_t count;
	uint64_t *buckets; /* histogram: per bucket (not cumulative), +Inf last */
};

struct ft_metric {
	struct ft_metric *next;
	enum ft_metric_type type;
	char *name, *help, *label;
	size_t n_series;
	struct series *series;
	double *bounds;
	size_t n_bounds;
	ft_metric_sample_fn fn;
	void *ud;
};

struct collector {
	ft_metrics_collect_fn fn;
	void *ud;
};

struct ft_metrics {
	struct ft_metric *head, *tail;
	struct collector collectors[MAX_COLLECTORS];
	size_t n_collectors;
};

/* ---- names ---- */

static bool name_ok(const char *s, bool colon)
{
	if (!s || !*s)
		return false;
	for (const char *p = s; *p; p++) {
		char c = *p;
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			     (colon && c == ':');
		if (!alpha && !(p != s && c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

static bool label_name_ok(const char *s)
{
	return name_ok(s, false) && strncmp(s, "__", 2) != 0 && strcmp(s, "le") != 0;
}

/* ---- registry ---- */

struct ft_metrics *ft_metrics_new(void)
{
	return ft_xcalloc(1, sizeof(struct ft_metrics));
}

static void metric_free(struct ft_metric *f)
{
	for (size_t i = 0; i < f->n_series; i++) {
		free(f->series[i].value);
		free(f->series[i].buckets);
	}
	free(f->series);
	free(f->bounds);
	free(f->name);
	free(f->help);
	free(f->label);
	free(f);
}

void ft_metrics_free(struct ft_metrics *m)
{
	if (!m)
		return;
	for (struct ft_metric *f = m->head, *next; f; f = next) {
		next = f->next;
		metric_free(f);
	}
	free(m);
}

struct ft_metric *ft_metrics_find(const struct ft_metrics *m, const char *name)
{
	if (!m || !name)
		return NULL;
	for (struct ft_metric *f = m->head; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static struct ft_metric *add_family(struct ft_metrics *m, enum ft_metric_type type,
				    const char *name, const char *help, const char *label,
				    const char *const *values, const double *bounds,
				    size_t n_bounds)
{
	if (!m || !name_ok(name, true) || ft_metrics_find(m, name))
		return NULL;
	size_t n_values = 1;
	if (label) {
		if (!label_name_ok(label) || !values || !values[0])
			return NULL;
		for (n_values = 0; values[n_values]; n_values++)
			for (size_t j = 0; j < n_values; j++)
				if (strcmp(values[j], values[n_values]) == 0)
					return NULL;
	}
	if (type == FT_METRIC_HISTOGRAM) {
		if (!bounds || n_bounds == 0 || n_bounds > MAX_BOUNDS)
			return NULL;
		for (size_t i = 0; i < n_bounds; i++)
			if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
				return NULL;
	}
	struct ft_metric *f = ft_xcalloc(1, sizeof(*f));
	f->type = type;
	f->name = ft_xstrdup(name);
	f->help = ft_xstrdup(help ? help : "");
	f->label = label ? ft_xstrdup(label) : NULL;
	f->n_series = n_values;
	f->series = ft_xcalloc(n_values, sizeof(*f->series));
	for (size_t i = 0; i < n_values; i++) {
		if (label)
			f->series[i].value = ft_xstrdup(values[i]);
		if (type == FT_METRIC_HISTOGRAM)
			f->series[i].buckets = ft_xcalloc(n_bounds + 1, sizeof(uint64_t));
	}
	if (type == FT_METRIC_HISTOGRAM) {
		f->bounds = ft_xmemdup(bounds, n_bounds * sizeof(double));
		f->n_bounds = n_bounds;
	}
	if (m->tail)
		m->tail->next = f;
	else
		m->head = f;
	m->tail = f;
	return f;
}

struct ft_metric *ft_metrics_counter(struct ft_metrics *m, const char *name, const char *help,
				     const char *label, const char *const *values)
{
	return add_family(m, FT_METRIC_COUNTER, name, help, label, values, NULL, 0);
}

struct ft_metric *ft_metrics_gauge(struct ft_metrics *m, const char *name, const char *help,
				   const char *label, const char *const *values)
{
	return add_family(m, FT_METRIC_GAUGE, name, help, label, values, NULL, 0);
}

struct ft_metric *ft_metrics_histogram(struct ft_metrics *m, const char *name, const char *help,
				       const char *label, const char *const *values,
				       const double *bounds, size_t n_bounds)
{
	return add_family(m, FT_METRIC_HISTOGRAM, name, help, label, values, bounds, n_bounds);
}

struct ft_metric *ft_metrics_gauge_func(struct ft_metrics *m, const char *name, const char *help,
					ft_metric_sample_fn fn, void *ud)
{
	if (!fn)
		return NULL;
	struct ft_metric *f = add_family(m, FT_METRIC_GAUGE, name, help, NULL, NULL, NULL, 0);
	if (f) {
		f->fn = fn;
		f->ud = ud;
	}
	return f;
}

void ft_metrics_on_collect(struct ft_metrics *m, ft_metrics_collect_fn fn, void *ud)
{
	if (m && fn && m->n_collectors < MAX_COLLECTORS)
		m->collectors[m->n_collectors++] = (struct collector){ fn, ud };
}

static struct series *find_series(const struct ft_metric *f, const char *value)
{
	if (!f)
		return NULL;
	if (!f->label)
		return value ? NULL : &f->series[0];
	if (!value)
		return NULL;
	struct series *other = NULL;
	for (size_t i = 0; i < f->n_series; i++) {
		if (strcmp(f->series[i].value, value) == 0)
			return &f->series[i];
		if (strcmp(f->series[i].value, "other") == 0)
			other = &f->series[i];
	}
	return other;
}

void ft_metric_add(struct ft_metric *f, const char *value, double v)
{
	if (!f || f->fn || f->type == FT_METRIC_HISTOGRAM)
		return;
	if (f->type == FT_METRIC_COUNTER && !(v >= 0))
		return;
	struct series *s = find_series(f, value);
	if (s)
		s->v += v;
}

void ft_metric_inc(struct ft_metric *f, const char *value)
{
	ft_metric_add(f, value, 1);
}

void ft_metric_set(struct ft_metric *f, const char *value, double v)
{
	if (!f || f->fn || f->type == FT_METRIC_HISTOGRAM)
		return;
	struct series *s = find_series(f, value);
	if (s)
		s->v = v;
}

void ft_metric_observe(struct ft_metric *f, const char *value, double v)
{
	if (!f || f->type != FT_METRIC_HISTOGRAM || isnan(v))
		return;
	struct series *s = find_series(f, value);
	if (!s)
		return;
	size_t b = 0;
	while (b < f->n_bounds && v > f->bounds[b])
		b++;
	s->buckets[b]++;
	s->count++;
	s->v += v;
}

double ft_metric_get(const struct ft_metric *f, const char *value)
{
	const struct series *s = find_series(f, value);
	if (!s)
		return NAN;
	if (f->fn)
		return f->fn(f->ud);
	return f->type == FT_METRIC_HISTOGRAM ? (double)s->count : s->v;
}

/* ---- text format ---- */

static void fmt_num(char *buf, size_t n, double v)
{
	if (isnan(v)) {
		snprintf(buf, n, "NaN");
	} else if (isinf(v)) {
		snprintf(buf, n, v > 0 ? "+Inf" : "-Inf");
	} else if (v > -9007199254740992.0 && v < 9007199254740992.0 && (double)(int64_t)v == v) {
		snprintf(buf, n, "%" PRId64, (int64_t)v);
	} else {
		/* Shortest of %.15g..%.17g that reads back exactly. */
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(buf, n, "%.*g", prec, v);
			if (strtod(buf, NULL) == v)
				break;
		}
	}
}

static void put_escaped(struct ft_buf *out, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			ft_buf_append(out, "\\\\", 2);
		else if (*s == '\n')
			ft_buf_append(out, "\\n", 2);
		else if (quote && *s == '"')
			ft_buf_append(out, "\\\"", 2);
		else
			ft_buf_append(out, s, 1);
	}
}

/* name{label="value",le="bound"} */
static void put_series_name(struct ft_buf *out, const struct ft_metric *f, const char *suffix,
			    const struct series *s, const char *le)
{
	ft_buf_printf(out, "%s%s", f->name, suffix);
	if (!f->label && !le)
		return;
	ft_buf_append(out, "{", 1);
	if (f->label) {
		ft_buf_printf(out, "%s=\"", f->label);
		put_escaped(out, s->value, true);
		ft_buf_append(out, "\"", 1);
	}
	if (le)
		ft_buf_printf(out, "%sle=\"%s\"", f->label ? "," : "", le);
	ft_buf_append(out, "}", 1);
}

static void render_family(struct ft_buf *out, const struct ft_metric *f)
{
	static const char *const type_names[] = { "counter", "gauge", "histogram" };
	char num[64];
	ft_buf_printf(out, "# HELP %s ", f->name);
	put_escaped(out, f->help, false);
	ft_buf_printf(out, "\n# TYPE %s %s\n", f->name, type_names[f->type]);
	for (size_t i = 0; i < f->n_series; i++) {
		const struct series *s = &f->series[i];
		if (f->type != FT_METRIC_HISTOGRAM) {
			put_series_name(out, f, "", s, NULL);
			fmt_num(num, sizeof(num), f->fn ? f->fn(f->ud) : s->v);
			ft_buf_printf(out, " %s\n", num);
			continue;
		}
		uint64_t cum = 0;
		for (size_t b = 0; b <= f->n_bounds; b++) {
			char le[64];
			if (b < f->n_bounds)
				fmt_num(le, sizeof(le), f->bounds[b]);
			else
				snprintf(le, sizeof(le), "+Inf");
			cum += s->buckets[b];
			put_series_name(out, f, "_bucket", s, le);
			ft_buf_printf(out, " %" PRIu64 "\n", cum);
		}
		put_series_name(out, f, "_sum", s, NULL);
		fmt_num(num, sizeof(num), s->v);
		ft_buf_printf(out, " %s\n", num);
		put_series_name(out, f, "_count", s, NULL);
		ft_buf_printf(out, " %" PRIu64 "\n", s->count);
	}
}

void ft_metrics_render(struct ft_metrics *m, struct ft_buf *out)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_collectors; i++)
		m->collectors[i].fn(m, m->collectors[i].ud);
	for (struct ft_metric *f = m->head; f; f = f->next)
		render_family(out, f);
}

/* ---- the daemons' standard metrics ---- */

static const double latency_bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
					 1,	2.5,  5,     10,   30,	60,   120 };

static const char *const verdicts[] = {
	"ok",		"compile_error",  "runtime_error", "time_limit", "memory_limit",
	"output_limit", "internal_error", "other",	   NULL
};
static const char *const gossip_kinds[] = { "sent", "received", "rejected", NULL };
static const char *const member_states[] = { "alive", "failed", NULL };
static const char *const member_events[] = { "updated", "joined",	 "failed", "rejoined",
					     "removed", "self_rejoined", NULL };

static struct {
	struct ft_metrics *reg;
	bool inited;
	int self_id;
	bool node;
	const struct ft_gossip *gossip;
	struct ft_metric *gossip_msgs, *members, *member_events, *leader, *epoch, *leader_changes,
		*leaderships;
	struct ft_metric *runs, *run_seconds, *assigned, *reassigned;
	int last_leader;
	uint64_t last_epoch;
} M = { .last_leader = -1 };

struct ft_metrics *ft_metrics_global(void)
{
	if (!M.reg)
		M.reg = ft_metrics_new();
	return M.reg;
}

static void collect_gossip(struct ft_metrics *m, void *ud)
{
	if (!M.gossip)
		return;
	const struct ft_gossip_stats *st = ft_gossip_stats(M.gossip);
	ft_metric_set(M.gossip_msgs, "sent", (double)st->sent);
	ft_metric_set(M.gossip_msgs, "received", (double)st->received);
	ft_metric_set(M.gossip_msgs, "rejected", (double)st->rejected);
	const struct ft_membership *tab = ft_gossip_table(M.gossip);
	size_t alive = 1, failed = 0; /* ourselves: alive */
	for (size_t i = 0; i < ft_membership_count(tab); i++) {
		const struct ft_member *mem = ft_membership_at(tab, i);
		if (mem->id == M.self_id)
			continue;
		if (mem->state == FT_MEMBER_FAILED)
			failed++;
		else
			alive++;
	}
	ft_metric_set(M.members, "alive", (double)alive);
	ft_metric_set(M.members, "failed", (double)failed);
}

void ft_metrics_init(const char *daemon, int self_id, const struct ft_gossip *gossip)
{
	struct ft_metrics *m = ft_metrics_global();
	M.self_id = self_id;
	M.gossip = gossip;
	if (M.inited)
		return;
	M.inited = true;
	M.node = daemon && strcmp(daemon, "ftnode") == 0;
	struct ft_metric *self = ft_metrics_gauge(
		m, "ftcluster_member_id", "This daemon's member ID (0: the gateway)", NULL, NULL);
	ft_metric_set(self, NULL, self_id);
	M.gossip_msgs = ft_metrics_counter(
		m, "ftcluster_gossip_messages_total",
		"Gossip datagrams sent, received (accepted) and rejected by this daemon", "kind",
		gossip_kinds);
	M.members =
		ft_metrics_gauge(m, "ftcluster_members",
				 "Members in this daemon's gossip table by state, itself included",
				 "state", member_states);
	M.member_events = ft_metrics_counter(
		m, "ftcluster_member_events_total",
		"Gossip membership events seen by this daemon (updated: a heartbeat rose)", "event",
		member_events);
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
	ft_metrics_on_collect(m, collect_gossip, NULL);
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
}

void ft_metrics_gauge_fn(const char *name, const char *help, ft_metric_sample_fn fn, void *ud)
{
	ft_metrics_gauge_func(ft_metrics_global(), name, help, fn, ud);
}

/* ---- the event ring ---- */

#define EVENT_RING 512

struct event {
	uint64_t seq;
	int64_t time_ms; /* wall clock */
	const char *type;
	int node; /* member concerned, or -1 */
	int src;  /* who said so, or -1 */
	uint64_t incarnation;
	int leader;
	uint64_t epoch;
};

static struct event ring[EVENT_RING];
static uint64_t next_seq = 1;

static void push_event(const char *type, int node, int src, uint64_t incarnation, int leader,
		       uint64_t epoch)
{
	struct event *e = &ring[next_seq % EVENT_RING];
	*e = (struct event){
		.seq = next_seq++,
		.time_ms = ft_wall_ms(),
		.type = type,
		.node = node,
		.src = src,
		.incarnation = incarnation,
		.leader = leader,
		.epoch = epoch,
	};
}

struct json_object *ft_metrics_events_json(uint64_t since)
{
	uint64_t oldest = next_seq > EVENT_RING ? next_seq - EVENT_RING : 1;
	uint64_t from = since + 1 > oldest ? since + 1 : oldest;
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();
	for (uint64_t s = from; s < next_seq; s++) {
		const struct event *e = &ring[s % EVENT_RING];
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "seq", json_object_new_uint64(e->seq));
		json_object_object_add(o, "time_ms", json_object_new_int64(e->time_ms));
		json_object_object_add(o, "type", json_object_new_string(e->type));
		json_object_object_add(o, "node",
				       e->node >= 0 ? json_object_new_int(e->node) : NULL);
		json_object_object_add(o, "source",
				       e->src >= 0 ? json_object_new_int(e->src) : NULL);
		json_object_object_add(o, "incarnation",
				       e->incarnation ? json_object_new_uint64(e->incarnation)
						      : NULL);
		json_object_object_add(o, "leader",
				       e->leader >= 0 ? json_object_new_int(e->leader) : NULL);
		json_object_object_add(o, "epoch",
				       e->epoch ? json_object_new_uint64(e->epoch) : NULL);
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "next",
			       json_object_new_uint64(next_seq - 1 > since ? next_seq - 1 : since));
	json_object_object_add(root, "dropped", json_object_new_boolean(since + 1 < oldest));
	json_object_object_add(root, "events", arr);
	return root;
}

void ft_metrics_on_member_event(void *ud, const struct ft_member_event_info *ev)
{
	const char *name = NULL, *type = NULL;
	switch (ev->type) {
	case FT_EV_UPDATED:
		name = "updated";
		break;
	case FT_EV_JOINED:
		name = "joined";
		type = "member_joined";
		break;
	case FT_EV_FAILED:
		name = "failed";
		type = "member_failed";
		break;
	case FT_EV_REJOINED:
		name = "rejoined";
		type = "member_rejoined";
		break;
	case FT_EV_CLEANUP:
		name = "removed";
		type = "member_removed";
		break;
	case FT_EV_SELF_REJOIN:
		name = "self_rejoined";
		type = "self_rejoined";
		break;
	}
	if (name)
		ft_metric_inc(M.member_events, name);
	if (type)
		push_event(type, ev->peer, ev->src, ev->incarnation, -1, 0);
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
		push_event("leader_elected", leader, -1, 0, leader, epoch);
	} else {
		push_event("leader_lost", M.last_leader, -1, 0, -1, M.last_epoch);
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

void ft_metrics_assigned(void)
{
	ft_metric_inc(M.assigned, NULL);
}

void ft_metrics_reassigned(size_t n)
{
	ft_metric_add(M.reassigned, NULL, (double)n);
}

bool ft_metrics_route(struct ft_http_req *r)
{
	if (strcmp(ft_http_path(r), "/metrics") != 0)
		return false;
	if (strcmp(ft_http_method(r), "GET") != 0 && strcmp(ft_http_method(r), "HEAD") != 0) {
		static const char msg[] = "Method not allowed: use GET\n";
		ft_http_add_header(r, "Allow", "GET, HEAD");
		ft_http_respond(r, 405, "text/plain; charset=utf-8", msg, sizeof(msg) - 1);
		return true;
	}
	struct ft_buf b = { 0 };
	ft_metrics_render(ft_metrics_global(), &b);
	ft_http_add_header(r, "Cache-Control", "no-store");
	ft_http_respond(r, 200, FT_METRICS_CONTENT_TYPE, b.data ? b.data : "", b.len);
	ft_buf_free(&b);
	return true;
}

void ft_metrics_shutdown(void)
{
	ft_metrics_free(M.reg);
	memset(&M, 0, sizeof(M));
	M.last_leader = -1;
	memset(ring, 0, sizeof(ring));
	next_seq = 1;
}
