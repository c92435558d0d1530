#include "lib/httpd.h"

#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>
#include <sys/socket.h>

#include "lib/conn.h"
#include "lib/connwatch.h"
#include "lib/log.h"
#include "lib/ratelimit.h"
#include "lib/util.h"

#define MAX_RESP_HEADERS 24
/* Past the idle timeout, so that libmicrohttpd closes the idle
 * connections itself and only the ones that kept sending are left. */
#define SLOW_GRACE_MS 1000
/* How long a stop lets the last answers leave. */
#define STOP_FLUSH_MS 200
/* TLS 1.2 and 1.3 only. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct ft_httpd {
	sd_event *ev;
	struct MHD_Daemon *d;
	sd_event_source *io;
	sd_event_source *timer;
	sd_event_source *kick; /* runs MHD after a resume */
	sd_event_source *slow; /* the next connection due in watch */
	struct ft_httpd_conf conf;
	ft_http_handler handler;
	void *ud;
	struct ft_connwatch watch;
	char *tls_cert, *tls_key;
	struct ft_ratelimit refusal_log; /* per-address refusals logged */
	struct ft_http_req *suspended;	 /* waiting for their handler's answer */
};

struct ft_http_req {
	struct ft_httpd *h;
	struct MHD_Connection *conn;
	struct ft_watched *watched; /* its connection's, or NULL */
	const char *method;
	const char *path;
	struct ft_buf body;
	bool too_big;
	bool dispatched; /* handler has been called */
	bool suspended;
	struct ft_http_req *next_suspended, **prev_suspended;
	/* While suspended, libmicrohttpd does not look at the socket: this
	 * does, for a client that hangs up (EPOLLRDHUP). */
	sd_event_source *hangup;
	bool answered;
	struct MHD_Response *resp; /* answer waiting for the resumed connection */
	unsigned status;
	ft_http_abandon_fn abandon;
	void *abandon_ud;
	size_t n_headers;
	char *headers[MAX_RESP_HEADERS][2];
};

static void reschedule(struct ft_httpd *h);
static void slow_watch(struct ft_httpd *h);

static void run_mhd(struct ft_httpd *h)
{
	MHD_run(h->d);
	reschedule(h);
}

static int io_cb(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	run_mhd(ud);
	return 0;
}

static int timer_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	run_mhd(ud);
	return 0;
}

static int kick_cb(sd_event_source *s, void *ud)
{
	struct ft_httpd *h = ud;
	sd_event_source_set_enabled(h->kick, SD_EVENT_OFF);
	run_mhd(h);
	return 0;
}

static void reschedule(struct ft_httpd *h)
{
	MHD_UNSIGNED_LONG_LONG ms = 0;
	if (MHD_get_timeout(h->d, &ms) != MHD_YES) {
		sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
		return;
	}
	uint64_t now;
	sd_event_now(h->ev, CLOCK_MONOTONIC, &now);
	sd_event_source_set_time(h->timer, now + ms * 1000);
	sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT);
}

static void unlink_suspended(struct ft_http_req *r)
{
	r->hangup = sd_event_source_disable_unref(r->hangup);
	if (!r->prev_suspended)
		return;
	*r->prev_suspended = r->next_suspended;
	if (r->next_suspended)
		r->next_suspended->prev_suspended = r->prev_suspended;
	r->next_suspended = NULL;
	r->prev_suspended = NULL;
}

/* The client of a waiting request hung up: libmicrohttpd, given the
 * connection back, reads the end, closes it and tells completed_cb, which
 * lets the handler abandon the request. */
static int hangup_cb(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	(void)s;
	(void)fd;
	(void)revents;
	struct ft_http_req *r = ud;
	r->suspended = false;
	unlink_suspended(r);
	MHD_resume_connection(r->conn);
	sd_event_source_set_enabled(r->h->kick, SD_EVENT_ONESHOT);
	return 0;
}

static void free_req(struct ft_http_req *r)
{
	unlink_suspended(r);
	for (size_t i = 0; i < r->n_headers; i++) {
		free(r->headers[i][0]);
		free(r->headers[i][1]);
	}
	if (r->resp)
		MHD_destroy_response(r->resp);
	ft_buf_free(&r->body);
	free(r);
}

