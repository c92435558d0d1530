#include "election/election.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#include "lib/log.h"
#include "lib/secretfile.h"
#include "lib/util.h"

#define MAX_MEMBERS FT_MAX_NODES
/* While connected, a cheap read every so often proves that the client
 * library's threads still deliver (the watchdog asks); bounds in ms. */
#define PROBE_MIN_MS 1000
#define PROBE_MAX_MS 5000

enum zev_kind {
	ZEV_SESSION,	 /* state in .state */
	ZEV_WATCH,	 /* a data/child watch fired: re-read */
	ZEV_CHILDREN,	 /* member list read: rc, ids */
	ZEV_LEADER,	 /* leader znode read: rc, data, czxid, owner */
	ZEV_REGISTERED,	 /* our member znode create: rc */
	ZEV_LEADER_MADE, /* our leader znode create: rc */
	ZEV_STALE_GONE,	 /* stale member znode of ours deleted: rc */
	ZEV_PROBE,	 /* a liveness probe completed: rc */
};

struct zev {
	struct zev *next;
	enum zev_kind kind;
	unsigned gen; /* handle generation: events of a closed handle are dropped */
	int rc;
	int state;
	int leader;
	int64_t czxid;
	int64_t owner;
	size_t n_ids;
	int ids[MAX_MEMBERS];
};

struct ft_election {
	sd_event *ev;
	sd_event_source *wake_src;
	int wake_fd;
	pthread_mutex_t lock;
	struct zev *head, *tail; /* filled by the client thread */

	const struct ft_config *cfg;
	int self_id;
	ft_election_change_fn fn;
	void *ud;

	zhandle_t *zh;
	/* zookeeper.auth_file's "user:password", or "" (open ACLs). */
	char auth[512];
	struct ACL_vector top_acl, acl; /* /ftcluster, and the cluster's own znodes */
	struct ACL top_entries[1], own_entries[2];
	unsigned gen;
	bool connected;
	bool registered;
	bool creating_leader;
	sd_event_source *aside; /* standing aside: not registered, not a candidate */
	int64_t aside_since_ms;
	int aside_min_ms;	      /* ...and may end it early after this long */
	sd_event_source *aside_check; /* at aside_min_ms: is the seat empty? */
	int64_t registered_ms;
	sd_event_source *settle;
	int leader;	      /* -1 none */
	bool leader_known;    /* a leader read has completed since (re)connect */
	uint64_t epoch;	      /* czxid of the leader znode */
	unsigned data_losses; /* ft_election_data_losses */
	int64_t owner;	      /* its ephemeral owner session */
	size_t n_members;
	int members[MAX_MEMBERS];
	int64_t last_activity_ms;
	int64_t lost_ms;	 /* when the connection of a session was lost, or 0 */
	int64_t unconnected_ms;	 /* since when without a connection (start or loss), or 0 */
	sd_event_source *reopen; /* reopen_cb, while lost */
	sd_event_source *probe_timer;
	bool probe_pending;
	int64_t probe_sent_ms;

	char root[128], nodes_path[192], leader_path[192], self_path[256];
};

/* Completions get this as their data; it names the election and the handle
 * generation (both outlive the call: handles are closed on the loop thread,
 * which also frees the election only after closing the handle). */
struct zctx {
	struct ft_election *e;
	unsigned gen;
};

/* ---- client-thread side: copy and enqueue, nothing else ---- */

static void push(struct ft_election *e, struct zev *z)
{
	pthread_mutex_lock(&e->lock);
	if (e->tail)
		e->tail->next = z;
	else
		e->head = z;
	e->tail = z;
	pthread_mutex_unlock(&e->lock);
	uint64_t one = 1;
	ssize_t n = write(e->wake_fd, &one, sizeof(one));
	(void)n;
}

static struct zev *zev_new(enum zev_kind kind, unsigned gen, int rc)
{
	struct zev *z = ft_xcalloc(1, sizeof(*z));
	z->kind = kind;
	z->gen = gen;
	z->rc = rc;
	return z;
}

