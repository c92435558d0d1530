/* Unit tests of reload: the key-by-key comparison of two configurations
 * (conf/confdiff.h), what of it is applied to the running one, and the
 * reload itself with its listeners (conf/reload.h), on files in /tmp. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/confdiff.h"
#include "conf/reload.h"
#include "conf/settings.h"

#define NODE1 "  - { id: 1, gossip: 127.0.0.1:7001, work: 127.0.0.1:7101, http: 127.0.0.1:7201 }\n"
#define NODE2 "  - { id: 2, gossip: 127.0.0.1:7002, work: 127.0.0.1:7102, http: 127.0.0.1:7202 }\n"
#define NODES "nodes:\n" NODE1

static struct ft_config cur, next, before;
static struct ft_config_changes ch;

static void parse_into(struct ft_config *c, const char *yaml)
{
	char err[512];
	int rc = ft_config_parse("t.yaml", yaml, strlen(yaml), c, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s", err);
}

static enum ft_config_change change_of(const char *label)
{
	return ch.setting[ft_config_setting_index(label)];
}

static const char *pending(void)
{
	static char buf[2048];
	ft_config_changes_pending(&ch, buf, sizeof(buf));
	return buf;
}

/* ---- the comparison ---- */

START_TEST(same_file_changes_nothing)
{
	parse_into(&cur, NODES "limits:\n  run_wall_ms: 5000\n");
	parse_into(&next, NODES "limits:\n  run_wall_ms: 5000\n");
	ft_config_diff(&cur, &next, &ch);
	ck_assert_uint_eq(ch.applied, 0);
	ck_assert_uint_eq(ch.restart, 0);
	ck_assert(!ch.nodes);
	for (size_t i = 0; i < FT_CONFIG_N_SETTINGS; i++)
		ck_assert_int_eq(ch.setting[i], FT_CHANGE_NONE);
	ck_assert_str_eq(pending(), "");
	ck_assert(!ft_config_changes_applied_in(&ch, "limits"));
	/* Written differently, the same values: no change either. */
	parse_into(&next, "limits: { run_wall_ms: 5000, worker_slots: 2 }\n"
			  "nodes:\n  - id: 1\n    gossip: 127.0.0.1:7001\n"
			  "    work: 127.0.0.1:7101\n    http: 127.0.0.1:7201\n");
	ft_config_diff(&cur, &next, &ch);
	ck_assert_uint_eq(ch.applied + ch.restart, 0);
}
END_TEST

/* Changes the field of S in *c to another value of its kind. */
static void alter(const struct ft_setting *s, struct ft_config *c)
{
	char *field = (char *)c + s->offset;

	switch (s->kind) {
	case FT_SETTING_INT: {
		int *v = (int *)(void *)field;
		*v = *v < s->max ? *v + 1 : *v - 1;
		break;
	}
	case FT_SETTING_SIZE: {
		size_t *v = (size_t *)(void *)field;
		*v = (long long)*v < s->max ? *v + 1 : *v - 1;
		break;
	}
	case FT_SETTING_ADDR:
		ck_assert_int_eq(ft_addr_parse("10.9.9.9:9", (struct ft_addr *)(void *)field), 0);
		break;
	case FT_SETTING_NAME:
		strcpy(field, "another");
		break;
	case FT_SETTING_ZK_CONNECT:
		strcpy(field, "10.9.9.9:2181");
		break;
	default:
		strcpy(field, "/x");
		break;
	}
}

