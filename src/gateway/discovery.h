/* What a client can learn before it submits anything (docs/openapi.yaml):
 * GET /v1/runtimes (the language, the JDK's version, the compiler's flags,
 * the entry points), GET /v1/limits (the limits a run gets and the most it
 * may ask for) and GET /v1/openapi.yaml (the API's own description, the
 * one this gateway was built with). */
#ifndef FT_GATEWAY_DISCOVERY_H
#define FT_GATEWAY_DISCOVERY_H

#include <json-c/json.h>
#include <stddef.h>

#include "conf/config.h"

/* JAVA_VERSION="..." of a JDK's release file (text[0..len)), copied into
 * out; "" when it has none.  Pure. */
void gw_java_version_from_release(const char *text, size_t len, char *out, size_t outlen);

/* The JDK version of the configured java binary (paths.java: its real
 * path's ../release), or "" when it cannot be read. */
void gw_java_version(const char *java, char *out, size_t outlen);

/* The bodies of GET /v1/runtimes and GET /v1/limits; the caller owns them. */
struct json_object *gw_runtimes_json(const char *java_version);
struct json_object *gw_limits_json(const struct ft_limits *l);

/* The embedded docs/openapi.yaml. */
extern const unsigned char gw_openapi_yaml[];
extern const size_t gw_openapi_yaml_len;

#endif
