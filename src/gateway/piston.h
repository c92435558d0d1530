/* Piston's API (v2), Java only, for clients written against it
 * (https://github.com/engineer-man/piston, docs/api.md of that project):
 *
 *   POST /api/v2/execute   run files (the first is the main one) with stdin
 *                          and args; answers {language, version, compile,
 *                          run} when the run is done
 *   GET  /api/v2/runtimes  [{language: "java", version, aliases}]
 *
 * Runs go through the run service, like the JSON API's, always as
 * entry "auto" (a main program, as Piston's Java programs are). */
#ifndef FT_GATEWAY_PISTON_H
#define FT_GATEWAY_PISTON_H

#include <stdbool.h>

#include "conf/config.h"
#include "gateway/runsvc.h"

struct ft_http_req;

struct gw_piston {
	struct gw_runsvc *sv;
	const struct ft_config *cfg;
	const char *java_version; /* "" if unknown */
};

/* True if it handled the request (every path under /api/v2). */
bool gw_piston_route(struct gw_piston *p, struct ft_http_req *r);

#endif
