/* A run with "tests": one program, several inputs, each judged on its own.
 *
 * The first test runs alone: it compiles the program (on whichever worker
 * the leader picks), and a program that does not compile, or could not be
 * run at all, costs one compile and no more runs.  The other tests then
 * run at once, each in a sandbox of its own, on the same worker if it can
 * take them (prefer_worker, node/dispatch.h), whose class cache holds the
 * compiled program.  The run's result is the first test that was not
 * accepted (or the first test, if all were), with every test's result in
 * "tests" and the counts.
 *
 * This module is the pure part: the tests' jobs, and the result from the
 * tests' results.  The run service (runsvc.c) submits and collects. */
#ifndef FT_GATEWAY_TESTSET_H
#define FT_GATEWAY_TESTSET_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/run_request.h"
#include "lib/util.h"

struct gw_testset {
	size_t n;
	struct ft_buf blob; /* the sources, as every test's job expects them */
	size_t main_len;
	struct json_object **jobs; /* per test; prefer_worker added once known */
	char **expected;	   /* per test, NUL-terminated copies, or NULL */
	size_t *expected_len;
	struct json_object **results; /* per test, once done */
	uint64_t *req_ids;	      /* per test, while it is pending in the core */
	size_t n_done;
	uint64_t first_req_id; /* the first test's, once done */
	bool submitting;       /* inside the loop that submits the rest */
	void *ctx;	       /* the run service's, per test */
};

/* The tests of q (q->n_tests > 0), each a job of q's spec with its own
 * stdin and args.  Never NULL. */
struct gw_testset *gw_testset_new(const struct gw_run_request *q);
void gw_testset_free(struct gw_testset *ts);

/* Test i's job as text, given to worker prefer (0: any).  Caller frees. */
char *gw_testset_job_text(const struct gw_testset *ts, size_t i, int prefer);

/* Whether the other tests run after the first ended with the runner's
 * verdict (before judging): only if the program ran. */
bool gw_testset_runs_rest(const char *first_verdict);

/* Folds the tests' results into the content of the hash (for the
 * Idempotency-Key check). */
uint64_t gw_testset_hash(const struct gw_run_request *q, uint64_t h);

/* The run's result fields once every test is done (results[] all set):
 * the deciding test's fields, plus "tests", "tests_passed" and
 * "failed_test" (the index of the first test not accepted, or null). */
struct json_object *gw_testset_result(const struct gw_testset *ts);

#endif