static void global_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	struct zctx *c = ctx;
	struct zev *z;
	if (type == ZOO_SESSION_EVENT) {
		z = zev_new(ZEV_SESSION, c->gen, 0);
		z->state = state;
	} else {
		z = zev_new(ZEV_WATCH, c->gen, 0);
	}
	push(c->e, z);
}

static void children_done(int rc, const struct String_vector *sv, const void *data)
{
	const struct zctx *c = data;
	struct zev *z = zev_new(ZEV_CHILDREN, c->gen, rc);
	for (int i = 0; rc == ZOK && sv && i < sv->count && z->n_ids < MAX_MEMBERS; i++) {
		char *end;
		long id = strtol(sv->data[i], &end, 10);
		if (*end == '\0' && id > 0 && id <= 65535)
			z->ids[z->n_ids++] = (int)id;
	}
	push(c->e, z);
}

static void leader_done(int rc, const char *value, int len, const struct Stat *st, const void *data)
{
	const struct zctx *c = data;
	struct zev *z = zev_new(ZEV_LEADER, c->gen, rc);
	z->leader = -1;
	if (rc == ZOK && value && len > 0 && len < 16) {
		char buf[16];
		memcpy(buf, value, (size_t)len);
		buf[len] = '\0';
		z->leader = atoi(buf);
	}
	if (rc == ZOK && st) {
		z->czxid = st->czxid;
		z->owner = st->ephemeralOwner;
	}
	push(c->e, z);
}

static void leader_exists_done(int rc, const struct Stat *st, const void *data)
{
	/* Only used to arm a creation watch; ZOK means it appeared meanwhile. */
	const struct zctx *c = data;
	if (rc == ZOK)
		push(c->e, zev_new(ZEV_WATCH, c->gen, 0));
}

static void registered_done(int rc, const char *value, const void *data)
{
	const struct zctx *c = data;
	push(c->e, zev_new(ZEV_REGISTERED, c->gen, rc));
}

static void leader_made_done(int rc, const char *value, const void *data)
{
	const struct zctx *c = data;
	push(c->e, zev_new(ZEV_LEADER_MADE, c->gen, rc));
}

static void stale_deleted_done(int rc, const void *data)
{
	const struct zctx *c = data;
	push(c->e, zev_new(ZEV_STALE_GONE, c->gen, rc));
}

static void probe_done(int rc, const struct Stat *st, const void *data)
{
	const struct zctx *c = data;
	push(c->e, zev_new(ZEV_PROBE, c->gen, rc));
}

static void path_done(int rc, const char *value, const void *data)
{
	/* Persistent parents: ZNODEEXISTS is the usual answer. */
}

/* ---- loop-thread side ---- */

static struct zctx *ctx_for(struct ft_election *e)
{
	/* One context per generation, kept for the election's lifetime (a few
	 * bytes per session expiry), since the library may still hold it. */
	struct zctx *c = ft_xcalloc(1, sizeof(*c));
	c->e = e;
	c->gen = e->gen;
	return c;
}

static struct zctx *cur_ctx(struct ft_election *e);

static void notify(struct ft_election *e)
{
	if (e->fn)
		e->fn(e->ud);
}

static void read_members(struct ft_election *e)
{
	zoo_awget_children(e->zh, e->nodes_path, global_watcher, cur_ctx(e), children_done,
			   cur_ctx(e));
}

static void read_leader(struct ft_election *e)
{
	zoo_awget(e->zh, e->leader_path, global_watcher, cur_ctx(e), leader_done, cur_ctx(e));
}

static void synced(int rc, const char *value, const void *data)
{
	/* Only orders the read behind it. */
}

void ft_election_refresh(struct ft_election *e)
{
	if (!e->zh || !e->connected)
		return;
	zoo_async(e->zh, e->leader_path, synced, NULL);
	read_leader(e);
}

static void gone(int rc, const void *data)
{
	/* Our own znodes: gone, or gone already (ZNONODE). */
}

static void do_register(struct ft_election *e);

static void end_aside(struct ft_election *e)
{
	e->aside = sd_event_source_disable_unref(e->aside);
	e->aside_check = sd_event_source_disable_unref(e->aside_check);
	if (e->zh && e->connected && !e->registered)
		do_register(e);
}

