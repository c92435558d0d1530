#include "client/http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/fields.h"
#include "client/ftctl.h"

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
	CURL *h = curl_easy_init();
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
	CURL *h;
	struct curl_slist *hdrs;
	struct ftctl_buf body;
	void *ud;
};

struct ftctl_posts {
	CURLM *m;
	struct post *v;
	size_t n, cap;
};

struct ftctl_posts *ftctl_posts_new(size_t n)
{
	struct ftctl_posts *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->v = calloc(n ? n : 1, sizeof(*p->v));
	if (!p->v) {
		free(p);
		return NULL;
	}
	p->cap = n;
	p->m = curl_multi_init();
	return p;
}

void ftctl_posts_add(struct ftctl_posts *p, const char *url, const char *payload, void *ud)
{
	if (p->n >= p->cap)
		return;
	struct post *j = &p->v[p->n++];
	j->ud = ud;
	j->h = curl_easy_init();
	j->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	j->hdrs = curl_slist_append(j->hdrs, "Accept: application/json");
	curl_easy_setopt(j->h, CURLOPT_URL, url);
	curl_easy_setopt(j->h, CURLOPT_HTTPHEADER, j->hdrs);
	curl_easy_setopt(j->h, CURLOPT_POSTFIELDS, payload);
	curl_easy_setopt(j->h, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
	curl_easy_setopt(j->h, CURLOPT_WRITEFUNCTION, ftctl_buf_collect);
	curl_easy_setopt(j->h, CURLOPT_WRITEDATA, &j->body);
	curl_easy_setopt(j->h, CURLOPT_TIMEOUT, ftctl_timeout_s);
	curl_easy_setopt(j->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(j->h, CURLOPT_PRIVATE, j);
	curl_multi_add_handle(p->m, j->h);
}

void ftctl_posts_run(struct ftctl_posts *p, ftctl_post_done_fn done, ftctl_posts_wait_fn waiting,
		     void *ctx)
{
	int running = 1;
	while (running) {
		curl_multi_perform(p->m, &running);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(p->m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct post *j;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
			long code = 0;
			curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &code);
			done(j->ud, code,
			     msg->data.result == CURLE_OK ? NULL
							  : curl_easy_strerror(msg->data.result),
			     j->body.data, ctx);
		}
		if (running) {
			waiting(ctx);
			curl_multi_poll(p->m, NULL, 0, 200, NULL);
		}
	}
}

void ftctl_posts_free(struct ftctl_posts *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		struct post *j = &p->v[i];
		curl_multi_remove_handle(p->m, j->h);
		curl_easy_cleanup(j->h);
		curl_slist_free_all(j->hdrs);
		free(j->body.data);
	}
	curl_multi_cleanup(p->m);
	free(p->v);
	free(p);
}
