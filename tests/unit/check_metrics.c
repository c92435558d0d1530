/* Unit tests for the Prometheus registry, its text format, and the
 * standard metrics' event ring (lib/metrics.c). */
#include "lib/metrics.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/gossip_metrics.h"
#include "gossip/membership.h"

static char *render(struct ft_metrics *m)
{
	struct ft_buf b = { 0 };
	ft_metrics_render(m, &b);
	ft_buf_append(&b, "", 1);
	return b.data;
}

#define assert_render(m, want)                  \
	do {                                    \
		char *got_ = render(m);         \
		ck_assert_str_eq(got_, (want)); \
		free(got_);                     \
	} while (0)

static const char *const colours[] = { "red", "green", NULL };

START_TEST(test_counter_and_gauge_text)
{
	struct ft_metrics *m = ft_metrics_new();
	struct ft_metric *c = ft_metrics_counter(m, "x_total", "Things done", "colour", colours);
	struct ft_metric *g = ft_metrics_gauge(m, "depth", "Queue depth", NULL, NULL);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(g);
	ft_metric_inc(c, "red");
	ft_metric_add(c, "green", 2.5);
	ft_metric_add(c, "red", -1);  /* counters never go down */
	ft_metric_add(c, "red", NAN); /* nor become NaN */
	ft_metric_inc(c, "blue");     /* not a value, no "other": dropped */
	ft_metric_inc(c, NULL);	      /* labelled family needs a value */
	ft_metric_set(g, NULL, -3);
	ft_metric_observe(g, NULL, 7); /* not a histogram: ignored */
	ck_assert(ft_metric_get(c, "red") == 1);
	ck_assert(ft_metric_get(c, "green") == 2.5);
	ck_assert(isnan(ft_metric_get(c, "blue")));
	ck_assert(ft_metric_get(g, NULL) == -3);
	assert_render(m, "# HELP x_total Things done\n"
			 "# TYPE x_total counter\n"
			 "x_total{colour=\"red\"} 1\n"
			 "x_total{colour=\"green\"} 2.5\n"
			 "# HELP depth Queue depth\n"
			 "# TYPE depth gauge\n"
			 "depth -3\n");
	ck_assert_ptr_eq(ft_metrics_find(m, "depth"), g);
	ck_assert_ptr_null(ft_metrics_find(m, "nope"));
	ft_metrics_free(m);
}
END_TEST

START_TEST(test_other_series)
{
	static const char *const v[] = { "ok", "other", NULL };
	struct ft_metrics *m = ft_metrics_new();
	struct ft_metric *c = ft_metrics_counter(m, "r_total", "h", "verdict", v);
	ft_metric_inc(c, "ok");
	ft_metric_inc(c, "weird");
	ft_metric_inc(c, "stranger");
	ck_assert(ft_metric_get(c, "ok") == 1);
	ck_assert(ft_metric_get(c, "other") == 2);
	ck_assert(ft_metric_get(c, "weird") == 2); /* reads the series it went to */
	ft_metrics_free(m);
}
END_TEST

START_TEST(test_histogram_text)
{
	static const double bounds[] = { 0.1, 1, 10 };
	struct ft_metrics *m = ft_metrics_new();
	struct ft_metric *h =
		ft_metrics_histogram(m, "lat_seconds", "Latency", NULL, NULL, bounds, 3);
	ck_assert_ptr_nonnull(h);
	ft_metric_observe(h, NULL, 0.05);
	ft_metric_observe(h, NULL, 1); /* le is inclusive */
	ft_metric_observe(h, NULL, 5);
	ft_metric_observe(h, NULL, 100);
	ft_metric_observe(h, NULL, NAN); /* ignored */
	ft_metric_inc(h, NULL);		 /* not a counter: ignored */
	ck_assert(ft_metric_get(h, NULL) == 4);
	assert_render(m, "# HELP lat_seconds Latency\n"
			 "# TYPE lat_seconds histogram\n"
			 "lat_seconds_bucket{le=\"0.1\"} 1\n"
			 "lat_seconds_bucket{le=\"1\"} 2\n"
			 "lat_seconds_bucket{le=\"10\"} 3\n"
			 "lat_seconds_bucket{le=\"+Inf\"} 4\n"
			 "lat_seconds_sum 106.05\n"
			 "lat_seconds_count 4\n");
	ft_metrics_free(m);
}
END_TEST

