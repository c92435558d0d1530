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

void ftctl_print_file_error(FILE *out, bool json, const char *file, const char *code,
			    const char *msg)
{
	if (json) {
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "file", json_object_new_string(file));
		json_object_object_add(e, "error", json_object_new_string(code));
		json_object_object_add(e, "message", json_object_new_string(msg));
		fprintf(out, "%s\n", json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
		json_object_put(e);
	} else {
		fprintf(out, "== %s: error: %s\n", file, msg);
	}
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

int ftctl_print_result(FILE *out, bool json, const char *file, long code, const char *curl_err,
		       const char *body)
{
	struct json_object *run = NULL;
	if (!curl_err && body)
		run = json_tokener_parse(body);
	if (curl_err || !run || !json_object_is_type(run, json_type_object) ||
	    (code != 200 && code != 202)) {
		const char *code_s =
			curl_err ? "unreachable" : ftctl_jstr(run, "error", "bad_answer");
		char msg[512];
		if (curl_err)
			snprintf(msg, sizeof(msg), "%s", curl_err);
		else
			snprintf(msg, sizeof(msg), "%s (HTTP %ld)",
				 run ? ftctl_jstr(run, "message", "unexpected answer")
				     : "the answer is not JSON",
				 code);
		ftctl_print_file_error(out, json, file, code_s, msg);
		json_object_put(run);
		return 2;
	}
	const char *verdict = ftctl_jstr(run, "verdict", "unknown");
	int cls = strcmp(verdict, "ok") == 0 ? 0 : 1;
	if (json) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "file", json_object_new_string(file));
		json_object_object_foreach(run, key, val)
		{
			json_object_object_add(o, key, json_object_get(val));
		}
		fprintf(out, "%s\n",
			json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		char detail[256];
		run_details(detail, sizeof(detail), run);
		fprintf(out, "== %s: %s%s%s%s\n", file, verdict, detail[0] ? " (" : "", detail,
			detail[0] ? ")" : "");
		ftctl_print_text(out, cls == 0 ? ftctl_jstr(run, "output", "")
					       : ftctl_jstr(run, "error", ""));
		static const char *const streams[] = { "stdout", "stderr" };
		/* A main program's output is its stdout: shown once. */
		bool main_ok = cls == 0 && strcmp(ftctl_jstr(run, "entry", ""), "main") == 0;
		for (size_t i = main_ok ? 1 : 0; i < 2; i++) {
			const char *text = ftctl_jstr(run, streams[i], "");
			if (*text) {
				fprintf(out, "-- %s --\n", streams[i]);
				ftctl_print_text(out, text);
			}
		}
	}
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
