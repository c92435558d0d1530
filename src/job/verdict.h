/* The verdicts: how a run ended, as every part of the cluster names it.
 *
 * A worker decides the first nine (runner/verdict.c); the leader decides
 * "unavailable" (the cluster's machinery failed on every try) and the
 * gateway "timeout" and "overloaded".  The names travel in frames, the
 * X-Verdict header, the JSON API and the metrics' labels, so they are
 * written here once.  The contract's fixed texts live here too: whoever
 * writes or reads them uses these. */
#ifndef FT_JOB_VERDICT_H
#define FT_JOB_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

enum ft_verdict {
	FT_VERDICT_OK = 0,
	FT_VERDICT_COMPILE_ERROR,
	FT_VERDICT_RUNTIME_ERROR,
	FT_VERDICT_TIME_LIMIT,
	FT_VERDICT_MEMORY_LIMIT,
	FT_VERDICT_OUTPUT_LIMIT,
	FT_VERDICT_NONZERO_EXIT, /* a main(String[]) program ended with a status other than 0 */
	FT_VERDICT_CANCELLED,	 /* its client cancelled it (DELETE /v1/runs/{id}) */
	FT_VERDICT_ACCEPTED,	 /* the gateway: ok, and the output is the expected one */
	FT_VERDICT_WRONG_ANSWER, /* the gateway: ok, but the output is not the expected one */
	FT_VERDICT_INTERNAL_ERROR,
	FT_VERDICT_UNAVAILABLE, /* the leader: machinery failed on limits.run_attempts tries */
	FT_VERDICT_TIMEOUT,	/* the gateway: no answer within limits.request_timeout_ms */
	FT_VERDICT_OVERLOADED,	/* the gateway: limits.max_pending_requests reached */
	FT_VERDICT_UNKNOWN,	/* a kept answer that names none */
	FT_VERDICT_N,
};

/* "ok", "compile_error", ...; "unknown" for anything out of range. */
const char *ft_verdict_name(enum ft_verdict v);
/* FT_VERDICT_UNKNOWN if name is not a verdict's name (or NULL). */
enum ft_verdict ft_verdict_from_name(const char *name);

/* The status of POST /compileandrun: 200 ok, 400 the program's failure,
 * 500 an internal error, 503 the cluster could not answer. */
unsigned ft_verdict_http_status(enum ft_verdict v);

/* Deterministic outcomes: the same source always gets them, so the
 * gateway's response cache may keep them. */
bool ft_verdict_cacheable(enum ft_verdict v);

/* The verdict an answer's status and body show, for answers that carry no
 * verdict of their own (contract bodies, see CONTRACT.md). */
enum ft_verdict ft_verdict_of_answer(unsigned status, const char *body, size_t len);

/* The contract's fixed texts. */
#define FT_COMPILE_ERROR_HEAD "Code did not compile:"
#define FT_NO_CLASS_NAME "No class name found in code"

#endif
