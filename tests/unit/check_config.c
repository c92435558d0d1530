/* Unit tests for the configuration loader.
 *
 * Error messages are compared in full: the line and column are the point of
 * the message, and an operator (or a script) relies on its wording. */
#include "conf/config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef FT_PKGLIBDIR
#define EXPECTED_LIB_DIR FT_PKGLIBDIR
#else
#define EXPECTED_LIB_DIR "/usr/lib/ftcluster"
#endif

/* Shared by all tests: struct ft_config is too large to put on the stack of
 * every test comfortably. */
static struct ft_config cfg;
static char err[512];

/* A flow-style node entry, "  - { id: ..., gossip: ..., work: ..., http: ... }";
 * the id starts at column 11 and, for a one-digit id, gossip at 22, work at
 * 44 and http at 66. */
#define NODE(id, gossip, work, http) \
	"  - { id: " id ", gossip: " gossip ", work: " work ", http: " http " }\n"

/* One valid node; most cases add or change something around it. */
#define NODE1 NODE("1", "127.0.0.1:7001", "127.0.0.1:7101", "127.0.0.1:7201")
#define NODES "nodes:\n" NODE1

static int parse(const char *yaml)
{
	return ft_config_parse("t.yaml", yaml, strlen(yaml), &cfg, err, sizeof(err));
}

#define assert_parses(yaml)                                           \
	do {                                                          \
		int rc_ = parse(yaml);                                \
		ck_assert_msg(rc_ == 0, "unexpected error: %s", err); \
	} while (0)

#define assert_error(yaml, expected)                                            \
	do {                                                                    \
		int rc_ = parse(yaml);                                          \
		ck_assert_msg(rc_ == -1, "accepted, expected: %s", (expected)); \
		ck_assert_str_eq(err, (expected));                              \
	} while (0)

static uint16_t port_of(const struct ft_addr *a)
{
	return ntohs(a->sa.sin_port);
}

static const char *ip_of(const struct ft_addr *a, char *buf)
{
	return inet_ntop(AF_INET, &a->sa.sin_addr, buf, INET_ADDRSTRLEN);
}

/* The line of path that starts with prefix (1-based), so that the test
 * follows the sample file as it grows. */
static int line_of(const char *path, const char *prefix)
{
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	char line[512];
	int n = 0, found = -1;
	while (found < 0 && fgets(line, sizeof line, f)) {
		n++;
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			found = n;
	}
	fclose(f);
	ck_assert_int_gt(found, 0);
	return found;
}

static const char *sample_path(char *buf, size_t cap)
{
	const char *dir = getenv("FT_SRCDIR");

	if (!dir)
		dir = getenv("srcdir");
	if (!dir)
		dir = ".";
	snprintf(buf, cap, "%s/etc/ftcluster.yaml", dir);
	return buf;
}

/* ---- whole files ---- */