START_TEST(test_labelled_histogram)
{
	static const double bounds[] = { 1 };
	struct ft_metrics *m = ft_metrics_new();
	struct ft_metric *h = ft_metrics_histogram(m, "h", "x", "colour", colours, bounds, 1);
	ft_metric_observe(h, "green", 2);
	assert_render(m, "# HELP h x\n"
			 "# TYPE h histogram\n"
			 "h_bucket{colour=\"red\",le=\"1\"} 0\n"
			 "h_bucket{colour=\"red\",le=\"+Inf\"} 0\n"
			 "h_sum{colour=\"red\"} 0\n"
			 "h_count{colour=\"red\"} 0\n"
			 "h_bucket{colour=\"green\",le=\"1\"} 0\n"
			 "h_bucket{colour=\"green\",le=\"+Inf\"} 1\n"
			 "h_sum{colour=\"green\"} 2\n"
			 "h_count{colour=\"green\"} 1\n");
	ft_metrics_free(m);
}
END_TEST

START_TEST(test_invalid_registrations)
{
	static const char *const dup[] = { "a", "b", "a", NULL };
	static const char *const empty[] = { NULL };
	static const double bad_bounds[] = { 1, 1 };
	static const double inf_bounds[] = { 1, INFINITY };
	static const double ok_bounds[] = { 1 };
	struct ft_metrics *m = ft_metrics_new();
	ck_assert_ptr_nonnull(ft_metrics_counter(m, "a:b_c9", "", NULL, NULL));
	ck_assert_ptr_null(ft_metrics_counter(m, "a:b_c9", "", NULL, NULL)); /* duplicate */
	ck_assert_ptr_null(ft_metrics_gauge(m, "9lives", "", NULL, NULL));
	ck_assert_ptr_null(ft_metrics_gauge(m, "has-dash", "", NULL, NULL));
	ck_assert_ptr_null(ft_metrics_gauge(m, "", "", NULL, NULL));
	ck_assert_ptr_null(ft_metrics_gauge(m, NULL, "", NULL, NULL));
	ck_assert_ptr_null(ft_metrics_gauge(m, "g1", "", "le", colours));
	ck_assert_ptr_null(ft_metrics_gauge(m, "g2", "", "__x", colours));
	ck_assert_ptr_null(ft_metrics_gauge(m, "g3", "", "a:b", colours));
	ck_assert_ptr_null(ft_metrics_gauge(m, "g4", "", "x", dup));
	ck_assert_ptr_null(ft_metrics_gauge(m, "g5", "", "x", empty));
	ck_assert_ptr_null(ft_metrics_gauge(m, "g6", "", "x", NULL));
	ck_assert_ptr_null(ft_metrics_histogram(m, "h1", "", NULL, NULL, bad_bounds, 2));
	ck_assert_ptr_null(ft_metrics_histogram(m, "h2", "", NULL, NULL, inf_bounds, 2));
	ck_assert_ptr_null(ft_metrics_histogram(m, "h3", "", NULL, NULL, ok_bounds, 0));
	ck_assert_ptr_null(ft_metrics_histogram(m, "h4", "", NULL, NULL, NULL, 1));
	ck_assert_ptr_null(ft_metrics_gauge_func(m, "f", "", NULL, NULL));
	/* Updates on NULL are harmless. */
	ft_metric_inc(NULL, NULL);
	ft_metric_set(NULL, "x", 1);
	ft_metric_observe(NULL, NULL, 1);
	ck_assert(isnan(ft_metric_get(NULL, NULL)));
	/* Only the one valid family is rendered. */
	assert_render(m, "# HELP a:b_c9 \n# TYPE a:b_c9 counter\na:b_c9 0\n");
	ft_metrics_free(m);
}
END_TEST

START_TEST(test_escaping)
{
	static const char *const odd[] = { "a\"b", "c\\d", "e\nf", NULL };
	struct ft_metrics *m = ft_metrics_new();
	struct ft_metric *g = ft_metrics_gauge(m, "e", "back\\slash\nnew \"line\"", "v", odd);
	ft_metric_set(g, "e\nf", 1);
	assert_render(m, "# HELP e back\\\\slash\\nnew \"line\"\n"
			 "# TYPE e gauge\n"
			 "e{v=\"a\\\"b\"} 0\n"
			 "e{v=\"c\\\\d\"} 0\n"
			 "e{v=\"e\\nf\"} 1\n");
	ft_metrics_free(m);
}
END_TEST

