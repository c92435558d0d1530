/* Unit tests for the ring of recent cluster events (lib/events.c): sequence
 * numbers, "since", wrapping and the JSON shape, with times given. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/events.h"

static struct ft_event_ring ring;

static void setup(void)
{
	memset(&ring, 0, sizeof(ring));
}

static struct ft_event ev(const char *type, int node, int64_t time_ms)
{
	return (struct ft_event){
		.type = type, .node = node, .src = -1, .leader = -1, .time_ms = time_ms
	};
}

static const char *json_of(uint64_t since)
{
	static char text[4096];
	struct json_object *o = ft_event_ring_json(&ring, since);
	snprintf(text, sizeof(text), "%s",
		 json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return text;
}

START_TEST(test_empty_ring)
{
	ck_assert_str_eq(json_of(0), "{\"next\":0,\"dropped\":false,\"events\":[]}");
	/* A client ahead of us (the daemon restarted) keeps its since. */
	ck_assert_str_eq(json_of(7), "{\"next\":7,\"dropped\":false,\"events\":[]}");
}
END_TEST

START_TEST(test_fields_and_nulls)
{
	struct ft_event e = ev("member_joined", 2, 1700000000001);
	e.src = 1;
	e.incarnation = 77;
	ft_event_ring_push(&ring, e);
	e = ev("leader_elected", 3, 1700000000002);
	e.leader = 3;
	e.epoch = 40;
	ft_event_ring_push(&ring, e);
	ft_event_ring_push(&ring, ev("leader_lost", -1, 1700000000003));
	ck_assert_uint_eq(ring.pushed, 3);
	ck_assert_str_eq(json_of(0),
			 "{\"next\":3,\"dropped\":false,\"events\":["
			 "{\"seq\":1,\"time_ms\":1700000000001,\"type\":\"member_joined\","
			 "\"node\":2,\"source\":1,\"incarnation\":77,\"leader\":null,"
			 "\"epoch\":null},"
			 "{\"seq\":2,\"time_ms\":1700000000002,\"type\":\"leader_elected\","
			 "\"node\":3,\"source\":null,\"incarnation\":null,\"leader\":3,"
			 "\"epoch\":40},"
			 "{\"seq\":3,\"time_ms\":1700000000003,\"type\":\"leader_lost\","
			 "\"node\":null,\"source\":null,\"incarnation\":null,\"leader\":null,"
			 "\"epoch\":null}]}");
}
END_TEST

START_TEST(test_since)
{
	for (int i = 0; i < 5; i++)
		ft_event_ring_push(&ring, ev("member_failed", i, i));
	struct json_object *o = ft_event_ring_json(&ring, 3), *a, *n;
	ck_assert(json_object_object_get_ex(o, "events", &a));
	ck_assert_uint_eq(json_object_array_length(a), 2);
	ck_assert_int_eq(
		json_object_get_int(json_object_object_get(json_object_array_get_idx(a, 0), "seq")),
		4);
	ck_assert(json_object_object_get_ex(o, "next", &n));
	ck_assert_int_eq(json_object_get_int(n), 5);
	json_object_put(o);
	ck_assert_str_eq(json_of(5), "{\"next\":5,\"dropped\":false,\"events\":[]}");
}
END_TEST

START_TEST(test_wraps_and_tells_dropped)
{
	for (int i = 1; i <= FT_EVENT_RING_SIZE + 10; i++)
		ft_event_ring_push(&ring, ev("member_failed", 1, i));
	struct json_object *o = ft_event_ring_json(&ring, 0), *a, *d;
	json_object_object_get_ex(o, "events", &a);
	ck_assert_uint_eq(json_object_array_length(a), FT_EVENT_RING_SIZE);
	/* The oldest kept is seq 11: 1..10 were overwritten. */
	ck_assert_int_eq(
		json_object_get_int(json_object_object_get(json_object_array_get_idx(a, 0), "seq")),
		11);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(json_object_array_get_idx(a, 0),
								    "time_ms")),
			 11);
	json_object_object_get_ex(o, "dropped", &d);
	ck_assert(json_object_get_boolean(d));
	json_object_put(o);
	/* Since 10: nothing was lost. */
	o = ft_event_ring_json(&ring, 10);
	json_object_object_get_ex(o, "events", &a);
	ck_assert_uint_eq(json_object_array_length(a), FT_EVENT_RING_SIZE);
	json_object_object_get_ex(o, "dropped", &d);
	ck_assert(!json_object_get_boolean(d));
	json_object_put(o);
	o = ft_event_ring_json(&ring, 9);
	json_object_object_get_ex(o, "dropped", &d);
	ck_assert(json_object_get_boolean(d));
	json_object_put(o);
}
END_TEST

static Suite *events_suite(void)
{
	Suite *s = suite_create("events");
	TCase *tc = tcase_create("ring");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_empty_ring);
	tcase_add_test(tc, test_fields_and_nulls);
	tcase_add_test(tc, test_since);
	tcase_add_test(tc, test_wraps_and_tells_dropped);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(events_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