START_TEST(test_sample_file)
{
	char path[1024], ip[INET_ADDRSTRLEN];
	const struct ft_node_conf *n;

	sample_path(path, sizeof(path));
	ck_assert_msg(ft_config_load(path, &cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(cfg.path, path);
	ck_assert_str_eq(cfg.cluster, "demo");
	ck_assert_str_eq(cfg.zk_connect, "127.0.0.1:2181");
	ck_assert_int_eq(cfg.zk_session_timeout_ms, 2000);
	ck_assert_str_eq(cfg.gw_http.text, "127.0.0.1:8888");
	ck_assert_int_eq(port_of(&cfg.gw_gossip), 7000);
	ck_assert_int_eq(cfg.gossip.interval_ms, 200);
	ck_assert_int_eq(cfg.gossip.fail_ms, 2000);
	ck_assert_int_eq(cfg.gossip.cleanup_ms, 10000);
	ck_assert_int_eq(cfg.gossip.fanout, 2);
	ck_assert_int_eq(cfg.gossip.max_datagram_bytes, 8192);
	ck_assert_uint_eq(cfg.limits.max_frame_bytes, 4194304);
	ck_assert_uint_eq(cfg.limits.cache_bytes, 67108864);
	ck_assert_int_eq(cfg.limits.connection_timeout_s, 30);
	/* The sample leaves lib_dir to the built-in default: where the jar is
	 * installed. */
	ck_assert_str_eq(cfg.lib_dir, FT_PKGLIBDIR);

	ck_assert_uint_eq(cfg.n_nodes, 7);
	int first = line_of(path, "  - { id: 1,");
	for (size_t i = 0; i < cfg.n_nodes; i++) {
		ck_assert_int_eq(cfg.nodes[i].id, (int)i + 1);
		ck_assert_int_eq(cfg.nodes[i].line, first + (int)i);
	}
	n = ft_config_node(&cfg, 3);
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(n->id, 3);
	ck_assert_str_eq(n->gossip.text, "127.0.0.1:7003");
	ck_assert_str_eq(ip_of(&n->work, ip), "127.0.0.1");
	ck_assert_int_eq(port_of(&n->work), 7103);
	ck_assert_int_eq(n->work.sa.sin_family, AF_INET);
	ck_assert_int_eq(port_of(&n->http), 7203);
	ck_assert_ptr_null(ft_config_node(&cfg, 8));
	ck_assert_ptr_null(ft_config_node(&cfg, FT_GATEWAY_ID));
}
END_TEST

START_TEST(test_missing_file)
{
	char expected[256];

	snprintf(expected, sizeof(expected), "/nonexistent/ftcluster.yaml: cannot open: %s",
		 strerror(ENOENT));
	ck_assert_int_eq(ft_config_load("/nonexistent/ftcluster.yaml", &cfg, err, sizeof(err)), -1);
	ck_assert_str_eq(err, expected);
}
END_TEST

START_TEST(test_load_reports_path)
{
	char path[] = "/tmp/check_config.XXXXXX", expected[128];
	const char *text = NODES "gossip:\n  fial_ms: 5\n";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	ck_assert_int_eq(ft_config_load(path, &cfg, err, sizeof(err)), -1);
	unlink(path);
	snprintf(expected, sizeof(expected), "%s:4:3: unknown key 'fial_ms' in gossip", path);
	ck_assert_str_eq(err, expected);
}
END_TEST

START_TEST(test_defaults)
{
	char ip[INET_ADDRSTRLEN];

	assert_parses(NODES);
	ck_assert_str_eq(cfg.path, "t.yaml");
	ck_assert_str_eq(cfg.cluster, "ftcluster");
	ck_assert_str_eq(cfg.zk_connect, "127.0.0.1:2181");
	ck_assert_int_eq(cfg.zk_session_timeout_ms, 2000);
	ck_assert_str_eq(cfg.gw_http.text, "127.0.0.1:8888");
	ck_assert_str_eq(ip_of(&cfg.gw_http, ip), "127.0.0.1");
	ck_assert_int_eq(port_of(&cfg.gw_http), 8888);
	ck_assert_str_eq(cfg.gw_gossip.text, "127.0.0.1:7000");
	ck_assert_int_eq(port_of(&cfg.gw_gossip), 7000);

	ck_assert_int_eq(cfg.gossip.interval_ms, 200);
	ck_assert_int_eq(cfg.gossip.fail_ms, 2000);
	ck_assert_int_eq(cfg.gossip.cleanup_ms, 10000);
	ck_assert_int_eq(cfg.gossip.fanout, 2);
	ck_assert_int_eq(cfg.gossip.max_datagram_bytes, 8192);

	ck_assert_uint_eq(cfg.limits.max_body_bytes, 1048576);
	ck_assert_uint_eq(cfg.limits.max_frame_bytes, 4194304);
	ck_assert_uint_eq(cfg.limits.max_output_bytes, 1048576);
	ck_assert_int_eq(cfg.limits.run_wall_ms, 10000);
	ck_assert_int_eq(cfg.limits.request_timeout_ms, 60000);
	ck_assert_int_eq(cfg.limits.max_pending_requests, 1024);
	ck_assert_int_eq(cfg.limits.cache_entries, 1024);
	ck_assert_uint_eq(cfg.limits.cache_bytes, 67108864);
	ck_assert_int_eq(cfg.limits.worker_slots, 2);
	ck_assert_int_eq(cfg.limits.result_keep_ms, 600000);
	ck_assert_int_eq(cfg.limits.max_connections, 512);
	ck_assert_int_eq(cfg.limits.connection_timeout_s, 30);

	ck_assert_str_eq(cfg.state_dir, "/var/lib/ftcluster");
	ck_assert_str_eq(cfg.log_dir, "/var/log/ftcluster");
	ck_assert_str_eq(cfg.java, "/usr/bin/java");
	ck_assert_str_eq(cfg.lib_dir, EXPECTED_LIB_DIR);
	ck_assert_str_eq(cfg.run_dir, "/run/ftcluster");
	ck_assert_int_eq(cfg.sandbox.uid_first, 300000);
	ck_assert_int_eq(cfg.sandbox.uid_count, 64);
	ck_assert_int_eq(cfg.limits.run_attempts, 3);

	ck_assert_uint_eq(cfg.n_nodes, 1);
	ck_assert_int_eq(cfg.nodes[0].line, 2);
	ck_assert_str_eq(cfg.nodes[0].http.text, "127.0.0.1:7201");
}
END_TEST

/* Settings given in the file replace the defaults, and only those. */
START_TEST(test_overrides)
{
	assert_parses("cluster: prod_2-b\n"
		      "zookeeper: { connect: 'zk1:2181,zk2:2181/ft', session_timeout_ms: 1000 }\n"
		      "gateway:\n  http: localhost:80\n"
		      "gossip:\n  interval_ms: 100\n  fail_ms: 201\n  cleanup_ms: 201\n"
		      "  fanout: 256\n  max_datagram_bytes: 65507\n"
		      "limits:\n  cache_bytes: 68719476736\n  worker_slots: 1\n"
		      "paths:\n  java: \"/opt/jdk 17/bin/java\"\n" NODES);
	ck_assert_str_eq(cfg.cluster, "prod_2-b");
	ck_assert_str_eq(cfg.zk_connect, "zk1:2181,zk2:2181/ft");
	ck_assert_int_eq(cfg.zk_session_timeout_ms, 1000);
	ck_assert_str_eq(cfg.gw_http.text, "localhost:80");
	ck_assert_uint_eq(ntohl(cfg.gw_http.sa.sin_addr.s_addr), INADDR_LOOPBACK);
	ck_assert_int_eq(port_of(&cfg.gw_gossip), 7000);
	ck_assert_int_eq(cfg.gossip.interval_ms, 100);
	ck_assert_int_eq(cfg.gossip.fail_ms, 201);
	ck_assert_int_eq(cfg.gossip.cleanup_ms, 201);
	ck_assert_int_eq(cfg.gossip.fanout, 256);
	ck_assert_int_eq(cfg.gossip.max_datagram_bytes, 65507);
	ck_assert_uint_eq(cfg.limits.cache_bytes, 68719476736ULL);
	ck_assert_int_eq(cfg.limits.worker_slots, 1);
	ck_assert_int_eq(cfg.limits.cache_entries, 1024);
	ck_assert_str_eq(cfg.java, "/opt/jdk 17/bin/java");
	ck_assert_str_eq(cfg.state_dir, "/var/lib/ftcluster");
}
END_TEST

START_TEST(test_block_style_nodes)
{
	assert_parses("cluster: c\n"
		      "nodes:\n"
		      "- id: 9\n"
		      "  gossip: 10.0.0.1:1\n"
		      "  work: 10.0.0.1:2\n"
		      "  http: 10.0.0.1:3\n"
		      "- id: 65535\n"
		      "  gossip: 10.0.0.2:1\n"
		      "  work: 10.0.0.2:2\n"
		      "  http: 10.0.0.2:3\n");
	ck_assert_uint_eq(cfg.n_nodes, 2);
	ck_assert_int_eq(cfg.nodes[0].line, 3);
	ck_assert_int_eq(cfg.nodes[1].line, 7);
	ck_assert_int_eq(ft_config_node(&cfg, 65535)->http.sa.sin_port, htons(3));
}
END_TEST

/* ---- syntax ---- */

START_TEST(test_syntax_errors)
{
	assert_error("cluster: demo\n  bad: [\n" NODES,
		     "t.yaml:2:6: mapping values are not allowed in this context");
	assert_error(NODES "  - { id: 2\n", "t.yaml:4:1: did not find expected ',' or '}' "
					    "(while parsing a flow mapping at line 3, column 5)");
	/* Tabs cannot indent YAML. */
	assert_error(NODES "gossip:\n\tfanout: 2\n",
		     "t.yaml:4:1: found character that cannot start any token "
		     "(while scanning for the next token at line 4, column 1)");
	assert_error("cluster: \xff\n" NODES, "t.yaml:1:10: invalid leading UTF-8 octet");
	assert_error(NODES "cluster: *name\n", "t.yaml:3:10: found undefined alias");
}
END_TEST

START_TEST(test_document_shape)
{
	assert_error("", "t.yaml:1:1: empty configuration ('nodes' is required)");
	assert_error("# nothing but a comment\n",
		     "t.yaml:1:1: empty configuration ('nodes' is required)");
	assert_error("- 1\n- 2\n", "t.yaml:1:1: the top level must be a mapping, not a sequence");
	assert_error("hello\n", "t.yaml:1:1: the top level must be a mapping, not a scalar");
	assert_error(NODES "---\ncluster: x\n", "t.yaml:3:1: only one YAML document is allowed");
	assert_error(NODES "...\n--- [\n", "t.yaml:5:1: did not find expected node content "
					   "(while parsing a flow node at line 5, column 1)");
	assert_error("cluster: !!str x\n" NODES "gossip:\n  fanout: !!int 2\n",
		     "t.yaml:5:11: YAML tags are not supported (found '!!int')");
	assert_error(NODES "cluster: !mine x\n",
		     "t.yaml:3:10: YAML tags are not supported (found '!mine')");
	assert_error(NODES "? [a]\n: b\n",
		     "t.yaml:3:3: keys must be scalars, found a sequence at top level");
}
END_TEST

/* ---- keys ---- */

START_TEST(test_unknown_keys)
{
	assert_error(NODES "gossip:\n  fial_ms: 3000\n",
		     "t.yaml:4:3: unknown key 'fial_ms' in gossip");
	assert_error("clutser: x\n" NODES, "t.yaml:1:1: unknown key 'clutser' at top level");
	assert_error(NODES "limits: { cache_entries: 5, cahce_bytes: 5 }\n",
		     "t.yaml:3:29: unknown key 'cahce_bytes' in limits");
	assert_error("nodes:\n  - { id: 1, gosip: 127.0.0.1:7001 }\n",
		     "t.yaml:2:14: unknown key 'gosip' in node");
	/* Keys are case sensitive, and a key's text is shown on one line. */
	assert_error(NODES "Gossip: {}\n", "t.yaml:3:1: unknown key 'Gossip' at top level");
	assert_error(NODES "\"a\\nb\": 1\n", "t.yaml:3:1: unknown key 'a?b' at top level");
}
END_TEST

/* One uid per sandbox: the range must hold a node's sandboxes, and the
 * single shared user of old is refused with what replaced it. */
START_TEST(test_sandbox_users)
{
	assert_parses(NODES "sandbox:\n  uid_first: 1000000\n  uid_count: 10\n");
	ck_assert_int_eq(cfg.sandbox.uid_first, 1000000);
	ck_assert_int_eq(cfg.sandbox.uid_count, 10);
	assert_error(NODES "sandbox:\n  uid: 65534\n",
		     "t.yaml:4:3: sandbox.uid was replaced by sandbox.uid_first and "
		     "sandbox.uid_count: every sandbox runs as a uid of its own");
	assert_error(NODES "sandbox:\n  gid: 65534\n",
		     "t.yaml:4:3: sandbox.gid was replaced by sandbox.uid_first and "
		     "sandbox.uid_count: every sandbox runs as a uid of its own");
	assert_error(NODES "limits:\n  worker_slots: 4\nsandbox:\n  uid_count: 5\n",
		     "t.yaml:6:14: sandbox.uid_count (5) must be at least limits.worker_slots + 2 "
		     "(6): every sandbox of a node runs as a uid of its own");
	/* Not given: pointed at the setting that made the default too small. */
	assert_error(NODES "limits:\n  worker_slots: 100\n",
		     "t.yaml:4:17: sandbox.uid_count (64) must be at least limits.worker_slots + 2 "
		     "(102): every sandbox of a node runs as a uid of its own");
	assert_error(NODES "sandbox:\n  uid_first: 2147418113\n",
		     "t.yaml:4:14: sandbox.uid_first must be an integer in 1..2147418112, got "
		     "'2147418113'");
}
END_TEST

START_TEST(test_logging_level)
{
	assert_parses(NODES "logging:\n  level: debug\n");
	ck_assert_str_eq(cfg.log_level, "debug");
	assert_parses(NODES);
	ck_assert_str_eq(cfg.log_level, "info");
	assert_error(NODES "logging:\n  level: loud\n",
		     "t.yaml:4:10: logging.level must be one of error, warning, notice, info, "
		     "debug; got 'loud'");
}
END_TEST

START_TEST(test_duplicate_keys)
{
	assert_error(NODES "gossip:\n  fanout: 2\n  interval_ms: 100\n  fanout: 3\n",
		     "t.yaml:6:3: duplicate key 'fanout' in gossip (first at line 4)");
	assert_error("cluster: a\n" NODES "cluster: b\n",
		     "t.yaml:4:1: duplicate key 'cluster' at top level (first at line 1)");
	assert_error("gossip: {}\n" NODES "gossip: {}\n",
		     "t.yaml:4:1: duplicate key 'gossip' at top level (first at line 1)");
	assert_error("nodes:\n  - { id: 1, id: 2 }\n",
		     "t.yaml:2:14: duplicate key 'id' in node (first at line 2)");
	assert_error(NODES "nodes: []\n",
		     "t.yaml:3:1: duplicate key 'nodes' at top level (first at line 1)");
}
END_TEST

/* ---- types and numbers ---- */

START_TEST(test_wrong_types)
{
	assert_error("cluster: { a: 1 }\n" NODES,
		     "t.yaml:1:10: cluster must be a string, not a mapping");
	assert_error(NODES "gossip: 5\n", "t.yaml:3:9: gossip must be a mapping, not a scalar");
	assert_error(NODES "limits:\n", "t.yaml:3:8: limits must be a mapping, not an empty value");
	assert_error(NODES "paths: [a, b]\n",
		     "t.yaml:3:8: paths must be a mapping, not a sequence");
	assert_error(NODES "gossip:\n  fanout: [2]\n",
		     "t.yaml:4:11: gossip.fanout must be an integer, not a sequence");
	assert_error(NODES "gateway:\n  http: { host: x }\n",
		     "t.yaml:4:9: gateway.http must be a host:port address, not a mapping");
	assert_error(NODES "gateway:\n  http: ~\n",
		     "t.yaml:4:9: gateway.http must be a host:port address, not an empty value");
	assert_error("nodes: { id: 1 }\n", "t.yaml:1:8: nodes must be a sequence, not a mapping");
	assert_error("nodes: 3\n", "t.yaml:1:8: nodes must be a sequence, not a scalar");
	assert_error("nodes:\n  - 1\n", "t.yaml:2:5: a node must be a mapping, not a scalar");
	assert_error("nodes:\n  - { id: [1] }\n",
		     "t.yaml:2:11: node.id must be an integer, not a sequence");
	assert_error(NODES "paths:\n  java:\n", "t.yaml:4:8: paths.java must not be empty");
	assert_error(NODES "paths:\n  java: ''\n", "t.yaml:4:9: paths.java must not be empty");
	assert_error(NODES "paths:\n  java: \"/usr/\\0java\"\n",
		     "t.yaml:4:9: paths.java must not contain NUL characters");
}
END_TEST

START_TEST(test_integers)
{
	assert_error(NODES "gossip:\n  fanout: two\n",
		     "t.yaml:4:11: gossip.fanout must be an integer in 1..256, got 'two'");
	assert_error(NODES "gossip:\n  fanout: 2.0\n",
		     "t.yaml:4:11: gossip.fanout must be an integer in 1..256, got '2.0'");
	assert_error(NODES "gossip:\n  fanout: 0x10\n",
		     "t.yaml:4:11: gossip.fanout must be an integer in 1..256, got '0x10'");
	assert_error(NODES "gossip:\n  fanout: 010\n",
		     "t.yaml:4:11: gossip.fanout must be an integer in 1..256, got '010'");
	assert_error(NODES "gossip:\n  fanout: +2\n",
		     "t.yaml:4:11: gossip.fanout must be an integer in 1..256, got '+2'");
	assert_error(NODES "gossip:\n  fanout: 1_0\n",
		     "t.yaml:4:11: gossip.fanout must be an integer in 1..256, got '1_0'");
	assert_error(NODES "gossip:\n  fanout: '2'\n",
		     "t.yaml:4:11: gossip.fanout must be an unquoted integer in 1..256");
	assert_error(NODES "gossip:\n  fanout: 0\n",
		     "t.yaml:4:11: gossip.fanout must be an integer in 1..256, got '0'");
	assert_error(NODES "gossip:\n  fanout: 257\n",
		     "t.yaml:4:11: gossip.fanout must be an integer in 1..256, got '257'");
	assert_error(NODES "gossip:\n  fanout: -1\n",
		     "t.yaml:4:11: gossip.fanout must be an integer in 1..256, got '-1'");
	assert_error(NODES "gossip:\n  fanout: 99999999999999999999999\n",
		     "t.yaml:4:11: gossip.fanout must be an integer in 1..256, "
		     "got '99999999999999999999999'");
	assert_error(NODES "gossip:\n  max_datagram_bytes: 65508\n",
		     "t.yaml:4:23: gossip.max_datagram_bytes must be an integer in 512..65507, "
		     "got '65508'");
	assert_error(NODES "limits:\n  max_body_bytes: 1073741825\n",
		     "t.yaml:4:19: limits.max_body_bytes must be an integer in 1..1073741824, "
		     "got '1073741825'");
	assert_parses(NODES "gossip:\n  fanout: 1\n");
	ck_assert_int_eq(cfg.gossip.fanout, 1);
}
END_TEST

/* Sizes and counts must be positive: zero would disable a bound silently. */
START_TEST(test_positive_sizes)
{
	assert_error(NODES "limits:\n  cache_bytes: 0\n",
		     "t.yaml:4:16: limits.cache_bytes must be an integer in 1..68719476736, "
		     "got '0'");
	assert_error(NODES "limits:\n  cache_entries: 0\n",
		     "t.yaml:4:18: limits.cache_entries must be an integer in 1..10000000, "
		     "got '0'");
	assert_error(NODES "limits:\n  max_frame_bytes: 0\n",
		     "t.yaml:4:20: limits.max_frame_bytes must be an integer in 1..1073741824, "
		     "got '0'");
	assert_error(NODES "limits:\n  worker_slots: 0\n",
		     "t.yaml:4:17: limits.worker_slots must be an integer in 1..1024, got '0'");
	assert_error(NODES "limits:\n  max_output_bytes: -5\n",
		     "t.yaml:4:21: limits.max_output_bytes must be an integer in 1..1073741824, "
		     "got '-5'");
}
END_TEST

/* ---- nodes ---- */

START_TEST(test_duplicate_node_id)
{
	assert_error(
		"nodes:\n" NODE1 NODE("2", "127.0.0.1:7002", "127.0.0.1:7102", "127.0.0.1:7202")
			NODE("1", "127.0.0.1:7003", "127.0.0.1:7103", "127.0.0.1:7203"),
		"t.yaml:4:11: duplicate node id 1 (first defined at line 2)");
}
END_TEST

START_TEST(test_missing_node_fields)
{
	assert_error("nodes:\n"
		     "  - { gossip: 127.0.0.1:7001, work: 127.0.0.1:7101, http: 127.0.0.1:7201 }\n",
		     "t.yaml:2:5: node is missing required key 'id'");
	assert_error("nodes:\n  - { id: 1, work: 127.0.0.1:7101, http: 127.0.0.1:7201 }\n",
		     "t.yaml:2:5: node is missing required key 'gossip'");
	assert_error("nodes:\n  - { id: 1, gossip: 127.0.0.1:7001, http: 127.0.0.1:7201 }\n",
		     "t.yaml:2:5: node is missing required key 'work'");
	assert_error("nodes:\n" NODE1 "  - id: 2\n    gossip: 127.0.0.1:7002\n"
		     "    work: 127.0.0.1:7102\n",
		     "t.yaml:3:5: node is missing required key 'http'");
	assert_error("nodes:\n  - {}\n", "t.yaml:2:5: node is missing required key 'id'");
}
END_TEST

START_TEST(test_node_id_range)
{
	assert_error("nodes:\n" NODE("0", "127.0.0.1:7001", "127.0.0.1:7101", "127.0.0.1:7201"),
		     "t.yaml:2:11: node.id must be an integer in 1..65535, got '0'");
	assert_error("nodes:\n" NODE("65536", "127.0.0.1:7001", "127.0.0.1:7101", "127.0.0.1:7201"),
		     "t.yaml:2:11: node.id must be an integer in 1..65535, got '65536'");
	assert_error("nodes:\n" NODE("-3", "127.0.0.1:7001", "127.0.0.1:7101", "127.0.0.1:7201"),
		     "t.yaml:2:11: node.id must be an integer in 1..65535, got '-3'");
	assert_parses(
		"nodes:\n" NODE("65535", "127.0.0.1:7001", "127.0.0.1:7101", "127.0.0.1:7201"));
	ck_assert_int_eq(cfg.nodes[0].id, 65535);
}
END_TEST

START_TEST(test_nodes_required)
{
	assert_error("cluster: x\n", "t.yaml:1:1: missing required key 'nodes'");
	assert_error("\n\ncluster: x\n", "t.yaml:3:1: missing required key 'nodes'");
	assert_error("nodes: []\n", "t.yaml:1:8: nodes must list at least one node");
	assert_error("nodes:\n", "t.yaml:1:7: nodes must be a sequence, not an empty value");
}
END_TEST

static char *many_nodes(size_t count)
{
	size_t cap = 64 + count * 128, len;
	char *text = malloc(cap);

	ck_assert_ptr_nonnull(text);
	len = (size_t)snprintf(text, cap, "nodes:\n");
	for (size_t i = 1; i <= count; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"  - { id: %zu, gossip: 10.0.0.1:%zu, work: 10.0.0.1:%zu, "
					"http: 10.0.0.1:%zu }\n",
					i, 10000 + i, 20000 + i, 30000 + i);
	return text;
}

START_TEST(test_node_count_limit)
{
	char *text = many_nodes(FT_MAX_NODES);

	assert_parses(text);
	ck_assert_uint_eq(cfg.n_nodes, FT_MAX_NODES);
	ck_assert_int_eq(ft_config_node(&cfg, FT_MAX_NODES)->line, FT_MAX_NODES + 1);
	free(text);

	text = many_nodes(FT_MAX_NODES + 1);
	assert_error(text, "t.yaml:258:5: too many nodes (at most 256)");
	free(text);
}
END_TEST

/* ---- addresses ---- */

START_TEST(test_bad_addresses_in_file)
{
	assert_error("nodes:\n" NODE("1", "127.0.0.1:99999", "127.0.0.1:7101", "127.0.0.1:7201"),
		     "t.yaml:2:22: bad address '127.0.0.1:99999': port must be 1..65535");
	assert_error("nodes:\n" NODE("1", "127.0.0.1:7001", "example.com:7101", "127.0.0.1:7201"),
		     "t.yaml:2:44: bad address 'example.com:7101': "
		     "host must be an IPv4 dotted quad or \"localhost\"");
	assert_error(NODES "gateway:\n  gossip: 7000\n",
		     "t.yaml:4:11: bad address '7000': expected host:port");
	assert_error(NODES "gateway:\n  gossip: '127.0.0.1:0'\n",
		     "t.yaml:4:11: bad address '127.0.0.1:0': port must be 1..65535");
	assert_error(NODES "gateway:\n  http: 127.0.0.1.5:80\n",
		     "t.yaml:4:9: bad address '127.0.0.1.5:80': "
		     "host must be an IPv4 dotted quad or \"localhost\"");
	assert_error(NODES "gateway:\n  http: 127.000000000000000000000000000000000000000000000000"
			   "00000000000000000000000000000.0.0.1:80\n",
		     "t.yaml:4:9: bad address "
		     "'127.00000000000000000000000000000000000000000000...': too long");
}
END_TEST

START_TEST(test_duplicate_endpoints)
{
	/* Within one node. */
	assert_error("nodes:\n" NODE("1", "127.0.0.1:7001", "127.0.0.1:7001", "127.0.0.1:7201"),
		     "t.yaml:2:44: endpoint '127.0.0.1:7001' is already used by node 1 gossip "
		     "('127.0.0.1:7001', line 2)");
	/* Across nodes, with "localhost" and 127.0.0.1 being the same host. */
	assert_error(
		"nodes:\n" NODE1 NODE("2", "127.0.0.1:7002", "127.0.0.1:7102", "localhost:7101"),
		"t.yaml:3:66: endpoint 'localhost:7101' is already used by node 1 work "
		"('127.0.0.1:7101', line 2)");
	/* Against the gateway's defaults. */
	assert_error("nodes:\n" NODE("1", "127.0.0.1:7000", "127.0.0.1:7101", "127.0.0.1:7201"),
		     "t.yaml:2:22: endpoint '127.0.0.1:7000' is already used by gateway gossip "
		     "('127.0.0.1:7000', default)");
	/* The later one in the file is reported, whichever section it is in. */
	assert_error("gateway:\n  http: 127.0.0.1:7201\n" NODES,
		     "t.yaml:4:66: endpoint '127.0.0.1:7201' is already used by gateway http "
		     "('127.0.0.1:7201', line 2)");
	assert_error(NODES "gateway:\n  http: 127.0.0.1:7201\n",
		     "t.yaml:4:9: endpoint '127.0.0.1:7201' is already used by node 1 http "
		     "('127.0.0.1:7201', line 2)");
	assert_error(NODES "gateway: { http: 127.0.0.1:9000, gossip: 127.0.0.1:9000 }\n",
		     "t.yaml:3:42: endpoint '127.0.0.1:9000' is already used by gateway http "
		     "('127.0.0.1:9000', line 3)");
	/* Same port on different hosts is fine. */
	assert_parses("nodes:\n" NODE("1", "10.0.0.1:7001", "10.0.0.1:7101", "10.0.0.1:7201")
			      NODE("2", "10.0.0.2:7001", "10.0.0.2:7101", "10.0.0.2:7201"));
}
END_TEST

/* ---- other values ---- */

#define DIGITS63     \
	"0123456789" \
	"0123456789" \
	"0123456789" \
	"0123456789" \
	"0123456789" \
	"0123456789" \
	"012"
#define DIGITS64 DIGITS63 "3"

START_TEST(test_cluster_name)
{
	assert_error("cluster: bad name\n" NODES, "t.yaml:1:10: bad cluster name 'bad name': "
						  "use 1..63 characters from A-Z a-z 0-9 _ -");
	assert_error("cluster: a.b\n" NODES, "t.yaml:1:10: bad cluster name 'a.b': "
					     "use 1..63 characters from A-Z a-z 0-9 _ -");
	assert_error("cluster: ''\n" NODES, "t.yaml:1:10: cluster must not be empty");
	assert_error("cluster: " DIGITS64 "\n" NODES,
		     "t.yaml:1:10: bad cluster name "
		     "'012345678901234567890123456789012345678901234567...': "
		     "use 1..63 characters from A-Z a-z 0-9 _ -");
	assert_parses("cluster: " DIGITS63 "\n" NODES);
	ck_assert_uint_eq(strlen(cfg.cluster), 63);
	assert_parses("cluster: \"quoted-OK_1\"\n" NODES);
	ck_assert_str_eq(cfg.cluster, "quoted-OK_1");
}
END_TEST

START_TEST(test_zookeeper_connect)
{
	assert_parses("zookeeper:\n  connect: zk-1.example:2181,10.0.0.2:2182/ftcluster\n" NODES);
	ck_assert_str_eq(cfg.zk_connect, "zk-1.example:2181,10.0.0.2:2182/ftcluster");
	assert_error("zookeeper:\n  connect: zk1\n" NODES,
		     "t.yaml:2:12: bad zookeeper.connect 'zk1': each entry must be host:port");
	assert_error("zookeeper:\n  connect: zk1:2181,,zk2:2181\n" NODES,
		     "t.yaml:2:12: bad zookeeper.connect 'zk1:2181,,zk2:2181': "
		     "empty entry in the list");
	assert_error("zookeeper:\n  connect: zk1:0\n" NODES,
		     "t.yaml:2:12: bad zookeeper.connect 'zk1:0': port must be 1..65535");
	assert_error("zookeeper:\n  connect: 'zk1:2181, zk2:2181'\n" NODES,
		     "t.yaml:2:12: bad zookeeper.connect 'zk1:2181, zk2:2181': no blanks allowed");
}
END_TEST

START_TEST(test_gossip_timing_rules)
{
	assert_error(NODES "gossip:\n  interval_ms: 1000\n",
		     "t.yaml:4:16: gossip.fail_ms (2000) must be greater than "
		     "2 * gossip.interval_ms (1000)");
	assert_error(NODES "gossip:\n  interval_ms: 100\n  fail_ms: 200\n",
		     "t.yaml:5:12: gossip.fail_ms (200) must be greater than "
		     "2 * gossip.interval_ms (100)");
	assert_error(NODES "gossip:\n  cleanup_ms: 1999\n",
		     "t.yaml:4:15: gossip.cleanup_ms (1999) must be at least "
		     "gossip.fail_ms (2000)");
	assert_error(NODES "gossip:\n  fail_ms: 20000\n",
		     "t.yaml:4:12: gossip.cleanup_ms (10000) must be at least "
		     "gossip.fail_ms (20000)");
	assert_error(NODES "gossip:\n  fanout: 0\n",
		     "t.yaml:4:11: gossip.fanout must be an integer in 1..256, got '0'");
	assert_parses(NODES "gossip:\n  interval_ms: 100\n  fail_ms: 201\n  cleanup_ms: 201\n");
}
END_TEST

/* Every accepted request and every result must fit in an internal frame. */
START_TEST(test_frame_room)
{
	assert_error(NODES "limits:\n  max_frame_bytes: 1048576\n",
		     "t.yaml:4:20: limits.max_frame_bytes (1048576) must be at least "
		     "limits.max_body_bytes (1048576) + 65536, so that every accepted request can "
		     "be forwarded");
	assert_error(NODES "limits:\n  max_body_bytes: 8388608\n",
		     "t.yaml:4:19: limits.max_frame_bytes (4194304) must be at least "
		     "limits.max_body_bytes (8388608) + 65536, so that every accepted request can "
		     "be forwarded");
	assert_error(NODES "limits:\n  max_output_bytes: 2097152\n",
		     "t.yaml:4:21: limits.max_frame_bytes (4194304) must be at least 3 * "
		     "limits.max_output_bytes (2097152) + 65536, so that every result (answer, "
		     "stdout, stderr) can be sent back");
	assert_parses(NODES "limits:\n  max_output_bytes: 2097152\n  max_frame_bytes: 6356992\n");
}
END_TEST

START_TEST(test_session_timeout)
{
	assert_error(NODES "zookeeper:\n  session_timeout_ms: 999\n",
		     "t.yaml:4:23: zookeeper.session_timeout_ms must be an integer in "
		     "1000..3600000, got '999'");
	assert_parses(NODES "zookeeper:\n  session_timeout_ms: 1000\n");
	ck_assert_int_eq(cfg.zk_session_timeout_ms, 1000);
}
END_TEST

START_TEST(test_paths)
{
	char long_path[FT_PATH_MAX + 64], text[FT_PATH_MAX + 256];

	memset(long_path, 'x', FT_PATH_MAX);
	long_path[0] = '/';
	long_path[FT_PATH_MAX] = '\0';
	snprintf(text, sizeof(text), NODES "paths:\n  state_dir: %s\n", long_path);
	assert_error(text, "t.yaml:4:14: paths.state_dir is too long (at most 511 bytes)");
	long_path[FT_PATH_MAX - 1] = '\0';
	snprintf(text, sizeof(text), NODES "paths:\n  state_dir: %s\n", long_path);
	assert_parses(text);
	ck_assert_str_eq(cfg.state_dir, long_path);
}
END_TEST

/* err is written within errlen, always terminated, and may be absent. */
START_TEST(test_error_buffer)
{
	char small[12];

	memset(small, 'z', sizeof(small));
	ck_assert_int_eq(ft_config_parse("t.yaml", "x: 1\n", 5, &cfg, small, 8), -1);
	ck_assert_str_eq(small, "t.yaml:");
	ck_assert_int_eq(small[8], 'z');
	ck_assert_int_eq(ft_config_parse("t.yaml", "x: 1\n", 5, &cfg, NULL, 0), -1);
	ck_assert_int_eq(ft_config_parse("t.yaml", NODES, strlen(NODES), &cfg, NULL, 0), 0);
	/* The length is honoured: the text need not be terminated. */
	ck_assert_int_eq(ft_config_parse("t.yaml", NODES "cluster: bad name", strlen(NODES), &cfg,
					 err, sizeof(err)),
			 0);
}
END_TEST

/* ---- ft_addr_parse ---- */

START_TEST(test_addr_parse_good)
{
	static const struct {
		const char *text;
		const char *ip;
		uint16_t port;
	} cases[] = {
		{ "127.0.0.1:1", "127.0.0.1", 1 },
		{ "localhost:65535", "127.0.0.1", 65535 },
		{ "10.1.2.3:8080", "10.1.2.3", 8080 },
		{ "0.0.0.0:80", "0.0.0.0", 80 },
		{ "255.255.255.255:7000", "255.255.255.255", 7000 },
	};
	char ip[INET_ADDRSTRLEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ft_addr a;

		ck_assert_msg(ft_addr_parse(cases[i].text, &a) == 0, "%s", cases[i].text);
		ck_assert_str_eq(a.text, cases[i].text);
		ck_assert_int_eq(a.sa.sin_family, AF_INET);
		ck_assert_str_eq(ip_of(&a, ip), cases[i].ip);
		ck_assert_int_eq(port_of(&a), cases[i].port);
	}
}
END_TEST

START_TEST(test_addr_parse_bad)
{
	static const char *const cases[] = {
		"",
		"127.0.0.1",
		"127.0.0.1:",
		":80",
		"127.0.0.1:0",
		"127.0.0.1:65536",
		"127.0.0.1:99999",
		"127.0.0.1:-1",
		"127.0.0.1:+80",
		"127.0.0.1:80x",
		"127.0.0.1: 80",
		" 127.0.0.1:80",
		"256.0.0.1:80",
		"1.2.3:80",
		"1.2.3.4.5:80",
		"01.2.3.4:80",
		"example.com:80",
		"LOCALHOST:80",
		"::1:80",
		"[::1]:80",
		"127.0.0.1:80:80",
		"127.0000000000000000000000000000000000000000000000000000000000000000.0.0.1:80",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ft_addr a;

		ck_assert_msg(ft_addr_parse(cases[i], &a) == -1, "accepted '%s'", cases[i]);
	}
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *files = tcase_create("files");
	TCase *errors = tcase_create("errors");
	TCase *addr = tcase_create("addr");

	tcase_add_test(files, test_sample_file);
	tcase_add_test(files, test_missing_file);
	tcase_add_test(files, test_load_reports_path);
	tcase_add_test(files, test_defaults);
	tcase_add_test(files, test_overrides);
	tcase_add_test(files, test_block_style_nodes);
	suite_add_tcase(s, files);

	tcase_add_test(errors, test_syntax_errors);
	tcase_add_test(errors, test_document_shape);
	tcase_add_test(errors, test_unknown_keys);
	tcase_add_test(errors, test_logging_level);
	tcase_add_test(errors, test_sandbox_users);
	tcase_add_test(errors, test_duplicate_keys);
	tcase_add_test(errors, test_wrong_types);
	tcase_add_test(errors, test_integers);
	tcase_add_test(errors, test_positive_sizes);
	tcase_add_test(errors, test_duplicate_node_id);
	tcase_add_test(errors, test_missing_node_fields);
	tcase_add_test(errors, test_node_id_range);
	tcase_add_test(errors, test_nodes_required);
	tcase_add_test(errors, test_node_count_limit);
	tcase_add_test(errors, test_bad_addresses_in_file);
	tcase_add_test(errors, test_duplicate_endpoints);
	tcase_add_test(errors, test_cluster_name);
	tcase_add_test(errors, test_zookeeper_connect);
	tcase_add_test(errors, test_gossip_timing_rules);
	tcase_add_test(errors, test_session_timeout);
	tcase_add_test(errors, test_frame_room);
	tcase_add_test(errors, test_paths);
	tcase_add_test(errors, test_error_buffer);
	suite_add_tcase(s, errors);

	tcase_add_test(addr, test_addr_parse_good);
	tcase_add_test(addr, test_addr_parse_bad);
	suite_add_tcase(s, addr);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