START_TEST(test_numbers)
{
	static const char *const v[] = { "a", "b", "c", "d", "e", "f", "g", "h", NULL };
	struct ft_metrics *m = ft_metrics_new();
	struct ft_metric *g = ft_metrics_gauge(m, "n", "", "k", v);
	ft_metric_set(g, "a", 0.1);
	ft_metric_set(g, "b", 1e-9);
	ft_metric_set(g, "c", 1e300);
	ft_metric_set(g, "d", NAN);
	ft_metric_set(g, "e", INFINITY);
	ft_metric_set(g, "f", -INFINITY);
	ft_metric_set(g, "g", 1795638031025000.0);
	ft_metric_set(g, "h", 1.0 / 3);
	assert_render(m, "# HELP n \n# TYPE n gauge\n"
			 "n{k=\"a\"} 0.1\n"
			 "n{k=\"b\"} 1e-09\n"
			 "n{k=\"c\"} 1e+300\n"
			 "n{k=\"d\"} NaN\n"
			 "n{k=\"e\"} +Inf\n"
			 "n{k=\"f\"} -Inf\n"
			 "n{k=\"g\"} 1795638031025000\n"
			 "n{k=\"h\"} 0.3333333333333333\n");
	ft_metrics_free(m);
}
END_TEST

static double sample(void *ud)
{
	return (double)++*(int *)ud;
}

static void collect(struct ft_metrics *m, void *ud)
{
	ft_metric_set(ft_metrics_find(m, "mirrored_total"), NULL, *(int *)ud * 10.0);
}

START_TEST(test_gauge_func_and_collector)
{
	int calls = 0, mirror = 4;
	struct ft_metrics *m = ft_metrics_new();
	struct ft_metric *f = ft_metrics_gauge_func(m, "sampled", "s", sample, &calls);
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(ft_metrics_counter(m, "mirrored_total", "m", NULL, NULL));
	ft_metrics_on_collect(m, collect, &mirror);
	ft_metric_set(f, NULL, 99); /* a sampled gauge is not set by hand */
	assert_render(m, "# HELP sampled s\n# TYPE sampled gauge\nsampled 1\n"
			 "# HELP mirrored_total m\n# TYPE mirrored_total counter\n"
			 "mirrored_total 40\n");
	ck_assert(ft_metric_get(f, NULL) == 2);
	ft_metrics_free(m);
}
END_TEST

/* ---- the standard metrics and the event ring (process-wide state) ---- */

static struct json_object *events(uint64_t since)
{
	return ft_metrics_events_json(since);
}

static size_t n_events(struct json_object *o)
{
	struct json_object *a;
	ck_assert(json_object_object_get_ex(o, "events", &a));
	return json_object_array_length(a);
}

static const char *ev_field(struct json_object *o, size_t i, const char *key)
{
	struct json_object *a, *e, *v;
	json_object_object_get_ex(o, "events", &a);
	e = json_object_array_get_idx(a, i);
	if (!json_object_object_get_ex(e, key, &v) || !v)
		return "null";
	return json_object_get_string(v);
}

static int64_t get_int(struct json_object *o, const char *key)
{
	struct json_object *v;
	ck_assert(json_object_object_get_ex(o, key, &v));
	return json_object_get_int64(v);
}

