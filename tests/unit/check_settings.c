/* Unit tests of ftcluster's settings table (conf/settings.h) and its row
 * helpers (conf/schema.h): every key has a default its own row accepts,
 * the defaults are the documented values, the rules between settings hold
 * for the defaults and say what they say when broken, and every key has
 * the reload policy the manual gives it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "conf/schema.h"
#include "conf/settings.h"
#include "runner/limits.h"

#ifdef FT_PKGLIBDIR
#define EXPECTED_LIB_DIR FT_PKGLIBDIR
#else
#define EXPECTED_LIB_DIR "/usr/lib/ftcluster"
#endif

#define NODES \
	"nodes:\n  - { id: 1, gossip: 127.0.0.1:7001, work: 127.0.0.1:7101, http: 127.0.0.1:7201 }\n"

static struct ft_config cfg, other;

static const struct ft_setting *row(const char *label)
{
	return &ft_config_settings[ft_config_setting_index(label)];
}

START_TEST(every_key_has_a_default_within_its_bounds)
{
	char label[80];

	for (size_t i = 0; i < FT_CONFIG_N_SETTINGS; i++) {
		const struct ft_setting *s = &ft_config_settings[i];

		ft_setting_label(s, label, sizeof(label));
		memset(&cfg, 0, sizeof(cfg));
		ck_assert_msg(ft_setting_set_default(s, &cfg) == 0, "%s: default refused", label);
		switch (s->kind) {
		case FT_SETTING_INT:
			ck_assert_msg(s->min <= s->def && s->def <= s->max, "%s", label);
			ck_assert_uint_eq(s->size, sizeof(int));
			break;
		case FT_SETTING_SIZE:
			ck_assert_msg(s->min <= s->def && s->def <= s->max, "%s", label);
			ck_assert_msg(s->min >= 0, "%s: a size below 0", label);
			ck_assert_uint_eq(s->size, sizeof(size_t));
			break;
		case FT_SETTING_ADDR:
			ck_assert_ptr_nonnull(s->def_text);
			ck_assert_uint_eq(s->size, sizeof(struct ft_addr));
			break;
		default:
			ck_assert_ptr_nonnull(s->def_text);
			ck_assert_msg((strlen(s->def_text) > 0 || s->kind == FT_SETTING_TEXT) &&
					      strlen(s->def_text) < s->size,
				      "%s", label);
			break;
		}
		ck_assert_msg(s->offset + s->size <= sizeof(struct ft_config), "%s", label);
	}
}
END_TEST

START_TEST(labels_are_unique_and_found)
{
	char a[80], b[80];

	for (size_t i = 0; i < FT_CONFIG_N_SETTINGS; i++) {
		ft_setting_label(&ft_config_settings[i], a, sizeof(a));
		ck_assert_uint_eq(ft_config_setting_index(a), i);
		for (size_t j = 0; j < i; j++) {
			ft_setting_label(&ft_config_settings[j], b, sizeof(b));
			ck_assert_str_ne(a, b);
			/* Fields do not overlap. */
			const struct ft_setting *x = &ft_config_settings[i],
						*y = &ft_config_settings[j];
			ck_assert_msg(x->offset >= y->offset + y->size ||
					      y->offset >= x->offset + x->size,
				      "%s overlaps %s", a, b);
		}
	}
	ck_assert_uint_eq(ft_config_setting_index("cluster"), 0);
	ck_assert_str_eq(row("sandbox.memory")->section, "sandbox");
	ck_assert_str_eq(row("sandbox.memory")->key, "memory");
}
END_TEST

/* The values ftcluster.yaml(5) documents, each written out once more here
 * on purpose: a change to the table must be a change to this list too. */
