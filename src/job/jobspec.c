/* Encoding and decoding of a run's "job" object (see jobspec.h).  The
 * decoder is what a worker trusts: everything the gateway checked is
 * checked again, so a frame from anywhere cannot make the runner write a
 * file outside its job directory or allocate without bound. */
#include "job/jobspec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static const char *const entry_names[] = {
	[FT_ENTRY_RUN] = "run",
	[FT_ENTRY_AUTO] = "auto",
	[FT_ENTRY_MAIN] = "main",
};

const char *ft_entry_name(enum ft_entry e)
{
	return (unsigned)e < FT_ARRAY_SIZE(entry_names) ? entry_names[e]
							: entry_names[FT_ENTRY_RUN];
}

int ft_entry_from_name(const char *name)
{
	for (size_t i = 0; name && i < FT_ARRAY_SIZE(entry_names); i++)
		if (strcmp(entry_names[i], name) == 0)
			return (int)i;
	return -1;
}

bool ft_jobspec_file_name_ok(const char *name)
{
	static const char ext[] = ".java";
	size_t n = strlen(name);
	if (n <= sizeof(ext) - 1 || n > FT_JOB_FILE_NAME_MAX ||
	    strcmp(name + n - (sizeof(ext) - 1), ext) != 0)
		return false;
	for (size_t i = 0; i < n - (sizeof(ext) - 1); i++) {
		char c = name[i];
		/* Bytes of multi-byte UTF-8 characters: Java identifiers may be
		 * Unicode (class Café), and none of them is '/' or NUL. */
		bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			      c == '$' || (unsigned char)c >= 0x80;
		bool digit = c >= '0' && c <= '9';
		if (!letter && !(digit && i > 0))
			return false;
	}
	return true;
}

static void add_limit(struct json_object *lim, const char *key, int64_t v)
{
	if (v > 0)
		json_object_object_add(lim, key, json_object_new_int64(v));
}

struct json_object *ft_jobspec_encode(const struct ft_jobspec *s, struct ft_buf *blob)
{
	struct json_object *job = json_object_new_object();
	if (s->n_files > 0) {
		struct json_object *files = json_object_new_array();
		for (size_t i = 0; i < s->n_files; i++) {
			struct json_object *f = json_object_new_object();
			json_object_object_add(f, "name", json_object_new_string(s->files[i].name));
			json_object_object_add(f, "bytes",
					       json_object_new_uint64((uint64_t)s->files[i].len));
			json_object_array_add(files, f);
			ft_buf_append(blob, s->files[i].src, s->files[i].len);
		}
		json_object_object_add(job, "files", files);
	}
	if (s->input)
		json_object_object_add(job, "stdin",
				       json_object_new_string_len(s->input, (int)s->input_len));
	if (s->n_args > 0) {
		struct json_object *args = json_object_new_array();
		for (size_t i = 0; i < s->n_args; i++)
			json_object_array_add(args, json_object_new_string(s->args[i]));
		json_object_object_add(job, "args", args);
	}
	struct json_object *lim = json_object_new_object();
	add_limit(lim, "time_ms", s->time_ms);
	add_limit(lim, "cpu_ms", s->cpu_ms);
	add_limit(lim, "memory_mb", s->memory_mb);
	add_limit(lim, "output_bytes", s->output_bytes);
	if (json_object_object_length(lim) > 0)
		json_object_object_add(job, "limits", lim);
	else
		json_object_put(lim);
	if (s->capture)
		json_object_object_add(job, "capture", json_object_new_boolean(true));
	/* Absent: run(), which is what a worker that predates "entry" does. */
	if (s->entry != FT_ENTRY_RUN)
		json_object_object_add(job, "entry",
				       json_object_new_string(ft_entry_name(s->entry)));
	if (s->prefer_worker > 0)
		json_object_object_add(job, "prefer_worker", json_object_new_int(s->prefer_worker));
	return job;
}

void ft_jobspec_free(struct ft_jobspec *s)
{
	for (size_t i = 0; i < s->n_files; i++)
		free(s->files[i].name);
	free(s->files);
	free(s->input);
	for (size_t i = 0; i < s->n_args; i++)
		free(s->args[i]);
	free(s->args);
	memset(s, 0, sizeof(*s));
}

static int decode_files(struct json_object *files, const char *blob, size_t len,
			const struct ft_jobspec_max *max, struct ft_jobspec *s, char *err,
			size_t errlen)
{
	if (!json_object_is_type(files, json_type_array)) {
		ft_set_err(err, errlen, "\"files\" is not an array");
		return -1;
	}
	size_t n = json_object_array_length(files);
	if (n == 0 || n > max->files) {
		ft_set_err(err, errlen, "%zu files: between 1 and %zu are allowed", n, max->files);
		return -1;
	}
	s->files = ft_xcalloc(n, sizeof(*s->files));
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *f = json_object_array_get_idx(files, i), *name, *bytes;
		if (!json_object_is_type(f, json_type_object) ||
		    !json_object_object_get_ex(f, "name", &name) ||
		    !json_object_is_type(name, json_type_string) ||
		    !json_object_object_get_ex(f, "bytes", &bytes) ||
		    !json_object_is_type(bytes, json_type_int)) {
			ft_set_err(err, errlen,
				   "file %zu is not {\"name\": string, \"bytes\": int}", i);
			return -1;
		}
		const char *nm = json_object_get_string(name);
		int64_t b = json_object_get_int64(bytes);
		if (!ft_jobspec_file_name_ok(nm)) {
			ft_set_err(err, errlen, "file name \"%.64s\" is not Name.java", nm);
			return -1;
		}
		for (size_t k = 0; k < i; k++) {
			if (strcmp(s->files[k].name, nm) == 0) {
				ft_set_err(err, errlen, "file %s is given twice", nm);
				return -1;
			}
		}
		if (b < 0 || (uint64_t)b > len - off) {
			ft_set_err(err, errlen, "file %s: %lld bytes do not fit the %zu left", nm,
				   (long long)b, len - off);
			return -1;
		}
		s->files[i].name = ft_xstrdup(nm);
		s->files[i].src = blob + off;
		s->files[i].len = (size_t)b;
		s->n_files = i + 1;
		off += (size_t)b;
	}
	if (off != len) {
		ft_set_err(err, errlen, "the files hold %zu bytes, the frame %zu", off, len);
		return -1;
	}
	return 0;
}

