/* Cluster configuration: one YAML file describes the whole cluster.
 *
 * The parser turns the file into this typed structure and refuses anything
 * it does not understand with "file:line:column: what is wrong", so that a
 * typo never silently falls back to a default. */
#ifndef FT_CONFIG_H
#define FT_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FT_MAX_NODES 256
#define FT_NAME_MAX 64
#define FT_PATH_MAX 512

/* The gateway takes part in gossip under this member ID; nodes use 1..65535. */
#define FT_GATEWAY_ID 0

struct ft_addr {
	char text[80]; /* as written in the file, "host:port" */
	struct sockaddr_in sa;
};

struct ft_node_conf {
	int id;		       /* 1..65535, unique */
	struct ft_addr gossip; /* UDP heartbeats */
	struct ft_addr work;   /* TCP frames: gateway->leader, leader<->worker */
	struct ft_addr http;   /* HTTP: heartbeat log endpoints */
	int line;	       /* where it was defined, for messages */
};

struct ft_gossip_conf {
	int interval_ms; /* how often a member bumps its counter and sends */
	int fail_ms;	 /* no counter rise for this long: member failed */
	int cleanup_ms;	 /* failed this long: member dropped from the table */
	int fanout;	 /* members sent to per interval */
	int max_datagram_bytes;
	int max_clock_skew_ms; /* incarnations ahead / datagrams sent ago: refused beyond */
};

/* When a leader gives leadership up for want of followers (node/leader.c). */
struct ft_leader_conf {
	int lease_ms;	 /* cut from the gateway or most workers this long: step down; 0 never */
	int hold_off_ms; /* then stand aside this long (doubling on repeats) */
};

struct ft_limits {
	size_t max_body_bytes;	 /* HTTP request bodies */
	size_t max_frame_bytes;	 /* internal TCP frames */
	size_t max_output_bytes; /* program output kept */
	int run_wall_ms;	 /* the run phase, wall clock */
	int compile_wall_ms;	 /* the compile phase, wall clock */
	int run_cpu_ms;		 /* CPU time of the run phase, all its processes */
	size_t run_memory_bytes; /* memory of the run phase */
	size_t compile_memory_bytes;
	int run_max_processes;		  /* processes + threads of the run phase */
	size_t run_max_file_bytes;	  /* largest file a program may write */
	int run_max_open_files;		  /* RLIMIT_NOFILE of a run's processes */
	int request_timeout_ms;		  /* gateway gives up with 503 after this */
	int max_pending_requests;	  /* gateway: unanswered requests held */
	int cache_entries;		  /* gateway response cache */
	size_t cache_bytes;		  /* gateway response cache, total */
	int worker_slots;		  /* concurrent runs per worker */
	int worker_backlog;		  /* leader: requests a worker holds beyond its slots */
	int max_queued_requests;	  /* leader: requests waiting for a worker */
	int queue_lifo_ms;		  /* leader: oldest waited this long: newest first */
	int result_keep_ms;		  /* worker keeps an uncollected result this long */
	int max_connections;		  /* gateway HTTP connections */
	int connection_timeout_s;	  /* idle / slow HTTP clients */
	int collect_timeout_ms;		  /* new leader waits this long for worker inventories */
	int stop_drain_ms;		  /* clean stop waits this long for results to be taken */
	int election_settle_ms;		  /* wait after registering before claiming the lead */
	size_t log_file_max_bytes;	  /* heartbeat log files rotate at this size */
	int max_files;			  /* source files of one run (JSON API) */
	int max_args;			  /* arguments of one run (JSON API) */
	int max_batch_runs;		  /* runs one batch request may start */
	int result_ttl_ms;		  /* gateway keeps a finished JSON API run this long */
	int max_stored_runs;		  /* gateway keeps at most this many JSON API runs */
	int run_attempts;		  /* leader starts a request on at most this many workers */
	int hello_timeout_ms;		  /* an accepted connection says HELLO within this */
	int max_unidentified_per_address; /* accepted, HELLO not yet said, per peer IP */
	int leader_confirm_ms;	/* a worker waits this long for ZooKeeper to name a leader */
	int link_heartbeat_ms;	/* an idle member link says PING this often */
	int link_timeout_ms;	/* a member link silent this long is closed */
	int connect_timeout_ms; /* connect + key handshake of a member link */
};

/* How compile and run children are sandboxed (runner/sandbox.h). */
#define FT_DEFAULT_SANDBOX_UID_FIRST 300000
#define FT_DEFAULT_SANDBOX_UID_COUNT 64

