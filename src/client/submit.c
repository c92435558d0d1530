/* ftctl submit: POST /v1/runs for each file, at most -P at a time (refused
 * ones sent again, sched.h), and each result printed as it arrives. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/args.h"
#include "client/clock.h"
#include "client/ftctl.h"
#include "client/http.h"
#include "client/output.h"
#include "client/payload.h"
#include "client/sched.h"
#include "client/usage.h"
#include "job/javasrc.h"
#include "lib/util.h"

/* The most -P may ask for: far beyond any gateway's pending limit. */
#define FTCTL_PARALLEL_MAX 1024

struct submit_opts {
	bool json, quiet, progress;
	long parallel; /* 0: from the cluster (ftctl_default_parallel) */
	const char *stdin_file, *expect_file;
	char *stdin_text, *expect_text; /* their contents */
	struct ftctl_run_opts run;
	/* The --with files (from argv) and their contents, read once. */
	char **with;
	char **with_text;
	size_t *with_len;
};

struct job {
	const char *file;
	char *payload;
};

/* While the requests run: the progress line and the worst exit class. */
struct progress {
	const struct submit_opts *o;
	const struct ftctl_posts *posts;
	bool show;
	int done, total, worst;
	double t0;
};

static char *read_stream(FILE *f, size_t *len)
{
	struct ftctl_buf b = { 0 };
	char tmp[65536];
	size_t k;
	while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0)
		if (ftctl_buf_collect(tmp, 1, k, &b) != k) {
			free(b.data);
			return NULL;
		}
	if (ferror(f)) {
		free(b.data);
		return NULL;
	}
	*len = b.len;
	return b.data ? b.data : calloc(1, 1);
}

static int is_dash(const char *path)
{
	return path && strcmp(path, "-") == 0;
}

/* A file's contents; "-" is standard input. */
static char *read_file(const char *path, size_t *len)
{
	if (is_dash(path))
		return read_stream(stdin, len);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *text = read_stream(f, len);
	fclose(f);
	return text;
}

/* An option's file, which the JSON API takes as text: NULL (said why) if
 * it cannot be read or is not UTF-8. */
static char *read_text_file(const char *path, const char *what, size_t *len)
{
	char *text = read_file(path, len);
	if (!text) {
		fprintf(stderr, "ftctl: %s: cannot read\n", path);
		return NULL;
	}
	if (!ft_utf8_valid(text, *len)) {
		fprintf(stderr, "ftctl: %s: not UTF-8 text (the JSON API takes %s as text)\n", path,
			what);
		free(text);
		return NULL;
	}
	return text;
}

static void progress_show(void *ctx)
{
	struct progress *p = ctx;
	if (!p->show)
		return;
	size_t retrying = p->posts ? ftctl_posts_retrying(p->posts) : 0;
	fprintf(stderr, "\r\033[K[%d/%d done, %d waiting", p->done, p->total, p->total - p->done);
	if (retrying)
		fprintf(stderr, ", %zu to retry", retrying);
	fprintf(stderr, "] %.1fs", ftctl_now_s() - p->t0);
	fflush(stderr);
}

static void progress_clear(bool show)
{
	if (show) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
}

static void job_done(void *ud, const struct ftctl_answer *a, void *ctx)
{
	struct job *j = ud;
	struct progress *p = ctx;
	progress_clear(p->show);
	int cls = p->o->run.no_wait ? ftctl_print_accepted(stdout, p->o->json, j->file, a)
				    : ftctl_print_result(stdout, p->o->json, j->file, a);
	if (cls > p->worst)
		p->worst = cls;
	p->done++;
}

/* Reads the --with files into o; false (said why) if one cannot be read. */
static bool read_with_files(struct submit_opts *o)
{
	size_t n = o->run.n_with;
	o->with_text = calloc(n + 1, sizeof(*o->with_text));
	o->with_len = calloc(n + 1, sizeof(*o->with_len));
	if (!o->with_text || !o->with_len)
		return false;
	o->run.with_text = (const char *const *)o->with_text;
	o->run.with_len = o->with_len;
	for (size_t i = 0; i < n; i++) {
		o->with_text[i] = read_text_file(o->with[i], "sources", &o->with_len[i]);
		if (!o->with_text[i])
			return false;
	}
	return true;
}

/* Reads the files of --stdin, --expect and --with into o; false (said
 * why) if one of them cannot be sent. */
static bool read_option_files(struct submit_opts *o)
{
	if (o->stdin_file) {
		o->stdin_text = read_text_file(o->stdin_file, "stdin", &o->run.stdin_len);
		if (!o->stdin_text)
			return false;
		o->run.stdin_text = o->stdin_text;
	}
	if (o->expect_file) {
		o->expect_text =
			read_text_file(o->expect_file, "expected_output", &o->run.expected_len);
		if (!o->expect_text)
			return false;
		o->run.expected_text = o->expect_text;
	}
	return read_with_files(o);
}

