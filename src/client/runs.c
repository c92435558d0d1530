/* ftctl get, wait and cancel: runs named by their ids (as submit --no-wait
 * prints them): GET /v1/runs/ID once, GET /v1/runs/ID until it is done,
 * DELETE /v1/runs/ID. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/clock.h"
#include "client/ftctl.h"
#include "client/http.h"
#include "client/output.h"
#include "client/usage.h"

/* wait polls a run this often at first, then less, up to the most. */
#define POLL_FIRST_S 0.1
#define POLL_MAX_S 1.0

/* A run's id goes into a URL path: letters, digits, '-' and '_' only. */
static bool valid_id(const char *id)
{
	size_t n = strlen(id);
	return n > 0 && n <= 64 &&
	       strspn(id, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_") == n;
}

/* method /v1/runs/ID into *a; the body stays in *body (the caller frees). */
static void ask(const char *method, const char *id, struct ftctl_buf *body, struct ftctl_answer *a)
{
	char url[1200];
	snprintf(url, sizeof(url), "%s/v1/runs/%s", ftctl_gateway, id);
	const char *err = NULL;
	*body = (struct ftctl_buf){ 0 };
	long code = ftctl_http_request(method, url, "application/json", body, &err);
	*a = (struct ftctl_answer){
		.code = code > 0 ? code : 0,
		.err = code > 0 ? NULL
		       : err	? err
				: "no answer",
		.body = body->data,
		.tries = 1,
	};
}

static int worse(int a, int b)
{
	return a > b ? a : b;
}

/* The exit status of the worst class of the answers. */
static int exit_of(int worst)
{
	return worst == FTCTL_OK ? EXIT_OK : worst == FTCTL_NOT_OK ? EXIT_FAILED_RUN : EXIT_ERROR;
}

static int get(bool json, int n, char **ids)
{
	int worst = FTCTL_OK;
	for (int i = 0; i < n; i++) {
		struct ftctl_buf body;
		struct ftctl_answer a;
		ask("GET", ids[i], &body, &a);
		/* Shown is success, whatever the run's verdict or progress. */
		if (ftctl_print_run(stdout, json, ids[i], &a) == FTCTL_NO_RESULT)
			worst = FTCTL_NO_RESULT;
		free(body.data);
	}
	return exit_of(worst);
}

/* One poll of run id: true once it is done, or its answer is final (an
 * error), and printed; false while it is queued or running. */
static bool poll_once(bool json, const char *id, int *worst)
{
	struct ftctl_buf body;
	struct ftctl_answer a;
	ask("GET", id, &body, &a);
	bool pending = ftctl_answer_pending(&a);
	if (!pending)
		*worst = worse(*worst, ftctl_print_run(stdout, json, id, &a));
	free(body.data);
	return !pending;
}

static int wait_runs(bool json, int n, char **ids)
{
	bool *done = calloc((size_t)n, sizeof(*done));
	if (!done)
		return EXIT_ERROR;
	double deadline = ftctl_timeout_s > 0 ? ftctl_now_s() + (double)ftctl_timeout_s : 0;
	double interval = POLL_FIRST_S;
	int worst = FTCTL_OK, left = n;
	for (;;) {
		for (int i = 0; i < n; i++)
			if (!done[i] && poll_once(json, ids[i], &worst)) {
				done[i] = true;
				left--;
			}
		double now = ftctl_now_s();
		if (left == 0 || (deadline > 0 && now >= deadline))
			break;
		/* The last poll is at the deadline, not before it. */
		ftctl_sleep_s(deadline > 0 && now + interval > deadline ? deadline - now
									: interval);
		interval = interval * 1.5 < POLL_MAX_S ? interval * 1.5 : POLL_MAX_S;
	}
	for (int i = 0; i < n; i++)
		if (!done[i]) {
			char msg[128];
			snprintf(msg, sizeof(msg), "not done after %ld s (--timeout)",
				 ftctl_timeout_s);
			ftctl_print_error(stdout, json, "id", ids[i], "not_done", msg);
			worst = FTCTL_NO_RESULT;
		}
	free(done);
	return exit_of(worst);
}

static int cancel(bool json, int n, char **ids)
{
	int worst = FTCTL_OK;
	for (int i = 0; i < n; i++) {
		struct ftctl_buf body;
		struct ftctl_answer a;
		ask("DELETE", ids[i], &body, &a);
		if (!a.err && a.code == 409) {
			/* Not an error of ftctl's: there was nothing left to stop. */
			ftctl_print_error(stdout, json, "id", ids[i], "run_finished",
					  "already finished, not cancelled (HTTP 409 run_finished; "
					  "ftctl get shows its result)");
			worst = worse(worst, FTCTL_NOT_OK);
		} else if (ftctl_print_run(stdout, json, ids[i], &a) == FTCTL_NO_RESULT) {
			worst = FTCTL_NO_RESULT;
		}
		free(body.data);
	}
	return exit_of(worst);
}

/* The shared command line of get, wait and cancel: [--json] ID... */
int ftctl_runs(int argc, char **argv)
{
	const char *cmd = argv[0], *usage = ftctl_usage_of(cmd);
	bool json;
	int rc = ftctl_json_options(argc, argv, usage, &json);
	if (rc >= 0)
		return rc;
	if (optind >= argc)
		return ftctl_bad_usage(usage, cmd, ": no run ID given");
	for (int i = optind; i < argc; i++)
		if (!valid_id(argv[i]))
			return ftctl_bad_usage(usage, "not a run ID: ", argv[i]);
	int n = argc - optind;
	char **ids = argv + optind;
	return strcmp(cmd, "get") == 0	  ? get(json, n, ids)
	       : strcmp(cmd, "wait") == 0 ? wait_runs(json, n, ids)
					  : cancel(json, n, ids);
}