static int aside_over_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	struct ft_election *e = ud;
	ft_log_info("zookeeper: standing aside over; registering again");
	end_aside(e);
	return 0;
}

/* Standing aside keeps a node whose links fail from taking leadership back,
 * on the bet that another will lead.  When no other does (every candidate
 * stood aside too, after faults moved leadership round them all), the bet
 * is lost and the cluster would sit without a leader until a hold-off ran
 * out: a node that has stood aside for aside_min_ms then registers again. */
static void check_vacancy(struct ft_election *e)
{
	if (!e->aside || !e->connected || !e->leader_known || e->leader >= 0 || e->n_members > 0)
		return;
	int64_t aside_ms = ft_now_ms() - e->aside_since_ms;
	if (aside_ms < e->aside_min_ms)
		return;
	ft_log_notice("zookeeper: no leader and no other candidate; standing aside ended after "
		      "%lld ms",
		      (long long)aside_ms);
	end_aside(e);
}

static int aside_check_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	struct ft_election *e = ud;
	e->aside_check = sd_event_source_disable_unref(e->aside_check);
	check_vacancy(e);
	return 0;
}

void ft_election_step_aside(struct ft_election *e, int hold_ms, int min_ms)
{
	if (e->self_id == FT_GATEWAY_ID || !e->zh)
		return;
	bool leading = ft_election_is_leader(e);
	/* The member znode first: when the others see the leader znode go,
	 * this node is no longer among the candidates they count. */
	if (e->registered)
		zoo_adelete(e->zh, e->self_path, -1, gone, NULL);
	e->registered = false;
	if (leading)
		zoo_adelete(e->zh, e->leader_path, -1, gone, NULL);
	e->aside = sd_event_source_disable_unref(e->aside);
	sd_event_add_time_relative(e->ev, &e->aside, CLOCK_MONOTONIC, (uint64_t)hold_ms * 1000,
				   10000, aside_over_cb, e);
	e->aside_since_ms = ft_now_ms();
	e->aside_min_ms = min_ms < hold_ms ? min_ms : hold_ms;
	e->aside_check = sd_event_source_disable_unref(e->aside_check);
	sd_event_add_time_relative(e->ev, &e->aside_check, CLOCK_MONOTONIC,
				   (uint64_t)e->aside_min_ms * 1000, 10000, aside_check_cb, e);
}

static void do_register(struct ft_election *e)
{
	char data[16];
	int n = snprintf(data, sizeof(data), "%d", e->self_id);
	zoo_acreate(e->zh, e->self_path, data, n, &e->acl, ZOO_EPHEMERAL, registered_done,
		    cur_ctx(e));
}

static void on_connected(struct ft_election *e)
{
	/* Requests on one session are served in order, so by the time the reads
	 * run, the parents and our own registration exist. */
	static const char *const none = "";
	zoo_acreate(e->zh, "/ftcluster", none, 0, &e->top_acl, 0, path_done, NULL);
	zoo_acreate(e->zh, e->root, none, 0, &e->acl, 0, path_done, NULL);
	zoo_acreate(e->zh, e->nodes_path, none, 0, &e->acl, 0, path_done, NULL);
	if (e->self_id != FT_GATEWAY_ID && !e->registered && !e->aside)
		do_register(e);
	read_members(e);
	read_leader(e);
}

static int max_member(const struct ft_election *e)
{
	int m = -1;
	for (size_t i = 0; i < e->n_members; i++)
		if (e->members[i] > m)
			m = e->members[i];
	return m;
}

static void consider(struct ft_election *e);

static int settle_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	struct ft_election *e = ud;
	e->settle = sd_event_source_disable_unref(e->settle);
	consider(e);
	return 0;
}

