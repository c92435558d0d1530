#include "client/output.h"

#include <stdint.h>
#include <string.h>

#include "client/fields.h"
#include "client/ftctl.h"

void ftctl_print_text(FILE *out, const char *s)
{
	size_t n = strlen(s);
	fwrite(s, 1, n, out);
	if (n == 0 || s[n - 1] != '\n')
		fputc('\n', out);
}

void ftctl_print_error(FILE *out, bool json, const char *key, const char *name, const char *code,
		       const char *msg)
{
	if (json) {
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, key, json_object_new_string(name));
		json_object_object_add(e, "error", json_object_new_string(code));
		json_object_object_add(e, "message", json_object_new_string(msg));
		fprintf(out, "%s\n", json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
		json_object_put(e);
	} else {
		fprintf(out, "== %s: error: %s\n", name, msg);
	}
	fflush(out);
}

void ftctl_print_file_error(FILE *out, bool json, const char *file, const char *code,
			    const char *msg)
{
	ftctl_print_error(out, json, "file", file, code, msg);
}

/* "worker 2, 1500 ms, 2 attempts", or "cached". */
static void run_details(char *detail, size_t n, struct json_object *run)
{
	struct json_object *v;
	detail[0] = '\0';
	if (json_object_object_get_ex(run, "cached", &v) && json_object_get_boolean(v)) {
		snprintf(detail, n, "cached");
		return;
	}
	int64_t worker = ftctl_jint(run, "worker", -1), ms = ftctl_jint(run, "time_ms", -1),
		attempts = ftctl_jint(run, "attempts", -1);
	size_t k = 0;
	if (worker >= 0)
		k += (size_t)snprintf(detail + k, n - k, "worker %lld", (long long)worker);
	if (ms >= 0)
		k += (size_t)snprintf(detail + k, n - k, "%s%lld ms", k ? ", " : "", (long long)ms);
	if (attempts > 1)
		snprintf(detail + k, n - k, "%s%lld attempts", k ? ", " : "", (long long)attempts);
}

bool ftctl_verdict_succeeded(const char *verdict)
{
	return strcmp(verdict, "ok") == 0 || strcmp(verdict, "accepted") == 0;
}

/* The verdicts of a program that ran to its end: what it answered is
 * worth showing (for wrong_answer, what was judged wrong). */
static bool verdict_has_output(const char *verdict)
{
	return ftctl_verdict_succeeded(verdict) || strcmp(verdict, "wrong_answer") == 0;
}

/* An answer that is not a run (it failed, was refused, or is not JSON):
 * printed as an error for key: name.  Returns FTCTL_NO_RESULT. */
static int print_no_run(FILE *out, bool json, const char *key, const char *name,
			const struct ftctl_answer *a, struct json_object *run)
{
	const char *code_s = a->err ? "unreachable" : ftctl_jstr(run, "error", "bad_answer");
	char msg[640], refused[64] = "";
	/* A refusal that lasted out --timeout says so: it was not dropped. */
	if (!a->err && a->tries > 1 && (a->code == 503 || a->code == 429))
		snprintf(refused, sizeof(refused),
			 "refused %u times until --timeout, last: ", a->tries);
	if (a->err)
		snprintf(msg, sizeof(msg), "%s", a->err);
	else
		snprintf(msg, sizeof(msg), "%s%s (HTTP %ld)", refused,
			 run ? ftctl_jstr(run, "message", "unexpected answer")
			     : "the answer is not JSON",
			 a->code);
	ftctl_print_error(out, json, key, name, code_s, msg);
	return FTCTL_NO_RESULT;
}

/* The run, as JSON: with key: name first, unless key is NULL (the run
 * names itself by its id). */
