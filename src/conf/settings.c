#include "conf/settings.h"
#include "lib/allowlist.h"
#include "lib/hostlist.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef FT_PKGLIBDIR
#define DEFAULT_LIB_DIR FT_PKGLIBDIR
#else
#define DEFAULT_LIB_DIR "/usr/lib/ftcluster"
#endif

#ifdef FT_SYSCONFDIR
#define DEFAULT_KEY_FILE FT_SYSCONFDIR "/ftcluster/cluster.key"
#else
#define DEFAULT_KEY_FILE "/etc/ftcluster/cluster.key"
#endif

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))
#define FIELD_SIZE(type, member) sizeof(((type *)0)->member)

#define GiB (1024LL * 1024 * 1024)
#define MiB (1024LL * 1024)

#define ROW(type, sec, key, kind, member, lo, hi, def, text, reload)                               \
	{                                                                                          \
		sec, key, FT_SETTING_##kind, offsetof(type, member), FIELD_SIZE(type, member), lo, \
			hi, def, text, FT_RELOAD_##reload                                          \
	}
#define CFG_INT(sec, key, member, lo, hi, def, reload) \
	ROW(struct ft_config, sec, key, INT, member, lo, hi, def, NULL, reload)
#define CFG_SIZE(sec, key, member, lo, hi, def, reload) \
	ROW(struct ft_config, sec, key, SIZE, member, lo, hi, def, NULL, reload)
#define CFG_TEXT(kind, sec, key, member, def, reload) \
	ROW(struct ft_config, sec, key, kind, member, 0, 0, 0, def, reload)

/* LIVE: every user reads the value where it uses it, or is handed it on
 * reload (the runner's limits, conf/reload.h); RESTART: something was
 * built, sized, bound or joined with it at start.  Sized by its rows, so
 * that a count in the header that differs is a type conflict. */