START_TEST(test_standard_metrics_and_events)
{
	ft_metrics_init("ftnode", 3, NULL);
	struct ft_metrics *g = ft_metrics_global();
	ck_assert(ft_metric_get(ft_metrics_find(g, "ftcluster_member_id"), NULL) == 3);
	ck_assert(ft_metric_get(ft_metrics_find(g, "ftcluster_leader"), NULL) == -1);

	struct ft_member_event_info ev = {
		.type = FT_EV_JOINED,
		.peer = 2,
		.src = 1,
		.incarnation = 77,
	};
	ft_metrics_on_member_event(NULL, &ev);
	ev.type = FT_EV_UPDATED;
	ft_metrics_on_member_event(NULL, &ev); /* counted, not an event */
	ev.type = FT_EV_FAILED;
	ft_metrics_on_member_event(NULL, &ev);
	ft_metrics_election(3, 40);
	ft_metrics_election(3, 40); /* no change */
	ft_metrics_election(-1, 40);
	ft_metrics_election(2, 45);

	struct ft_metric *me = ft_metrics_find(g, "ftcluster_member_events_total");
	ck_assert(ft_metric_get(me, "joined") == 1);
	ck_assert(ft_metric_get(me, "updated") == 1);
	ck_assert(ft_metric_get(me, "failed") == 1);
	ck_assert(ft_metric_get(ft_metrics_find(g, "ftcluster_leader_changes_total"), NULL) == 2);
	ck_assert(ft_metric_get(ft_metrics_find(g, "ftnode_leaderships_total"), NULL) == 1);
	ck_assert(ft_metric_get(ft_metrics_find(g, "ftcluster_leader"), NULL) == 2);
	ck_assert(ft_metric_get(ft_metrics_find(g, "ftcluster_epoch"), NULL) == 45);

	struct json_object *o = events(0);
	ck_assert_uint_eq(n_events(o), 5);
	ck_assert_str_eq(ev_field(o, 0, "type"), "member_joined");
	ck_assert_str_eq(ev_field(o, 0, "node"), "2");
	ck_assert_str_eq(ev_field(o, 0, "source"), "1");
	ck_assert_str_eq(ev_field(o, 0, "incarnation"), "77");
	ck_assert_str_eq(ev_field(o, 1, "type"), "member_failed");
	ck_assert_str_eq(ev_field(o, 2, "type"), "leader_elected");
	ck_assert_str_eq(ev_field(o, 2, "leader"), "3");
	ck_assert_str_eq(ev_field(o, 2, "epoch"), "40");
	ck_assert_str_eq(ev_field(o, 3, "type"), "leader_lost");
	ck_assert_str_eq(ev_field(o, 3, "node"), "3");
	ck_assert_str_eq(ev_field(o, 3, "leader"), "null");
	ck_assert_str_eq(ev_field(o, 4, "type"), "leader_elected");
	ck_assert_int_eq(get_int(o, "next"), 5);
	json_object_put(o);

	o = events(3);
	ck_assert_uint_eq(n_events(o), 2);
	ck_assert_str_eq(ev_field(o, 0, "seq"), "4");
	json_object_put(o);
	o = events(5);
	ck_assert_uint_eq(n_events(o), 0);
	ck_assert_int_eq(get_int(o, "next"), 5);
	json_object_put(o);

	/* Node runs. */
	ft_metrics_run_done("ok", 1500);
	ft_metrics_run_done("bogus", 20);
	ft_metrics_assigned();
	ft_metrics_reassigned(3);
	ck_assert(ft_metric_get(ft_metrics_find(g, "ftnode_runs_total"), "ok") == 1);
	ck_assert(ft_metric_get(ft_metrics_find(g, "ftnode_runs_total"), "other") == 1);
	ck_assert(ft_metric_get(ft_metrics_find(g, "ftnode_run_duration_seconds"), NULL) == 2);
	ck_assert(ft_metric_get(ft_metrics_find(g, "ftnode_assignments_total"), NULL) == 1);
	ck_assert(ft_metric_get(ft_metrics_find(g, "ftnode_reassignments_total"), NULL) == 3);

	char *text = render(g);
	ck_assert_ptr_nonnull(strstr(text, "\nftnode_runs_total{verdict=\"ok\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nftnode_run_duration_seconds_bucket{le=\"2.5\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nftnode_run_duration_seconds_sum 1.52\n"));
	free(text);
	ft_metrics_shutdown();
}
END_TEST

START_TEST(test_event_ring_wraps)
{
	ft_metrics_init("ftgw", 0, NULL);
	ck_assert_ptr_null(ft_metrics_find(ft_metrics_global(), "ftnode_runs_total"));
	struct ft_member_event_info ev = { .type = FT_EV_FAILED, .peer = 1, .src = 0 };
	for (int i = 0; i < 600; i++) {
		ev.incarnation = (uint64_t)i + 1;
		ft_metrics_on_member_event(NULL, &ev);
	}
	struct json_object *o = events(0);
	ck_assert_uint_eq(n_events(o), 512);
	ck_assert_str_eq(ev_field(o, 0, "seq"), "89");
	ck_assert_str_eq(ev_field(o, 511, "seq"), "600");
	struct json_object *d;
	json_object_object_get_ex(o, "dropped", &d);
	ck_assert(json_object_get_boolean(d));
	json_object_put(o);
	o = events(100);
	ck_assert_uint_eq(n_events(o), 500);
	json_object_object_get_ex(o, "dropped", &d);
	ck_assert(!json_object_get_boolean(d));
	json_object_put(o);
	ft_metrics_shutdown();
}
END_TEST

