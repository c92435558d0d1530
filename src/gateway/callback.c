/* Callback delivery (see callback.h). */
#include "gateway/callback.h"

#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/hostlist.h"
#include "lib/log.h"
#include "lib/secretfile.h"
#include "lib/metrics.h"
#include "lib/util.h"

/* ---- pure ---- */

int gw_callback_url_check(const char *allowed_hosts, const char *url, char *why, size_t len)
{
	if (!allowed_hosts[0]) {
		ft_set_err(why, len,
			   "This gateway makes no callbacks (callbacks.allowed_hosts is empty)");
		return -1;
	}
	if (strlen(url) > GW_CALLBACK_URL_MAX) {
		ft_set_err(why, len, "\"callback_url\" is longer than %d characters",
			   GW_CALLBACK_URL_MAX);
		return -1;
	}
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
	int rc = -1;
	if (!u)
		goto out;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		ft_set_err(why, len, "\"callback_url\" is not an absolute http or https URL");
		goto out;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		ft_set_err(why, len, "\"callback_url\" must be http or https, not %s", scheme);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		/* They would travel in logs and metrics labels; the signature
		 * is what authenticates the gateway. */
		ft_set_err(why, len, "\"callback_url\" may not carry a user name or password");
		goto out;
	}
	if (!ft_host_list_allows(allowed_hosts, host, atoi(port))) {
		ft_set_err(why, len,
			   "Callbacks to %s port %s are not allowed here "
			   "(callbacks.allowed_hosts)",
			   host, port);
		goto out;
	}
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_url_cleanup(u);
	if (rc < 0 && !u)
		ft_set_err(why, len, "Out of memory");
	return rc;
}

int64_t gw_callback_backoff_ms(int attempt, int retry_ms, int max_ms)
{
	int64_t d = retry_ms;
	for (int i = 1; i < attempt && d < max_ms; i++)
		d *= 2;
	return d < max_ms ? d : max_ms;
}

void gw_callback_sign(const unsigned char *key, size_t key_len, const char *timestamp,
		      const char *body, size_t len, char out[GW_CALLBACK_SIG_LEN])
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_init(&st, key, key_len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)timestamp, strlen(timestamp));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	memcpy(out, "sha256=", 7);
	sodium_bin2hex(out + 7, GW_CALLBACK_SIG_LEN - 7, mac, sizeof(mac));
	sodium_memzero(&st, sizeof(st));
}

/* ---- the queue and its senders ---- */

struct delivery {
	struct delivery *next;
	char *url;
	char method[8];
	char run_id[17];
	char *body;
	size_t len;
	int attempts;	/* made so far */
	int64_t due_ms; /* monotonic */
};

struct gw_callbacks {
	struct ft_callbacks_conf conf;
	unsigned char *key;
	size_t key_len;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	struct delivery *queue; /* unordered: senders pick the earliest due */
	size_t n_queued;	/* in queue, or being sent */
	bool stopping;
	pthread_t *senders;
	int n_senders;
	struct gw_callback_stats stats;
	struct ft_metric *total, *queued_gauge;
};

static void delivery_free(struct delivery *d)
{
	free(d->url);
	free(d->body);
	free(d);
}