/* Each key on its own: seen as changed, and classed as its row says. */
START_TEST(every_key_is_compared)
{
	char label[80];

	parse_into(&cur, NODES);
	for (size_t i = 0; i < FT_CONFIG_N_SETTINGS; i++) {
		const struct ft_setting *s = &ft_config_settings[i];
		bool live = s->reload == FT_RELOAD_LIVE;

		ft_setting_label(s, label, sizeof(label));
		memcpy(&next, &cur, sizeof(next));
		alter(s, &next);
		ft_config_diff(&cur, &next, &ch);
		for (size_t j = 0; j < FT_CONFIG_N_SETTINGS; j++)
			ck_assert_msg(ch.setting[j] == (j != i ? FT_CHANGE_NONE
							: live ? FT_CHANGE_APPLIED
							       : FT_CHANGE_RESTART),
				      "changing %s: setting %zu is %d", label, j, ch.setting[j]);
		ck_assert_uint_eq(ch.applied, live ? 1 : 0);
		ck_assert_uint_eq(ch.restart, live ? 0 : 1);
		ck_assert(!ch.nodes);
		ck_assert_str_eq(pending(), live ? "" : label);
	}
}
END_TEST

START_TEST(nodes_are_compared_as_written)
{
	parse_into(&cur, NODES);
	parse_into(&next, "nodes:\n" NODE1 NODE2);
	ft_config_diff(&cur, &next, &ch);
	ck_assert(ch.nodes);
	ck_assert_uint_eq(ch.restart, 1);
	ck_assert_str_eq(pending(), "nodes");
	parse_into(&next, "nodes:\n  - { id: 1, gossip: localhost:7001, work: 127.0.0.1:7101, "
			  "http: 127.0.0.1:7201 }\n");
	ft_config_diff(&cur, &next, &ch);
	ck_assert(ch.nodes);
	parse_into(&next, "cluster: x\n\n\n" NODES);
	ft_config_diff(&cur, &next, &ch);
	ck_assert_msg(!ch.nodes, "a node that moved down the file is the same node");
	ck_assert_str_eq(pending(), "cluster");
}
END_TEST

START_TEST(live_and_restart_keys_together)
{
	parse_into(&cur, NODES);
	parse_into(&next, "limits:\n  run_wall_ms: 500\n  cache_bytes: 1000\n"
			  "  compile_wall_ms: 9000\n"
			  "sandbox:\n  memory: rlimit\n  bwrap: /opt/bwrap\n"
			  "paths:\n  run_dir: /tmp/run\n"
			  "logging:\n  level: debug\n"
			  "nodes:\n" NODE1 NODE2);
	ft_config_diff(&cur, &next, &ch);
	ck_assert_int_eq(change_of("limits.run_wall_ms"), FT_CHANGE_APPLIED);
	ck_assert_int_eq(change_of("limits.compile_wall_ms"), FT_CHANGE_APPLIED);
	ck_assert_int_eq(change_of("logging.level"), FT_CHANGE_APPLIED);
	ck_assert_int_eq(change_of("limits.cache_bytes"), FT_CHANGE_RESTART);
	ck_assert_int_eq(change_of("sandbox.memory"), FT_CHANGE_RESTART);
	ck_assert_int_eq(change_of("sandbox.bwrap"), FT_CHANGE_RESTART);
	ck_assert_int_eq(change_of("paths.run_dir"), FT_CHANGE_RESTART);
	ck_assert_int_eq(change_of("limits.worker_slots"), FT_CHANGE_NONE);
	ck_assert_uint_eq(ch.applied, 3);
	ck_assert_uint_eq(ch.restart, 5);
	ck_assert_str_eq(pending(), "limits.cache_bytes, sandbox.bwrap, sandbox.memory, "
				    "paths.run_dir, nodes");
	ck_assert(ft_config_changes_applied_in(&ch, "limits"));
	ck_assert(ft_config_changes_applied_in(&ch, "logging"));
	ck_assert(!ft_config_changes_applied_in(&ch, "sandbox"));
	ck_assert(!ft_config_changes_applied_in(&ch, "paths"));
}
END_TEST

/* ---- applying ---- */