static void free_option_files(struct submit_opts *o)
{
	for (size_t i = 0; o->with_text && i < o->run.n_with; i++)
		free(o->with_text[i]);
	free(o->with_text);
	free(o->with_len);
	free(o->stdin_text);
	free(o->expect_text);
}

/* The file name a source from standard input goes by when other files
 * come with it (the gateway wants Name.java for its public class). */
static void stdin_name(const char *src, size_t len, char *name, size_t n)
{
	char fq[256], simple[200];
	if (ft_java_class_name(src, len, fq, sizeof(fq), simple, sizeof(simple)) == 0)
		snprintf(name, n, "%s.java", simple);
	else
		snprintf(name, n, "Main.java"); /* the gateway says what is wrong */
}

/* Job j's request body, or NULL (printed why) if its file cannot be sent. */
static char *job_payload(const struct submit_opts *o, const char *file)
{
	size_t len;
	char *src = read_file(file, &len);
	if (!src || !ft_utf8_valid(src, len)) {
		ftctl_print_file_error(stdout, o->json, file, src ? "not_utf8" : "unreadable",
				       src ? "not UTF-8 text (the JSON API takes sources as text)"
					   : "cannot read the file");
		free(src);
		return NULL;
	}
	char name[256];
	if (is_dash(file))
		stdin_name(src, len, name, sizeof(name));
	else
		snprintf(name, sizeof(name), "%s", file);
	char *payload = ftctl_run_payload(&o->run, name, src, len);
	free(src);
	return payload;
}

/* Asking for the default of -P: a hint, not worth more than this wait. */
#define HINT_TIMEOUT_S 5

/* -P, or the cluster's free worker slots. */
static size_t parallel_of(const struct submit_opts *o)
{
	if (o->parallel > 0)
		return (size_t)o->parallel;
	long timeout = ftctl_timeout_s;
	if (timeout == 0 || timeout > HINT_TIMEOUT_S)
		ftctl_timeout_s = HINT_TIMEOUT_S;
	struct json_object *view = ftctl_get_object("/v1/cluster", true);
	struct json_object *recent = view ? ftctl_get_object("/v1/recent?limit=1", true) : NULL;
	struct json_object *limits = view ? ftctl_get_object("/v1/limits", true) : NULL;
	ftctl_timeout_s = timeout;
	long n = ftctl_default_parallel(view, recent, limits);
	json_object_put(view);
	json_object_put(recent);
	json_object_put(limits);
	return (size_t)n;
}

static int run_jobs(struct submit_opts *o, struct job *jobs, int nfiles)
{
	char url[1024];
	snprintf(url, sizeof(url), "%s/v1/runs", ftctl_gateway);
	struct ftctl_posts *posts = ftctl_posts_new((size_t)nfiles, parallel_of(o));
	if (!posts)
		return EXIT_ERROR;
	struct progress p = { .o = o, .total = nfiles, .t0 = ftctl_now_s() };
	p.show = !o->json && !o->quiet && (o->progress || isatty(STDERR_FILENO));
	if (o->json)
		p.show = !o->quiet && o->progress;
	for (int i = 0; i < nfiles; i++) {
		struct job *j = &jobs[i];
		j->payload = job_payload(o, j->file);
		if (!j->payload) {
			p.done++;
			p.worst = FTCTL_NO_RESULT;
			continue;
		}
		ftctl_posts_add(posts, url, j->payload, j);
	}
	fflush(stdout);
	p.posts = posts;
	ftctl_posts_run(posts, job_done, progress_show, &p);
	progress_clear(p.show);
	/* Where the progress line was: what the retries were for. */
	if (p.show && ftctl_posts_refusals(posts) > 0)
		fprintf(stderr,
			"ftctl: the gateway refused %zu times (503 or 429); each refused request "
			"was sent again after its Retry-After\n",
			ftctl_posts_refusals(posts));
	ftctl_posts_free(posts);
	return p.worst == FTCTL_OK	 ? EXIT_OK
	       : p.worst == FTCTL_NOT_OK ? EXIT_FAILED_RUN
					 : EXIT_ERROR;
}

static int submit(struct submit_opts *o, int nfiles, char **files)
{
	if (!read_option_files(o)) {
		free_option_files(o);
		return EXIT_ERROR;
	}
	struct job *jobs = calloc((size_t)nfiles, sizeof(*jobs));
	int rc = EXIT_ERROR;
	if (jobs) {
		for (int i = 0; i < nfiles; i++)
			jobs[i].file = files[i];
		rc = run_jobs(o, jobs, nfiles);
		for (int i = 0; i < nfiles; i++)
			free(jobs[i].payload);
	}
	free(jobs);
	free_option_files(o);
	return rc;
}