START_TEST(defaults_are_the_documented_values)
{
	ft_config_defaults(&cfg);
	ck_assert_str_eq(cfg.path, "");
	ck_assert_str_eq(cfg.cluster, "ftcluster");
	ck_assert_str_eq(cfg.zk_connect, "127.0.0.1:2181");
	ck_assert_int_eq(cfg.zk_session_timeout_ms, 2000);
	ck_assert_int_eq(cfg.zk_start_wait_ms, 10000);
	ck_assert_str_eq(cfg.gw_http.text, "127.0.0.1:8888");
	ck_assert_str_eq(cfg.gw_gossip.text, "127.0.0.1:7000");
	ck_assert_int_eq(cfg.gossip.interval_ms, 200);
	ck_assert_int_eq(cfg.gossip.fail_ms, 2000);
	ck_assert_int_eq(cfg.gossip.cleanup_ms, 10000);
	ck_assert_int_eq(cfg.gossip.fanout, 2);
	ck_assert_int_eq(cfg.gossip.max_datagram_bytes, 8192);
	ck_assert_int_eq(cfg.gossip.max_clock_skew_ms, 60000);

	const struct ft_limits *l = &cfg.limits;
	ck_assert_uint_eq(l->max_body_bytes, 1048576);
	ck_assert_uint_eq(l->max_frame_bytes, 4194304);
	ck_assert_uint_eq(l->max_output_bytes, 1048576);
	ck_assert_int_eq(l->run_wall_ms, 10000);
	ck_assert_int_eq(l->compile_wall_ms, 30000);
	ck_assert_int_eq(l->run_cpu_ms, 10000);
	ck_assert_uint_eq(l->run_memory_bytes, 268435456);
	ck_assert_uint_eq(l->compile_memory_bytes, 536870912);
	ck_assert_int_eq(l->run_max_processes, 64);
	ck_assert_uint_eq(l->run_max_file_bytes, 16777216);
	ck_assert_int_eq(l->run_max_open_files, 256);
	ck_assert_int_eq(l->request_timeout_ms, 60000);
	ck_assert_int_eq(l->max_pending_requests, 1024);
	ck_assert_int_eq(l->cache_entries, 1024);
	ck_assert_uint_eq(l->cache_bytes, 67108864);
	ck_assert_int_eq(l->worker_slots, 2);
	ck_assert_int_eq(l->worker_backlog, 2);
	ck_assert_int_eq(l->max_queued_requests, 4096);
	ck_assert_int_eq(l->queue_lifo_ms, 200);
	ck_assert_int_eq(l->result_keep_ms, 600000);
	ck_assert_int_eq(l->max_connections, 512);
	ck_assert_int_eq(l->connection_timeout_s, 30);
	ck_assert_int_eq(l->collect_timeout_ms, 500);
	ck_assert_int_eq(l->stop_drain_ms, 3000);
	ck_assert_int_eq(l->election_settle_ms, 1000);
	ck_assert_uint_eq(l->log_file_max_bytes, 16777216);
	ck_assert_int_eq(l->max_files, 64);
	ck_assert_int_eq(l->max_args, 256);
	ck_assert_int_eq(l->max_batch_runs, 20);
	ck_assert_int_eq(l->result_ttl_ms, 600000);
	ck_assert_int_eq(l->max_stored_runs, 10000);
	ck_assert_int_eq(l->run_attempts, 3);
	ck_assert_int_eq(l->hello_timeout_ms, 5000);
	ck_assert_int_eq(l->link_heartbeat_ms, 500);
	ck_assert_int_eq(l->link_timeout_ms, 3000);
	ck_assert_int_eq(l->connect_timeout_ms, 2000);
	ck_assert_int_eq(l->max_unidentified_per_address, 16);
	ck_assert_int_eq(l->leader_confirm_ms, 2000);
	ck_assert_int_eq(cfg.leader.lease_ms, 3500);
	ck_assert_int_eq(cfg.leader.hold_off_ms, 10000);

	ck_assert_str_eq(cfg.log_level, "info");
	ck_assert_int_eq(cfg.log_rejected_per_second, 10);
	ck_assert_str_eq(cfg.callbacks.allowed_hosts, "");
	ck_assert_str_eq(cfg.callbacks.secret_file, "");
	ck_assert_int_eq(cfg.callbacks.attempts, 5);
	ck_assert_int_eq(cfg.callbacks.retry_ms, 1000);
	ck_assert_int_eq(cfg.callbacks.max_retry_ms, 60000);
	ck_assert_int_eq(cfg.callbacks.timeout_ms, 5000);
	ck_assert_int_eq(cfg.callbacks.max_queued, 10000);
	ck_assert_int_eq(cfg.callbacks.senders, 2);
	const struct ft_gw_access_conf *ga = &cfg.gw_access;
	ck_assert_str_eq(ga->tokens_file, "");
	ck_assert_int_eq(ga->metrics_public, 1);
	ck_assert_int_eq(ga->rate_per_second, 0);
	ck_assert_int_eq(ga->rate_burst, 20);
	ck_assert_int_eq(ga->rate_max_addresses, 10000);
	ck_assert_str_eq(ga->cors_origins, "");
	ck_assert_str_eq(ga->allowed_hosts, "");
	ck_assert_str_eq(ga->tls_cert_file, "");
	ck_assert_str_eq(ga->tls_key_file, "");
	ck_assert_int_eq(ga->max_connections_per_address, 0);
	ck_assert_int_eq(cfg.sandbox.enabled, 1);
	ck_assert_int_eq(cfg.sandbox.allow_unsafe, 0);
	ck_assert_str_eq(cfg.zk_auth_file, "");
	ck_assert_str_eq(cfg.sandbox.bwrap, "/usr/bin/bwrap");
	ck_assert_int_eq(cfg.sandbox.uid_first, 300000);
	ck_assert_int_eq(cfg.sandbox.uid_count, 64);
	ck_assert_str_eq(cfg.sandbox.memory, "auto");
	ck_assert_str_eq(cfg.state_dir, "/var/lib/ftcluster");
	ck_assert_str_eq(cfg.log_dir, "/var/log/ftcluster");
	ck_assert_str_eq(cfg.java, "/usr/bin/java");
	ck_assert_str_eq(cfg.lib_dir, EXPECTED_LIB_DIR);
	ck_assert_str_eq(cfg.run_dir, "/run/ftcluster");
	ck_assert_str_eq(cfg.key_file, FT_SYSCONFDIR "/ftcluster/cluster.key");
	ck_assert_str_eq(cfg.key_file_next, "");
	ck_assert_uint_eq(cfg.n_nodes, 0);
}
END_TEST

