/* ftctl: the command-line client of an ftcluster gateway, on its JSON API
 * (docs/openapi.yaml):
 *
 *   submit   POST /v1/runs for each file, in parallel; results as they come
 *   status   GET /v1/cluster as a table
 *   watch    status, refreshed
 *   logs     a node's heartbeat log, through the URLs /v1/cluster lists */
#include "config.h"

#include <curl/curl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"

#define DEFAULT_GATEWAY "http://127.0.0.1:8888"

enum { EXIT_OK = 0, EXIT_FAILED_RUN = 1, EXIT_ERROR = 2, EXIT_USAGE = 64 };

static const char *gateway = DEFAULT_GATEWAY;
static long timeout_s = 120;

/* ---- help ---- */

static const char usage_main[] =
	"Usage: ftctl [--gateway URL] [--timeout SEC] COMMAND [OPTIONS] [ARGS]\n"
	"\n"
	"The command-line client of an ftcluster gateway.\n"
	"\n"
	"Commands (ftctl COMMAND --help for each):\n"
	"  submit [OPTIONS] FILE.java...  run each file on the cluster, in parallel, and\n"
	"                                 print each result as it arrives\n"
	"  status [--json]                the members (role, state, heartbeat age,\n"
	"                                 incarnation), the leader and its epoch\n"
	"  watch [--count N] [--interval SEC]\n"
	"                                 status, refreshed every second\n"
	"  logs NODE [OPTIONS]            a node's heartbeat log (verbose by default)\n"
	"\n"
	"Global options (before the command):\n"
	"  -g, --gateway URL     gateway address (default " DEFAULT_GATEWAY ", or $FTCTL_GATEWAY)\n"
	"  -t, --timeout SEC     give up on a request after SEC seconds (default 120; 0: never)\n"
	"  -h, --help            show this help\n"
	"  -V, --version         show the version\n"
	"\n"
	"submit options:\n"
	"  -j, --json            one JSON object per result (JSON Lines) on standard output\n"
	"      --stdin FILE      send FILE as the program's standard input\n"
	"  -a, --arg ARG         pass ARG to run(String[] args) (repeatable)\n"
	"  -w, --with FILE.java  compile FILE.java with each program (repeatable)\n"
	"      --time-limit MS   ask for a run time limit of MS milliseconds\n"
	"      --memory-limit MB ask for a memory limit of MB MiB\n"
	"  -q, --quiet           no progress line on standard error\n"
	"      --progress        a progress line even when standard error is not a terminal\n"
	"status options:\n"
	"  -j, --json            print the cluster view as JSON\n"
	"watch options:\n"
	"  -n, --count N         stop after N refreshes (default: until interrupted)\n"
	"  -i, --interval SEC    seconds between refreshes (default 1)\n"
	"logs options:\n"
	"  -s, --summary         the summary log instead of the verbose one\n"
	"  -f, --follow          keep printing new lines as they are logged\n"
	"      --tail N          start with the last N lines only\n"
	"  -n, --count N         with --follow: stop after N polls\n"
	"  -i, --interval SEC    with --follow: seconds between polls (default 1)\n"
	"\n"
	"Exit status: 0 success; 1 a run did not succeed (submit) or no leader (status);\n"
	"2 an error (gateway unreachable, bad answer, unreadable file); 64 usage error.\n";

static const char usage_submit[] =
	"Usage: ftctl [GLOBAL OPTIONS] submit [OPTIONS] FILE.java...\n"
	"\n"
	"Run each file on the cluster (POST /v1/runs), all in parallel, and print each\n"
	"result as it arrives: a line \"== FILE: VERDICT (details)\" and then what run()\n"
	"returned, or the error, then what the program wrote to standard output and\n"
	"error, if anything, under \"-- stdout --\" and \"-- stderr --\".  While waiting,\n"
	"a progress line on standard error.\n"
	"\n"
	"  -j, --json            one JSON object per result (JSON Lines): the run as the\n"
	"                        API returns it plus \"file\"\n"
	"      --stdin FILE      send FILE (UTF-8 text) as the program's standard input\n"
	"  -a, --arg ARG         pass ARG to the program's run(String[] args); repeat for\n"
	"                        more (a class with only run() cannot take arguments)\n"
	"  -w, --with FILE.java  another source file compiled together with each FILE\n"
	"                        (helper classes); FILE's public class is the one run;\n"
	"                        repeat for more\n"
	"      --time-limit MS   ask for a run time limit of MS milliseconds (at most the\n"
	"                        cluster's limits.run_wall_ms)\n"
	"      --memory-limit MB ask for a memory limit of MB MiB (64 to the cluster's\n"
	"                        limits.run_memory_bytes)\n"
	"  -q, --quiet           no progress line\n"
	"      --progress        a progress line even when standard error is not a terminal\n"
	"  -h, --help            show this help\n"
	"\n"
	"Exit status: 0 every run's verdict is ok; 1 some verdict is not ok; 2 some file\n"
	"got no result (unreadable, gateway unreachable, refused); 64 usage error.\n";