struct ft_sandbox_settings {
	int enabled;	  /* 1 (default): bubblewrap; 0: rlimits only */
	int allow_unsafe; /* 1: enabled 0 even when ftnode runs as root */
	char bwrap[FT_PATH_MAX];
	/* Sandbox users: uid_first .. uid_first + uid_count - 1, each with the
	 * group of the same number, shared by every node of a host
	 * (runner/uidpool.h). */
	int uid_first;
	int uid_count;
	char memory[16]; /* auto | cgroup2 | cgroup1 | rlimit */
};

/* Where and how the gateway POSTs a finished run that asked for it
 * (callback_url; gateway/callback.h).  Set up at start. */
struct ft_callbacks_conf {
	/* "host" or "host:port" entries, separated by spaces or commas; a
	 * callback_url elsewhere is refused.  Empty: no callbacks. */
	char allowed_hosts[1024];
	char secret_file[FT_PATH_MAX]; /* the HMAC-SHA256 key, whole file */
	int attempts;		       /* deliveries tried before giving up */
	int retry_ms;		       /* first back-off, doubled each time */
	int max_retry_ms;	       /* the longest back-off */
	int timeout_ms;		       /* one delivery attempt */
	int max_queued;		       /* undelivered callbacks kept; more are dropped */
	int senders;		       /* deliveries under way at once */
};

/* Who may use the gateway's HTTP API (gateway/access.h), and how it is
 * served (HTTPS, connections per address).  The gateway's section. */
struct ft_gw_access_conf {
	char tokens_file[FT_PATH_MAX];	 /* API tokens, one a line; "": no token needed */
	int metrics_public;		 /* 1: GET /metrics needs no token */
	int rate_per_second;		 /* per token or client address; 0: no limit */
	int rate_burst;			 /* requests a bucket holds */
	int rate_max_addresses;		 /* client addresses with a bucket, at most */
	char cors_origins[1024];	 /* origins browsers may read answers from */
	char allowed_hosts[1024];	 /* Host headers served; "": any */
	char tls_cert_file[FT_PATH_MAX]; /* PEM; with tls_key_file: HTTPS */
	char tls_key_file[FT_PATH_MAX];
	int max_connections_per_address; /* 0: only limits.max_connections */
};

struct ft_config {
	char path[FT_PATH_MAX]; /* file it came from */
	char cluster[FT_NAME_MAX];

	char zk_connect[256];
	int zk_session_timeout_ms;
	int zk_start_wait_ms;
	char zk_auth_file[FT_PATH_MAX]; /* digest credential, or "" (open ACLs) */

	struct ft_addr gw_http;	  /* client-facing HTTP (default port 8888) */
	struct ft_addr gw_gossip; /* the gateway's gossip endpoint */
	struct ft_gw_access_conf gw_access;

	struct ft_gossip_conf gossip;
	struct ft_leader_conf leader;
	struct ft_limits limits;
	struct ft_sandbox_settings sandbox;
	struct ft_callbacks_conf callbacks;

	char state_dir[FT_PATH_MAX];	 /* per-node job directories */
	char log_dir[FT_PATH_MAX];	 /* per-node heartbeat logs */
	char java[FT_PATH_MAX];		 /* java binary */
	char lib_dir[FT_PATH_MAX];	 /* where ftcluster.jar lives */
	char run_dir[FT_PATH_MAX];	 /* host-wide runtime state: sandbox uid claims */
	char key_file[FT_PATH_MAX];	 /* the cluster key (lib/keyring.h) */
	char key_file_next[FT_PATH_MAX]; /* a second key accepted while keys roll, or "" */
	char log_level[16];		 /* error, warning, notice, info, debug */
	int log_rejected_per_second;	 /* rejected datagrams logged one by one */

	size_t n_nodes;
	struct ft_node_conf nodes[FT_MAX_NODES];
};

/* Parse and validate PATH into *out (which the call fills entirely, defaults
 * included).  On failure returns -1 and writes one line
 * "path:line:column: message" into err (never longer than errlen). */
int ft_config_load(const char *path, struct ft_config *out, char *err, size_t errlen);

/* Same, from a buffer; name is used in messages in place of a path. */
int ft_config_parse(const char *name, const char *text, size_t len, struct ft_config *out,
		    char *err, size_t errlen);

/* Node entry with this ID, or NULL. */
const struct ft_node_conf *ft_config_node(const struct ft_config *c, int id);

/* "host:port" -> sockaddr_in (IPv4 dotted quad or "localhost"). 0 on success. */
int ft_addr_parse(const char *text, struct ft_addr *out);

#endif
