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
	bool json;
	int rc = ftctl_json_options(argc, argv, ftctl_usage_status, &json);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return ftctl_bad_usage(ftctl_usage_status, "status: unexpected argument ",
				       argv[optind]);
	return status(json);
}