START_TEST(apply_takes_only_the_live_values)
{
	parse_into(&cur, NODES);
	strcpy(cur.path, "/etc/ftcluster/ftcluster.yaml");
	parse_into(&next, "cluster: other\n"
			  "limits:\n  run_wall_ms: 500\n  cache_bytes: 1000\n"
			  "  max_body_bytes: 2048\n  request_timeout_ms: 7000\n"
			  "sandbox:\n  memory: rlimit\n"
			  "paths:\n  java: /opt/java\n"
			  "logging:\n  rejected_per_second: 0\n"
			  "nodes:\n" NODE1 NODE2);
	ft_config_apply(&cur, &next, &ch);
	/* Applied. */
	ck_assert_int_eq(cur.limits.run_wall_ms, 500);
	ck_assert_int_eq(cur.limits.request_timeout_ms, 7000);
	ck_assert_int_eq(cur.log_rejected_per_second, 0);
	/* Kept until a restart: the running values. */
	ck_assert_str_eq(cur.cluster, "ftcluster");
	ck_assert_uint_eq(cur.limits.cache_bytes, 67108864);
	ck_assert_uint_eq(cur.limits.max_body_bytes, 1048576);
	ck_assert_str_eq(cur.sandbox.memory, "auto");
	ck_assert_str_eq(cur.java, "/usr/bin/java");
	ck_assert_uint_eq(cur.n_nodes, 1);
	ck_assert_str_eq(cur.path, "/etc/ftcluster/ftcluster.yaml");
	ck_assert_uint_eq(ch.applied, 3);
	ck_assert_uint_eq(ch.restart, 6);
	ck_assert_str_eq(pending(), "cluster, limits.max_body_bytes, limits.cache_bytes, "
				    "sandbox.memory, paths.java, nodes");
	/* The same file again: what was applied is now running, what was
	 * not still waits. */
	ft_config_apply(&cur, &next, &ch);
	ck_assert_uint_eq(ch.applied, 0);
	ck_assert_uint_eq(ch.restart, 6);
}
END_TEST

/* A live value must not break a rule against a value that stays until a
 * restart: then it waits too. */
START_TEST(apply_holds_back_what_breaks_a_rule)
{
	char msg[512];

	/* More slots than the running uid range holds. */
	parse_into(&cur, NODES);
	parse_into(&next, NODES "limits:\n  worker_slots: 100\n  run_wall_ms: 500\n"
				"sandbox:\n  uid_count: 200\n");
	ft_config_apply(&cur, &next, &ch);
	ck_assert_int_eq(cur.limits.worker_slots, 2);
	ck_assert_int_eq(cur.sandbox.uid_count, 64);
	ck_assert_int_eq(cur.limits.run_wall_ms, 500);
	ck_assert_int_eq(change_of("limits.worker_slots"), FT_CHANGE_RESTART);
	ck_assert_int_eq(change_of("limits.run_wall_ms"), FT_CHANGE_APPLIED);
	ck_assert_uint_eq(ch.applied, 1);
	ck_assert_uint_eq(ch.restart, 2);
	ck_assert_str_eq(pending(), "limits.worker_slots, sandbox.uid_count");
	ck_assert_ptr_null(ft_config_broken_rule(&cur, msg, sizeof(msg)));

	/* Within the running range: applied. */
	parse_into(&next, NODES "limits:\n  worker_slots: 62\n");
	ft_config_apply(&cur, &next, &ch);
	ck_assert_int_eq(cur.limits.worker_slots, 62);
	ck_assert_int_eq(change_of("limits.worker_slots"), FT_CHANGE_APPLIED);

	/* Larger output than the running frames carry. */
	parse_into(&cur, NODES);
	parse_into(&next, NODES "limits:\n  max_output_bytes: 2097152\n"
				"  max_frame_bytes: 6356992\n");
	ft_config_apply(&cur, &next, &ch);
	ck_assert_uint_eq(cur.limits.max_output_bytes, 1048576);
	ck_assert_uint_eq(cur.limits.max_frame_bytes, 4194304);
	ck_assert_str_eq(pending(), "limits.max_frame_bytes, limits.max_output_bytes");
	ck_assert_uint_eq(ch.applied, 0);

	/* Smaller output always fits. */
	parse_into(&next, NODES "limits:\n  max_output_bytes: 1000\n");
	ft_config_apply(&cur, &next, &ch);
	ck_assert_uint_eq(cur.limits.max_output_bytes, 1000);
	ck_assert_str_eq(pending(), "");
}
END_TEST