/* The condition variable waits on the monotonic clock, as due_ms is. */
static struct timespec deadline(int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t wait = ms - ft_now_ms();
	if (wait < 0)
		wait = 0;
	ts.tv_sec += wait / 1000;
	ts.tv_nsec += (long)(wait % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* With mu held: the next delivery due, unlinked, or NULL at stop. */
static struct delivery *take_due(struct gw_callbacks *cb)
{
	for (;;) {
		if (cb->stopping)
			return NULL;
		struct delivery **best = NULL;
		for (struct delivery **p = &cb->queue; *p; p = &(*p)->next)
			if (!best || (*p)->due_ms < (*best)->due_ms)
				best = p;
		if (!best) {
			pthread_cond_wait(&cb->wake, &cb->mu);
			continue;
		}
		if ((*best)->due_ms > ft_now_ms()) {
			struct timespec ts = deadline((*best)->due_ms);
			pthread_cond_timedwait(&cb->wake, &cb->mu, &ts);
			continue;
		}
		struct delivery *d = *best;
		*best = d->next;
		d->next = NULL;
		return d;
	}
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

/* One attempt; the HTTP status, or 0 when there was none (why in err). */
static long attempt(struct gw_callbacks *cb, CURL *h, const struct delivery *d, char *err)
{
	char ts[32], sig[GW_CALLBACK_SIG_LEN], line[160];
	snprintf(ts, sizeof(ts), "%" PRId64, ft_wall_ms() / 1000);
	gw_callback_sign(cb->key, cb->key_len, ts, d->body, d->len, sig);
	struct curl_slist *hdr = NULL;
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	/* No "Expect: 100-continue" round trip for bodies over 1 KiB. */
	hdr = curl_slist_append(hdr, "Expect:");
	snprintf(line, sizeof(line), "X-Ftcluster-Run: %s", d->run_id);
	hdr = curl_slist_append(hdr, line);
	snprintf(line, sizeof(line), "X-Ftcluster-Attempt: %d", d->attempts + 1);
	hdr = curl_slist_append(hdr, line);
	snprintf(line, sizeof(line), "X-Ftcluster-Timestamp: %s", ts);
	hdr = curl_slist_append(hdr, line);
	snprintf(line, sizeof(line), "X-Ftcluster-Signature: %s", sig);
	hdr = curl_slist_append(hdr, line);

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, d->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, d->body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)d->len);
	if (strcmp(d->method, "POST") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, d->method);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)cb->conf.timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)cb->conf.timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "ftgw/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
	err[0] = '\0';
	CURLcode rc = curl_easy_perform(h);
	long status = 0;
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	else if (!err[0])
		snprintf(err, CURL_ERROR_SIZE, "%s", curl_easy_strerror(rc));
	curl_slist_free_all(hdr);
	return status;
}

/* With mu held: what became of d after an attempt that answered status. */
static void settle(struct gw_callbacks *cb, struct delivery *d, long status, const char *err)
{
	char what[CURL_ERROR_SIZE + 16];
	if (status)
		snprintf(what, sizeof(what), "HTTP %ld", status);
	else
		snprintf(what, sizeof(what), "%s", err);
	d->attempts++;
	if (status >= 200 && status < 300) {
		cb->stats.delivered++;
		ft_log_debug("callback for run %s delivered (attempt %d, HTTP %ld)", d->run_id,
			     d->attempts, status);
	} else if (d->attempts < cb->conf.attempts) {
		int64_t wait = gw_callback_backoff_ms(d->attempts, cb->conf.retry_ms,
						      cb->conf.max_retry_ms);
		cb->stats.retried++;
		ft_log_info("callback for run %s: attempt %d failed (%s); again in %" PRId64 " ms",
			    d->run_id, d->attempts, what, wait);
		d->due_ms = ft_now_ms() + wait;
		d->next = cb->queue;
		cb->queue = d;
		pthread_cond_signal(&cb->wake);
		return;
	} else {
		cb->stats.failed++;
		ft_log_warn("callback for run %s: given up after %d attempts (last: %s)", d->run_id,
			    d->attempts, what);
	}
	cb->n_queued--;
	delivery_free(d);
}

static void *sender(void *arg)
{
	struct gw_callbacks *cb = arg;
	CURL *h = curl_easy_init();
	char err[CURL_ERROR_SIZE];
	pthread_mutex_lock(&cb->mu);
	struct delivery *d;
	while (h && (d = take_due(cb)) != NULL) {
		pthread_mutex_unlock(&cb->mu);
		long status = attempt(cb, h, d, err);
		pthread_mutex_lock(&cb->mu);
		settle(cb, d, status, err);
	}
	pthread_mutex_unlock(&cb->mu);
	curl_easy_cleanup(h);
	return NULL;
}

/* The key: the file's bytes without trailing CR/LF. */
static int read_key(struct gw_callbacks *cb, const char *path, char *err, size_t len)
{
	unsigned char buf[4096];
	size_t n = 0;
	int r = ft_secret_file_read("callbacks.secret_file", path, false, buf, sizeof(buf), &n, err,
				    len);
	if (r < 0)
		return -1;
	if (r > 0)
		ft_log_warn("%s", err);
	n = ft_secret_trim_newlines(buf, n);
	if (n < GW_CALLBACK_MIN_KEY) {
		ft_set_err(err, len, "callbacks.secret_file %s: the key is %zu bytes, at least %d",
			   path, n, GW_CALLBACK_MIN_KEY);
		sodium_memzero(buf, sizeof(buf));
		return -1;
	}
	cb->key = ft_xmemdup(buf, n);
	cb->key_len = n;
	sodium_memzero(buf, sizeof(buf));
	return 0;
}