/* Take the lead if the seat is empty and we are the highest live ID. */
static void consider(struct ft_election *e)
{
	if (e->self_id == FT_GATEWAY_ID || !e->connected || !e->registered || !e->leader_known ||
	    e->leader >= 0 || e->creating_leader)
		return;
	if (max_member(e) != e->self_id)
		return;
	/* After registering, wait before claiming an empty seat, so that nodes
	 * started together all register first and the highest ID wins (a
	 * leader is never pre-empted later).  Fail-over is not delayed: by then
	 * every candidate has long been registered. */
	int64_t wait = e->registered_ms + e->cfg->limits.election_settle_ms - ft_now_ms();
	if (wait > 0) {
		if (!e->settle)
			sd_event_add_time_relative(e->ev, &e->settle, CLOCK_MONOTONIC,
						   (uint64_t)wait * 1000, 10000, settle_cb, e);
		return;
	}
	char data[16];
	int n = snprintf(data, sizeof(data), "%d", e->self_id);
	e->creating_leader = true;
	zoo_acreate(e->zh, e->leader_path, data, n, &e->acl, ZOO_EPHEMERAL, leader_made_done,
		    cur_ctx(e));
}

static void open_session(struct ft_election *e);

static void reopen_session(struct ft_election *e)
{
	if (!e->unconnected_ms)
		e->unconnected_ms = ft_now_ms();
	e->connected = false;
	e->registered = false;
	e->leader_known = false;
	e->creating_leader = false;
	e->lost_ms = 0;
	e->reopen = sd_event_source_disable_unref(e->reopen);
	zookeeper_close(e->zh);
	e->zh = NULL;
	open_session(e);
}

/* Out of touch for twice the session timeout: the server has ended the
 * session, or has none to end.  A server that lost its data (restored from
 * nothing, a disk replaced) refuses the old handle until its own
 * transaction id passes the last one the handle saw, which on a quiet
 * cluster is never; a new handle is refused by nobody.  Members that lost
 * the server together reopen together, and so register within
 * limits.election_settle_ms of each other: the highest ID leads again. */
static int reopen_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	struct ft_election *e = ud;
	e->reopen = sd_event_source_disable_unref(e->reopen);
	if (!e->zh || e->connected)
		return 0;
	ft_log_warn("zookeeper: out of touch for %lld ms, twice the session timeout; "
		    "opening a new session",
		    (long long)(ft_now_ms() - e->lost_ms));
	reopen_session(e);
	notify(e);
	return 0;
}

static void handle_session(struct ft_election *e, int state)
{
	if (state == ZOO_CONNECTED_STATE) {
		bool was = e->connected;
		e->connected = true;
		e->leader_known = false;
		e->lost_ms = 0;
		e->unconnected_ms = 0;
		e->reopen = sd_event_source_disable_unref(e->reopen);
		ft_log_info("zookeeper: connected (session 0x%llx)",
			    (unsigned long long)zoo_client_id(e->zh)->client_id);
		if (!was)
			on_connected(e);
	} else if (state == ZOO_EXPIRED_SESSION_STATE) {
		ft_log_warn("zookeeper: session expired; opening a new session");
		reopen_session(e);
	} else if (state == ZOO_AUTH_FAILED_STATE) {
		ft_log_err("zookeeper: authentication failed");
		if (e->connected)
			e->unconnected_ms = ft_now_ms();
		e->connected = false;
	} else {
		if (e->connected) {
			ft_log_warn(
				"zookeeper: connection lost; leadership suspended until reconnected");
			e->lost_ms = ft_now_ms();
			e->unconnected_ms = e->lost_ms;
			if (!e->reopen)
				sd_event_add_time_relative(
					e->ev, &e->reopen, CLOCK_MONOTONIC,
					2ULL * (uint64_t)e->cfg->zk_session_timeout_ms * 1000,
					10000, reopen_cb, e);
		}
		e->connected = false;
		e->leader_known = false;
	}
	notify(e);
}

static void set_members(struct ft_election *e, const int *ids, size_t n)
{
	/* Sorted ascending for callers; n is small. */
	e->n_members = n;
	memcpy(e->members, ids, n * sizeof(int));
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && e->members[j - 1] > e->members[j]; j--) {
			int t = e->members[j];
			e->members[j] = e->members[j - 1];
			e->members[j - 1] = t;
		}
}