static const char usage_status[] =
	"Usage: ftctl [GLOBAL OPTIONS] status [--json]\n"
	"\n"
	"Show the cluster (GET /v1/cluster): the leader and its epoch, then one line per\n"
	"member: ID, ROLE, STATE, AGE (since its heartbeat last rose, as the gateway saw\n"
	"it), HEARTBEAT, INCARNATION, RUNNING (requests the leader has assigned to it and\n"
	"not yet answered, from GET /v1/recent) and ADDRESS.  Members known to have\n"
	"failed are listed with state \"failed\".\n"
	"\n"
	"  -j, --json            print the view as JSON instead\n"
	"  -h, --help            show this help\n"
	"\n"
	"Exit status: 0 there is a leader; 1 there is none; 2 error.\n";

static const char usage_watch[] =
	"Usage: ftctl [GLOBAL OPTIONS] watch [--count N] [--interval SEC]\n"
	"\n"
	"Show the status table and refresh it (on a terminal, in place) until\n"
	"interrupted.\n"
	"\n"
	"  -n, --count N         stop after N refreshes\n"
	"  -i, --interval SEC    seconds between refreshes (default 1; fractions allowed)\n"
	"  -h, --help            show this help\n";

static const char usage_logs[] =
	"Usage: ftctl [GLOBAL OPTIONS] logs NODE [--summary] [--follow] [--tail N]\n"
	"\n"
	"Print node NODE's heartbeat log: the verbose log (every gossip message received)\n"
	"or, with --summary, the summary log (joins, failures, heartbeat updates).  The\n"
	"URL comes from GET /v1/cluster; for a node not listed there (failed) ftctl asks\n"
	"GET /v1/nodes/NODE/log, which redirects to the node.\n"
	"\n"
	"  -s, --summary         the summary log\n"
	"  -f, --follow          keep polling and print new lines as they are logged\n"
	"      --tail N          start with the last N lines only\n"
	"  -n, --count N         with --follow: stop after N polls\n"
	"  -i, --interval SEC    with --follow: seconds between polls (default 1)\n"
	"  -h, --help            show this help\n";

/* ---- HTTP ---- */

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

/* GET url.  Returns the HTTP status, or -1 with *err set. */
static long http_get(const char *url, const char *accept, struct buf *body, const char **err)
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
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
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

static const char *jstr(struct json_object *o, const char *key, const char *def)
{
	struct json_object *v;
	if (o && json_object_object_get_ex(o, key, &v) && v)
		return json_object_get_string(v);
	return def;
}

static bool jhas(struct json_object *o, const char *key)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, key, &v) && v;
}

static int64_t jint(struct json_object *o, const char *key, int64_t def)
{
	struct json_object *v;
	if (o && json_object_object_get_ex(o, key, &v) && v)
		return json_object_get_int64(v);
	return def;
}

/* GET /v1/cluster.  NULL (with a message on stderr) on failure. */
/* GET a JSON object from the gateway; NULL (said why on stderr unless
 * quiet) on any failure. */
static struct json_object *get_object(const char *path, bool quiet)
{
	char url[1024];
	snprintf(url, sizeof(url), "%s%s", gateway, path);
	struct buf body = { 0 };
	const char *err = NULL;
	long code = http_get(url, "application/json", &body, &err);
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
				root ? jstr(root, "message", "unexpected answer")
				     : "answer is not JSON",
				code);
		json_object_put(root);
		return NULL;
	}
	return root;
}

static struct json_object *get_cluster(void)
{
	return get_object("/v1/cluster", false);
}

/* ---- submit ---- */

struct job {
	const char *file;
	CURL *h;
	struct curl_slist *hdrs;
	char *payload;
	struct buf body;
	bool finished;
};