static int decode_args(struct json_object *args, const struct ft_jobspec_max *max,
		       struct ft_jobspec *s, char *err, size_t errlen)
{
	if (!json_object_is_type(args, json_type_array)) {
		ft_set_err(err, errlen, "\"args\" is not an array");
		return -1;
	}
	size_t n = json_object_array_length(args);
	if (n > max->args) {
		ft_set_err(err, errlen, "%zu arguments: at most %zu are allowed", n, max->args);
		return -1;
	}
	s->args = ft_xcalloc(n ? n : 1, sizeof(*s->args));
	for (size_t i = 0; i < n; i++) {
		struct json_object *a = json_object_array_get_idx(args, i);
		if (!json_object_is_type(a, json_type_string)) {
			ft_set_err(err, errlen, "argument %zu is not a string", i);
			return -1;
		}
		/* Arguments reach the program NUL-separated: a NUL cannot be in one. */
		if (strlen(json_object_get_string(a)) != (size_t)json_object_get_string_len(a)) {
			ft_set_err(err, errlen, "argument %zu contains a NUL character", i);
			return -1;
		}
		s->args[i] = ft_xstrdup(json_object_get_string(a));
		s->n_args = i + 1;
	}
	return 0;
}

static int decode_limits(struct json_object *lim, struct ft_jobspec *s, char *err, size_t errlen)
{
	static const char *const keys[] = { "time_ms", "cpu_ms", "memory_mb", "output_bytes" };
	int64_t *fields[] = { &s->time_ms, &s->cpu_ms, &s->memory_mb, &s->output_bytes };
	if (!json_object_is_type(lim, json_type_object)) {
		ft_set_err(err, errlen, "\"limits\" is not an object");
		return -1;
	}
	json_object_object_foreach(lim, key, val)
	{
		size_t i = 0;
		while (i < FT_ARRAY_SIZE(keys) && strcmp(keys[i], key) != 0)
			i++;
		if (i == FT_ARRAY_SIZE(keys)) {
			ft_set_err(err, errlen, "unknown limit \"%.64s\"", key);
			return -1;
		}
		errno = 0;
		int64_t v = json_object_get_int64(val);
		if (!json_object_is_type(val, json_type_int) || errno != 0 || v < 0) {
			ft_set_err(err, errlen, "limit %s is not a non-negative integer", key);
			return -1;
		}
		*fields[i] = v;
	}
	return 0;
}

int ft_jobspec_decode(struct json_object *job, const char *blob, size_t len,
		      const struct ft_jobspec_max *max, struct ft_jobspec *out, char *err,
		      size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!job)
		return 0;
	if (!json_object_is_type(job, json_type_object)) {
		ft_set_err(err, errlen, "\"job\" is not an object");
		return -1;
	}
	int rc = 0;
	json_object_object_foreach(job, key, val)
	{
		if (strcmp(key, "files") == 0) {
			rc = decode_files(val, blob, len, max, out, err, errlen);
		} else if (strcmp(key, "stdin") == 0) {
			if (!json_object_is_type(val, json_type_string)) {
				ft_set_err(err, errlen, "\"stdin\" is not a string");
				rc = -1;
			} else {
				out->input_len = (size_t)json_object_get_string_len(val);
				out->input =
					ft_xmemdup(json_object_get_string(val), out->input_len + 1);
			}
		} else if (strcmp(key, "args") == 0) {
			rc = decode_args(val, max, out, err, errlen);
		} else if (strcmp(key, "limits") == 0) {
			rc = decode_limits(val, out, err, errlen);
		} else if (strcmp(key, "capture") == 0) {
			if (!json_object_is_type(val, json_type_boolean)) {
				ft_set_err(err, errlen, "\"capture\" is not a boolean");
				rc = -1;
			} else {
				out->capture = json_object_get_boolean(val);
			}
		} else if (strcmp(key, "entry") == 0) {
			int e = json_object_is_type(val, json_type_string)
					? ft_entry_from_name(json_object_get_string(val))
					: -1;
			if (e < 0) {
				ft_set_err(err, errlen, "\"entry\" is not run, auto or main");
				rc = -1;
			} else {
				out->entry = (enum ft_entry)e;
			}
		} else if (strcmp(key, "prefer_worker") == 0) {
			int64_t w = json_object_is_type(val, json_type_int)
					    ? json_object_get_int64(val)
					    : -1;
			if (w < 1 || w > 65535) {
				ft_set_err(err, errlen, "\"prefer_worker\" is not a node ID");
				rc = -1;
			} else {
				out->prefer_worker = (int)w;
			}
		} else {
			/* Newer gateways may ask for more than this worker knows:
			 * refusing is safer than running something else. */
			ft_set_err(err, errlen, "unknown job field \"%.64s\"", key);
			rc = -1;
		}
		if (rc < 0) {
			ft_jobspec_free(out);
			return -1;
		}
	}
	return 0;
}