const struct ft_setting ft_config_settings[] = {
	/* The ZooKeeper subtree the daemons joined. */
	CFG_TEXT(NAME, "", "cluster", cluster, "ftcluster", RESTART),

	CFG_TEXT(ZK_CONNECT, "zookeeper", "connect", zk_connect, "127.0.0.1:2181", RESTART),
	CFG_INT("zookeeper", "session_timeout_ms", zk_session_timeout_ms, 1000, 3600000, 2000,
		RESTART),
	/* Read once, at start. */
	CFG_INT("zookeeper", "start_wait_ms", zk_start_wait_ms, 0, 3600000, 10000, RESTART),
	/* Read by the election at start. */
	CFG_TEXT(TEXT, "zookeeper", "auth_file", zk_auth_file, "", RESTART),

	CFG_TEXT(ADDR, "gateway", "http", gw_http, "127.0.0.1:8888", RESTART),
	CFG_TEXT(ADDR, "gateway", "gossip", gw_gossip, "127.0.0.1:7000", RESTART),
	/* Who may use the gateway (gateway/access.h): read at every request,
	 * the tokens file again at every reload. */
	CFG_TEXT(TEXT, "gateway", "tokens_file", gw_access.tokens_file, "", LIVE),
	CFG_INT("gateway", "metrics_public", gw_access.metrics_public, 0, 1, 1, LIVE),
	CFG_INT("gateway", "rate_per_second", gw_access.rate_per_second, 0, 1000000, 0, LIVE),
	CFG_INT("gateway", "rate_burst", gw_access.rate_burst, 1, 1000000, 20, LIVE),
	CFG_INT("gateway", "rate_max_addresses", gw_access.rate_max_addresses, 1, 10000000, 10000,
		LIVE),
	CFG_TEXT(TEXT, "gateway", "cors_origins", gw_access.cors_origins, "", LIVE),
	CFG_TEXT(TEXT, "gateway", "allowed_hosts", gw_access.allowed_hosts, "", LIVE),
	/* The HTTP server is set up with them at start. */
	CFG_TEXT(TEXT, "gateway", "tls_cert_file", gw_access.tls_cert_file, "", RESTART),
	CFG_TEXT(TEXT, "gateway", "tls_key_file", gw_access.tls_key_file, "", RESTART),
	CFG_INT("gateway", "max_connections_per_address", gw_access.max_connections_per_address, 0,
		1000000, 0, RESTART),

	CFG_INT("leader", "lease_ms", leader.lease_ms, 0, 3600000, 3500, LIVE),
	CFG_INT("leader", "hold_off_ms", leader.hold_off_ms, 0, 86400000, 10000, LIVE),
	CFG_INT("gossip", "interval_ms", gossip.interval_ms, 1, 60000, 200, RESTART),
	CFG_INT("gossip", "fail_ms", gossip.fail_ms, 1, 3600000, 2000, RESTART),
	CFG_INT("gossip", "cleanup_ms", gossip.cleanup_ms, 1, 86400000, 10000, RESTART),
	CFG_INT("gossip", "fanout", gossip.fanout, 1, FT_MAX_NODES, 2, RESTART),
	/* 65507: the largest UDP payload over IPv4. */
	CFG_INT("gossip", "max_datagram_bytes", gossip.max_datagram_bytes, 512, 65507, 8192,
		RESTART),
	/* Authenticated gossip: how far ahead of this clock an incarnation may
	 * be, and how long ago a datagram may have been sent (gossip/freshness.h). */
	CFG_INT("gossip", "max_clock_skew_ms", gossip.max_clock_skew_ms, 1000, 86400000, 60000,
		RESTART),

	/* The HTTP server's. */
	CFG_SIZE("limits", "max_body_bytes", limits.max_body_bytes, 1, GiB, 1048576, RESTART),
	/* Every connection's. */
	CFG_SIZE("limits", "max_frame_bytes", limits.max_frame_bytes, 1, GiB, 4194304, RESTART),
	CFG_SIZE("limits", "max_output_bytes", limits.max_output_bytes, 1, GiB, 1048576, LIVE),
	CFG_INT("limits", "run_wall_ms", limits.run_wall_ms, 1, 86400000, 10000, LIVE),
	CFG_INT("limits", "compile_wall_ms", limits.compile_wall_ms, 1, 86400000, 30000, LIVE),
	CFG_INT("limits", "run_cpu_ms", limits.run_cpu_ms, 1, 86400000, 10000, LIVE),
	CFG_SIZE("limits", "run_memory_bytes", limits.run_memory_bytes, 64 * MiB, 64 * GiB,
		 256 * MiB, LIVE),
	CFG_SIZE("limits", "compile_memory_bytes", limits.compile_memory_bytes, 64 * MiB, 64 * GiB,
		 512 * MiB, LIVE),
	CFG_INT("limits", "run_max_processes", limits.run_max_processes, 24, 65536, 64, LIVE),
	CFG_SIZE("limits", "run_max_file_bytes", limits.run_max_file_bytes, 1, GiB, 16 * MiB, LIVE),
	/* 32: the JVM's own descriptors and some room (runner/limits.h). */
	CFG_INT("limits", "run_max_open_files", limits.run_max_open_files, 32, 1048576, 256, LIVE),
	CFG_INT("limits", "request_timeout_ms", limits.request_timeout_ms, 1, 86400000, 60000,
		LIVE),
	CFG_INT("limits", "max_pending_requests", limits.max_pending_requests, 1, 1000000, 1024,
		LIVE),
	/* The caches are sized at start. */
	CFG_INT("limits", "cache_entries", limits.cache_entries, 1, 10000000, 1024, RESTART),
	CFG_SIZE("limits", "cache_bytes", limits.cache_bytes, 1,
		 (unsigned long long)SIZE_MAX < 64ULL * GiB ? (long long)(SIZE_MAX / 2) : 64 * GiB,
		 67108864, RESTART),
	CFG_INT("limits", "worker_slots", limits.worker_slots, 1, 1024, 2, LIVE),
	CFG_INT("limits", "worker_backlog", limits.worker_backlog, 0, 1024, 2, LIVE),
	CFG_INT("limits", "max_queued_requests", limits.max_queued_requests, 1, 1000000, 4096,
		LIVE),
	CFG_INT("limits", "queue_lifo_ms", limits.queue_lifo_ms, 0, 86400000, 200, LIVE),
	CFG_INT("limits", "result_keep_ms", limits.result_keep_ms, 1, 604800000, 600000, LIVE),
	/* The HTTP server's. */
	CFG_INT("limits", "max_connections", limits.max_connections, 1, 1000000, 512, RESTART),
	CFG_INT("limits", "connection_timeout_s", limits.connection_timeout_s, 1, 86400, 30,
		RESTART),
	CFG_INT("limits", "collect_timeout_ms", limits.collect_timeout_ms, 1, 600000, 500, LIVE),
	CFG_INT("limits", "stop_drain_ms", limits.stop_drain_ms, 0, 3600000, 3000, LIVE),
	CFG_INT("limits", "election_settle_ms", limits.election_settle_ms, 0, 600000, 1000, LIVE),
	/* The heartbeat logs are opened with it. */
	CFG_SIZE("limits", "log_file_max_bytes", limits.log_file_max_bytes, 4096, GiB, 16 * MiB,
		 RESTART),
	CFG_INT("limits", "max_files", limits.max_files, 1, 4096, 64, LIVE),
	CFG_INT("limits", "max_args", limits.max_args, 0, 65536, 256, LIVE),
	CFG_INT("limits", "max_batch_runs", limits.max_batch_runs, 1, 10000, 20, LIVE),
	CFG_INT("limits", "result_ttl_ms", limits.result_ttl_ms, 1, 604800000, 600000, LIVE),
	CFG_INT("limits", "max_stored_runs", limits.max_stored_runs, 1, 10000000, 10000, LIVE),
	CFG_INT("limits", "run_attempts", limits.run_attempts, 1, 100, 3, LIVE),
	CFG_INT("limits", "hello_timeout_ms", limits.hello_timeout_ms, 1, 600000, 5000, LIVE),
	CFG_INT("limits", "max_unidentified_per_address", limits.max_unidentified_per_address, 1,
		100000, 16, LIVE),
	CFG_INT("limits", "leader_confirm_ms", limits.leader_confirm_ms, 1, 600000, 2000, LIVE),
	/* Member links are set up with them at start (lib/conn.h). */
	CFG_INT("limits", "link_heartbeat_ms", limits.link_heartbeat_ms, 10, 600000, 500, RESTART),
	CFG_INT("limits", "link_timeout_ms", limits.link_timeout_ms, 100, 3600000, 3000, RESTART),
	CFG_INT("limits", "connect_timeout_ms", limits.connect_timeout_ms, 100, 600000, 2000,
		RESTART),

	CFG_TEXT(STRING, "logging", "level", log_level, "info", LIVE),
	CFG_INT("logging", "rejected_per_second", log_rejected_per_second, 0, 1000000, 10, LIVE),

	/* The gateway reads the secret and starts its senders at start. */
	CFG_TEXT(TEXT, "callbacks", "allowed_hosts", callbacks.allowed_hosts, "", RESTART),
	CFG_TEXT(TEXT, "callbacks", "secret_file", callbacks.secret_file, "", RESTART),
	CFG_INT("callbacks", "attempts", callbacks.attempts, 1, 100, 5, RESTART),
	CFG_INT("callbacks", "retry_ms", callbacks.retry_ms, 1, 3600000, 1000, RESTART),
	CFG_INT("callbacks", "max_retry_ms", callbacks.max_retry_ms, 1, 86400000, 60000, RESTART),
	CFG_INT("callbacks", "timeout_ms", callbacks.timeout_ms, 1, 600000, 5000, RESTART),
	CFG_INT("callbacks", "max_queued", callbacks.max_queued, 1, 1000000, 10000, RESTART),
	CFG_INT("callbacks", "senders", callbacks.senders, 1, 64, 2, RESTART),

	/* The runner sets up its sandbox, uid pool and memory mechanism at
	 * start. */
	CFG_INT("sandbox", "enabled", sandbox.enabled, 0, 1, 1, RESTART),
	CFG_INT("sandbox", "allow_unsafe", sandbox.allow_unsafe, 0, 1, 0, RESTART),
	CFG_TEXT(STRING, "sandbox", "bwrap", sandbox.bwrap, "/usr/bin/bwrap", RESTART),
	/* With uid_count at most 65536, the range ends by 2^31 - 1 (uids
	 * beyond are not portable). */
	CFG_INT("sandbox", "uid_first", sandbox.uid_first, 1, 2147418112,
		FT_DEFAULT_SANDBOX_UID_FIRST, RESTART),
	CFG_INT("sandbox", "uid_count", sandbox.uid_count, 1, 65536, FT_DEFAULT_SANDBOX_UID_COUNT,
		RESTART),
	CFG_TEXT(STRING, "sandbox", "memory", sandbox.memory, "auto", RESTART),

	/* Directories made, logs opened, the runner set up at start. */
	CFG_TEXT(STRING, "paths", "state_dir", state_dir, "/var/lib/ftcluster", RESTART),
	CFG_TEXT(STRING, "paths", "log_dir", log_dir, "/var/log/ftcluster", RESTART),
	CFG_TEXT(STRING, "paths", "java", java, "/usr/bin/java", RESTART),
	CFG_TEXT(STRING, "paths", "lib_dir", lib_dir, DEFAULT_LIB_DIR, RESTART),
	CFG_TEXT(STRING, "paths", "run_dir", run_dir, "/run/ftcluster", RESTART),
	/* Read again at every reload, so that keys roll without a restart;
	 * connections keep the keys they were opened with. */
	CFG_TEXT(STRING, "paths", "key_file", key_file, DEFAULT_KEY_FILE, LIVE),
	CFG_TEXT(TEXT, "paths", "key_file_next", key_file_next, "", LIVE),
};

