#include "lib/httpd.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/conn.h"
#include "lib/log.h"
#include "lib/util.h"

#define MAX_RESP_HEADERS 16

struct ft_httpd {
	sd_event *ev;
	struct MHD_Daemon *d;
	sd_event_source *io;
	sd_event_source *timer;
	sd_event_source *kick; /* runs MHD after a resume */
	struct ft_httpd_conf conf;
	ft_http_handler handler;
	void *ud;
};

struct ft_http_req {
	struct ft_httpd *h;
	struct MHD_Connection *conn;
	const char *method;
	const char *path;
	struct ft_buf body;
	bool too_big;
	bool dispatched; /* handler has been called */
	bool suspended;
	bool answered;
	struct MHD_Response *resp; /* answer waiting for the resumed connection */
	unsigned status;
	ft_http_abandon_fn abandon;
	void *abandon_ud;
	size_t n_headers;
	char *headers[MAX_RESP_HEADERS][2];
};

static void reschedule(struct ft_httpd *h);

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

static void free_req(struct ft_http_req *r)
{
	for (size_t i = 0; i < r->n_headers; i++) {
		free(r->headers[i][0]);
		free(r->headers[i][1]);
	}
	if (r->resp)
		MHD_destroy_response(r->resp);
	ft_buf_free(&r->body);
	free(r);
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct ft_http_req *r = *con_cls;
	if (!r)
		return;
	*con_cls = NULL;
	if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
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
		*con_cls = r;
		/* A declared length over the limit is refused before a byte of the
		 * body is read. */
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > h->conf.max_body_bytes) {
			r->too_big = true;
			r->dispatched = true;
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
	h->handler(h->ud, r);
	if (r->answered && r->resp) {
		enum MHD_Result ret = MHD_queue_response(conn, r->status, r->resp);
		MHD_destroy_response(r->resp);
		r->resp = NULL;
		return ret;
	}
	if (!r->answered) {
		r->suspended = true;
		MHD_suspend_connection(conn);
	}
	return MHD_YES;
}

struct ft_httpd *ft_httpd_new(sd_event *ev, const struct ft_httpd_conf *conf,
			      ft_http_handler handler, void *ud)
{
	struct ft_httpd *h = ft_xcalloc(1, sizeof(*h));
	h->ev = ev;
	h->conf = *conf;
	h->handler = handler;
	h->ud = ud;
	h->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0,
				NULL, NULL, access_cb, h, MHD_OPTION_SOCK_ADDR,
				(const struct sockaddr *)&conf->addr, MHD_OPTION_CONNECTION_LIMIT,
				(unsigned)conf->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned)conf->connection_timeout_s, MHD_OPTION_NOTIFY_COMPLETED,
				completed_cb, h, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
				MHD_OPTION_END);
	if (!h->d) {
		free(h);
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
	sd_event_source_disable_unref(h->io);
	sd_event_source_disable_unref(h->timer);
	sd_event_source_disable_unref(h->kick);
	if (h->d)
		MHD_stop_daemon(h->d);
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
		MHD_resume_connection(r->conn);
		sd_event_source_set_enabled(r->h->kick, SD_EVENT_ONESHOT);
	}
}