struct gw_callbacks *gw_callbacks_new(const struct ft_callbacks_conf *conf, char *err, size_t len)
{
	struct gw_callbacks *cb = ft_xcalloc(1, sizeof(*cb));
	cb->conf = *conf;
	pthread_mutex_init(&cb->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cb->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (!conf->allowed_hosts[0])
		return cb;
	if (sodium_init() < 0) {
		ft_set_err(err, len, "libsodium could not be initialised");
		gw_callbacks_free(cb);
		return NULL;
	}
	if (read_key(cb, conf->secret_file, err, len) < 0) {
		gw_callbacks_free(cb);
		return NULL;
	}
	cb->senders = ft_xcalloc((size_t)conf->senders, sizeof(*cb->senders));
	for (int i = 0; i < conf->senders; i++) {
		if (pthread_create(&cb->senders[i], NULL, sender, cb) != 0) {
			ft_set_err(err, len, "cannot start a callback sender: %s", strerror(errno));
			gw_callbacks_free(cb);
			return NULL;
		}
		cb->n_senders++;
	}
	return cb;
}

void gw_callbacks_free(struct gw_callbacks *cb)
{
	if (!cb)
		return;
	pthread_mutex_lock(&cb->mu);
	cb->stopping = true;
	pthread_cond_broadcast(&cb->wake);
	pthread_mutex_unlock(&cb->mu);
	for (int i = 0; i < cb->n_senders; i++)
		pthread_join(cb->senders[i], NULL);
	size_t left = 0;
	while (cb->queue) {
		struct delivery *d = cb->queue;
		cb->queue = d->next;
		delivery_free(d);
		left++;
	}
	if (left)
		ft_log_warn("%zu callbacks not delivered at stop", left);
	free(cb->senders);
	if (cb->key)
		sodium_memzero(cb->key, cb->key_len);
	free(cb->key);
	pthread_cond_destroy(&cb->wake);
	pthread_mutex_destroy(&cb->mu);
	free(cb);
}

void gw_callbacks_post(struct gw_callbacks *cb, const char *method, const char *url,
		       const char *run_id, const char *body, size_t len)
{
	pthread_mutex_lock(&cb->mu);
	if (!cb->n_senders || cb->n_queued >= (size_t)cb->conf.max_queued) {
		cb->stats.dropped++;
		pthread_mutex_unlock(&cb->mu);
		ft_log_warn("callback for run %s dropped: %zu already queued "
			    "(callbacks.max_queued)",
			    run_id, cb->n_queued);
		return;
	}
	struct delivery *d = ft_xcalloc(1, sizeof(*d));
	d->url = ft_xstrdup(url);
	snprintf(d->method, sizeof(d->method), "%s", method);
	snprintf(d->run_id, sizeof(d->run_id), "%s", run_id);
	d->body = ft_xmemdup(body, len);
	d->len = len;
	d->due_ms = ft_now_ms();
	d->next = cb->queue;
	cb->queue = d;
	cb->n_queued++;
	pthread_cond_signal(&cb->wake);
	pthread_mutex_unlock(&cb->mu);
}

void gw_callbacks_stats(struct gw_callbacks *cb, struct gw_callback_stats *out)
{
	pthread_mutex_lock(&cb->mu);
	*out = cb->stats;
	out->queued = cb->n_queued;
	pthread_mutex_unlock(&cb->mu);
}

static void collect(struct ft_metrics *m, void *ud)
{
	(void)m;
	struct gw_callbacks *cb = ud;
	struct gw_callback_stats s;
	gw_callbacks_stats(cb, &s);
	ft_metric_set(cb->total, "delivered", (double)s.delivered);
	ft_metric_set(cb->total, "retried", (double)s.retried);
	ft_metric_set(cb->total, "failed", (double)s.failed);
	ft_metric_set(cb->total, "dropped", (double)s.dropped);
	ft_metric_set(cb->queued_gauge, NULL, (double)s.queued);
}

void gw_callbacks_register_metrics(struct gw_callbacks *cb)
{
	static const char *const outcomes[] = { "delivered", "retried", "failed", "dropped", NULL };
	struct ft_metrics *m = ft_metrics_global();
	cb->total = ft_metrics_counter(m, "ftgw_callbacks_total",
				       "Callback deliveries by outcome (retried: an attempt failed "
				       "and was tried again later)",
				       "outcome", outcomes);
	cb->queued_gauge = ft_metrics_gauge(m, "ftgw_callbacks_queued",
					    "Callbacks waiting to be delivered or being delivered",
					    NULL, NULL);
	ft_metrics_on_collect(m, collect, cb);
}
