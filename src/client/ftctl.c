/* ftctl: the command-line client of an ftcluster gateway. */
#include "config.h"

#include <curl/curl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_GATEWAY "http://127.0.0.1:8888"

enum { EXIT_OK = 0, EXIT_FAILED_RUN = 1, EXIT_ERROR = 2, EXIT_USAGE = 64 };

struct buf {
	char *data;
	size_t len;
};

static size_t collect(char *p, size_t sz, size_t n, void *ud)
{
	struct buf *b = ud;
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

struct job {
	const char *file;
	char *src;
	size_t len;
	CURL *h;
	struct curl_slist *hdrs;
	struct buf body, head;
};

static void usage(FILE *to)
{
	fprintf(to,
		"Usage: ftctl [--gateway URL] COMMAND [ARGS]\n"
		"\n"
		"Commands:\n"
		"  submit FILE.java...   run each file on the cluster (in parallel) and print\n"
		"                        each result; exit status 0 only if every run succeeded\n"
		"  status                show the cluster: leader, epoch, members and roles\n"
		"\n"
		"Options:\n"
		"  -g, --gateway URL     gateway address (default " DEFAULT_GATEWAY
		", or $FTCTL_GATEWAY)\n"
		"  -t, --timeout SEC     give up on a request after SEC seconds (default 120)\n"
		"  -h, --help            show this help\n"
		"  -V, --version         show the version\n");
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b = { 0 };
	char tmp[65536];
	size_t k;
	while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0)
		collect(tmp, 1, k, &b);
	fclose(f);
	*len = b.len;
	return b.data ? b.data : calloc(1, 1);
}

static bool header_says_cached(const struct buf *head)
{
	return head->data && strstr(head->data, "Cached-Response: true");
}

static int submit(const char *gw, long timeout, int nfiles, char **files)
{
	char url[512];
	snprintf(url, sizeof(url), "%s/compileandrun", gw);
	struct job *jobs = calloc((size_t)nfiles, sizeof(*jobs));
	CURLM *m = curl_multi_init();
	int failures = 0;
	for (int i = 0; i < nfiles; i++) {
		struct job *j = &jobs[i];
		j->file = files[i];
		j->src = read_file(files[i], &j->len);
		if (!j->src) {
			fprintf(stderr, "ftctl: %s: cannot read\n", files[i]);
			failures++;
			continue;
		}
		j->h = curl_easy_init();
		j->hdrs = curl_slist_append(NULL, "Content-Type: text/x-java-source");
		curl_easy_setopt(j->h, CURLOPT_URL, url);
		curl_easy_setopt(j->h, CURLOPT_HTTPHEADER, j->hdrs);
		curl_easy_setopt(j->h, CURLOPT_POSTFIELDS, j->src);
		curl_easy_setopt(j->h, CURLOPT_POSTFIELDSIZE, (long)j->len);
		curl_easy_setopt(j->h, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(j->h, CURLOPT_WRITEDATA, &j->body);
		curl_easy_setopt(j->h, CURLOPT_HEADERFUNCTION, collect);
		curl_easy_setopt(j->h, CURLOPT_HEADERDATA, &j->head);
		curl_easy_setopt(j->h, CURLOPT_TIMEOUT, timeout);
		curl_easy_setopt(j->h, CURLOPT_PRIVATE, j);
		curl_multi_add_handle(m, j->h);
	}
	int running = 1;
	while (running) {
		curl_multi_perform(m, &running);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct job *j;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
			long code = 0;
			curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &code);
			if (msg->data.result != CURLE_OK) {
				printf("== %s: error: %s\n", j->file,
				       curl_easy_strerror(msg->data.result));
				failures++;
			} else {
				printf("== %s: HTTP %ld%s\n%s%s", j->file, code,
				       header_says_cached(&j->head) ? " (cached)" : "",
				       j->body.data ? j->body.data : "",
				       j->body.len && j->body.data[j->body.len - 1] == '\n' ? ""
											    : "\n");
				if (code != 200)
					failures++;
			}
			fflush(stdout);
		}
		if (running)
			curl_multi_poll(m, NULL, 0, 1000, NULL);
	}
	for (int i = 0; i < nfiles; i++) {
		struct job *j = &jobs[i];
		if (j->h) {
			curl_multi_remove_handle(m, j->h);
			curl_easy_cleanup(j->h);
		}
		curl_slist_free_all(j->hdrs);
		free(j->src);
		free(j->body.data);
		free(j->head.data);
	}
	curl_multi_cleanup(m);
	free(jobs);
	return failures ? EXIT_FAILED_RUN : EXIT_OK;
}

