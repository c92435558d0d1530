/* ftctl submit: POST /v1/runs for each file, all in parallel, and each
 * result printed as it arrives. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "client/args.h"
#include "client/clock.h"
#include "client/ftctl.h"
#include "client/http.h"
#include "client/output.h"
#include "client/payload.h"
#include "client/usage.h"
#include "lib/util.h"

struct submit_opts {
	bool json, quiet, progress;
	const char *stdin_file;
	char *stdin_text; /* its contents */
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
	bool show;
	int done, total, worst;
	double t0;
};

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct ftctl_buf b = { 0 };
	char tmp[65536];
	size_t k;
	while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0)
		ftctl_buf_collect(tmp, 1, k, &b);
	bool bad = ferror(f);
	fclose(f);
	if (bad) {
		free(b.data);
		return NULL;
	}
	*len = b.len;
	return b.data ? b.data : calloc(1, 1);
}

static void progress_show(void *ctx)
{
	struct progress *p = ctx;
	if (!p->show)
		return;
	fprintf(stderr, "\r\033[K[%d/%d done, %d waiting] %.1fs", p->done, p->total,
		p->total - p->done, ftctl_now_s() - p->t0);
	fflush(stderr);
}

static void progress_clear(bool show)
{
	if (show) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
}

static void job_done(void *ud, long code, const char *err, const char *body, void *ctx)
{
	struct job *j = ud;
	struct progress *p = ctx;
	progress_clear(p->show);
	int cls = ftctl_print_result(stdout, p->o->json, j->file, code, err, body);
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
		o->with_text[i] = read_file(o->with[i], &o->with_len[i]);
		if (!o->with_text[i]) {
			fprintf(stderr, "ftctl: %s: cannot read\n", o->with[i]);
			return false;
		}
		if (!ft_utf8_valid(o->with_text[i], o->with_len[i])) {
			fprintf(stderr, "ftctl: %s: not UTF-8 text\n", o->with[i]);
			return false;
		}
	}
	return true;
}

static void free_with_files(struct submit_opts *o)
{
	for (size_t i = 0; o->with_text && i < o->run.n_with; i++)
		free(o->with_text[i]);
	free(o->with_text);
	free(o->with_len);
}

/* Reads --stdin's file into o; false (said why) if it cannot be sent. */
static bool read_stdin_file(struct submit_opts *o)
{
	if (!o->stdin_file)
		return true;
	char *text = read_file(o->stdin_file, &o->run.stdin_len);
	if (!text) {
		fprintf(stderr, "ftctl: %s: cannot read\n", o->stdin_file);
		return false;
	}
	if (!ft_utf8_valid(text, o->run.stdin_len)) {
		fprintf(stderr, "ftctl: %s: not UTF-8 text (the JSON API takes stdin as text)\n",
			o->stdin_file);
		free(text);
		return false;
	}
	o->stdin_text = text;
	o->run.stdin_text = text;
	return true;
}

static int submit(struct submit_opts *o, int nfiles, char **files)
{
	char url[1024];
	snprintf(url, sizeof(url), "%s/v1/runs", ftctl_gateway);
	if (!read_stdin_file(o))
		return EXIT_ERROR;
	if (!read_with_files(o)) {
		free_with_files(o);
		free(o->stdin_text);
		return EXIT_ERROR;
	}
	struct job *jobs = calloc((size_t)nfiles, sizeof(*jobs));
	struct ftctl_posts *posts = ftctl_posts_new((size_t)nfiles);
	if (!jobs || !posts) {
		free(jobs);
		ftctl_posts_free(posts);
		free_with_files(o);
		free(o->stdin_text);
		return EXIT_ERROR;
	}
	struct progress p = { .o = o, .total = nfiles, .t0 = ftctl_now_s() };
	p.show = !o->json && !o->quiet && (o->progress || isatty(STDERR_FILENO));
	if (o->json)
		p.show = !o->quiet && o->progress;
	for (int i = 0; i < nfiles; i++) {
		struct job *j = &jobs[i];
		j->file = files[i];
		size_t len;
		char *src = read_file(files[i], &len);
		const char *code = !src			      ? "unreadable"
				   : !ft_utf8_valid(src, len) ? "not_utf8"
							      : NULL;
		if (code) {
			const char *msg =
				src ? "not UTF-8 text (the JSON API takes sources as text)"
				    : "cannot read the file";
			free(src);
			p.done++;
			ftctl_print_file_error(stdout, o->json, files[i], code, msg);
			p.worst = 2;
			continue;
		}
		j->payload = ftctl_run_payload(&o->run, files[i], src, len);
		free(src);
		ftctl_posts_add(posts, url, j->payload, j);
	}
	fflush(stdout);
	ftctl_posts_run(posts, job_done, progress_show, &p);
	progress_clear(p.show);
	ftctl_posts_free(posts);
	for (int i = 0; i < nfiles; i++)
		free(jobs[i].payload);
	free(jobs);
	free(o->stdin_text);
	free_with_files(o);
	return p.worst == 0 ? EXIT_OK : p.worst == 1 ? EXIT_FAILED_RUN : EXIT_ERROR;
}

int ftctl_submit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "stdin", required_argument, NULL, 'S' },
		{ "time-limit", required_argument, NULL, 'T' },
		{ "memory-limit", required_argument, NULL, 'M' },
		{ "arg", required_argument, NULL, 'a' },
		{ "with", required_argument, NULL, 'w' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "progress", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct submit_opts o = { 0 };
	/* At most one argument per word of argv. */
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	if (!args)
		return EXIT_ERROR;
	char **with = calloc((size_t)argc + 1, sizeof(*with));
	if (!with) {
		free(args);
		return EXIT_ERROR;
	}
	o.run.args = (const char *const *)args;
	o.with = with;
	o.run.with = (const char *const *)with;
	int c, rc;
	while ((c = getopt_long(argc, argv, "jqha:w:", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o.json = true;
			break;
		case 'S':
			o.stdin_file = optarg;
			break;
		case 'a':
			args[o.run.n_args++] = optarg;
			break;
		case 'w':
			with[o.run.n_with++] = optarg;
			break;
		case 'T':
			if (!ftctl_parse_long(optarg, 1, &o.run.time_limit)) {
				rc = ftctl_bad_usage(
					ftctl_usage_submit,
					"--time-limit: not a positive number: ", optarg);
				goto out;
			}
			break;
		case 'M':
			if (!ftctl_parse_long(optarg, 1, &o.run.memory_limit)) {
				rc = ftctl_bad_usage(
					ftctl_usage_submit,
					"--memory-limit: not a positive number: ", optarg);
				goto out;
			}
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'P':
			o.progress = true;
			break;
		case 'h':
			fputs(ftctl_usage_submit, stdout);
			rc = EXIT_OK;
			goto out;
		default:
			fputs(ftctl_usage_submit, stderr);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if (optind >= argc)
		rc = ftctl_bad_usage(ftctl_usage_submit, "submit: no file given", "");
	else
		rc = submit(&o, argc - optind, argv + optind);
out:
	free(args);
	free(with);
	return rc;
}