static void handle(struct ft_election *e, struct zev *z)
{
	switch (z->kind) {
	case ZEV_SESSION:
		handle_session(e, z->state);
		return;
	case ZEV_WATCH:
		if (!e->zh || !e->connected)
			return;
		read_members(e);
		read_leader(e);
		return;
	case ZEV_CHILDREN:
		if (z->rc == ZOK) {
			set_members(e, z->ids, z->n_ids);
			consider(e);
			check_vacancy(e);
			notify(e);
		}
		return;
	case ZEV_LEADER: {
		if (z->rc == ZNONODE) {
			e->leader = -1;
			e->leader_known = true;
			/* Arm a watch for its creation. */
			zoo_awexists(e->zh, e->leader_path, global_watcher, cur_ctx(e),
				     leader_exists_done, cur_ctx(e));
			consider(e);
			check_vacancy(e);
		} else if (z->rc == ZOK) {
			uint64_t old = e->epoch;
			int old_leader = e->leader;
			e->leader = z->leader;
			e->leader_known = true;
			e->owner = z->owner;
			if ((uint64_t)z->czxid > e->epoch) {
				e->epoch = (uint64_t)z->czxid;
			} else if ((uint64_t)z->czxid < e->epoch && z->leader >= 0) {
				/* Every read of the leader follows a write or a sync of
				 * this session, or a watch: a server that lags cannot
				 * answer it, so an older znode is ZooKeeper's data
				 * gone back, and the cluster follows it. */
				ft_log_election(LOG_WARNING, (uint64_t)z->czxid, z->leader,
						"zookeeper: the leader znode's epoch %llu is older "
						"than epoch %llu seen before: ZooKeeper lost its "
						"data; following it",
						(unsigned long long)z->czxid,
						(unsigned long long)e->epoch);
				e->epoch = (uint64_t)z->czxid;
				e->data_losses++;
			}
			if (old != e->epoch || old_leader != e->leader)
				ft_log_election(LOG_NOTICE, e->epoch, e->leader,
						"zookeeper: leader is %d (epoch %llu)", e->leader,
						(unsigned long long)e->epoch);
		} else {
			return;
		}
		notify(e);
		return;
	}
	case ZEV_REGISTERED:
		if (z->rc == ZOK) {
			e->registered = true;
			e->registered_ms = ft_now_ms();
			ft_log_info("zookeeper: registered %s", e->self_path);
			read_members(e);
		} else if (z->rc == ZNODEEXISTS) {
			/* Left by a previous life whose session has not expired
			 * yet: the ID is ours, so replace it. */
			ft_log_info("zookeeper: replacing stale %s", e->self_path);
			zoo_adelete(e->zh, e->self_path, -1, stale_deleted_done, cur_ctx(e));
		}
		return;
	case ZEV_STALE_GONE:
		if (e->connected && !e->registered && !e->aside)
			do_register(e);
		return;
	case ZEV_PROBE:
		e->probe_pending = false;
		return;
	case ZEV_LEADER_MADE:
		e->creating_leader = false;
		if (z->rc == ZOK)
			ft_log_election(LOG_NOTICE, 0, e->self_id,
					"zookeeper: created the leader znode");
		read_leader(e);
		return;
	}
}

static int wake_cb(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct ft_election *e = ud;
	uint64_t v;
	ssize_t n = read(fd, &v, sizeof(v));
	(void)n;
	pthread_mutex_lock(&e->lock);
	struct zev *z = e->head;
	e->head = e->tail = NULL;
	pthread_mutex_unlock(&e->lock);
	e->last_activity_ms = ft_now_ms();
	while (z) {
		struct zev *next = z->next;
		if (z->gen == e->gen && e->zh)
			handle(e, z);
		free(z);
		z = next;
	}
	return 0;
}

static struct zctx **ctxs;
static size_t n_ctxs;

static int probe_ms(const struct ft_election *e)
{
	int ms = e->cfg->zk_session_timeout_ms;
	return ms < PROBE_MIN_MS ? PROBE_MIN_MS : ms > PROBE_MAX_MS ? PROBE_MAX_MS : ms;
}

static int probe_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	struct ft_election *e = ud;
	if (e->zh && e->connected && !e->probe_pending &&
	    zoo_aexists(e->zh, e->root, 0, probe_done, cur_ctx(e)) == ZOK) {
		e->probe_pending = true;
		e->probe_sent_ms = ft_now_ms();
	}
	sd_event_source_set_time(s, usec + (uint64_t)probe_ms(e) * 1000);
	return 0;
}

