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

struct gw_run_request {
	struct json_object *root; /* the parsed body: owns the strings below */
	const char *src;	  /* "source"; NULL when the run has "files" */
	size_t len;
	bool wait;
	struct ft_jobspec spec; /* files (main first), stdin, args, limits; capture on */
};

/* Parse body against the configured limits (maxima of "limits", max_files,
 * max_args).  true: *q is filled (free it with gw_run_request_free);
 * false: *err says why and *q holds nothing. */
bool gw_run_request_parse(const char *body, size_t len, const struct ft_limits *lim,
			  struct gw_run_request *q, struct gw_api_error *err);
void gw_run_request_free(struct gw_run_request *q);

#endif
