#include "client/http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "client/clock.h"
#include "client/fields.h"
#include "client/ftctl.h"
#include "client/sched.h"

const char *ftctl_gateway = FTCTL_DEFAULT_GATEWAY;
long ftctl_timeout_s = 120;

void ftctl_http_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void ftctl_http_cleanup(void)
{
	curl_global_cleanup();
}

size_t ftctl_buf_collect(char *p, size_t sz, size_t n, void *buf)
{
	struct ftctl_buf *b = buf;
	size_t k = sz * n;
	char *d = realloc(b->data, b->len + k + 1);
	if (!d)
		return 0;
	b->data = d;
	memcpy(b->data + b->len, p, k);
	b->len += k;
	b->data[b->len] = '\0';
	return k;
}

long ftctl_http_get(const char *url, const char *accept, struct ftctl_buf *body, const char **err)
{
	return ftctl_http_request("GET", url, accept, body, err);
}

long ftctl_http_request(const char *method, const char *url, const char *accept,
			struct ftctl_buf *body, const char **err)
{
	CURL *h = curl_easy_init();
	if (!h) {
		*err = "out of memory";
		return -1;
	}
	if (strcmp(method, "GET") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	struct curl_slist *hdrs = NULL;
	if (accept) {
		char line[128];
		snprintf(line, sizeof(line), "Accept: %s", accept);
		hdrs = curl_slist_append(NULL, line);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ftctl_buf_collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, ftctl_timeout_s);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	CURLcode rc = curl_easy_perform(h);
	long code = -1;
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	else
		*err = curl_easy_strerror(rc);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return code;
}

struct json_object *ftctl_get_object(const char *path, bool quiet)
{
	char url[1024];
	snprintf(url, sizeof(url), "%s%s", ftctl_gateway, path);
	struct ftctl_buf body = { 0 };
	const char *err = NULL;
	long code = ftctl_http_get(url, "application/json", &body, &err);
	struct json_object *root = code > 0 ? json_tokener_parse(body.data ? body.data : "") : NULL;
	free(body.data);
	if (code < 0) {
		if (!quiet)
			fprintf(stderr, "ftctl: %s: %s\n", url, err);
		return NULL;
	}
	if (code != 200 || !root || !json_object_is_type(root, json_type_object)) {
		if (!quiet)
			fprintf(stderr, "ftctl: %s: %s (HTTP %ld)\n", url,
				root ? ftctl_jstr(root, "message", "unexpected answer")
				     : "answer is not JSON",
				code);
		json_object_put(root);
		return NULL;
	}
	return root;
}

struct json_object *ftctl_get_cluster(void)
{
	return ftctl_get_object("/v1/cluster", false);
}

/* ---- parallel POSTs ---- */

struct post {
	const char *url, *payload;
	CURL *h; /* while it is in flight */
	struct curl_slist *hdrs;
	struct ftctl_buf body;
	char retry_after[64]; /* the last answer's Retry-After, "" if none */
	void *ud;
};

struct ftctl_posts {
	CURLM *m;
	struct post *v;
	size_t n, cap, parallel;
	struct ftctl_sched s;
};

struct ftctl_posts *ftctl_posts_new(size_t n, size_t parallel)
{
	struct ftctl_posts *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->v = calloc(n ? n : 1, sizeof(*p->v));
	p->m = curl_multi_init();
	if (!p->v || !p->m) {
		ftctl_posts_free(p);
		return NULL;
	}
	p->cap = n;
	p->parallel = parallel ? parallel : 1;
	return p;
}

void ftctl_posts_add(struct ftctl_posts *p, const char *url, const char *payload, void *ud)
{
	if (p->n >= p->cap)
		return;
	struct post *j = &p->v[p->n++];
	j->url = url;
	j->payload = payload;
	j->ud = ud;
}

/* Keeps the Retry-After of the answer (a new status line forgets the one
 * of an interim answer). */
static size_t header_seen(char *line, size_t sz, size_t n, void *ud)
{
	struct post *j = ud;
	size_t k = sz * n;
	static const char name[] = "retry-after:";
	if (k >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		j->retry_after[0] = '\0';
	} else if (k > sizeof(name) - 1 && strncasecmp(line, name, sizeof(name) - 1) == 0) {
		size_t v = k - (sizeof(name) - 1);
		if (v >= sizeof(j->retry_after))
			v = sizeof(j->retry_after) - 1;
		memcpy(j->retry_after, line + sizeof(name) - 1, v);
		j->retry_after[v] = '\0';
	}
	return k;
}

/* Sends job i's request (again), within what is left of its time; false
 * if it cannot even be made (out of memory). */
static bool post_start(struct ftctl_posts *p, size_t i, double now)
{
	struct post *j = &p->v[i];
	free(j->body.data);
	j->body = (struct ftctl_buf){ 0 };
	j->retry_after[0] = '\0';
	if (!j->hdrs) {
		j->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
		j->hdrs = curl_slist_append(j->hdrs, "Accept: application/json");
	}
	j->h = curl_easy_init();
	if (!j->h || !j->hdrs)
		return false;
	curl_easy_setopt(j->h, CURLOPT_URL, j->url);
	curl_easy_setopt(j->h, CURLOPT_HTTPHEADER, j->hdrs);
	curl_easy_setopt(j->h, CURLOPT_POSTFIELDS, j->payload);
	curl_easy_setopt(j->h, CURLOPT_POSTFIELDSIZE, (long)strlen(j->payload));
	curl_easy_setopt(j->h, CURLOPT_WRITEFUNCTION, ftctl_buf_collect);
	curl_easy_setopt(j->h, CURLOPT_WRITEDATA, &j->body);
	curl_easy_setopt(j->h, CURLOPT_HEADERFUNCTION, header_seen);
	curl_easy_setopt(j->h, CURLOPT_HEADERDATA, j);
	double left_ms = ftctl_sched_time_left(&p->s, i, now) * 1000.0;
	curl_easy_setopt(j->h, CURLOPT_TIMEOUT_MS, left_ms < 2e9 ? (long)left_ms : 2000000000L);
	curl_easy_setopt(j->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(j->h, CURLOPT_PRIVATE, j);
	return curl_multi_add_handle(p->m, j->h) == CURLM_OK;
}

static void post_stop(struct ftctl_posts *p, struct post *j)
{
	if (!j->h)
		return;
	curl_multi_remove_handle(p->m, j->h);
	curl_easy_cleanup(j->h);
	j->h = NULL;
}

/* Job i could not be sent: it is done, with that error. */
static void post_failed(struct ftctl_posts *p, size_t i, ftctl_post_done_fn done, void *ctx)
{
	struct post *j = &p->v[i];
	post_stop(p, j);
	ftctl_sched_answered(&p->s, i);
	struct ftctl_answer a = { .err = "out of memory", .tries = p->s.job[i].tries };
	done(j->ud, &a, ctx);
}

/* 503 (overloaded) and 429 (too many requests) are "not now": sent again. */
static bool refusal(CURLcode rc, long code)
{
	return rc == CURLE_OK && (code == 503 || code == 429);
}

/* A request is over: it goes again (refused, with time left) or is done. */
static void post_finished(struct ftctl_posts *p, CURLMsg *msg, ftctl_post_done_fn done, void *ctx)
{
	struct post *j;
	curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
	size_t i = (size_t)(j - p->v);
	long code = 0;
	curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &code);
	CURLcode rc = msg->data.result;
	post_stop(p, j);
	if (refusal(rc, code)) {
		double after;
		if (!ftctl_parse_retry_after(j->retry_after, time(NULL), &after))
			after = -1;
		if (ftctl_sched_refused(&p->s, i, ftctl_now_s(), after))
			return;
	} else {
		ftctl_sched_answered(&p->s, i);
	}
	struct ftctl_answer a = {
		.code = code,
		.err = rc == CURLE_OK ? NULL : curl_easy_strerror(rc),
		.body = j->body.data,
		.tries = p->s.job[i].tries,
	};
	done(j->ud, &a, ctx);
}

/* How long curl may wait for news: until a refused request is due, 200 ms
 * at most (the progress line). */
static int poll_ms(const struct ftctl_posts *p)
{
	double w = ftctl_sched_wake_in(&p->s, ftctl_now_s());
	if (w < 0 || w >= 0.2)
		return 200;
	return (int)(w * 1000.0) + 1;
}

void ftctl_posts_run(struct ftctl_posts *p, ftctl_post_done_fn done, ftctl_posts_wait_fn waiting,
		     void *ctx)
{
	if (!ftctl_sched_init(&p->s, p->n, p->parallel, (double)ftctl_timeout_s)) {
		for (size_t i = 0; i < p->n; i++) {
			struct ftctl_answer a = { .err = "out of memory" };
			done(p->v[i].ud, &a, ctx);
		}
		return;
	}
	while (p->s.left > 0) {
		long i;
		double now = ftctl_now_s();
		while ((i = ftctl_sched_next(&p->s, now)) >= 0)
			if (!post_start(p, (size_t)i, now))
				post_failed(p, (size_t)i, done, ctx);
		int running;
		curl_multi_perform(p->m, &running);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(p->m, &left)))
			if (msg->msg == CURLMSG_DONE)
				post_finished(p, msg, done, ctx);
		if (p->s.left == 0)
			break;
		waiting(ctx);
		curl_multi_poll(p->m, NULL, 0, poll_ms(p), NULL);
	}
}

size_t ftctl_posts_retrying(const struct ftctl_posts *p)
{
	return p->s.job ? ftctl_sched_waiting_retry(&p->s) : 0;
}

size_t ftctl_posts_refusals(const struct ftctl_posts *p)
{
	return p->s.refusals;
}

void ftctl_posts_free(struct ftctl_posts *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		struct post *j = &p->v[i];
		post_stop(p, j);
		curl_slist_free_all(j->hdrs);
		free(j->body.data);
	}
	if (p->m)
		curl_multi_cleanup(p->m);
	ftctl_sched_free(&p->s);
	free(p->v);
	free(p);
}