static struct zctx *cur_ctx(struct ft_election *e)
{
	for (size_t i = n_ctxs; i-- > 0;)
		if (ctxs[i]->e == e && ctxs[i]->gen == e->gen)
			return ctxs[i];
	ctxs = ft_xrealloc(ctxs, (n_ctxs + 1) * sizeof(*ctxs));
	ctxs[n_ctxs] = ctx_for(e);
	return ctxs[n_ctxs++];
}

static void auth_done(int rc, const void *data)
{
	(void)data;
	if (rc != ZOK)
		ft_log_err("zookeeper: digest authentication refused: %s", zerror(rc));
}

static void open_session(struct ft_election *e)
{
	e->gen++;
	e->probe_pending = false; /* its answer would be of the old handle */
	e->zh = zookeeper_init(e->cfg->zk_connect, global_watcher, e->cfg->zk_session_timeout_ms,
			       NULL, cur_ctx(e), 0);
	if (!e->zh) {
		ft_log_err("zookeeper: cannot create a handle for %s: %s", e->cfg->zk_connect,
			   strerror(errno));
		return;
	}
	/* Kept by the client and sent again on every reconnect, ahead of the
	 * session's requests. */
	if (e->auth[0])
		zoo_add_auth(e->zh, "digest", e->auth, (int)strlen(e->auth), auth_done, NULL);
}

/* Only sessions with the cluster's credential may change its znodes;
 * anyone may read them (who leads is no secret).  /ftcluster, shared by
 * clusters, lets anyone read it and create below it, nobody delete. */
static char scheme_world[] = "world", id_anyone[] = "anyone", scheme_auth[] = "auth",
	    id_self[] = "";

static void set_acls(struct ft_election *e)
{
	e->top_entries[0] =
		(struct ACL){ ZOO_PERM_READ | ZOO_PERM_CREATE, { scheme_world, id_anyone } };
	e->own_entries[0] = (struct ACL){ ZOO_PERM_ALL, { scheme_auth, id_self } };
	e->own_entries[1] = (struct ACL){ ZOO_PERM_READ, { scheme_world, id_anyone } };
	e->top_acl = (struct ACL_vector){ 1, e->top_entries };
	e->acl = (struct ACL_vector){ 2, e->own_entries };
}

/* -1 (logged) if the credential cannot be used. */
static int read_auth(struct ft_election *e, const char *path)
{
	char err[512];
	if (ft_secret_credential_read("zookeeper.auth_file", path, e->auth, sizeof(e->auth), err,
				      sizeof(err)) < 0) {
		ft_log_err("%s", err);
		return -1;
	}
	return 0;
}

struct ft_election *ft_election_new(sd_event *ev, const struct ft_config *cfg, int self_id,
				    ft_election_change_fn fn, void *ud)
{
	struct ft_election *e = ft_xcalloc(1, sizeof(*e));
	e->ev = ev;
	e->cfg = cfg;
	e->self_id = self_id;
	e->fn = fn;
	e->ud = ud;
	e->leader = -1;
	e->last_activity_ms = ft_now_ms();
	e->unconnected_ms = e->last_activity_ms;
	pthread_mutex_init(&e->lock, NULL);
	snprintf(e->root, sizeof(e->root), "/ftcluster/%s", cfg->cluster);
	snprintf(e->nodes_path, sizeof(e->nodes_path), "%s/nodes", e->root);
	snprintf(e->leader_path, sizeof(e->leader_path), "%s/leader", e->root);
	snprintf(e->self_path, sizeof(e->self_path), "%s/%d", e->nodes_path, self_id);
	e->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e->wake_fd < 0 ||
	    sd_event_add_io(ev, &e->wake_src, e->wake_fd, EPOLLIN, wake_cb, e) < 0) {
		ft_log_err("election: cannot set up the event queue: %s", strerror(errno));
		ft_election_free(e);
		return NULL;
	}
	zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
	if (cfg->zk_auth_file[0]) {
		if (read_auth(e, cfg->zk_auth_file) < 0) {
			ft_election_free(e);
			return NULL;
		}
		set_acls(e);
	} else {
		ft_log_warn("zookeeper: no zookeeper.auth_file: anyone who reaches ZooKeeper can "
			    "change %s",
			    e->root);
		e->top_acl = ZOO_OPEN_ACL_UNSAFE;
		e->acl = ZOO_OPEN_ACL_UNSAFE;
	}
	if (sd_event_add_time_relative(ev, &e->probe_timer, CLOCK_MONOTONIC,
				       (uint64_t)probe_ms(e) * 1000, 100000, probe_cb, e) < 0 ||
	    sd_event_source_set_enabled(e->probe_timer, SD_EVENT_ON) < 0) {
		ft_log_err("election: cannot arm the liveness probe");
		ft_election_free(e);
		return NULL;
	}
	open_session(e);
	if (!e->zh) {
		ft_election_free(e);
		return NULL;
	}
	return e;
}

