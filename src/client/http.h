/* ftctl's HTTP, on libcurl: single requests, and the parallel POSTs of submit.
 * Every request goes to ftctl_gateway (or a URL the gateway gave) and gives
 * up after ftctl_timeout_s seconds (0: never). */
#ifndef FTCTL_HTTP_H
#define FTCTL_HTTP_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* The gateway's base URL, without a trailing slash. */
extern const char *ftctl_gateway;
extern long ftctl_timeout_s;

/* Around all requests (libcurl's global state). */
void ftctl_http_init(void);
void ftctl_http_cleanup(void);

/* A growing byte buffer, always NUL-terminated once data is non-NULL. */
struct ftctl_buf {
	char *data;
	size_t len;
};
/* Appends sz * n bytes at p; returns how many were appended (0: out of
 * memory).  libcurl's write callback's signature. */
size_t ftctl_buf_collect(char *p, size_t sz, size_t n, void *buf);

/* GET url (following up to 3 redirects), Accept: accept unless NULL.
 * Returns the HTTP status with the body in *body, or -1 with *err set. */
long ftctl_http_get(const char *url, const char *accept, struct ftctl_buf *body, const char **err);
/* The same with another method (no body sent): "DELETE". */
long ftctl_http_request(const char *method, const char *url, const char *accept,
			struct ftctl_buf *body, const char **err);

/* GET a JSON object from the gateway (path: "/v1/..."); NULL on any
 * failure, said why on stderr unless quiet. */
struct json_object *ftctl_get_object(const char *path, bool quiet);
/* GET /v1/cluster, not quiet. */
struct json_object *ftctl_get_cluster(void);

/* ---- parallel POSTs of JSON ---- */

struct ftctl_posts;

/* Room for up to n requests, at most parallel (>= 1) of them in flight. */
struct ftctl_posts *ftctl_posts_new(size_t n, size_t parallel);
/* One more request: payload (kept by the caller until ftctl_posts_free)
 * to url; ud is handed back when it is done. */
void ftctl_posts_add(struct ftctl_posts *p, const char *url, const char *payload, void *ud);

/* How a request ended: its last answer's HTTP status (code) and body
 * (NULL if none), or err when it failed; tries: how many were sent (more
 * than one when the gateway refused it: 503 or 429, each sent again after
 * its Retry-After, see sched.h; a request still refused when --timeout
 * runs out ends with that refusal). */
struct ftctl_answer {
	long code;
	const char *err;
	const char *body;
	unsigned tries;
};
typedef void (*ftctl_post_done_fn)(void *ud, const struct ftctl_answer *a, void *ctx);
/* While some are still running, about every 200 ms. */
typedef void (*ftctl_posts_wait_fn)(void *ctx);

/* Runs them all, calling done and waiting as above with ctx. */
void ftctl_posts_run(struct ftctl_posts *p, ftctl_post_done_fn done, ftctl_posts_wait_fn waiting,
		     void *ctx);
/* While they run: how many wait to be sent again, and how many refusals
 * there were in all. */
size_t ftctl_posts_retrying(const struct ftctl_posts *p);
size_t ftctl_posts_refusals(const struct ftctl_posts *p);
void ftctl_posts_free(struct ftctl_posts *p);

#endif