/* Standard input can be read once: "-" (a source, --stdin's, --expect's
 * or --with's file) at most once.  NULL if the files are fine, else why
 * not. */
static const char *check_files(const struct submit_opts *o, int nfiles, char **files)
{
	int dashes = is_dash(o->stdin_file) + is_dash(o->expect_file);
	for (size_t i = 0; i < o->run.n_with; i++)
		dashes += is_dash(o->with[i]);
	for (int i = 0; i < nfiles; i++)
		dashes += is_dash(files[i]);
	return nfiles == 0  ? "submit: no file given"
	       : dashes > 1 ? "submit: standard input (\"-\") can be read only once"
			    : NULL;
}

enum { OPT_STDIN = 256, OPT_TIME, OPT_MEMORY, OPT_PROGRESS, OPT_NO_WAIT, OPT_EXPECT, OPT_COMPARE };

/* One option into o; EXIT_OK to go on, else the exit status. */
static int submit_option(struct submit_opts *o, int c, char **args, char **with)
{
	switch (c) {
	case 'j':
		o->json = true;
		break;
	case OPT_STDIN:
		o->stdin_file = optarg;
		break;
	case 'a':
		args[o->run.n_args++] = optarg;
		break;
	case 'w':
		with[o->run.n_with++] = optarg;
		break;
	case OPT_TIME:
		if (!ftctl_parse_long(optarg, 1, &o->run.time_limit))
			return ftctl_bad_usage(ftctl_usage_submit,
					       "--time-limit: not a positive number: ", optarg);
		break;
	case OPT_MEMORY:
		if (!ftctl_parse_long(optarg, 1, &o->run.memory_limit))
			return ftctl_bad_usage(ftctl_usage_submit,
					       "--memory-limit: not a positive number: ", optarg);
		break;
	case 'P':
		if (!ftctl_parse_long(optarg, 1, &o->parallel) || o->parallel > FTCTL_PARALLEL_MAX)
			return ftctl_bad_usage(ftctl_usage_submit,
					       "--parallel: not a number from 1 to 1024: ", optarg);
		break;
	case OPT_NO_WAIT:
		o->run.no_wait = true;
		break;
	case OPT_EXPECT:
		o->expect_file = optarg;
		break;
	case OPT_COMPARE:
		if (strcmp(optarg, "exact") != 0 && strcmp(optarg, "trailing_whitespace") != 0)
			return ftctl_bad_usage(ftctl_usage_submit,
					       "--compare: exact or trailing_whitespace, not ",
					       optarg);
		o->run.compare = optarg;
		break;
	case 'q':
		o->quiet = true;
		break;
	case OPT_PROGRESS:
		o->progress = true;
		break;
	case 'h':
		fputs(ftctl_usage_submit, stdout);
		return -1;
	default:
		fputs(ftctl_usage_submit, stderr);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int ftctl_submit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "stdin", required_argument, NULL, OPT_STDIN },
		{ "time-limit", required_argument, NULL, OPT_TIME },
		{ "memory-limit", required_argument, NULL, OPT_MEMORY },
		{ "arg", required_argument, NULL, 'a' },
		{ "with", required_argument, NULL, 'w' },
		{ "parallel", required_argument, NULL, 'P' },
		{ "no-wait", no_argument, NULL, OPT_NO_WAIT },
		{ "expect", required_argument, NULL, OPT_EXPECT },
		{ "compare", required_argument, NULL, OPT_COMPARE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct submit_opts o = { 0 };
	/* At most one argument per word of argv. */
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	char **with = calloc((size_t)argc + 1, sizeof(*with));
	if (!args || !with) {
		free(args);
		free(with);
		return EXIT_ERROR;
	}
	o.run.args = (const char *const *)args;
	o.with = with;
	o.run.with = (const char *const *)with;
	int c, rc = EXIT_OK;
	while (rc == EXIT_OK && (c = getopt_long(argc, argv, "jqha:w:P:", opts, NULL)) != -1)
		rc = submit_option(&o, c, args, with);
	const char *bad = rc == EXIT_OK ? check_files(&o, argc - optind, argv + optind) : NULL;
	if (rc < 0)
		rc = EXIT_OK; /* --help */
	else if (bad)
		rc = ftctl_bad_usage(ftctl_usage_submit, bad, "");
	else if (rc == EXIT_OK)
		rc = submit(&o, argc - optind, argv + optind);
	free(args);
	free(with);
	return rc;
}
