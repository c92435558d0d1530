/* What ftctl prints: a run's result, the cluster table (pure: the caller
 * gives the stream and the answers). */
#ifndef FTCTL_OUTPUT_H
#define FTCTL_OUTPUT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "client/http.h"

/* s, and a newline unless it ends with one (or a lone newline if empty). */
void ftctl_print_text(FILE *out, const char *s);

/* What an answer means for the exit status: the verdict succeeded (ok, or
 * accepted by --expect), another verdict, no result at all, or (get) the
 * run is not done yet. */
enum { FTCTL_OK = 0, FTCTL_NOT_OK = 1, FTCTL_NO_RESULT = 2, FTCTL_NOT_DONE = 3 };

/* ok and accepted. */
bool ftctl_verdict_succeeded(const char *verdict);

/* Something that got no answer: as text "== NAME: error: MSG", or as JSON
 * {key: name, "error": code, "message": msg}. */
void ftctl_print_error(FILE *out, bool json, const char *key, const char *name, const char *code,
		       const char *msg);
/* The same for a file (key "file") that could not be sent. */
void ftctl_print_file_error(FILE *out, bool json, const char *file, const char *code,
			    const char *msg);

/* One POST /v1/runs answer for file.  As text: "== FILE: VERDICT
 * (details)", what run() returned or the error (for wrong_answer: the
 * answer judged), then the program's stdout and stderr if any; as JSON:
 * the run plus "file".  An answer that is not a run is printed as an
 * error (a refusal that was retried says so).  Returns the exit class. */
int ftctl_print_result(FILE *out, bool json, const char *file, const struct ftctl_answer *a);
/* The same for a run named by its id (get, wait, cancel): as JSON the run
 * as it is; a run not done yet is "== ID: queued", "== ID: running (worker
 * N)" (FTCTL_NOT_DONE). */
int ftctl_print_run(FILE *out, bool json, const char *id, const struct ftctl_answer *a);
/* Whether the answer is a run not done yet (queued or running). */
bool ftctl_answer_pending(const struct ftctl_answer *a);
/* The answer of a run submitted without waiting (--no-wait): "ID FILE",
 * or as JSON the run plus "file".  FTCTL_OK, or FTCTL_NO_RESULT. */
int ftctl_print_accepted(FILE *out, bool json, const char *file, const struct ftctl_answer *a);

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