/* The runner has defaults of its own for a conf without limits
 * (runner/limits.h); they must be the table's. */
START_TEST(runner_defaults_agree)
{
	ft_config_defaults(&cfg);
	ck_assert_int_eq(cfg.limits.compile_wall_ms, FT_DEFAULT_COMPILE_WALL_MS);
	ck_assert_int_eq(cfg.limits.run_wall_ms, FT_DEFAULT_RUN_WALL_MS);
	ck_assert_int_eq(cfg.limits.run_cpu_ms, FT_DEFAULT_RUN_CPU_MS);
	ck_assert_uint_eq(cfg.limits.run_memory_bytes, FT_DEFAULT_RUN_MEMORY);
	ck_assert_uint_eq(cfg.limits.compile_memory_bytes, FT_DEFAULT_COMPILE_MEMORY);
	ck_assert_int_eq(cfg.limits.run_max_processes, FT_DEFAULT_RUN_MAX_PROCESSES);
	ck_assert_uint_eq(cfg.limits.run_max_file_bytes, FT_DEFAULT_RUN_MAX_FILE);
	ck_assert_uint_eq(cfg.limits.max_output_bytes, FT_DEFAULT_MAX_OUTPUT);
	ck_assert_int_eq(cfg.limits.run_max_open_files, FT_DEFAULT_RUN_MAX_OPEN_FILES);
	ck_assert_int_eq(row("limits.run_memory_bytes")->min, (long long)FT_MIN_MEMORY);
	ck_assert_int_eq(row("limits.compile_memory_bytes")->min, (long long)FT_MIN_MEMORY);
	ck_assert_int_eq(row("limits.run_max_processes")->min, FT_MIN_PROCESSES);
	ck_assert_int_eq(row("limits.run_max_open_files")->min, FT_MIN_OPEN_FILES);
}
END_TEST

/* A file with nothing but the nodes is the defaults, key for key. */
START_TEST(parsed_defaults_equal_table_defaults)
{
	char err[256], label[80];

	ft_config_defaults(&other);
	ck_assert_int_eq(ft_config_parse("t.yaml", NODES, strlen(NODES), &cfg, err, sizeof(err)),
			 0);
	for (size_t i = 0; i < FT_CONFIG_N_SETTINGS; i++) {
		ft_setting_label(&ft_config_settings[i], label, sizeof(label));
		ck_assert_msg(ft_setting_equal(&ft_config_settings[i], &cfg, &other), "%s", label);
	}
}
END_TEST