static int status(const char *gw, long timeout)
{
	char url[512];
	snprintf(url, sizeof(url), "%s/cluster", gw);
	CURL *h = curl_easy_init();
	struct buf body = { 0 };
	struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout);
	CURLcode rc = curl_easy_perform(h);
	long code = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	if (rc != CURLE_OK) {
		fprintf(stderr, "ftctl: %s: %s\n", url, curl_easy_strerror(rc));
		free(body.data);
		return EXIT_ERROR;
	}
	struct json_object *root = json_tokener_parse(body.data ? body.data : "");
	free(body.data);
	if (!root) {
		fprintf(stderr, "ftctl: %s: answer is not JSON\n", url);
		return EXIT_ERROR;
	}
	struct json_object *v, *ep;
	if (json_object_object_get_ex(root, "leader", &v) && v)
		printf("leader %d, epoch %s\n", json_object_get_int(v),
		       json_object_object_get_ex(root, "epoch", &ep) ? json_object_get_string(ep)
								     : "?");
	else
		printf("no leader\n");
	printf("%-6s %-9s %-7s %-22s %10s %8s\n", "ID", "ROLE", "STATE", "ADDRESS", "HEARTBEAT",
	       "AGE_MS");
	struct json_object *nodes;
	if (json_object_object_get_ex(root, "nodes", &nodes)) {
		for (size_t i = 0; i < json_object_array_length(nodes); i++) {
			struct json_object *n = json_object_array_get_idx(nodes, i), *f;
#define S(k) (json_object_object_get_ex(n, k, &f) ? json_object_get_string(f) : "-")
			printf("%-6s %-9s %-7s %-22s %10s %8s\n", S("id"), S("role"), S("state"),
			       S("address"), S("heartbeat"), S("age_ms"));
#undef S
		}
	}
	struct json_object *failed;
	if (json_object_object_get_ex(root, "failed", &failed) &&
	    json_object_array_length(failed) > 0) {
		printf("failed:");
		for (size_t i = 0; i < json_object_array_length(failed); i++) {
			struct json_object *f, *n = json_object_array_get_idx(failed, i);
			if (json_object_object_get_ex(n, "id", &f))
				printf(" %d", json_object_get_int(f));
		}
		printf("\n");
	}
	json_object_put(root);
	return code == 200 ? EXIT_OK : EXIT_FAILED_RUN;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "gateway", required_argument, NULL, 'g' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *gw = getenv("FTCTL_GATEWAY") ? getenv("FTCTL_GATEWAY") : DEFAULT_GATEWAY;
	long timeout = 120;
	int o;
	while ((o = getopt_long(argc, argv, "+g:t:hV", opts, NULL)) != -1) {
		switch (o) {
		case 'g':
			gw = optarg;
			break;
		case 't':
			timeout = atol(optarg);
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("ftctl %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[optind++];
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc;
	if (strcmp(cmd, "submit") == 0 && optind < argc) {
		rc = submit(gw, timeout, argc - optind, argv + optind);
	} else if (strcmp(cmd, "status") == 0) {
		rc = status(gw, timeout);
	} else {
		usage(stderr);
		rc = EXIT_USAGE;
	}
	curl_global_cleanup();
	return rc;
}