#define NODE_ROW(key, kind, member, lo, hi) \
	ROW(struct ft_node_conf, "node", key, kind, member, lo, hi, 0, NULL, RESTART)

const struct ft_setting ft_node_settings[] = {
	NODE_ROW("id", INT, id, 1, 65535),
	NODE_ROW("gossip", ADDR, gossip, 0, 0),
	NODE_ROW("work", ADDR, work, 0, 0),
	NODE_ROW("http", ADDR, http, 0, 0),
};

size_t ft_config_setting_index(const char *label)
{
	const char *dot = strchr(label, '.');
	char section[32] = "";
	const char *key = label;

	if (dot) {
		snprintf(section, sizeof(section), "%.*s", (int)(dot - label), label);
		key = dot + 1;
	}
	const struct ft_setting *s =
		ft_setting_find(ft_config_settings, FT_CONFIG_N_SETTINGS, section, key);
	if (!s)
		abort(); /* a typo in the code, not in the configuration */
	return (size_t)(s - ft_config_settings);
}

void ft_config_defaults(struct ft_config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < FT_CONFIG_N_SETTINGS; i++)
		if (ft_setting_set_default(&ft_config_settings[i], c) < 0)
			abort(); /* a default its own row refuses: check_settings says which */
}

/* ---- rules ---- */

