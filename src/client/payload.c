#include "client/payload.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

const char *ftctl_base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

char *ftctl_run_payload(const struct ftctl_run_opts *o, const char *main_path, const char *src,
			size_t len)
{
	struct json_object *req = json_object_new_object();
	if (o->n_with == 0) {
		json_object_object_add(req, "source", json_object_new_string_len(src, (int)len));
	} else {
		/* The main file first; the gateway checks the names. */
		struct json_object *files = json_object_new_object();
		json_object_object_add(files, ftctl_base_name(main_path),
				       json_object_new_string_len(src, (int)len));
		for (size_t i = 0; i < o->n_with; i++)
			json_object_object_add(
				files, ftctl_base_name(o->with[i]),
				json_object_new_string_len(o->with_text[i], (int)o->with_len[i]));
		json_object_object_add(req, "files", files);
		json_object_object_add(req, "main",
				       json_object_new_string(ftctl_base_name(main_path)));
	}
	if (o->stdin_text)
		json_object_object_add(
			req, "stdin", json_object_new_string_len(o->stdin_text, (int)o->stdin_len));
	if (o->n_args > 0) {
		struct json_object *args = json_object_new_array();
		for (size_t i = 0; i < o->n_args; i++)
			json_object_array_add(args, json_object_new_string(o->args[i]));
		json_object_object_add(req, "args", args);
	}
	if (o->time_limit > 0 || o->memory_limit > 0) {
		struct json_object *lim = json_object_new_object();
		if (o->time_limit > 0)
			json_object_object_add(lim, "time_ms",
					       json_object_new_int64(o->time_limit));
		if (o->memory_limit > 0)
			json_object_object_add(lim, "memory_mb",
					       json_object_new_int64(o->memory_limit));
		json_object_object_add(req, "limits", lim);
	}
	if (o->expected_text)
		json_object_object_add(
			req, "expected_output",
			json_object_new_string_len(o->expected_text, (int)o->expected_len));
	if (o->compare)
		json_object_object_add(req, "compare", json_object_new_string(o->compare));
	json_object_object_add(req, "wait", json_object_new_boolean(!o->no_wait));
	char *s = ft_xstrdup(json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
	json_object_put(req);
	return s;
}