START_TEST(node_keys_are_required_and_need_a_restart)
{
	static const char *const keys[] = { "id", "gossip", "work", "http" };

	for (size_t i = 0; i < FT_NODE_N_SETTINGS; i++) {
		ck_assert_str_eq(ft_node_settings[i].section, "node");
		ck_assert_str_eq(ft_node_settings[i].key, keys[i]);
		ck_assert_ptr_null(ft_node_settings[i].def_text);
		ck_assert_int_eq(ft_node_settings[i].reload, FT_RELOAD_RESTART);
		ck_assert_int_eq(ft_setting_set_default(&ft_node_settings[i], &cfg.nodes[0]), -1);
	}
}
END_TEST

/* What ftcluster.yaml(5) says reloads: these, and nothing else. */
START_TEST(reload_policy_per_key)
{
	static const char *const live[] = {
		"limits.max_output_bytes",
		"limits.run_wall_ms",
		"limits.compile_wall_ms",
		"limits.run_cpu_ms",
		"limits.run_memory_bytes",
		"limits.compile_memory_bytes",
		"limits.run_max_processes",
		"limits.run_max_file_bytes",
		"limits.run_max_open_files",
		"limits.request_timeout_ms",
		"limits.max_pending_requests",
		"limits.worker_slots",
		"limits.worker_backlog",
		"limits.max_queued_requests",
		"limits.queue_lifo_ms",
		"limits.result_keep_ms",
		"limits.collect_timeout_ms",
		"limits.stop_drain_ms",
		"limits.election_settle_ms",
		"limits.max_files",
		"limits.max_args",
		"limits.max_batch_runs",
		"limits.result_ttl_ms",
		"limits.max_stored_runs",
		"limits.run_attempts",
		"limits.hello_timeout_ms",
		"limits.leader_confirm_ms",
		"leader.lease_ms",
		"leader.hold_off_ms",
		"limits.max_unidentified_per_address",
		"logging.level",
		"logging.rejected_per_second",
		"paths.key_file",
		"paths.key_file_next",
		"gateway.tokens_file",
		"gateway.metrics_public",
		"gateway.rate_per_second",
		"gateway.rate_burst",
		"gateway.rate_max_addresses",
		"gateway.cors_origins",
		"gateway.allowed_hosts",
	};
	size_t n_live = 0;
	char label[80];

	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		ck_assert_msg(row(live[i])->reload == FT_RELOAD_LIVE, "%s", live[i]);
	for (size_t i = 0; i < FT_CONFIG_N_SETTINGS; i++) {
		const struct ft_setting *s = &ft_config_settings[i];
		ft_setting_label(s, label, sizeof(label));
		if (s->reload == FT_RELOAD_LIVE)
			n_live++;
		/* Sandbox, paths, identity, topology: set up at start. */
		if (strcmp(s->section, "limits") != 0 && strcmp(s->section, "logging") != 0 &&
		    strcmp(s->section, "gateway") != 0 && strcmp(s->section, "leader") != 0 &&
		    strncmp(s->key, "key_file", 8) != 0)
			ck_assert_msg(s->reload == FT_RELOAD_RESTART, "%s", label);
	}
	ck_assert_uint_eq(n_live, sizeof(live) / sizeof(live[0]));
	/* Sized or bound at start. */
	ck_assert_int_eq(row("limits.max_body_bytes")->reload, FT_RELOAD_RESTART);
	ck_assert_int_eq(row("limits.max_frame_bytes")->reload, FT_RELOAD_RESTART);
	ck_assert_int_eq(row("limits.cache_entries")->reload, FT_RELOAD_RESTART);
	ck_assert_int_eq(row("limits.cache_bytes")->reload, FT_RELOAD_RESTART);
	ck_assert_int_eq(row("limits.max_connections")->reload, FT_RELOAD_RESTART);
	ck_assert_int_eq(row("limits.connection_timeout_s")->reload, FT_RELOAD_RESTART);
	ck_assert_int_eq(row("limits.log_file_max_bytes")->reload, FT_RELOAD_RESTART);
	ck_assert_int_eq(row("gateway.http")->reload, FT_RELOAD_RESTART);
	ck_assert_int_eq(row("gateway.gossip")->reload, FT_RELOAD_RESTART);
	ck_assert_int_eq(row("gateway.tls_cert_file")->reload, FT_RELOAD_RESTART);
	ck_assert_int_eq(row("gateway.tls_key_file")->reload, FT_RELOAD_RESTART);
	ck_assert_int_eq(row("gateway.max_connections_per_address")->reload, FT_RELOAD_RESTART);
}
END_TEST

