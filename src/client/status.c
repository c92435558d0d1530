/* ftctl status: GET /v1/cluster as a table (or as JSON). */
#include "client/status.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "client/fields.h"
#include "client/ftctl.h"
#include "client/http.h"
#include "client/output.h"
#include "client/usage.h"

int ftctl_show_status(struct json_object *view)
{
	ftctl_print_cluster_head(stdout, view);
	/* Requests in flight per worker: a second question, so "-" if it fails. */
	struct json_object *recent = ftctl_get_object("/v1/recent?limit=1", true), *running = NULL;
	if (recent && !json_object_object_get_ex(recent, "in_flight_by_worker", &running))
		running = NULL;
	int rc = ftctl_print_members(stdout, view, running);
	json_object_put(recent);
	return rc;
}

static int status(bool json)
{
	struct json_object *view = ftctl_get_cluster();
	if (!view)
		return EXIT_ERROR;
	int rc;
	if (json) {
		puts(json_object_to_json_string_ext(view, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
		rc = ftctl_jhas(view, "leader") ? EXIT_OK : EXIT_FAILED_RUN;
	} else {
		rc = ftctl_show_status(view);
	}
	json_object_put(view);
	return rc;
}

int ftctl_status(int argc, char **argv)
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
			fputs(ftctl_usage_status, stdout);
			return EXIT_OK;
		default:
			fputs(ftctl_usage_status, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return ftctl_bad_usage(ftctl_usage_status, "status: unexpected argument ",
				       argv[optind]);
	return status(json);
}