static int rule_failed(char *msg, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int rule_failed(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* A member must miss at least two heartbeats before it is called failed. */
static int gossip_fail_after_two_intervals(const struct ft_config *c, char *msg, size_t len)
{
	const struct ft_gossip_conf *g = &c->gossip;
	if ((long long)g->fail_ms > 2LL * g->interval_ms)
		return 0;
	return rule_failed(msg, len,
			   "gossip.fail_ms (%d) must be greater than 2 * gossip.interval_ms (%d)",
			   g->fail_ms, g->interval_ms);
}

static int gossip_cleanup_after_fail(const struct ft_config *c, char *msg, size_t len)
{
	const struct ft_gossip_conf *g = &c->gossip;
	if (g->cleanup_ms >= g->fail_ms)
		return 0;
	return rule_failed(msg, len, "gossip.cleanup_ms (%d) must be at least gossip.fail_ms (%d)",
			   g->cleanup_ms, g->fail_ms);
}

/* Two heartbeats may be lost before a link is given up. */
static int link_timeout_after_heartbeats(const struct ft_config *c, char *msg, size_t len)
{
	const struct ft_limits *l = &c->limits;
	if ((long long)l->link_timeout_ms > 2LL * l->link_heartbeat_ms)
		return 0;
	return rule_failed(msg, len,
			   "limits.link_timeout_ms (%d) must be greater than 2 * "
			   "limits.link_heartbeat_ms (%d)",
			   l->link_timeout_ms, l->link_heartbeat_ms);
}

/* Room in a frame beyond its payload: the JSON meta (IDs, verdict, the
 * job object's names and arguments). */
#define FRAME_META_ROOM 65536

/* A source (or a JSON API run: its files, stdin and arguments all came in
 * one body) travels in one frame... */
static int frame_holds_body(const struct ft_config *c, char *msg, size_t len)
{
	const struct ft_limits *l = &c->limits;
	unsigned long long frame = l->max_frame_bytes;
	if (frame >= (unsigned long long)l->max_body_bytes + FRAME_META_ROOM)
		return 0;
	return rule_failed(msg, len,
			   "limits.max_frame_bytes (%llu) must be at least limits.max_body_bytes "
			   "(%zu) + %d, so that every accepted request can be forwarded",
			   frame, l->max_body_bytes, FRAME_META_ROOM);
}

/* ...and so does a result: the answer, stdout and stderr. */
static int frame_holds_result(const struct ft_config *c, char *msg, size_t len)
{
	const struct ft_limits *l = &c->limits;
	unsigned long long frame = l->max_frame_bytes;
	if (frame >= 3ULL * l->max_output_bytes + FRAME_META_ROOM)
		return 0;
	return rule_failed(msg, len,
			   "limits.max_frame_bytes (%llu) must be at least 3 * "
			   "limits.max_output_bytes (%zu) + %d, so that every result (answer, "
			   "stdout, stderr) can be sent back",
			   frame, l->max_output_bytes, FRAME_META_ROOM);
}

static bool one_of(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return true;
	return false;
}

static int log_level_known(const struct ft_config *c, char *msg, size_t len)
{
	static const char *const levels[] = { "error", "warning", "notice", "info", "debug" };
	if (one_of(c->log_level, levels, COUNT_OF(levels)))
		return 0;
	return rule_failed(
		msg, len,
		"logging.level must be one of error, warning, notice, info, debug; got '%s'",
		c->log_level);
}

/* A node holds a uid per running job, one for its pre-started JVM and one
 * for its warm compiler. */
static int uids_for_every_sandbox(const struct ft_config *c, char *msg, size_t len)
{
	long long need = (long long)c->limits.worker_slots + 2;
	if (c->sandbox.uid_count >= need)
		return 0;
	return rule_failed(
		msg, len,
		"sandbox.uid_count (%d) must be at least limits.worker_slots + 2 (%lld): "
		"every sandbox of a node runs as a uid of its own",
		c->sandbox.uid_count, need);
}

static int memory_mode_known(const struct ft_config *c, char *msg, size_t len)
{
	static const char *const modes[] = { "auto", "cgroup2", "cgroup1", "rlimit" };
	if (one_of(c->sandbox.memory, modes, COUNT_OF(modes)))
		return 0;
	return rule_failed(msg, len,
			   "sandbox.memory must be one of auto, cgroup2, cgroup1, rlimit; got '%s'",
			   c->sandbox.memory);
}

/* Unsigned callbacks could be forged by anyone who can reach the
 * receiver: a host to call needs a key to sign with. */
static int callbacks_signed(const struct ft_config *c, char *msg, size_t len)
{
	if (!c->callbacks.allowed_hosts[0] || c->callbacks.secret_file[0])
		return 0;
	return rule_failed(msg, len,
			   "callbacks.allowed_hosts needs callbacks.secret_file: every callback "
			   "is signed");
}

static int callback_hosts_valid(const struct ft_config *c, char *msg, size_t len)
{
	char why[256];
	if (ft_host_list_check(c->callbacks.allowed_hosts, why, sizeof(why)) == 0)
		return 0;
	return rule_failed(msg, len, "callbacks.allowed_hosts: %s", why);
}

static int gateway_hosts_valid(const struct ft_config *c, char *msg, size_t len)
{
	char why[256];
	if (ft_host_list_check(c->gw_access.allowed_hosts, why, sizeof(why)) == 0)
		return 0;
	return rule_failed(msg, len, "gateway.allowed_hosts: %s", why);
}

static int gateway_origins_valid(const struct ft_config *c, char *msg, size_t len)
{
	char why[256];
	if (ft_origin_list_check(c->gw_access.cors_origins, why, sizeof(why)) == 0)
		return 0;
	return rule_failed(msg, len, "gateway.cors_origins: %s", why);
}

/* Half an HTTPS setup would serve plain HTTP where TLS was meant. */
static int gateway_tls_whole(const struct ft_config *c, char *msg, size_t len)
{
	const struct ft_gw_access_conf *a = &c->gw_access;
	if (!a->tls_cert_file[0] == !a->tls_key_file[0])
		return 0;
	return rule_failed(msg, len,
			   "gateway.tls_cert_file and gateway.tls_key_file go together: set both "
			   "for HTTPS, or neither");
}

const struct ft_config_rule ft_config_rules[] = {
	{ "gossip.fail_ms", "gossip.interval_ms", gossip_fail_after_two_intervals },
	{ "gossip.cleanup_ms", "gossip.fail_ms", gossip_cleanup_after_fail },
	{ "limits.link_timeout_ms", "limits.link_heartbeat_ms", link_timeout_after_heartbeats },
	{ "limits.max_frame_bytes", "limits.max_body_bytes", frame_holds_body },
	{ "limits.max_frame_bytes", "limits.max_output_bytes", frame_holds_result },
	{ "logging.level", "logging.level", log_level_known },
	{ "sandbox.uid_count", "limits.worker_slots", uids_for_every_sandbox },
	{ "sandbox.memory", "sandbox.memory", memory_mode_known },
	{ "callbacks.allowed_hosts", "callbacks.allowed_hosts", callback_hosts_valid },
	{ "callbacks.allowed_hosts", "callbacks.secret_file", callbacks_signed },
	{ "gateway.allowed_hosts", "gateway.allowed_hosts", gateway_hosts_valid },
	{ "gateway.cors_origins", "gateway.cors_origins", gateway_origins_valid },
	{ "gateway.tls_cert_file", "gateway.tls_key_file", gateway_tls_whole },
};

const size_t ft_config_n_rules = COUNT_OF(ft_config_rules);

const struct ft_config_rule *ft_config_broken_rule(const struct ft_config *c, char *msg, size_t len)
{
	for (size_t i = 0; i < ft_config_n_rules; i++)
		if (ft_config_rules[i].check(c, msg, len) < 0)
			return &ft_config_rules[i];
	return NULL;
}