START_TEST(defaults_keep_every_rule)
{
	char msg[256];

	ft_config_defaults(&cfg);
	ck_assert_ptr_null(ft_config_broken_rule(&cfg, msg, sizeof(msg)));
	for (size_t i = 0; i < ft_config_n_rules; i++) {
		ck_assert_int_eq(ft_config_rules[i].check(&cfg, msg, sizeof(msg)), 0);
		/* Both ends name settings of the table. */
		ck_assert_uint_lt(ft_config_setting_index(ft_config_rules[i].first),
				  FT_CONFIG_N_SETTINGS);
		ck_assert_uint_lt(ft_config_setting_index(ft_config_rules[i].second),
				  FT_CONFIG_N_SETTINGS);
	}
}
END_TEST

static void assert_broken(const char *first, const char *second, const char *expected)
{
	char msg[512];
	const struct ft_config_rule *r = ft_config_broken_rule(&cfg, msg, sizeof(msg));

	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->first, first);
	ck_assert_str_eq(r->second, second);
	ck_assert_str_eq(msg, expected);
}

START_TEST(broken_rules_say_which)
{
	ft_config_defaults(&cfg);
	cfg.gossip.interval_ms = 1000;
	assert_broken("gossip.fail_ms", "gossip.interval_ms",
		      "gossip.fail_ms (2000) must be greater than 2 * gossip.interval_ms (1000)");
	ft_config_defaults(&cfg);
	cfg.gossip.cleanup_ms = 1999;
	assert_broken("gossip.cleanup_ms", "gossip.fail_ms",
		      "gossip.cleanup_ms (1999) must be at least gossip.fail_ms (2000)");
	ft_config_defaults(&cfg);
	cfg.limits.max_body_bytes = 4194304;
	assert_broken("limits.max_frame_bytes", "limits.max_body_bytes",
		      "limits.max_frame_bytes (4194304) must be at least limits.max_body_bytes "
		      "(4194304) + 65536, so that every accepted request can be forwarded");
	ft_config_defaults(&cfg);
	cfg.limits.max_output_bytes = 1398102;
	assert_broken("limits.max_frame_bytes", "limits.max_output_bytes",
		      "limits.max_frame_bytes (4194304) must be at least 3 * "
		      "limits.max_output_bytes (1398102) + 65536, so that every result (answer, "
		      "stdout, stderr) can be sent back");
	cfg.limits.max_output_bytes = 1376256; /* exactly fits */
	ck_assert_ptr_null(ft_config_broken_rule(&cfg, NULL, 0));
	ft_config_defaults(&cfg);
	strcpy(cfg.log_level, "loud");
	assert_broken("logging.level", "logging.level",
		      "logging.level must be one of error, warning, notice, info, debug; got "
		      "'loud'");
	ft_config_defaults(&cfg);
	cfg.limits.worker_slots = 63;
	assert_broken("sandbox.uid_count", "limits.worker_slots",
		      "sandbox.uid_count (64) must be at least limits.worker_slots + 2 (65): "
		      "every sandbox of a node runs as a uid of its own");
	cfg.limits.worker_slots = 62;
	ck_assert_ptr_null(ft_config_broken_rule(&cfg, NULL, 0));
	ft_config_defaults(&cfg);
	strcpy(cfg.sandbox.memory, "cgroup3");
	assert_broken("sandbox.memory", "sandbox.memory",
		      "sandbox.memory must be one of auto, cgroup2, cgroup1, rlimit; got "
		      "'cgroup3'");
	ft_config_defaults(&cfg);
	strcpy(cfg.callbacks.allowed_hosts, "hooks.example.com http://x");
	strcpy(cfg.callbacks.secret_file, "/etc/ftcluster/callback.key");
	assert_broken("callbacks.allowed_hosts", "callbacks.allowed_hosts",
		      "callbacks.allowed_hosts: 'http://x' is not a host, host:port, *.domain or "
		      "[IPv6 address] entry (port 1 to 65535)");
	strcpy(cfg.callbacks.allowed_hosts, "hooks.example.com");
	ck_assert_ptr_null(ft_config_broken_rule(&cfg, NULL, 0));
	cfg.callbacks.secret_file[0] = '\0';
	assert_broken("callbacks.allowed_hosts", "callbacks.secret_file",
		      "callbacks.allowed_hosts needs callbacks.secret_file: every callback is "
		      "signed");
	/* The first broken rule, in table order, is the one reported. */
	ft_config_defaults(&cfg);
	strcpy(cfg.sandbox.memory, "cgroup3");
	strcpy(cfg.log_level, "loud");
	cfg.gossip.cleanup_ms = 1;
	assert_broken("gossip.cleanup_ms", "gossip.fail_ms",
		      "gossip.cleanup_ms (1) must be at least gossip.fail_ms (2000)");
}
END_TEST