static struct ft_watched *watched_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct ft_http_req *r = *con_cls;
	struct ft_watched *w = watched_of(conn);
	if (w) {
		ft_connwatch_done(w, ft_now_ms());
		slow_watch(cls);
	}
	if (!r)
		return;
	*con_cls = NULL;
	bool dropped_slow = w && w->due; /* said so when it was */
	if (dropped_slow)
		ft_log_debug("http: %s %s was a slow client's", r->method, r->path);
	else if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
		ft_log_notice("http: dropped %s %s: no progress within the connection timeout",
			      r->method, r->path);
	else if (toe == MHD_REQUEST_TERMINATED_READ_ERROR && !r->answered)
		ft_log_notice(
			"http: dropped %s %s: the client sent a malformed or truncated request",
			r->method, r->path);
	if (!r->answered && r->dispatched && r->abandon)
		r->abandon(r->abandon_ud, r);
	free_req(r);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_size, void **con_cls)
{
	struct ft_httpd *h = cls;
	struct ft_http_req *r = *con_cls;
	if (!r) {
		r = ft_xcalloc(1, sizeof(*r));
		r->h = h;
		r->conn = conn;
		r->method = method;
		r->path = url;
		r->watched = watched_of(conn);
		*con_cls = r;
		/* A declared length over the limit is refused before a byte of the
		 * body is read. */
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > h->conf.max_body_bytes) {
			r->too_big = true;
			r->dispatched = true;
			if (r->watched)
				ft_connwatch_arrived(r->watched);
			h->handler(h->ud, r);
			if (r->resp) {
				enum MHD_Result ret = MHD_queue_response(conn, r->status, r->resp);
				MHD_destroy_response(r->resp);
				r->resp = NULL;
				return ret;
			}
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (r->body.len + *upload_size > h->conf.max_body_bytes)
			r->too_big = true;
		else if (!r->too_big)
			ft_buf_append(&r->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->resp) {
		/* Resumed with an answer the handler gave while suspended. */
		enum MHD_Result ret = MHD_queue_response(conn, r->status, r->resp);
		MHD_destroy_response(r->resp);
		r->resp = NULL;
		return ret;
	}
	if (r->dispatched)
		return MHD_YES; /* still waiting; spurious call */
	r->dispatched = true;
	if (r->watched)
		ft_connwatch_arrived(r->watched);
	h->handler(h->ud, r);
	if (r->answered && r->resp) {
		enum MHD_Result ret = MHD_queue_response(conn, r->status, r->resp);
		MHD_destroy_response(r->resp);
		r->resp = NULL;
		return ret;
	}
	if (!r->answered) {
		r->suspended = true;
		r->next_suspended = h->suspended;
		if (h->suspended)
			h->suspended->prev_suspended = &r->next_suspended;
		r->prev_suspended = &h->suspended;
		h->suspended = r;
		if (r->watched && r->watched->fd >= 0)
			sd_event_add_io(h->ev, &r->hangup, r->watched->fd, EPOLLRDHUP, hangup_cb,
					r);
		MHD_suspend_connection(conn);
	}
	return MHD_YES;
}

/* ---- slow clients and connections per address ---- */

static int64_t slow_deadline_ms(const struct ft_httpd *h)
{
	return (int64_t)h->conf.connection_timeout_s * 1000 + SLOW_GRACE_MS;
}

/* Arms the timer for the next connection due, or disables it. */
static void arm_slow(struct ft_httpd *h)
{
	int64_t due = ft_connwatch_next_due(&h->watch, slow_deadline_ms(h));
	if (due < 0) {
		sd_event_source_set_enabled(h->slow, SD_EVENT_OFF);
		return;
	}
	int64_t now = ft_now_ms();
	uint64_t usec;
	sd_event_now(h->ev, CLOCK_MONOTONIC, &usec);
	usec += (uint64_t)(due > now ? due - now : 0) * 1000;
	sd_event_source_set_time(h->slow, usec);
	sd_event_source_set_enabled(h->slow, SD_EVENT_ONESHOT);
}

/* A connection began waiting: if the timer is off, none was before. */
static void slow_watch(struct ft_httpd *h)
{
	int on = 0;
	if (sd_event_source_get_enabled(h->slow, &on) >= 0 && on == SD_EVENT_OFF)
		arm_slow(h);
}

struct slow_sweep {
	struct ft_httpd *h;
	const char *first; /* a peer, for the log */
};

static void drop_slow(void *ud, struct ft_watched *c)
{
	struct slow_sweep *sw = ud;
	/* libmicrohttpd then reads the end and closes the connection (and
	 * tells us, conn_cb): it has no call to close one from outside. */
	shutdown(c->fd, SHUT_RDWR);
	if (!sw->first)
		sw->first = c->peer;
	if (sw->h->conf.on_refused)
		sw->h->conf.on_refused(sw->h->conf.refused_ud, FT_HTTP_DROPPED_SLOW, c->peer);
}

static int slow_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	struct ft_httpd *h = ud;
	struct slow_sweep sw = { h, NULL };
	size_t n = ft_connwatch_sweep(&h->watch, ft_now_ms(), slow_deadline_ms(h), drop_slow, &sw);
	if (n)
		ft_log_notice("http: dropped %zu connection(s) (one from %s) that kept sending but "
			      "had no whole request within %us (limits.connection_timeout_s)",
			      n, sw.first, h->conf.connection_timeout_s);
	arm_slow(h);
	if (n)
		run_mhd(h);
	return 0;
}

