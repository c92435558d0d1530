/* GET /v1/runtimes, /v1/limits and /v1/openapi.yaml (discovery.h). */
#include "gateway/discovery.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/openapi_yaml.h"
#include "gateway/run_request.h"
#include "job/jobspec.h"
#include "lib/util.h"
#include "runner/javawire.h"

const unsigned char gw_openapi_yaml[] = { OPENAPI_YAML_BYTES };
const size_t gw_openapi_yaml_len = sizeof(gw_openapi_yaml);

void gw_java_version_from_release(const char *text, size_t len, char *out, size_t outlen)
{
	static const char key[] = "JAVA_VERSION=";
	out[0] = '\0';
	for (size_t i = 0; i < len;) {
		size_t end = i;
		while (end < len && text[end] != '\n')
			end++;
		size_t n = end - i;
		if (n > sizeof(key) - 1 && memcmp(text + i, key, sizeof(key) - 1) == 0) {
			const char *v = text + i + sizeof(key) - 1;
			size_t vn = n - (sizeof(key) - 1);
			if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
				v++;
				vn -= 2;
			}
			if (vn < outlen && !memchr(v, '"', vn)) {
				memcpy(out, v, vn);
				out[vn] = '\0';
			}
			return;
		}
		i = end + 1;
	}
}

void gw_java_version(const char *java, char *out, size_t outlen)
{
	out[0] = '\0';
	char *real = realpath(java, NULL);
	if (!real)
		return;
	/* .../bin/java -> .../release */
	char *slash = strrchr(real, '/');
	if (slash)
		*slash = '\0';
	slash = strrchr(real, '/');
	if (slash)
		*slash = '\0';
	char *path = ft_xasprintf("%s/release", real);
	free(real);
	FILE *f = fopen(path, "r");
	free(path);
	if (!f)
		return;
	char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	gw_java_version_from_release(buf, n, out, outlen);
}

static struct json_object *strings(const char *space_separated)
{
	struct json_object *a = json_object_new_array();
	char *copy = ft_xstrdup(space_separated), *save = NULL;
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
		json_object_array_add(a, json_object_new_string(t));
	free(copy);
	return a;
}

struct json_object *gw_runtimes_json(const char *java_version)
{
	struct json_object *rt = json_object_new_object();
	json_object_object_add(rt, "language", json_object_new_string("java"));
	json_object_object_add(rt, "version",
			       java_version[0] ? json_object_new_string(java_version) : NULL);
	json_object_object_add(rt, "compiler", json_object_new_string("javac (javax.tools)"));
	json_object_object_add(rt, "compiler_flags", strings(FT_WIRE_COMPILER_FLAGS));
	json_object_object_add(rt, "source_encoding", json_object_new_string("UTF-8"));
	struct json_object *entries = json_object_new_array();
	for (int e = FT_ENTRY_RUN; e <= FT_ENTRY_MAIN; e++)
		json_object_array_add(entries,
				      json_object_new_string(ft_entry_name((enum ft_entry)e)));
	json_object_object_add(rt, "entries", entries);
	struct json_object *all = json_object_new_array();
	json_object_array_add(all, rt);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "runtimes", all);
	return o;
}

struct json_object *gw_limits_json(const struct ft_limits *l)
{
	struct gw_run_limit lims[GW_RUN_LIMITS];
	size_t n = gw_run_request_limits(l, lims);
	struct json_object *per_run = json_object_new_object();
	for (size_t i = 0; i < n; i++) {
		struct json_object *one = json_object_new_object();
		/* Not asking is getting the most: the configured limit. */
		json_object_object_add(one, "default", json_object_new_int64(lims[i].max));
		json_object_object_add(one, "min", json_object_new_int64(lims[i].min));
		json_object_object_add(one, "max", json_object_new_int64(lims[i].max));
		json_object_object_add(per_run, lims[i].key, one);
	}
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "limits", per_run);
	json_object_object_add(o, "max_files", json_object_new_int(l->max_files));
	json_object_object_add(o, "max_args", json_object_new_int(l->max_args));
	json_object_object_add(o, "max_batch_runs", json_object_new_int(l->max_batch_runs));
	/* How many runs a worker takes at once: what clients size their
	 * parallelism by (ftctl -P). */
	json_object_object_add(o, "worker_slots", json_object_new_int(l->worker_slots));
	json_object_object_add(o, "max_body_bytes",
			       json_object_new_int64((int64_t)l->max_body_bytes));
	json_object_object_add(o, "request_timeout_ms", json_object_new_int(l->request_timeout_ms));
	json_object_object_add(o, "compile_time_ms", json_object_new_int(l->compile_wall_ms));
	json_object_object_add(o, "max_processes", json_object_new_int(l->run_max_processes));
	json_object_object_add(o, "max_file_bytes",
			       json_object_new_int64((int64_t)l->run_max_file_bytes));
	return o;
}