/* The families of the standard set, in the order /metrics lists them
 * (registration order: gossip's, then leadership, then the node's). */
static char *family_order(void)
{
	char *text = render(ft_metrics_global()), *out = calloc(1, strlen(text) + 1);
	for (char *p = text; (p = strstr(p, "# TYPE ")); p++) {
		p += strlen("# TYPE ");
		size_t n = strcspn(p, " ");
		strncat(out, p, n);
		strcat(out, " ");
	}
	free(text);
	return out;
}

START_TEST(test_standard_family_order)
{
	ft_metrics_init("ftnode", 3, NULL);
	char *order = family_order();
	ck_assert_str_eq(
		order,
		"ftcluster_member_id ftcluster_gossip_messages_total "
		"ftcluster_gossip_rejected_total ftcluster_gossip_entries_ignored_total "
		"ftcluster_members ftcluster_member_events_total ftcluster_leader "
		"ftcluster_epoch ftcluster_leader_changes_total ftcluster_handshakes_failed_total "
		"ftnode_leaderships_total ftnode_runs_total "
		"ftnode_run_duration_seconds ftnode_assignments_total "
		"ftnode_reassignments_total ftnode_requests_shed_total ");
	free(order);
	/* Again: nothing registered twice. */
	ft_metrics_init("ftnode", 3, NULL);
	order = family_order();
	ck_assert_ptr_nonnull(strstr(order, "ftnode_reassignments_total "));
	ck_assert_ptr_null(strstr(strstr(order, "ftcluster_leader ") + 1, "ftcluster_leader "));
	free(order);
	ft_metrics_shutdown();

	ft_metrics_init("ftgw", 0, NULL);
	order = family_order();
	ck_assert_str_eq(
		order,
		"ftcluster_member_id ftcluster_gossip_messages_total "
		"ftcluster_gossip_rejected_total ftcluster_gossip_entries_ignored_total "
		"ftcluster_members ftcluster_member_events_total ftcluster_leader "
		"ftcluster_epoch ftcluster_leader_changes_total ftcluster_handshakes_failed_total ");
	free(order);
	ft_metrics_shutdown();
}
END_TEST

static int forgotten;

static void forget(void)
{
	forgotten++;
}

START_TEST(test_shutdown_forgets)
{
	/* Events before init are kept, and dropped at shutdown like the rest. */
	ft_metrics_election(2, 9);
	struct json_object *o = events(0);
	ck_assert_uint_eq(n_events(o), 1);
	json_object_put(o);
	ft_metrics_init("ftnode", 1, NULL);
	ft_metrics_on_shutdown(forget);
	ft_metrics_on_shutdown(forget); /* once is enough */
	ft_metrics_shutdown();
	ck_assert_int_eq(forgotten, 1);
	ft_metrics_shutdown(); /* hooks are called by the shutdown they were set for */
	ck_assert_int_eq(forgotten, 1);
	o = events(0);
	ck_assert_uint_eq(n_events(o), 0);
	ck_assert_int_eq(get_int(o, "next"), 0);
	json_object_put(o);
	/* The hooks after shutdown find no families: no-ops, no crash. */
	struct ft_member_event_info ev = { .type = FT_EV_JOINED, .peer = 2, .src = 1 };
	ft_metrics_on_member_event(NULL, &ev);
	ft_metrics_run_done("ok", 10);
	ft_metrics_assigned();
	ft_metrics_reassigned(2);
	o = events(0);
	ck_assert_uint_eq(n_events(o), 1);
	json_object_put(o);
	ck_assert_ptr_null(ft_metrics_find(ft_metrics_global(), "ftcluster_member_events_total"));
	ft_metrics_shutdown();
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("registry");
	tcase_add_test(tc, test_counter_and_gauge_text);
	tcase_add_test(tc, test_other_series);
	tcase_add_test(tc, test_histogram_text);
	tcase_add_test(tc, test_labelled_histogram);
	tcase_add_test(tc, test_invalid_registrations);
	tcase_add_test(tc, test_escaping);
	tcase_add_test(tc, test_numbers);
	tcase_add_test(tc, test_gauge_func_and_collector);
	suite_add_tcase(s, tc);
	tc = tcase_create("standard");
	tcase_add_test(tc, test_standard_metrics_and_events);
	tcase_add_test(tc, test_event_ring_wraps);
	tcase_add_test(tc, test_standard_family_order);
	tcase_add_test(tc, test_shutdown_forgets);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(metrics_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