void ft_election_free(struct ft_election *e)
{
	if (!e)
		return;
	if (e->zh)
		zookeeper_close(e->zh); /* joins the client threads: no callback after this */
	sd_event_source_disable_unref(e->wake_src);
	sd_event_source_disable_unref(e->settle);
	sd_event_source_disable_unref(e->reopen);
	sd_event_source_disable_unref(e->aside);
	sd_event_source_disable_unref(e->aside_check);
	sd_event_source_disable_unref(e->probe_timer);
	if (e->wake_fd >= 0)
		close(e->wake_fd);
	for (struct zev *z = e->head; z;) {
		struct zev *next = z->next;
		free(z);
		z = next;
	}
	size_t kept = 0;
	for (size_t i = 0; i < n_ctxs; i++) {
		if (ctxs[i]->e == e)
			free(ctxs[i]);
		else
			ctxs[kept++] = ctxs[i];
	}
	n_ctxs = kept;
	if (!n_ctxs) {
		free(ctxs);
		ctxs = NULL;
	}
	pthread_mutex_destroy(&e->lock);
	free(e);
}

const char *ft_election_describe(const struct ft_election *e, char *buf, size_t len)
{
	if (e->connected) {
		snprintf(buf, len, "zookeeper connected");
	} else {
		long long s = (ft_now_ms() - e->unconnected_ms) / 1000;
		snprintf(buf, len, "waiting for ZooKeeper at %s (%lld s)", e->cfg->zk_connect, s);
	}
	return buf;
}

bool ft_election_connected(const struct ft_election *e)
{
	return e->connected;
}

int ft_election_leader(const struct ft_election *e)
{
	return e->leader_known ? e->leader : -1;
}

unsigned ft_election_data_losses(const struct ft_election *e)
{
	return e->data_losses;
}

uint64_t ft_election_epoch(const struct ft_election *e)
{
	return e->epoch;
}

bool ft_election_unsure(const struct ft_election *e)
{
	return e->zh && e->registered && (!e->connected || !e->leader_known);
}

bool ft_election_is_leader(const struct ft_election *e)
{
	if (!e->connected || !e->leader_known || e->leader != e->self_id || !e->zh)
		return false;
	const clientid_t *id = zoo_client_id(e->zh);
	return id && id->client_id == e->owner;
}

size_t ft_election_members(const struct ft_election *e, int *out, size_t cap)
{
	size_t n = e->n_members < cap ? e->n_members : cap;
	memcpy(out, e->members, n * sizeof(int));
	return n;
}

int64_t ft_election_last_activity_ms(const struct ft_election *e)
{
	return e->last_activity_ms;
}

bool ft_election_responsive(const struct ft_election *e)
{
	/* Disconnected (an outage, a partition) is the election's business,
	 * not a hang: the client thread is then busy reconnecting. */
	if (!e->zh || !e->connected || !e->probe_pending)
		return true;
	/* Connected and a probe unanswered for longer than the session could
	 * live: the library's threads are stuck. */
	int64_t age = ft_now_ms() - e->probe_sent_ms;
	if (age < (int64_t)e->cfg->zk_session_timeout_ms + 2 * probe_ms(e))
		return true;
	ft_log_warn("watchdog: the ZooKeeper client has not answered a read for %lld ms",
		    (long long)age);
	return false;
}
