/* ftctl logs: a node's heartbeat log, at the URL GET /v1/cluster lists for
 * it (or through the gateway's redirect), once or followed. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/args.h"
#include "client/clock.h"
#include "client/fields.h"
#include "client/ftctl.h"
#include "client/http.h"
#include "client/lines.h"
#include "client/usage.h"

/* The log's URL up to its query: "...?" or "...?kind=K&", so that a
 * "tail=N" can follow.  false if the cluster view could not be had. */
static bool log_base(long id, const char *kind, char *base, size_t n)
{
	base[0] = '\0';
	struct json_object *view = ftctl_get_cluster();
	if (!view)
		return false;
	struct json_object *nodes, *logs_o;
	if (json_object_object_get_ex(view, "nodes", &nodes))
		for (size_t i = 0; i < json_object_array_length(nodes); i++) {
			struct json_object *m = json_object_array_get_idx(nodes, i);
			if (ftctl_jint(m, "id", -1) == id &&
			    json_object_object_get_ex(m, "logs", &logs_o))
				snprintf(base, n, "%s%s", ftctl_jstr(logs_o, kind, ""), "?");
		}
	json_object_put(view);
	if (!base[0]) /* not listed (failed, or unknown): the gateway redirects */
		snprintf(base, n, "%s/v1/nodes/%ld/log?kind=%s&", ftctl_gateway, id, kind);
	return true;
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
	char base[1024];
	if (!log_base(id, kind, base, sizeof(base)))
		return EXIT_ERROR;
	struct ftctl_lines seen = { 0 };
	ftctl_catch_interrupts();
	int rc = EXIT_OK;
	for (long poll = 0; !ftctl_interrupted; poll++) {
		char url[1200];
		long want = poll == 0 ? tail : 1000;
		if (want > 0)
			snprintf(url, sizeof(url), "%stail=%ld", base, want);
		else
			snprintf(url, sizeof(url), "%.*s", (int)strlen(base) - 1, base);
		struct ftctl_buf body = { 0 };
		const char *err = NULL;
		long code = ftctl_http_get(url, NULL, &body, &err);
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
			struct ftctl_lines now = { 0 };
			ftctl_lines_split(body.data ? body.data : "", &now);
			for (size_t i = poll == 0 ? 0 : ftctl_lines_resume_at(&now, &seen);
			     i < now.n; i++)
				puts(now.v[i]);
			fflush(stdout);
			if (now.n)
				ftctl_lines_remember(&seen, &now);
			ftctl_lines_free(&now);
			free(body.data);
			rc = EXIT_OK;
		}
		if (!follow || (count > 0 && poll + 1 >= count))
			break;
		ftctl_sleep_s(interval);
	}
	ftctl_lines_free(&seen);
	return rc;
}

int ftctl_logs(int argc, char **argv)
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
			if (!ftctl_parse_long(optarg, 1, &tail))
				return ftctl_bad_usage(ftctl_usage_logs,
						       "--tail: not a positive number: ", optarg);
			break;
		case 'n':
			if (!ftctl_parse_long(optarg, 1, &count))
				return ftctl_bad_usage(ftctl_usage_logs,
						       "--count: not a positive number: ", optarg);
			break;
		case 'i':
			if (!ftctl_parse_seconds(optarg, &interval))
				return ftctl_bad_usage(
					ftctl_usage_logs,
					"--interval: not a number of seconds: ", optarg);
			break;
		case 'h':
			fputs(ftctl_usage_logs, stdout);
			return EXIT_OK;
		default:
			fputs(ftctl_usage_logs, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return ftctl_bad_usage(ftctl_usage_logs, "logs: give exactly one NODE", "");
	return logs(argv[optind], summary, follow, tail, count, interval);
}
