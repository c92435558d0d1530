/* Callbacks: a finished JSON API run that named a callback_url is POSTed
 * there as its Run object (application/json), signed, and retried with
 * back-off until a 2xx answer or callbacks.attempts tries.
 *
 * Who may be called is the operator's choice (callbacks.allowed_hosts):
 * users must not make the gateway reach arbitrary internal addresses.
 * Redirects are not followed, for the same reason; only http and https.
 *
 * Each attempt carries
 *   X-Ftcluster-Run: the run's id
 *   X-Ftcluster-Attempt: 1, 2, ...
 *   X-Ftcluster-Timestamp: Unix seconds when the attempt was signed
 *   X-Ftcluster-Signature: sha256=HEX(HMAC-SHA256(key, timestamp "." body))
 * where the key is callbacks.secret_file's content without its trailing
 * newline.  Delivery is at least once: a receiver that answered too late
 * sees the run again, and dedupes by X-Ftcluster-Run.  What is not
 * delivered when the gateway stops is lost (logged).
 *
 * The senders are threads of their own (libcurl's blocking calls); the
 * loop thread only queues, and reads the counters for GET /metrics. */
#ifndef FT_GATEWAY_CALLBACK_H
#define FT_GATEWAY_CALLBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"

#define GW_CALLBACK_URL_MAX 2048
/* "sha256=" + 64 hex digits + NUL */
#define GW_CALLBACK_SIG_LEN 72
#define GW_CALLBACK_MIN_KEY 16

struct gw_callbacks;

struct gw_callback_stats {
	uint64_t delivered; /* answered 2xx */
	uint64_t retried;   /* attempts that failed and were tried again later */
	uint64_t failed;    /* given up after callbacks.attempts */
	uint64_t dropped;   /* not queued (callbacks.max_queued) or left at stop */
	uint64_t queued;    /* waiting or being sent now */
};

/* Reads the key and starts the senders; with no allowed hosts, none (and
 * every URL is refused).  NULL if the key cannot be read (err says why). */
struct gw_callbacks *gw_callbacks_new(const struct ft_callbacks_conf *conf, char *err, size_t len);
/* Stops the senders (an attempt under way ends within its timeout). */
void gw_callbacks_free(struct gw_callbacks *cb);

/* Queue body (len bytes, copied) for url, on behalf of run_id, sent with
 * method ("POST"; Judge0's callbacks are "PUT"). */
void gw_callbacks_post(struct gw_callbacks *cb, const char *method, const char *url,
		       const char *run_id, const char *body, size_t len);
void gw_callbacks_stats(struct gw_callbacks *cb, struct gw_callback_stats *out);
/* Registers ftgw_callbacks_total and ftgw_callbacks_queued, mirrored at
 * each scrape. */
void gw_callbacks_register_metrics(struct gw_callbacks *cb);

/* ---- pure ---- */

/* 0 if url is an http(s) URL without credentials whose host (and port)
 * allowed_hosts lists; else -1 and why, for the user. */
int gw_callback_url_check(const char *allowed_hosts, const char *url, char *why, size_t len);
/* The wait after the attempt-th failed attempt (1-based): retry_ms,
 * doubled each time, at most max_ms. */
int64_t gw_callback_backoff_ms(int attempt, int retry_ms, int max_ms);
/* "sha256=" and the hex HMAC-SHA256 under key of timestamp "." body. */
void gw_callback_sign(const unsigned char *key, size_t key_len, const char *timestamp,
		      const char *body, size_t len, char out[GW_CALLBACK_SIG_LEN]);

#endif
