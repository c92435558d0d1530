/* What a run asks for beyond one source: several files, standard input,
 * arguments, lower limits, and whether the program's stdout and stderr come
 * back.  The JSON API builds it; it travels gateway -> leader -> worker as
 * the "job" object in the meta of SUBMIT and ASSIGN frames, the files'
 * bytes concatenated in the frame's blob:
 *
 *   "job": {
 *     "files":   [{"name": "Main.java", "bytes": 120}, ...],  (absent: the
 *                 blob is one source, named after its public class)
 *     "stdin":   "text",
 *     "args":    ["a", "b"],
 *     "limits":  {"time_ms": 2000, "cpu_ms": 2000, "memory_mb": 128,
 *                 "output_bytes": 65536},
 *     "capture": true,
 *     "entry":   "auto"   (absent: "run"; see enum ft_entry)
 *   }
 *
 * files[0] is the main file: its public class is the one run.  A plain
 * request (POST /compileandrun) has no "job" at all.  Pure logic,
 * unit-tested in tests/unit/check_jobspec.c. */
#ifndef FT_JOBSPEC_H
#define FT_JOBSPEC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FT_JOB_FILE_NAME_MAX 255

struct ft_job_file {
	char *name;	 /* "Main.java": owned by a spec (ft_jobspec_free) */
	const char *src; /* not owned: into the blob (decode) or the caller's text */
	size_t len;
};

/* How the main file's class is run.  FT_ENTRY_RUN, the contract's
 * (POST /compileandrun): public String run(String[] args) if it has one,
 * else public String run().  FT_ENTRY_AUTO: the same, else
 * public static void main(String[] args).  FT_ENTRY_MAIN: main only. */
enum ft_entry { FT_ENTRY_RUN = 0, FT_ENTRY_AUTO, FT_ENTRY_MAIN };

/* "run", "auto", "main"; -1 from ft_entry_from_name for anything else. */
const char *ft_entry_name(enum ft_entry e);
int ft_entry_from_name(const char *name);

struct ft_jobspec {
	struct ft_job_file *files; /* n_files == 0: the blob is one source */
	size_t n_files;
	char *input; /* standard input, or NULL */
	size_t input_len;
	char **args;
	size_t n_args;
	/* Lower limits for this run; 0 = the configured one. */
	int64_t time_ms, cpu_ms, memory_mb, output_bytes;
	bool capture; /* stdout and stderr come back with the result */
	enum ft_entry entry;
	/* The worker the leader should give it to if it can (0: any): the
	 * one that compiled the same program for an earlier test, whose class
	 * cache then holds it.  Only the leader reads it. */
	int prefer_worker;
};

/* Bounds a decoder enforces (limits.max_files, limits.max_args). */
struct ft_jobspec_max {
	size_t files;
	size_t args;
};

/* A file name a run may use: a Java identifier (letters, digits, _, $ and
 * non-ASCII characters, not starting with a digit) followed by ".java", at most
 * FT_JOB_FILE_NAME_MAX bytes. */
bool ft_jobspec_file_name_ok(const char *name);

/* The spec as a "job" object, and the blob (the files concatenated, or
 * nothing when n_files == 0) appended to *blob (an ft_buf). */
struct ft_buf;
struct json_object *ft_jobspec_encode(const struct ft_jobspec *s, struct ft_buf *blob);

/* Parse a "job" object (NULL: a plain request, all defaults) against the
 * frame's blob.  The files point into blob.  0 on success; -1 with a reason
 * in err (and *out left empty) when the object is malformed, a name is not
 * allowed or repeated, the sizes do not add up to len, or a bound is
 * passed. */
int ft_jobspec_decode(struct json_object *job, const char *blob, size_t len,
		      const struct ft_jobspec_max *max, struct ft_jobspec *out, char *err,
		      size_t errlen);

/* Frees what the spec owns (names, input, args); the spec is then empty. */
void ft_jobspec_free(struct ft_jobspec *s);

#endif
