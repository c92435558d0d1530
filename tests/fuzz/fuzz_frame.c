/* libFuzzer harness for what a worker trusts least: an internal TCP frame
 * (any peer can connect to the work port) and the JSON API "job" object in
 * its meta, which decides the files the runner writes.
 *
 * Arbitrary bytes are decoded as a frame; a frame that decodes has its
 * "job" decoded against its blob.  Invariants, checked with abort() so that
 * libFuzzer reports them: a frame never claims more bytes than it was
 * given; an accepted job's files lie inside the blob, cover it exactly, in
 * order, with names the runner may write; its counts are within the bounds;
 * encoding the spec again gives the same blob and decodes to the same spec;
 * a refused job leaves nothing behind (ASan's leak check sees the rest). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/frame.h"
#include "job/jobspec.h"
#include "lib/util.h"

#include "require.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FRAME 65536

static const struct ft_jobspec_max MAX = { .files = 8, .args = 8 };

static void check_spec(const struct ft_jobspec *s, const char *blob, size_t len)
{
	size_t off = 0;
	require(s->n_files <= MAX.files && s->n_args <= MAX.args);
	for (size_t i = 0; i < s->n_files; i++) {
		require(ft_jobspec_file_name_ok(s->files[i].name));
		require(s->files[i].src == blob + off);
		off += s->files[i].len;
		require(off <= len);
		for (size_t k = 0; k < i; k++)
			require(strcmp(s->files[k].name, s->files[i].name) != 0);
	}
	require(s->n_files == 0 || off == len);
	for (size_t i = 0; i < s->n_args; i++)
		require(s->args[i] != NULL);
	require(s->time_ms >= 0 && s->cpu_ms >= 0 && s->memory_mb >= 0 && s->output_bytes >= 0);
}

static void round_trip(const struct ft_jobspec *s, const char *blob, size_t len)
{
	struct ft_buf again = { 0 };
	struct json_object *job = ft_jobspec_encode(s, &again);
	if (s->n_files > 0)
		require(again.len == len && memcmp(again.data, blob, len) == 0);
	else
		require(again.len == 0);
	const char *text = json_object_to_json_string(job);
	struct json_object *parsed = json_tokener_parse(text);
	require(parsed != NULL);
	struct ft_jobspec t;
	char err[256];
	const char *b = s->n_files > 0 ? again.data : blob;
	size_t n = s->n_files > 0 ? again.len : len;
	require(ft_jobspec_decode(parsed, b, n, &MAX, &t, err, sizeof(err)) == 0);
	require(t.n_files == s->n_files && t.n_args == s->n_args);
	require(t.input_len == s->input_len && t.capture == s->capture);
	require(t.time_ms == s->time_ms && t.memory_mb == s->memory_mb);
	ft_jobspec_free(&t);
	json_object_put(parsed);
	json_object_put(job);
	ft_buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ft_frame f;
	const char *why = NULL;
	long n = ft_frame_decode(data, size, MAX_FRAME, &f, &why);
	require(n <= (long)size);
	if (n <= 0)
		return 0;
	require(f.meta != NULL && f.blob_len <= size);
	struct json_object *job = NULL;
	json_object_object_get_ex(f.meta, "job", &job);
	struct ft_jobspec s;
	char err[256] = "";
	const char *blob = (const char *)f.blob;
	if (ft_jobspec_decode(job, blob, f.blob_len, &MAX, &s, err, sizeof(err)) == 0) {
		check_spec(&s, blob, f.blob_len);
		round_trip(&s, blob, f.blob_len);
		ft_jobspec_free(&s);
	} else {
		require(err[0] != '\0');
		require(s.n_files == 0 && s.files == NULL && s.input == NULL && s.args == NULL);
	}
	ft_frame_release(&f);
	return 0;
}