/* A row whose default it refuses itself writes nothing. */
START_TEST(bad_defaults_are_refused)
{
	struct ft_setting s = *row("gossip.fanout");

	ft_config_defaults(&cfg);
	s.def = 0;
	ck_assert_int_eq(ft_setting_set_default(&s, &cfg), -1);
	s.def = FT_MAX_NODES + 1;
	ck_assert_int_eq(ft_setting_set_default(&s, &cfg), -1);
	ck_assert_int_eq(cfg.gossip.fanout, 2);
	s.def = FT_MAX_NODES;
	ck_assert_int_eq(ft_setting_set_default(&s, &cfg), 0);
	ck_assert_int_eq(cfg.gossip.fanout, FT_MAX_NODES);

	s = *row("cluster");
	s.def_text = "bad name";
	ck_assert_int_eq(ft_setting_set_default(&s, &cfg), -1);
	s.def_text = "";
	ck_assert_int_eq(ft_setting_set_default(&s, &cfg), -1);
	ck_assert_str_eq(cfg.cluster, "ftcluster");
	s = *row("zookeeper.connect");
	s.def_text = "zk1";
	ck_assert_int_eq(ft_setting_set_default(&s, &cfg), -1);
	s = *row("gateway.http");
	s.def_text = "example.com:80";
	ck_assert_int_eq(ft_setting_set_default(&s, &cfg), -1);
	s.def_text = NULL;
	ck_assert_int_eq(ft_setting_set_default(&s, &cfg), -1);
	ck_assert_str_eq(cfg.gw_http.text, "127.0.0.1:8888");
}
END_TEST

START_TEST(equal_and_copy)
{
	const struct ft_setting *http = row("gateway.http");

	ft_config_defaults(&cfg);
	ft_config_defaults(&other);
	for (size_t i = 0; i < FT_CONFIG_N_SETTINGS; i++)
		ck_assert(ft_setting_equal(&ft_config_settings[i], &cfg, &other));
	/* Addresses compare as written: the operator changed the file. */
	ck_assert_int_eq(ft_addr_parse("localhost:8888", &other.gw_http), 0);
	ck_assert(!ft_setting_equal(http, &cfg, &other));
	ft_setting_copy(http, &cfg, &other);
	ck_assert_str_eq(cfg.gw_http.text, "localhost:8888");
	ck_assert(ft_setting_equal(http, &cfg, &other));

	other.limits.cache_bytes = 5;
	ck_assert(!ft_setting_equal(row("limits.cache_bytes"), &cfg, &other));
	ck_assert(ft_setting_equal(row("limits.cache_entries"), &cfg, &other));
	strcpy(other.sandbox.bwrap, "/opt/bwrap");
	ck_assert(!ft_setting_equal(row("sandbox.bwrap"), &cfg, &other));
	ft_setting_copy(row("sandbox.bwrap"), &cfg, &other);
	ck_assert_str_eq(cfg.sandbox.bwrap, "/opt/bwrap");
	ck_assert_uint_eq(cfg.limits.cache_bytes, 67108864);
}
END_TEST

static Suite *settings_suite(void)
{
	Suite *s = suite_create("settings");
	TCase *tc = tcase_create("table");
	tcase_add_test(tc, every_key_has_a_default_within_its_bounds);
	tcase_add_test(tc, labels_are_unique_and_found);
	tcase_add_test(tc, defaults_are_the_documented_values);
	tcase_add_test(tc, runner_defaults_agree);
	tcase_add_test(tc, parsed_defaults_equal_table_defaults);
	tcase_add_test(tc, node_keys_are_required_and_need_a_restart);
	tcase_add_test(tc, reload_policy_per_key);
	tcase_add_test(tc, bad_defaults_are_refused);
	tcase_add_test(tc, equal_and_copy);
	suite_add_tcase(s, tc);

	tc = tcase_create("rules");
	tcase_add_test(tc, defaults_keep_every_rule);
	tcase_add_test(tc, broken_rules_say_which);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(settings_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