static void conn_cb(void *cls, struct MHD_Connection *conn, void **socket_context,
		    enum MHD_ConnectionNotificationCode code)
{
	struct ft_httpd *h = cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		struct ft_watched *c = ft_xcalloc(1, sizeof(*c));
		const union MHD_ConnectionInfo *fd =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		c->fd = fd ? fd->connect_fd : -1;
		ft_sockaddr_ip(ci ? ci->client_addr : NULL, c->peer, sizeof(c->peer));
		ft_connwatch_add(&h->watch, c, ft_now_ms());
		*socket_context = c;
		slow_watch(h);
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		struct ft_watched *c = *socket_context;
		*socket_context = NULL;
		if (c) {
			ft_connwatch_remove(&h->watch, c);
			free(c);
		}
	}
}

static enum MHD_Result accept_cb(void *cls, const struct sockaddr *addr, socklen_t len)
{
	struct ft_httpd *h = cls;
	(void)len;
	unsigned limit = h->conf.max_connections_per_address;
	if (!limit)
		return MHD_YES;
	char peer[64];
	ft_sockaddr_ip(addr, peer, sizeof(peer));
	if (ft_connwatch_count_peer(&h->watch, peer) < limit)
		return MHD_YES;
	uint64_t held = ft_ratelimit_roll(&h->refusal_log, ft_now_ms());
	if (held)
		ft_log_notice("http: %" PRIu64 " more connection(s) refused at "
			      "gateway.max_connections_per_address, not logged one by one",
			      held);
	if (ft_ratelimit_admit(&h->refusal_log, ft_log_rejected_rate()))
		ft_log_notice("http: refused a connection from %s: it has %u open "
			      "(gateway.max_connections_per_address)",
			      peer, limit);
	if (h->conf.on_refused)
		h->conf.on_refused(h->conf.refused_ud, FT_HTTP_REFUSED_PER_ADDRESS, peer);
	return MHD_NO;
}

static void erase_free(char *s)
{
	if (!s)
		return;
	sodium_memzero(s, strlen(s));
	free(s);
}

static struct MHD_Daemon *start_mhd(struct ft_httpd *h)
{
	const struct ft_httpd_conf *conf = &h->conf;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, h->tls_cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, h->tls_key },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES },
		{ MHD_OPTION_END, 0, NULL },
	};
	if (h->tls_cert) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			errno = EPROTONOSUPPORT;
			return NULL;
		}
		flags |= MHD_USE_TLS;
	} else {
		tls[0].option = MHD_OPTION_END;
	}
	return MHD_start_daemon(flags, 0, accept_cb, h, access_cb, h, MHD_OPTION_SOCK_ADDR,
				(const struct sockaddr *)&conf->addr, MHD_OPTION_CONNECTION_LIMIT,
				(unsigned)conf->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned)conf->connection_timeout_s, MHD_OPTION_NOTIFY_COMPLETED,
				completed_cb, h, MHD_OPTION_NOTIFY_CONNECTION, conn_cb, h,
				MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_ARRAY, tls,
				MHD_OPTION_END);
}

struct ft_httpd *ft_httpd_new(sd_event *ev, const struct ft_httpd_conf *conf,
			      ft_http_handler handler, void *ud)
{
	struct ft_httpd *h = ft_xcalloc(1, sizeof(*h));
	h->ev = ev;
	h->conf = *conf;
	h->handler = handler;
	h->ud = ud;
	if (conf->tls_cert_pem && conf->tls_key_pem) {
		h->tls_cert = ft_xstrdup(conf->tls_cert_pem);
		h->tls_key = ft_xstrdup(conf->tls_key_pem);
	}
	h->conf.tls_cert_pem = h->conf.tls_key_pem = NULL; /* the caller's */
	if (sd_event_add_time(ev, &h->slow, CLOCK_MONOTONIC, 0, 100000, slow_cb, h) < 0) {
		ft_httpd_free(h);
		return NULL;
	}
	sd_event_source_set_enabled(h->slow, SD_EVENT_OFF);
	h->d = start_mhd(h);
	if (!h->d) {
		int e = errno;
		ft_httpd_free(h);
		errno = e;
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || sd_event_add_io(ev, &h->io, info->epoll_fd, EPOLLIN, io_cb, h) < 0 ||
	    sd_event_add_time(ev, &h->timer, CLOCK_MONOTONIC, 0, 1000, timer_cb, h) < 0 ||
	    sd_event_add_defer(ev, &h->kick, kick_cb, h) < 0) {
		ft_httpd_free(h);
		return NULL;
	}
	sd_event_source_set_enabled(h->kick, SD_EVENT_OFF);
	reschedule(h);
	return h;
}

