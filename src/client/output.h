/* What ftctl prints: a run's result, the cluster table (pure: the caller
 * gives the stream and the answers). */
#ifndef FTCTL_OUTPUT_H
#define FTCTL_OUTPUT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* s, and a newline unless it ends with one (or a lone newline if empty). */
void ftctl_print_text(FILE *out, const char *s);

/* A file that got no answer because it could not be sent: as text
 * "== FILE: error: MSG", or as JSON {"file", "error": code, "message"}. */
void ftctl_print_file_error(FILE *out, bool json, const char *file, const char *code,
			    const char *msg);

/* One POST /v1/runs outcome for file: the HTTP status and body (NULL if
 * none), or curl_err if the request failed.  As text: "== FILE: VERDICT
 * (details)", what run() returned or the error, then the program's
 * stdout and stderr if any; as JSON: the run plus "file".  Returns the
 * exit class: 0 verdict ok, 1 another verdict, 2 no result. */
int ftctl_print_result(FILE *out, bool json, const char *file, long code, const char *curl_err,
		       const char *body);

/* A member's AGE column from its age_ms: "1.5s", "2m05s", or "-". */
void ftctl_fmt_age(char *buf, size_t n, struct json_object *member);

/* The status table of a GET /v1/cluster view, in two halves so the caller
 * can ask for GET /v1/recent in between: the leader line and the column
 * heads; then one line per member, failed ones last.  running: the
 * gateway's in_flight_by_worker (NULL: not known, "-").  The second
 * returns 0 with a leader, 1 without. */
void ftctl_print_cluster_head(FILE *out, struct json_object *view);
int ftctl_print_members(FILE *out, struct json_object *view, struct json_object *running);

#endif
