/* HTTP serving for the daemons: libmicrohttpd driven from the daemon's own
 * sd-event loop (MHD's epoll fd is one more IO source), so handlers run on
 * the loop thread and need no locks.  A handler may answer at once or keep
 * the request and answer later (the connection is suspended meanwhile).
 * All libmicrohttpd calls live in this file. */
#ifndef FT_HTTPD_H
#define FT_HTTPD_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

struct ft_httpd;
struct ft_http_req;

/* Why a connection was refused or dropped before any answer. */
enum ft_http_refusal {
	/* More than max_connections_per_address open from the address. */
	FT_HTTP_REFUSED_PER_ADDRESS,
	/* No whole request within connection_timeout_s (and a second's
	 * grace) of the connection's start or of its previous answer, though
	 * it kept sending: a slow client (lib/connwatch.h). */
	FT_HTTP_DROPPED_SLOW,
};

typedef void (*ft_http_refused_fn)(void *ud, enum ft_http_refusal why, const char *peer);

struct ft_httpd_conf {
	struct sockaddr_in addr;
	size_t max_body_bytes; /* larger bodies are not buffered: req is marked too big */
	unsigned max_connections;
	/* An idle connection is closed after this long; one that keeps
	 * sending without a whole request, a second later. */
	unsigned connection_timeout_s;
	unsigned max_connections_per_address; /* 0: no limit */
	/* PEM certificate (chain) and private key: both for HTTPS, else NULL.
	 * Copied; erased from memory when the server is freed. */
	const char *tls_cert_pem, *tls_key_pem;
	ft_http_refused_fn on_refused; /* may be NULL */
	void *refused_ud;
};

/* Called once per request when its whole body has arrived (or has been
 * found too big).  Answer with ft_http_respond, now or later. */
typedef void (*ft_http_handler)(void *ud, struct ft_http_req *r);
/* Called if the request ends (client gone, daemon stopping) before an
 * answer was given; the handler must forget r. */
typedef void (*ft_http_abandon_fn)(void *ud, struct ft_http_req *r);

/* NULL with errno set when it cannot serve (EPROTONOSUPPORT: HTTPS asked
 * of a libmicrohttpd without TLS). */
struct ft_httpd *ft_httpd_new(sd_event *ev, const struct ft_httpd_conf *conf,
			      ft_http_handler handler, void *ud);
void ft_httpd_free(struct ft_httpd *h);

const char *ft_http_method(const struct ft_http_req *r);
const char *ft_http_path(const struct ft_http_req *r);
/* Header value or NULL. */
const char *ft_http_header(const struct ft_http_req *r, const char *name);
/* Query argument or NULL. */
const char *ft_http_arg(const struct ft_http_req *r, const char *name);
/* The client's IP address as text ("?" if unknown). */
void ft_http_peer(const struct ft_http_req *r, char *buf, size_t len);
/* The Idempotency-Key of r scoped to api and the client's address (so no
 * other client, and no other API, can reach its answer), in buf; NULL
 * when r has none or an empty one. */
const char *ft_http_idempotency_key(const struct ft_http_req *r, const char *api, char *buf,
				    size_t len);
const char *ft_http_body(const struct ft_http_req *r, size_t *len);
/* Whether the request's Content-Type is this media type (any parameters,
 * such as "; charset=utf-8", allowed; case-insensitive). */
bool ft_http_content_type_is(const struct ft_http_req *r, const char *media_type);
bool ft_http_body_too_big(const struct ft_http_req *r);

void ft_http_set_abandon(struct ft_http_req *r, ft_http_abandon_fn fn, void *ud);

/* Add a response header (before ft_http_respond). */
void ft_http_add_header(struct ft_http_req *r, const char *name, const char *value);
/* Send the answer.  After this r must not be used. */
void ft_http_respond(struct ft_http_req *r, unsigned status, const char *content_type,
		     const void *body, size_t len);

#endif
