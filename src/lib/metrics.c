/* Prometheus metrics: the registry, its text exposition and the
 * process-wide registry behind GET /metrics.  See metrics.h. */
#include "lib/metrics.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/httpd.h"
#include "lib/util.h"

#define MAX_BOUNDS 32
#define MAX_COLLECTORS 8

struct series {
	char *value; /* label value, or NULL */
	double v;    /* counter / gauge value; histogram sum */
	uint64_t count;
	uint64_t *buckets; /* histogram: per bucket (not cumulative), +Inf last */
};

struct ft_metric {
	struct ft_metric *next;
	enum ft_metric_type type;
	char *name, *help, *label;
	size_t n_series;
	struct series *series;
	double *bounds;
	size_t n_bounds;
	ft_metric_sample_fn fn;
	void *ud;
};

struct collector {
	ft_metrics_collect_fn fn;
	void *ud;
};

struct ft_metrics {
	struct ft_metric *head, *tail;
	struct collector collectors[MAX_COLLECTORS];
	size_t n_collectors;
};

/* ---- names ---- */

static bool name_ok(const char *s, bool colon)
{
	if (!s || !*s)
		return false;
	for (const char *p = s; *p; p++) {
		char c = *p;
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			     (colon && c == ':');
		if (!alpha && !(p != s && c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

static bool label_name_ok(const char *s)
{
	return name_ok(s, false) && strncmp(s, "__", 2) != 0 && strcmp(s, "le") != 0;
}

/* ---- registry ---- */

struct ft_metrics *ft_metrics_new(void)
{
	return ft_xcalloc(1, sizeof(struct ft_metrics));
}

static void metric_free(struct ft_metric *f)
{
	for (size_t i = 0; i < f->n_series; i++) {
		free(f->series[i].value);
		free(f->series[i].buckets);
	}
	free(f->series);
	free(f->bounds);
	free(f->name);
	free(f->help);
	free(f->label);
	free(f);
}

void ft_metrics_free(struct ft_metrics *m)
{
	if (!m)
		return;
	for (struct ft_metric *f = m->head, *next; f; f = next) {
		next = f->next;
		metric_free(f);
	}
	free(m);
}

struct ft_metric *ft_metrics_find(const struct ft_metrics *m, const char *name)
{
	if (!m || !name)
		return NULL;
	for (struct ft_metric *f = m->head; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static struct ft_metric *add_family(struct ft_metrics *m, enum ft_metric_type type,
				    const char *name, const char *help, const char *label,
				    const char *const *values, const double *bounds,
				    size_t n_bounds)
{
	if (!m || !name_ok(name, true) || ft_metrics_find(m, name))
		return NULL;
	size_t n_values = 1;
	if (label) {
		if (!label_name_ok(label) || !values || !values[0])
			return NULL;
		for (n_values = 0; values[n_values]; n_values++)
			for (size_t j = 0; j < n_values; j++)
				if (strcmp(values[j], values[n_values]) == 0)
					return NULL;
	}
	if (type == FT_METRIC_HISTOGRAM) {
		if (!bounds || n_bounds == 0 || n_bounds > MAX_BOUNDS)
			return NULL;
		for (size_t i = 0; i < n_bounds; i++)
			if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
				return NULL;
	}
	struct ft_metric *f = ft_xcalloc(1, sizeof(*f));
	f->type = type;
	f->name = ft_xstrdup(name);
	f->help = ft_xstrdup(help ? help : "");
	f->label = label ? ft_xstrdup(label) : NULL;
	f->n_series = n_values;
	f->series = ft_xcalloc(n_values, sizeof(*f->series));
	for (size_t i = 0; i < n_values; i++) {
		if (label)
			f->series[i].value = ft_xstrdup(values[i]);
		if (type == FT_METRIC_HISTOGRAM)
			f->series[i].buckets = ft_xcalloc(n_bounds + 1, sizeof(uint64_t));
	}
	if (type == FT_METRIC_HISTOGRAM) {
		f->bounds = ft_xmemdup(bounds, n_bounds * sizeof(double));
		f->n_bounds = n_bounds;
	}
	if (m->tail)
		m->tail->next = f;
	else
		m->head = f;
	m->tail = f;
	return f;
}

struct ft_metric *ft_metrics_counter(struct ft_metrics *m, const char *name, const char *help,
				     const char *label, const char *const *values)
{
	return add_family(m, FT_METRIC_COUNTER, name, help, label, values, NULL, 0);
}

struct ft_metric *ft_metrics_gauge(struct ft_metrics *m, const char *name, const char *help,
				   const char *label, const char *const *values)
{
	return add_family(m, FT_METRIC_GAUGE, name, help, label, values, NULL, 0);
}

struct ft_metric *ft_metrics_histogram(struct ft_metrics *m, const char *name, const char *help,
				       const char *label, const char *const *values,
				       const double *bounds, size_t n_bounds)
{
	return add_family(m, FT_METRIC_HISTOGRAM, name, help, label, values, bounds, n_bounds);
}

struct ft_metric *ft_metrics_gauge_func(struct ft_metrics *m, const char *name, const char *help,
					ft_metric_sample_fn fn, void *ud)
{
	if (!fn)
		return NULL;
	struct ft_metric *f = add_family(m, FT_METRIC_GAUGE, name, help, NULL, NULL, NULL, 0);
	if (f) {
		f->fn = fn;
		f->ud = ud;
	}
	return f;
}

void ft_metrics_on_collect(struct ft_metrics *m, ft_metrics_collect_fn fn, void *ud)
{
	if (m && fn && m->n_collectors < MAX_COLLECTORS)
		m->collectors[m->n_collectors++] = (struct collector){ fn, ud };
}

static struct series *find_series(const struct ft_metric *f, const char *value)
{
	if (!f)
		return NULL;
	if (!f->label)
		return value ? NULL : &f->series[0];
	if (!value)
		return NULL;
	struct series *other = NULL;
	for (size_t i = 0; i < f->n_series; i++) {
		if (strcmp(f->series[i].value, value) == 0)
			return &f->series[i];
		if (strcmp(f->series[i].value, "other") == 0)
			other = &f->series[i];
	}
	return other;
}

void ft_metric_add(struct ft_metric *f, const char *value, double v)
{
	if (!f || f->fn || f->type == FT_METRIC_HISTOGRAM)
		return;
	if (f->type == FT_METRIC_COUNTER && !(v >= 0))
		return;
	struct series *s = find_series(f, value);
	if (s)
		s->v += v;
}

void ft_metric_inc(struct ft_metric *f, const char *value)
{
	ft_metric_add(f, value, 1);
}

void ft_metric_set(struct ft_metric *f, const char *value, double v)
{
	if (!f || f->fn || f->type == FT_METRIC_HISTOGRAM)
		return;
	struct series *s = find_series(f, value);
	if (s)
		s->v = v;
}

void ft_metric_observe(struct ft_metric *f, const char *value, double v)
{
	if (!f || f->type != FT_METRIC_HISTOGRAM || isnan(v))
		return;
	struct series *s = find_series(f, value);
	if (!s)
		return;
	size_t b = 0;
	while (b < f->n_bounds && v > f->bounds[b])
		b++;
	s->buckets[b]++;
	s->count++;
	s->v += v;
}

double ft_metric_get(const struct ft_metric *f, const char *value)
{
	const struct series *s = find_series(f, value);
	if (!s)
		return NAN;
	if (f->fn)
		return f->fn(f->ud);
	return f->type == FT_METRIC_HISTOGRAM ? (double)s->count : s->v;
}

/* ---- text format ---- */

static void fmt_num(char *buf, size_t n, double v)
{
	if (isnan(v)) {
		snprintf(buf, n, "NaN");
	} else if (isinf(v)) {
		snprintf(buf, n, v > 0 ? "+Inf" : "-Inf");
	} else if (v > -9007199254740992.0 && v < 9007199254740992.0 && (double)(int64_t)v == v) {
		snprintf(buf, n, "%" PRId64, (int64_t)v);
	} else {
		/* Shortest of %.15g..%.17g that reads back exactly. */
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(buf, n, "%.*g", prec, v);
			if (strtod(buf, NULL) == v)
				break;
		}
	}
}

static void put_escaped(struct ft_buf *out, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			ft_buf_append(out, "\\\\", 2);
		else if (*s == '\n')
			ft_buf_append(out, "\\n", 2);
		else if (quote && *s == '"')
			ft_buf_append(out, "\\\"", 2);
		else
			ft_buf_append(out, s, 1);
	}
}

/* name{label="value",le="bound"} */
static void put_series_name(struct ft_buf *out, const struct ft_metric *f, const char *suffix,
			    const struct series *s, const char *le)
{
	ft_buf_printf(out, "%s%s", f->name, suffix);
	if (!f->label && !le)
		return;
	ft_buf_append(out, "{", 1);
	if (f->label) {
		ft_buf_printf(out, "%s=\"", f->label);
		put_escaped(out, s->value, true);
		ft_buf_append(out, "\"", 1);
	}
	if (le)
		ft_buf_printf(out, "%sle=\"%s\"", f->label ? "," : "", le);
	ft_buf_append(out, "}", 1);
}

static void render_family(struct ft_buf *out, const struct ft_metric *f)
{
	static const char *const type_names[] = { "counter", "gauge", "histogram" };
	char num[64];
	ft_buf_printf(out, "# HELP %s ", f->name);
	put_escaped(out, f->help, false);
	ft_buf_printf(out, "\n# TYPE %s %s\n", f->name, type_names[f->type]);
	for (size_t i = 0; i < f->n_series; i++) {
		const struct series *s = &f->series[i];
		if (f->type != FT_METRIC_HISTOGRAM) {
			put_series_name(out, f, "", s, NULL);
			fmt_num(num, sizeof(num), f->fn ? f->fn(f->ud) : s->v);
			ft_buf_printf(out, " %s\n", num);
			continue;
		}
		uint64_t cum = 0;
		for (size_t b = 0; b <= f->n_bounds; b++) {
			char le[64];
			if (b < f->n_bounds)
				fmt_num(le, sizeof(le), f->bounds[b]);
			else
				snprintf(le, sizeof(le), "+Inf");
			cum += s->buckets[b];
			put_series_name(out, f, "_bucket", s, le);
			ft_buf_printf(out, " %" PRIu64 "\n", cum);
		}
		put_series_name(out, f, "_sum", s, NULL);
		fmt_num(num, sizeof(num), s->v);
		ft_buf_printf(out, " %s\n", num);
		put_series_name(out, f, "_count", s, NULL);
		ft_buf_printf(out, " %" PRIu64 "\n", s->count);
	}
}

void ft_metrics_render(struct ft_metrics *m, struct ft_buf *out)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_collectors; i++)
		m->collectors[i].fn(m, m->collectors[i].ud);
	for (struct ft_metric *f = m->head; f; f = f->next)
		render_family(out, f);
}

/* ---- the process-wide registry ---- */

#define MAX_SHUTDOWN_HOOKS 8

static struct ft_metrics *global;
static void (*shutdown_hooks[MAX_SHUTDOWN_HOOKS])(void);
static size_t n_shutdown_hooks;

struct ft_metrics *ft_metrics_global(void)
{
	if (!global)
		global = ft_metrics_new();
	return global;
}

void ft_metrics_on_shutdown(void (*forget)(void))
{
	for (size_t i = 0; i < n_shutdown_hooks; i++)
		if (shutdown_hooks[i] == forget)
			return;
	if (forget && n_shutdown_hooks < MAX_SHUTDOWN_HOOKS)
		shutdown_hooks[n_shutdown_hooks++] = forget;
}

void ft_metrics_gauge_fn(const char *name, const char *help, ft_metric_sample_fn fn, void *ud)
{
	ft_metrics_gauge_func(ft_metrics_global(), name, help, fn, ud);
}

bool ft_metrics_route(struct ft_http_req *r)
{
	if (strcmp(ft_http_path(r), "/metrics") != 0)
		return false;
	if (strcmp(ft_http_method(r), "GET") != 0 && strcmp(ft_http_method(r), "HEAD") != 0) {
		static const char msg[] = "Method not allowed: use GET\n";
		ft_http_add_header(r, "Allow", "GET, HEAD");
		ft_http_respond(r, 405, "text/plain; charset=utf-8", msg, sizeof(msg) - 1);
		return true;
	}
	struct ft_buf b = { 0 };
	ft_metrics_render(ft_metrics_global(), &b);
	ft_http_add_header(r, "Cache-Control", "no-store");
	ft_http_respond(r, 200, FT_METRICS_CONTENT_TYPE, b.data ? b.data : "", b.len);
	ft_buf_free(&b);
	return true;
}

void ft_metrics_shutdown(void)
{
	for (size_t i = 0; i < n_shutdown_hooks; i++)
		shutdown_hooks[i]();
	n_shutdown_hooks = 0;
	ft_metrics_free(global);
	global = NULL;
}
