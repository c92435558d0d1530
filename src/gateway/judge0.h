/* Judge0 CE's API, Java only, for clients written against it
 * (https://ce.judge0.com, its API documentation):
 *
 *   POST /submissions[?base64_encoded=&wait=]   one submission: {token}, or
 *                                               with wait=true the result
 *   GET  /submissions/{token}[?base64_encoded=&fields=]
 *   POST /submissions/batch                      {submissions: [...]}
 *   GET  /submissions/batch?tokens=a,b[&base64_encoded=&fields=]
 *   GET  /languages, /languages/{id}, /statuses
 *
 * Java is language 62, as in Judge0 CE.  A submission is a JSON API run
 * (its token is the run's id, so GET /v1/runs/{token} shows it too), with
 * entry "auto" (Judge0's Java programs are main programs), judged against
 * expected_output when given; its verdict becomes Judge0's status. */
#ifndef FT_GATEWAY_JUDGE0_H
#define FT_GATEWAY_JUDGE0_H

#include <stdbool.h>

#include "conf/config.h"
#include "gateway/runsvc.h"

struct ft_http_req;

#define GW_JUDGE0_JAVA 62

struct gw_judge0 {
	struct gw_runsvc *sv;
	const struct ft_config *cfg;
	const char *java_version; /* "" if unknown */
};

/* True if it handled the request (/submissions..., /languages...,
 * /statuses). */
bool gw_judge0_route(struct gw_judge0 *j, struct ft_http_req *r);

/* Judge0's status of a finished run's verdict: {id, description}. */
struct gw_judge0_status {
	int id;
	const char *description;
};
struct gw_judge0_status gw_judge0_status_of(const char *verdict);

#endif