START_TEST(pending_fits_any_buffer)
{
	char small[12];

	parse_into(&cur, NODES);
	parse_into(&next, "cluster: other\nzookeeper: { session_timeout_ms: 4000 }\n"
			  "nodes:\n" NODE1 NODE2);
	ft_config_diff(&cur, &next, &ch);
	memset(small, 'z', sizeof(small));
	ft_config_changes_pending(&ch, small, 8);
	ck_assert_str_eq(small, "cluster");
	ck_assert_int_eq(small[8], 'z');
	ft_config_changes_pending(&ch, small, 10);
	ck_assert_str_eq(small, "cluster, ");
	ft_config_changes_pending(&ch, small, 0);
	ck_assert_int_eq(small[0], 'c');
	ck_assert_str_eq(pending(), "cluster, zookeeper.session_timeout_ms, nodes");
}
END_TEST

/* ---- reload from the file ---- */

static char path[64];

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

static void make_file(void)
{
	char err[512];
	int fd;

	snprintf(path, sizeof(path), "/tmp/check_reload.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	write_file(NODES "limits:\n  run_wall_ms: 5000\n");
	ck_assert_msg(ft_config_load(path, &cur, err, sizeof(err)) == 0, "%s", err);
}

static void drop_file(void)
{
	unlink(path);
}

START_TEST(reload_applies_and_names_the_rest)
{
	char note[512];

	write_file(NODES "limits:\n  run_wall_ms: 500\n  cache_entries: 5\n");
	ck_assert_int_eq(ft_config_reload(&cur, &ch, note, sizeof(note)), 0);
	ck_assert_int_eq(cur.limits.run_wall_ms, 500);
	ck_assert_int_eq(cur.limits.cache_entries, 1024);
	ck_assert_str_eq(note, "limits.cache_entries");
	ck_assert_str_eq(cur.path, path);
	ck_assert_uint_eq(ch.applied, 1);

	write_file(NODES "limits:\n  run_wall_ms: 400\n");
	ck_assert_int_eq(ft_config_reload(&cur, &ch, note, sizeof(note)), 0);
	ck_assert_int_eq(cur.limits.run_wall_ms, 400);
	ck_assert_str_eq(note, "");
}
END_TEST

START_TEST(refused_file_keeps_the_running_configuration)
{
	char note[512], expected[600];

	memcpy(&before, &cur, sizeof(before));
	write_file(NODES "limits:\n  run_wall_ms: 0\n");
	ck_assert_int_eq(ft_config_reload(&cur, &ch, note, sizeof(note)), -1);
	snprintf(expected, sizeof(expected),
		 "%s:4:16: limits.run_wall_ms must be an integer in 1..86400000, got '0'", path);
	ck_assert_str_eq(note, expected);
	ck_assert_int_eq(memcmp(&cur, &before, sizeof(cur)), 0);
	unlink(path);
	ck_assert_int_eq(ft_config_reload(&cur, &ch, note, sizeof(note)), -1);
	ck_assert_ptr_nonnull(strstr(note, "cannot open"));
	ck_assert_int_eq(memcmp(&cur, &before, sizeof(cur)), 0);
}
END_TEST

struct heard {
	int calls;
	int run_wall_ms; /* as the listener saw it */
	bool limits_applied;
	size_t restart;
};

static void listener(void *ud, const struct ft_config *cfg, const struct ft_config_changes *c)
{
	struct heard *h = ud;
	h->calls++;
	h->run_wall_ms = cfg->limits.run_wall_ms;
	h->limits_applied = ft_config_changes_applied_in(c, "limits");
	h->restart = c->restart;
}

START_TEST(listeners_hear_every_accepted_reload)
{
	struct heard a = { 0 }, b = { 0 };

	ck_assert_int_eq(ft_conf_on_reload(listener, &a), 0);
	ck_assert_int_eq(ft_conf_on_reload(listener, &b), 0);
	write_file(NODES "limits:\n  run_wall_ms: 500\n");
	ft_reload_on_sighup(NULL, NULL, &cur);
	ck_assert_int_eq(a.calls, 1);
	ck_assert_int_eq(a.run_wall_ms, 500);
	ck_assert(a.limits_applied);
	ck_assert_int_eq(b.calls, 1);

	/* Nothing changed: still told (and told that nothing was applied). */
	ft_reload_on_sighup(NULL, NULL, &cur);
	ck_assert_int_eq(a.calls, 2);
	ck_assert(!a.limits_applied);

	/* Refused: not told, nothing changed. */
	write_file(NODES "limits:\n  run_wall_ms: nope\n");
	ft_reload_on_sighup(NULL, NULL, &cur);
	ck_assert_int_eq(a.calls, 2);
	ck_assert_int_eq(cur.limits.run_wall_ms, 500);

	/* Removed: not told any more; the other one still is. */
	ft_conf_on_reload_remove(listener, &a);
	write_file("cluster: renamed\n" NODES "limits:\n  run_wall_ms: 600\n");
	ft_reload_on_sighup(NULL, NULL, &cur);
	ck_assert_int_eq(a.calls, 2);
	ck_assert_int_eq(b.calls, 3);
	ck_assert_int_eq(b.run_wall_ms, 600);
	ck_assert_uint_eq(b.restart, 1);
	ck_assert_str_eq(cur.cluster, "ftcluster");
	ft_conf_on_reload_remove(listener, &b);
	ft_conf_on_reload_remove(listener, &b); /* twice: no-op */
}
END_TEST

START_TEST(listener_slots_are_bounded)
{
	struct heard h[FT_RELOAD_LISTENERS_MAX + 1];

	for (size_t i = 0; i < FT_RELOAD_LISTENERS_MAX; i++)
		ck_assert_int_eq(ft_conf_on_reload(listener, &h[i]), 0);
	ck_assert_int_eq(ft_conf_on_reload(listener, &h[FT_RELOAD_LISTENERS_MAX]), -1);
	ft_conf_on_reload_remove(listener, &h[3]);
	ck_assert_int_eq(ft_conf_on_reload(listener, &h[FT_RELOAD_LISTENERS_MAX]), 0);
	ft_conf_on_reload_remove(listener, &h[FT_RELOAD_LISTENERS_MAX]);
	for (size_t i = 0; i < FT_RELOAD_LISTENERS_MAX; i++)
		ft_conf_on_reload_remove(listener, &h[i]);
}
END_TEST

static Suite *reload_suite(void)
{
	Suite *s = suite_create("reload");
	TCase *tc = tcase_create("diff");
	tcase_add_test(tc, same_file_changes_nothing);
	tcase_add_test(tc, every_key_is_compared);
	tcase_add_test(tc, nodes_are_compared_as_written);
	tcase_add_test(tc, live_and_restart_keys_together);
	tcase_add_test(tc, pending_fits_any_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("apply");
	tcase_add_test(tc, apply_takes_only_the_live_values);
	tcase_add_test(tc, apply_holds_back_what_breaks_a_rule);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_checked_fixture(tc, make_file, drop_file);
	tcase_add_test(tc, reload_applies_and_names_the_rest);
	tcase_add_test(tc, refused_file_keeps_the_running_configuration);
	tcase_add_test(tc, listeners_hear_every_accepted_reload);
	tcase_add_test(tc, listener_slots_are_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(reload_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