void ft_httpd_free(struct ft_httpd *h)
{
	if (!h)
		return;
	if (h->d) {
		/* libmicrohttpd aborts the process when stopped with a connection
		 * suspended: whoever still waits is answered, and the answers are
		 * given a moment to leave. */
		size_t waiting = 0;
		while (h->suspended) {
			struct ft_http_req *r = h->suspended;
			if (r->answered) {
				unlink_suspended(r);
				continue;
			}
			ft_http_add_header(r, "Retry-After", "1");
			ft_http_add_header(r, "Connection", "close");
			ft_http_respond(r, 503, "text/plain; charset=utf-8",
					"The server is stopping: send the request again\n", 47);
			waiting++;
		}
		int64_t until = ft_now_ms() + (waiting ? STOP_FLUSH_MS : 0);
		for (;;) {
			MHD_run(h->d);
			if (ft_now_ms() >= until)
				break;
			usleep(10000);
		}
		MHD_stop_daemon(h->d); /* closes every connection: conn_cb frees them */
	}
	sd_event_source_disable_unref(h->io);
	sd_event_source_disable_unref(h->timer);
	sd_event_source_disable_unref(h->kick);
	sd_event_source_disable_unref(h->slow);
	erase_free(h->tls_cert);
	erase_free(h->tls_key);
	free(h);
}

const char *ft_http_method(const struct ft_http_req *r)
{
	return r->method;
}

const char *ft_http_path(const struct ft_http_req *r)
{
	return r->path;
}

const char *ft_http_header(const struct ft_http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *ft_http_idempotency_key(const struct ft_http_req *r, const char *api, char *buf,
				    size_t len)
{
	const char *key = ft_http_header(r, "Idempotency-Key");
	if (!key || !*key)
		return NULL;
	char peer[64];
	ft_http_peer(r, peer, sizeof(peer));
	snprintf(buf, len, "%s %s %.256s", api, peer, key);
	return buf;
}

void ft_http_peer(const struct ft_http_req *r, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	ft_sockaddr_ip(ci ? ci->client_addr : NULL, buf, len);
}

const char *ft_http_arg(const struct ft_http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *ft_http_body(const struct ft_http_req *r, size_t *len)
{
	*len = r->body.len;
	return r->body.data ? r->body.data : "";
}

bool ft_http_content_type_is(const struct ft_http_req *r, const char *media_type)
{
	const char *ct = ft_http_header(r, "Content-Type");
	size_t n = strlen(media_type);
	if (!ct)
		return false;
	while (*ct == ' ')
		ct++;
	if (strncasecmp(ct, media_type, n) != 0)
		return false;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

bool ft_http_body_too_big(const struct ft_http_req *r)
{
	return r->too_big;
}

void ft_http_set_abandon(struct ft_http_req *r, ft_http_abandon_fn fn, void *ud)
{
	r->abandon = fn;
	r->abandon_ud = ud;
}

void ft_http_add_header(struct ft_http_req *r, const char *name, const char *value)
{
	if (r->n_headers == MAX_RESP_HEADERS)
		return;
	r->headers[r->n_headers][0] = ft_xstrdup(name);
	r->headers[r->n_headers][1] = ft_xstrdup(value);
	r->n_headers++;
}

void ft_http_respond(struct ft_http_req *r, unsigned status, const char *content_type,
		     const void *body, size_t len)
{
	if (r->answered)
		return;
	r->answered = true;
	r->status = status;
	r->resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (content_type)
		MHD_add_response_header(r->resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	for (size_t i = 0; i < r->n_headers; i++)
		MHD_add_response_header(r->resp, r->headers[i][0], r->headers[i][1]);
	if (r->suspended) {
		r->suspended = false;
		unlink_suspended(r);
		MHD_resume_connection(r->conn);
		sd_event_source_set_enabled(r->h->kick, SD_EVENT_ONESHOT);
	}
}