struct submit_opts {
	bool json, quiet, progress;
	const char *stdin_file;
	long time_limit, memory_limit;
	char **args; /* from argv */
	size_t n_args;
	char **with; /* more source files compiled with each FILE (from argv) */
	size_t n_with;
	/* Their contents, read once by submit(). */
	char **with_text;
	size_t *with_len;
};

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
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
	bool bad = ferror(f);
	fclose(f);
	if (bad) {
		free(b.data);
		return NULL;
	}
	*len = b.len;
	return b.data ? b.data : calloc(1, 1);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_text(const char *s)
{
	size_t n = strlen(s);
	fwrite(s, 1, n, stdout);
	if (n == 0 || s[n - 1] != '\n')
		putchar('\n');
}

/* Print one job's outcome; returns its exit class (0 ok, 1 verdict, 2 error). */
static int report(const struct submit_opts *o, struct job *j, long code, const char *curl_err)
{
	struct json_object *run = NULL;
	if (!curl_err && j->body.data)
		run = json_tokener_parse(j->body.data);
	int cls;
	if (curl_err || !run || !json_object_is_type(run, json_type_object) ||
	    (code != 200 && code != 202)) {
		const char *code_s = curl_err ? "unreachable" : jstr(run, "error", "bad_answer");
		char msg[512];
		if (curl_err)
			snprintf(msg, sizeof(msg), "%s", curl_err);
		else
			snprintf(msg, sizeof(msg), "%s (HTTP %ld)",
				 run ? jstr(run, "message", "unexpected answer")
				     : "the answer is not JSON",
				 code);
		if (o->json) {
			struct json_object *e = json_object_new_object();
			json_object_object_add(e, "file", json_object_new_string(j->file));
			json_object_object_add(e, "error", json_object_new_string(code_s));
			json_object_object_add(e, "message", json_object_new_string(msg));
			puts(json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
			json_object_put(e);
		} else {
			printf("== %s: error: %s\n", j->file, msg);
		}
		json_object_put(run);
		return 2;
	}
	const char *verdict = jstr(run, "verdict", "unknown");
	cls = strcmp(verdict, "ok") == 0 ? 0 : 1;
	if (o->json) {
		struct json_object *out = json_object_new_object();
		json_object_object_add(out, "file", json_object_new_string(j->file));
		json_object_object_foreach(run, key, val)
		{
			json_object_object_add(out, key, json_object_get(val));
		}
		puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(out);
	} else {
		char detail[256] = "";
		struct json_object *v;
		if (json_object_object_get_ex(run, "cached", &v) && json_object_get_boolean(v)) {
			snprintf(detail, sizeof(detail), "cached");
		} else {
			int64_t worker = jint(run, "worker", -1), ms = jint(run, "time_ms", -1),
				attempts = jint(run, "attempts", -1);
			size_t k = 0;
			if (worker >= 0)
				k += (size_t)snprintf(detail + k, sizeof(detail) - k, "worker %lld",
						      (long long)worker);
			if (ms >= 0)
				k += (size_t)snprintf(detail + k, sizeof(detail) - k, "%s%lld ms",
						      k ? ", " : "", (long long)ms);
			if (attempts > 1)
				snprintf(detail + k, sizeof(detail) - k, "%s%lld attempts",
					 k ? ", " : "", (long long)attempts);
		}
		printf("== %s: %s%s%s%s\n", j->file, verdict, detail[0] ? " (" : "", detail,
		       detail[0] ? ")" : "");
		print_text(cls == 0 ? jstr(run, "output", "") : jstr(run, "error", ""));
		static const char *const streams[] = { "stdout", "stderr" };
		for (size_t i = 0; i < 2; i++) {
			const char *text = jstr(run, streams[i], "");
			if (*text) {
				printf("-- %s --\n", streams[i]);
				print_text(text);
			}
		}
	}
	fflush(stdout);
	json_object_put(run);
	return cls;
}

static char *make_payload(const struct submit_opts *o, const char *main_path, const char *src,
			  size_t len, const char *stdin_text, size_t stdin_len)
{
	struct json_object *req = json_object_new_object();
	if (o->n_with == 0) {
		json_object_object_add(req, "source", json_object_new_string_len(src, (int)len));
	} else {
		/* The main file first; the gateway checks the names. */
		struct json_object *files = json_object_new_object();
		json_object_object_add(files, base_name(main_path),
				       json_object_new_string_len(src, (int)len));
		for (size_t i = 0; i < o->n_with; i++)
			json_object_object_add(
				files, base_name(o->with[i]),
				json_object_new_string_len(o->with_text[i], (int)o->with_len[i]));
		json_object_object_add(req, "files", files);
		json_object_object_add(req, "main", json_object_new_string(base_name(main_path)));
	}
	if (stdin_text)
		json_object_object_add(req, "stdin",
				       json_object_new_string_len(stdin_text, (int)stdin_len));
	if (o->n_args > 0) {
		struct json_object *args = json_object_new_array();
		for (size_t i = 0; i < o->n_args; i++)
			json_object_array_add(args, json_object_new_string(o->args[i]));
		json_object_object_add(req, "args", args);
	}
	if (o->time_limit > 0 || o->memory_limit > 0) {
		struct json_object *lim = json_object_new_object();
		if (o->time_limit > 0)
			json_object_object_add(lim, "time_ms",
					       json_object_new_int64(o->time_limit));
		if (o->memory_limit > 0)
			json_object_object_add(lim, "memory_mb",
					       json_object_new_int64(o->memory_limit));
		json_object_object_add(req, "limits", lim);
	}
	json_object_object_add(req, "wait", json_object_new_boolean(true));
	char *s = strdup(json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
	json_object_put(req);
	return s;
}

static void progress(bool show, int done, int total, double t0)
{
	if (!show)
		return;
	fprintf(stderr, "\r\033[K[%d/%d done, %d waiting] %.1fs", done, total, total - done,
		now_s() - t0);
	fflush(stderr);
}

static void progress_clear(bool show)
{
	if (show) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
}

/* Reads the --with files into o; false (said why) if one cannot be read. */
static bool read_with_files(struct submit_opts *o)
{
	o->with_text = calloc(o->n_with + 1, sizeof(*o->with_text));
	o->with_len = calloc(o->n_with + 1, sizeof(*o->with_len));
	if (!o->with_text || !o->with_len)
		return false;
	for (size_t i = 0; i < o->n_with; i++) {
		o->with_text[i] = read_file(o->with[i], &o->with_len[i]);
		if (!o->with_text[i]) {
			fprintf(stderr, "ftctl: %s: cannot read\n", o->with[i]);
			return false;
		}
		if (!ft_utf8_valid(o->with_text[i], o->with_len[i])) {
			fprintf(stderr, "ftctl: %s: not UTF-8 text\n", o->with[i]);
			return false;
		}
	}
	return true;
}

static void free_with_files(struct submit_opts *o)
{
	for (size_t i = 0; o->with_text && i < o->n_with; i++)
		free(o->with_text[i]);
	free(o->with_text);
	free(o->with_len);
}

static int submit(struct submit_opts *o, int nfiles, char **files)
{
	char url[1024];
	snprintf(url, sizeof(url), "%s/v1/runs", gateway);
	char *stdin_text = NULL;
	size_t stdin_len = 0;
	if (o->stdin_file) {
		stdin_text = read_file(o->stdin_file, &stdin_len);
		if (!stdin_text) {
			fprintf(stderr, "ftctl: %s: cannot read\n", o->stdin_file);
			return EXIT_ERROR;
		}
		if (!ft_utf8_valid(stdin_text, stdin_len)) {
			fprintf(stderr,
				"ftctl: %s: not UTF-8 text (the JSON API takes stdin as text)\n",
				o->stdin_file);
			free(stdin_text);
			return EXIT_ERROR;
		}
	}
	if (!read_with_files(o)) {
		free_with_files(o);
		free(stdin_text);
		return EXIT_ERROR;
	}
	struct job *jobs = calloc((size_t)nfiles, sizeof(*jobs));
	CURLM *m = curl_multi_init();
	int worst = 0, done = 0;
	bool show = !o->json && !o->quiet && (o->progress || isatty(STDERR_FILENO));
	if (o->json)
		show = !o->quiet && o->progress;
	double t0 = now_s();
	for (int i = 0; i < nfiles; i++) {
		struct job *j = &jobs[i];
		j->file = files[i];
		size_t len;
		char *src = read_file(files[i], &len);
		const char *code = !src			      ? "unreadable"
				   : !ft_utf8_valid(src, len) ? "not_utf8"
							      : NULL;
		if (code) {
			const char *msg =
				src ? "not UTF-8 text (the JSON API takes sources as text)"
				    : "cannot read the file";
			free(src);
			j->finished = true;
			done++;
			if (o->json) {
				struct json_object *e = json_object_new_object();
				json_object_object_add(e, "file", json_object_new_string(files[i]));
				json_object_object_add(e, "error", json_object_new_string(code));
				json_object_object_add(e, "message", json_object_new_string(msg));
				puts(json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
				json_object_put(e);
			} else {
				printf("== %s: error: %s\n", files[i], msg);
			}
			worst = 2;
			continue;
		}
		j->payload = make_payload(o, files[i], src, len, stdin_text, stdin_len);
		free(src);
		j->h = curl_easy_init();
		j->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
		j->hdrs = curl_slist_append(j->hdrs, "Accept: application/json");
		curl_easy_setopt(j->h, CURLOPT_URL, url);
		curl_easy_setopt(j->h, CURLOPT_HTTPHEADER, j->hdrs);
		curl_easy_setopt(j->h, CURLOPT_POSTFIELDS, j->payload);
		curl_easy_setopt(j->h, CURLOPT_POSTFIELDSIZE, (long)strlen(j->payload));
		curl_easy_setopt(j->h, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(j->h, CURLOPT_WRITEDATA, &j->body);
		curl_easy_setopt(j->h, CURLOPT_TIMEOUT, timeout_s);
		curl_easy_setopt(j->h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(j->h, CURLOPT_PRIVATE, j);
		curl_multi_add_handle(m, j->h);
	}
	fflush(stdout);
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
			progress_clear(show);
			int cls = report(o, j, code,
					 msg->data.result == CURLE_OK
						 ? NULL
						 : curl_easy_strerror(msg->data.result));
			if (cls > worst)
				worst = cls;
			j->finished = true;
			done++;
		}
		if (running) {
			progress(show, done, nfiles, t0);
			curl_multi_poll(m, NULL, 0, 200, NULL);
		}
	}
	progress_clear(show);
	for (int i = 0; i < nfiles; i++) {
		struct job *j = &jobs[i];
		if (j->h) {
			curl_multi_remove_handle(m, j->h);
			curl_easy_cleanup(j->h);
		}
		curl_slist_free_all(j->hdrs);
		free(j->payload);
		free(j->body.data);
	}
	curl_multi_cleanup(m);
	free(jobs);
	free(stdin_text);
	free_with_files(o);
	return worst == 0 ? EXIT_OK : worst == 1 ? EXIT_FAILED_RUN : EXIT_ERROR;
}

/* ---- status and watch ---- */

static void fmt_age(char *out, size_t n, struct json_object *m)
{
	if (!jhas(m, "age_ms")) {
		snprintf(out, n, "-");
		return;
	}
	int64_t ms = jint(m, "age_ms", 0);
	if (ms < 60000)
		snprintf(out, n, "%.1fs", (double)ms / 1000.0);
	else
		snprintf(out, n, "%lldm%02llds", (long long)(ms / 60000),
			 (long long)(ms / 1000 % 60));
}

/* running: the gateway's in_flight_by_worker (NULL: not known). */
static void print_member(struct json_object *m, const char *state, struct json_object *running)
{
	char age[32], busy[16] = "-";
	fmt_age(age, sizeof(age), m);
	const char *id = jstr(m, "id", "?");
	struct json_object *n;
	if (running && strcmp(id, "0") != 0)
		snprintf(busy, sizeof(busy), "%d",
			 json_object_object_get_ex(running, id, &n) ? json_object_get_int(n) : 0);
	printf("%-5s %-9s %-7s %8s %10s %15s %7s  %s\n", id, jstr(m, "role", "-"), state, age,
	       jstr(m, "heartbeat", "-"), jstr(m, "incarnation", "-"), busy,
	       jstr(m, "address", "-"));
}

/* Print the table; returns 0 with a leader, 1 without. */
static int print_status(struct json_object *view)
{
	if (jhas(view, "leader"))
		printf("cluster %s: leader %s, epoch %s\n", jstr(view, "cluster", "?"),
		       jstr(view, "leader", "?"), jstr(view, "epoch", "?"));
	else
		printf("cluster %s: no leader%s\n", jstr(view, "cluster", "?"),
		       jhas(view, "zookeeper_connected") &&
				       !json_object_get_boolean(
					       json_object_object_get(view, "zookeeper_connected"))
			       ? " (the gateway is not connected to ZooKeeper)"
			       : "");
	printf("%-5s %-9s %-7s %8s %10s %15s %7s  %s\n", "ID", "ROLE", "STATE", "AGE", "HEARTBEAT",
	       "INCARNATION", "RUNNING", "ADDRESS");
	/* Requests in flight per worker: a second question, so "-" if it fails. */
	struct json_object *recent = get_object("/v1/recent?limit=1", true), *running = NULL;
	if (recent && !json_object_object_get_ex(recent, "in_flight_by_worker", &running))
		running = NULL;
	struct json_object *nodes, *failed;
	if (json_object_object_get_ex(view, "nodes", &nodes) &&
	    json_object_is_type(nodes, json_type_array))
		for (size_t i = 0; i < json_object_array_length(nodes); i++) {
			struct json_object *m = json_object_array_get_idx(nodes, i);
			print_member(m, jstr(m, "state", "alive"), running);
		}
	if (json_object_object_get_ex(view, "failed", &failed) &&
	    json_object_is_type(failed, json_type_array))
		for (size_t i = 0; i < json_object_array_length(failed); i++)
			print_member(json_object_array_get_idx(failed, i), "failed", running);
	json_object_put(recent);
	return jhas(view, "leader") ? EXIT_OK : EXIT_FAILED_RUN;
}

static int status(bool json)
{
	struct json_object *view = get_cluster();
	if (!view)
		return EXIT_ERROR;
	int rc;
	if (json) {
		puts(json_object_to_json_string_ext(view, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
		rc = jhas(view, "leader") ? EXIT_OK : EXIT_FAILED_RUN;
	} else {
		rc = print_status(view);
	}
	json_object_put(view);
	return rc;
}

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	interrupted = 1;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
	while (!interrupted && nanosleep(&ts, &ts) != 0)
		;
}

static int watch(long count, double interval)
{
	bool tty = isatty(STDOUT_FILENO);
	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	for (long i = 0; !interrupted && (count <= 0 || i < count); i++) {
		if (i > 0)
			sleep_s(interval);
		if (interrupted)
			break;
		time_t t = time(NULL);
		char when[32];
		strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
		if (tty)
			printf("\033[H\033[2J");
		else if (i > 0)
			printf("\n");
		printf("ftctl watch: %s every %gs, %s\n", gateway, interval, when);
		struct json_object *view = get_cluster();
		if (view) {
			print_status(view);
			json_object_put(view);
		} else {
			printf("(no answer from the gateway)\n");
		}
		fflush(stdout);
	}
	return EXIT_OK;
}

/* ---- logs ---- */

struct lines {
	char **v;
	size_t n;
};

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void split_lines(const char *text, struct lines *out)
{
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		out->v = realloc(out->v, (out->n + 1) * sizeof(char *));
		out->v[out->n++] = strndup(p, n);
		p += n + (nl ? 1 : 0);
	}
}

#define KEEP_LINES 8

/* Where new lines start in `now`: just after the last occurrence of the
 * lines printed last (`seen`); 0 if they are not there. */
static size_t resume_at(const struct lines *now, const struct lines *seen)
{
	size_t k = seen->n;
	if (k == 0)
		return 0;
	for (size_t end = now->n; end >= k; end--) {
		bool same = true;
		for (size_t i = 0; same && i < k; i++)
			same = strcmp(now->v[end - k + i], seen->v[i]) == 0;
		if (same)
			return end;
	}
	return 0;
}

static void remember(struct lines *seen, const struct lines *now)
{
	lines_free(seen);
	size_t from = now->n > KEEP_LINES ? now->n - KEEP_LINES : 0;
	for (size_t i = from; i < now->n; i++) {
		seen->v = realloc(seen->v, (seen->n + 1) * sizeof(char *));
		seen->v[seen->n++] = strdup(now->v[i]);
	}
}

static int logs(const char *node, bool summary, bool follow, long tail, long count, double interval)
{
	const char *kind = summary ? "summary" : "verbose";
	char *end;
	long id = strtol(node, &end, 10);
	if (*end || id < 1 || id > 65535) {
		fprintf(stderr, "ftctl: logs: NODE must be a node ID (1..65535)\n");
		return EXIT_USAGE;
	}
	char base[1024] = "";
	struct json_object *view = get_cluster();
	if (!view)
		return EXIT_ERROR;
	struct json_object *nodes, *logs_o;
	if (json_object_object_get_ex(view, "nodes", &nodes))
		for (size_t i = 0; i < json_object_array_length(nodes); i++) {
			struct json_object *m = json_object_array_get_idx(nodes, i);
			if (jint(m, "id", -1) == id &&
			    json_object_object_get_ex(m, "logs", &logs_o))
				snprintf(base, sizeof(base), "%s%s", jstr(logs_o, kind, ""), "?");
		}
	json_object_put(view);
	if (!base[0]) /* not listed (failed, or unknown): the gateway redirects */
		snprintf(base, sizeof(base), "%s/v1/nodes/%ld/log?kind=%s&", gateway, id, kind);
	struct lines seen = { 0 };
	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	int rc = EXIT_OK;
	for (long poll = 0; !interrupted; poll++) {
		char url[1200];
		long want = poll == 0 ? tail : 1000;
		if (want > 0)
			snprintf(url, sizeof(url), "%stail=%ld", base, want);
		else
			snprintf(url, sizeof(url), "%.*s", (int)strlen(base) - 1, base);
		struct buf body = { 0 };
		const char *err = NULL;
		long code = http_get(url, NULL, &body, &err);
		if (code != 200) {
			if (code < 0)
				fprintf(stderr, "ftctl: %s: %s\n", url, err);
			else
				fprintf(stderr, "ftctl: %s: HTTP %ld: %s", url, code,
					body.data ? body.data : "\n");
			free(body.data);
			rc = EXIT_ERROR;
			if (!follow)
				break;
		} else {
			struct lines now = { 0 };
			split_lines(body.data ? body.data : "", &now);
			for (size_t i = poll == 0 ? 0 : resume_at(&now, &seen); i < now.n; i++)
				puts(now.v[i]);
			fflush(stdout);
			if (now.n)
				remember(&seen, &now);
			lines_free(&now);
			free(body.data);
			rc = EXIT_OK;
		}
		if (!follow || (count > 0 && poll + 1 >= count))
			break;
		sleep_s(interval);
	}
	lines_free(&seen);
	return rc;
}

/* ---- arguments ---- */

static bool parse_long(const char *s, long min, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < min)
		return false;
	*out = v;
	return true;
}

static bool parse_seconds(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (!*s || *end || !(v > 0) || v > 86400)
		return false;
	*out = v;
	return true;
}

static int bad_usage(const char *usage, const char *what, const char *arg)
{
	fprintf(stderr, "ftctl: %s%s\n%s", what, arg, usage);
	return EXIT_USAGE;
}

static int cmd_submit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "stdin", required_argument, NULL, 'S' },
		{ "time-limit", required_argument, NULL, 'T' },
		{ "memory-limit", required_argument, NULL, 'M' },
		{ "arg", required_argument, NULL, 'a' },
		{ "with", required_argument, NULL, 'w' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "progress", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct submit_opts o = { 0 };
	/* At most one argument per word of argv. */
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	if (!args)
		return EXIT_ERROR;
	char **with = calloc((size_t)argc + 1, sizeof(*with));
	if (!with) {
		free(args);
		return EXIT_ERROR;
	}
	o.args = args;
	o.with = with;
	int c, rc;
	while ((c = getopt_long(argc, argv, "jqha:w:", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o.json = true;
			break;
		case 'S':
			o.stdin_file = optarg;
			break;
		case 'a':
			args[o.n_args++] = optarg;
			break;
		case 'w':
			with[o.n_with++] = optarg;
			break;
		case 'T':
			if (!parse_long(optarg, 1, &o.time_limit)) {
				rc = bad_usage(usage_submit,
					       "--time-limit: not a positive number: ", optarg);
				goto out;
			}
			break;
		case 'M':
			if (!parse_long(optarg, 1, &o.memory_limit)) {
				rc = bad_usage(usage_submit,
					       "--memory-limit: not a positive number: ", optarg);
				goto out;
			}
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'P':
			o.progress = true;
			break;
		case 'h':
			fputs(usage_submit, stdout);
			rc = EXIT_OK;
			goto out;
		default:
			fputs(usage_submit, stderr);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if (optind >= argc)
		rc = bad_usage(usage_submit, "submit: no file given", "");
	else
		rc = submit(&o, argc - optind, argv + optind);
out:
	free(args);
	free(with);
	return rc;
}

static int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(usage_status, stdout);
			return EXIT_OK;
		default:
			fputs(usage_status, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return bad_usage(usage_status, "status: unexpected argument ", argv[optind]);
	return status(json);
}

static int cmd_watch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	long count = 0;
	double interval = 1;
	int c;
	while ((c = getopt_long(argc, argv, "n:i:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!parse_long(optarg, 1, &count))
				return bad_usage(usage_watch,
						 "--count: not a positive number: ", optarg);
			break;
		case 'i':
			if (!parse_seconds(optarg, &interval))
				return bad_usage(usage_watch,
						 "--interval: not a number of seconds: ", optarg);
			break;
		case 'h':
			fputs(usage_watch, stdout);
			return EXIT_OK;
		default:
			fputs(usage_watch, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return bad_usage(usage_watch, "watch: unexpected argument ", argv[optind]);
	return watch(count, interval);
}

static int cmd_logs(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "summary", no_argument, NULL, 's' },
		{ "follow", no_argument, NULL, 'f' },
		{ "tail", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool summary = false, follow = false;
	long tail = 0, count = 0;
	double interval = 1;
	int c;
	while ((c = getopt_long(argc, argv, "sfn:i:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			summary = true;
			break;
		case 'f':
			follow = true;
			break;
		case 't':
			if (!parse_long(optarg, 1, &tail))
				return bad_usage(usage_logs,
						 "--tail: not a positive number: ", optarg);
			break;
		case 'n':
			if (!parse_long(optarg, 1, &count))
				return bad_usage(usage_logs,
						 "--count: not a positive number: ", optarg);
			break;
		case 'i':
			if (!parse_seconds(optarg, &interval))
				return bad_usage(usage_logs,
						 "--interval: not a number of seconds: ", optarg);
			break;
		case 'h':
			fputs(usage_logs, stdout);
			return EXIT_OK;
		default:
			fputs(usage_logs, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return bad_usage(usage_logs, "logs: give exactly one NODE", "");
	return logs(argv[optind], summary, follow, tail, count, interval);
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
	if (getenv("FTCTL_GATEWAY") && *getenv("FTCTL_GATEWAY"))
		gateway = getenv("FTCTL_GATEWAY");
	int o;
	while ((o = getopt_long(argc, argv, "+g:t:hV", opts, NULL)) != -1) {
		switch (o) {
		case 'g':
			gateway = optarg;
			break;
		case 't':
			if (!parse_long(optarg, 0, &timeout_s))
				return bad_usage(usage_main,
						 "--timeout: not a number of seconds: ", optarg);
			break;
		case 'h':
			fputs(usage_main, stdout);
			return EXIT_OK;
		case 'V':
			printf("ftctl %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		default:
			fputs(usage_main, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(usage_main, stderr);
		return EXIT_USAGE;
	}
	/* A trailing slash would make "//v1/..." paths. */
	static char gw_buf[1024];
	snprintf(gw_buf, sizeof(gw_buf), "%s", gateway);
	size_t gl = strlen(gw_buf);
	while (gl > 0 && gw_buf[gl - 1] == '/')
		gw_buf[--gl] = '\0';
	gateway = gw_buf;

	const char *cmd = argv[optind];
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	optind = 0; /* reinitialise getopt for the command's own options */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc;
	if (strcmp(cmd, "submit") == 0)
		rc = cmd_submit(sub_argc, sub_argv);
	else if (strcmp(cmd, "status") == 0)
		rc = cmd_status(sub_argc, sub_argv);
	else if (strcmp(cmd, "watch") == 0)
		rc = cmd_watch(sub_argc, sub_argv);
	else if (strcmp(cmd, "logs") == 0)
		rc = cmd_logs(sub_argc, sub_argv);
	else if (strcmp(cmd, "help") == 0) {
		const char *what = sub_argc > 1 ? sub_argv[1] : "";
		fputs(strcmp(what, "submit") == 0   ? usage_submit
		      : strcmp(what, "status") == 0 ? usage_status
		      : strcmp(what, "watch") == 0  ? usage_watch
		      : strcmp(what, "logs") == 0   ? usage_logs
						    : usage_main,
		      stdout);
		rc = EXIT_OK;
	} else {
		fprintf(stderr, "ftctl: unknown command: %s\n", cmd);
		fputs(usage_main, stderr);
		rc = EXIT_USAGE;
	}
	curl_global_cleanup();
	return rc;
}