static void print_run_json(FILE *out, const char *key, const char *name, struct json_object *run)
{
	struct json_object *o = json_object_new_object();
	if (key)
		json_object_object_add(o, key, json_object_new_string(name));
	json_object_object_foreach(run, k, val)
	{
		json_object_object_add(o, k, json_object_get(val));
	}
	fprintf(out, "%s\n",
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* "== NAME: VERDICT (details)", the answer or the error, the streams. */
static void print_run_text(FILE *out, const char *name, struct json_object *run)
{
	const char *verdict = ftctl_jstr(run, "verdict", "unknown");
	char detail[256];
	run_details(detail, sizeof(detail), run);
	fprintf(out, "== %s: %s%s%s%s\n", name, verdict, detail[0] ? " (" : "", detail,
		detail[0] ? ")" : "");
	bool shown = verdict_has_output(verdict);
	ftctl_print_text(out, shown ? ftctl_jstr(run, "output", "") : ftctl_jstr(run, "error", ""));
	static const char *const streams[] = { "stdout", "stderr" };
	/* A main program's output is its stdout: shown once. */
	bool main_out = shown && strcmp(ftctl_jstr(run, "entry", ""), "main") == 0;
	for (size_t i = main_out ? 1 : 0; i < 2; i++) {
		const char *text = ftctl_jstr(run, streams[i], "");
		if (*text) {
			fprintf(out, "-- %s --\n", streams[i]);
			ftctl_print_text(out, text);
		}
	}
}

/* The answer's body as JSON (NULL: none, or not JSON). */
static struct json_object *parse_body(const struct ftctl_answer *a)
{
	return !a->err && a->body ? json_tokener_parse(a->body) : NULL;
}

/* Whether the answer is a run: a JSON object with 200 or 202. */
static bool is_run(const struct ftctl_answer *a, struct json_object *o)
{
	return o && json_object_is_type(o, json_type_object) && (a->code == 200 || a->code == 202);
}

/* A run's answer for key: name (key NULL: a run named by its id). */
static int print_answer(FILE *out, bool json, const char *key, const char *name,
			const struct ftctl_answer *a)
{
	struct json_object *run = parse_body(a);
	if (!is_run(a, run)) {
		int cls = print_no_run(out, json, key ? key : "id", name, a, run);
		json_object_put(run);
		return cls;
	}
	const char *status = ftctl_jstr(run, "status", "done");
	int cls = strcmp(status, "done") != 0				    ? FTCTL_NOT_DONE
		  : ftctl_verdict_succeeded(ftctl_jstr(run, "verdict", "")) ? FTCTL_OK
									    : FTCTL_NOT_OK;
	if (json)
		print_run_json(out, key, name, run);
	else if (cls == FTCTL_NOT_DONE && ftctl_jhas(run, "worker"))
		fprintf(out, "== %s: %s (worker %s)\n", name, status,
			ftctl_jstr(run, "worker", ""));
	else if (cls == FTCTL_NOT_DONE)
		fprintf(out, "== %s: %s\n", name, status);
	else
		print_run_text(out, name, run);
	fflush(out);
	json_object_put(run);
	return cls;
}

bool ftctl_answer_pending(const struct ftctl_answer *a)
{
	struct json_object *o = parse_body(a);
	bool pending = is_run(a, o) && strcmp(ftctl_jstr(o, "status", "done"), "done") != 0;
	json_object_put(o);
	return pending;
}

int ftctl_print_result(FILE *out, bool json, const char *file, const struct ftctl_answer *a)
{
	return print_answer(out, json, "file", file, a);
}

int ftctl_print_run(FILE *out, bool json, const char *id, const struct ftctl_answer *a)
{
	return print_answer(out, json, NULL, id, a);
}

int ftctl_print_accepted(FILE *out, bool json, const char *file, const struct ftctl_answer *a)
{
	struct json_object *run = parse_body(a);
	int cls = FTCTL_OK;
	if (!is_run(a, run) || !ftctl_jhas(run, "id"))
		cls = print_no_run(out, json, "file", file, a, run);
	else if (json)
		print_run_json(out, "file", file, run);
	else
		fprintf(out, "%s %s\n", ftctl_jstr(run, "id", ""), file);
	fflush(out);
	json_object_put(run);
	return cls;
}

void ftctl_fmt_age(char *buf, size_t n, struct json_object *member)
{
	if (!ftctl_jhas(member, "age_ms")) {
		snprintf(buf, n, "-");
		return;
	}
	int64_t ms = ftctl_jint(member, "age_ms", 0);
	if (ms < 60000)
		snprintf(buf, n, "%.1fs", (double)ms / 1000.0);
	else
		snprintf(buf, n, "%lldm%02llds", (long long)(ms / 60000),
			 (long long)(ms / 1000 % 60));
}

static void print_member(FILE *out, struct json_object *m, const char *state,
			 struct json_object *running)
{
	char age[32], busy[16] = "-";
	ftctl_fmt_age(age, sizeof(age), m);
	const char *id = ftctl_jstr(m, "id", "?");
	struct json_object *n;
	if (running && strcmp(id, "0") != 0)
		snprintf(busy, sizeof(busy), "%d",
			 json_object_object_get_ex(running, id, &n) ? json_object_get_int(n) : 0);
	fprintf(out, "%-5s %-9s %-7s %8s %10s %15s %7s  %s\n", id, ftctl_jstr(m, "role", "-"),
		state, age, ftctl_jstr(m, "heartbeat", "-"), ftctl_jstr(m, "incarnation", "-"),
		busy, ftctl_jstr(m, "address", "-"));
}

void ftctl_print_cluster_head(FILE *out, struct json_object *view)
{
	if (ftctl_jhas(view, "leader"))
		fprintf(out, "cluster %s: leader %s, epoch %s\n", ftctl_jstr(view, "cluster", "?"),
			ftctl_jstr(view, "leader", "?"), ftctl_jstr(view, "epoch", "?"));
	else
		fprintf(out, "cluster %s: no leader%s\n", ftctl_jstr(view, "cluster", "?"),
			ftctl_jhas(view, "zookeeper_connected") &&
					!json_object_get_boolean(
						json_object_object_get(view, "zookeeper_connected"))
				? " (the gateway is not connected to ZooKeeper)"
				: "");
	fprintf(out, "%-5s %-9s %-7s %8s %10s %15s %7s  %s\n", "ID", "ROLE", "STATE", "AGE",
		"HEARTBEAT", "INCARNATION", "RUNNING", "ADDRESS");
}

int ftctl_print_members(FILE *out, struct json_object *view, struct json_object *running)
{
	struct json_object *nodes, *failed;
	if (json_object_object_get_ex(view, "nodes", &nodes) &&
	    json_object_is_type(nodes, json_type_array))
		for (size_t i = 0; i < json_object_array_length(nodes); i++) {
			struct json_object *m = json_object_array_get_idx(nodes, i);
			print_member(out, m, ftctl_jstr(m, "state", "alive"), running);
		}
	if (json_object_object_get_ex(view, "failed", &failed) &&
	    json_object_is_type(failed, json_type_array))
		for (size_t i = 0; i < json_object_array_length(failed); i++)
			print_member(out, json_object_array_get_idx(failed, i), "failed", running);
	return ftctl_jhas(view, "leader") ? EXIT_OK : EXIT_FAILED_RUN;
}
