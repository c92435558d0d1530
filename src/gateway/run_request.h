/* Parsing and checking the body of POST /v1/runs (docs/openapi.yaml,
 * RunRequest): source or files (+ main), stdin, args, limits, wait. */
#ifndef FT_GATEWAY_RUN_REQUEST_H
#define FT_GATEWAY_RUN_REQUEST_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"
#include "job/jobspec.h"

/* A refusal: the HTTP status, a stable code (openapi.yaml, Error) and a
 * message for people. */
struct gw_api_error {
	unsigned status;
	char code[32];
	char message[512];
};

/* One of "tests": its stdin, arguments and expected output. */
struct gw_test_case {
	char *input; /* NULL: none */
	size_t input_len;
	char **args;
	size_t n_args;
	const char *expected; /* NULL: not judged (decoded as the sources are) */
	size_t expected_len;
};

struct gw_callback_as;

struct gw_run_request {
	struct json_object *root; /* the parsed body: owns the strings below */
	const char *src;	  /* "source"; NULL when the run has "files" */
	size_t len;
	bool wait;
	/* "encoding": "base64": the sources and stdin came base64-encoded (now
	 * decoded), and the answer's output, stdout, stderr and error go back
	 * so. */
	bool base64;
	/* "expected_output" (decoded as the sources are), or NULL; "compare". */
	const char *expected;
	size_t expected_len;
	int compare;		  /* enum gw_compare */
	const char *callback_url; /* "callback_url", or NULL (checked by the run service) */
	/* Not from the body: the API that parsed it calls back in its own
	 * form (NULL: the JSON API's). */
	const struct gw_callback_as *callback_as;
	struct ft_jobspec spec; /* files (main first), stdin, args, limits; capture on */
	/* "tests": compiled once, each run in a sandbox of its own (then the
	 * spec has no stdin and no args of its own). */
	struct gw_test_case *tests;
	size_t n_tests;
	char **decoded; /* what the sources were decoded into */
	size_t n_decoded;
};

/* The per-run limits a request may set ("limits" of RunRequest): each
 * between min and max (the configured one, which a run gets by default). */
struct gw_run_limit {
	const char *key;
	int64_t min, max;
};
#define GW_RUN_LIMITS 4
/* Fills out[0..GW_RUN_LIMITS) for the configured limits l; returns how many. */
size_t gw_run_request_limits(const struct ft_limits *l, struct gw_run_limit out[GW_RUN_LIMITS]);

/* Parse body against the configured limits (maxima of "limits", max_files,
 * max_args).  true: *q is filled (free it with gw_run_request_free);
 * false: *err says why and *q holds nothing. */
bool gw_run_request_parse(const char *body, size_t len, const struct ft_limits *lim,
			  struct gw_run_request *q, struct gw_api_error *err);
void gw_run_request_free(struct gw_run_request *q);

#endif
