#include "client/sched.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "client/fields.h"

bool ftctl_parse_retry_after(const char *value, time_t now, double *seconds)
{
	if (!value)
		return false;
	while (isspace((unsigned char)*value))
		value++;
	size_t n = strlen(value);
	while (n > 0 && isspace((unsigned char)value[n - 1]))
		n--;
	if (n == 0)
		return false;
	size_t digits = strspn(value, "0123456789");
	if (digits == n) {
		/* More digits than a day needs are just "long": no overflow. */
		*seconds = digits > 7 ? 1e7 : strtod(value, NULL);
		return true;
	}
	/* An HTTP-date (RFC 9110 10.2.3): curl parses the three forms. */
	char date[64];
	if (n >= sizeof(date))
		return false;
	memcpy(date, value, n);
	date[n] = '\0';
	time_t t = curl_getdate(date, NULL);
	if (t == (time_t)-1)
		return false;
	*seconds = t > now ? (double)(t - now) : 0;
	return true;
}

double ftctl_backoff_s(unsigned refusals, double retry_after_s)
{
	if (retry_after_s >= 0)
		return retry_after_s < FTCTL_RETRY_AFTER_MIN_S	 ? FTCTL_RETRY_AFTER_MIN_S
		       : retry_after_s > FTCTL_RETRY_AFTER_MAX_S ? FTCTL_RETRY_AFTER_MAX_S
								 : retry_after_s;
	double d = FTCTL_BACKOFF_FIRST_S;
	for (unsigned k = 1; k < refusals && d < FTCTL_BACKOFF_MAX_S; k++)
		d *= 2;
	return d < FTCTL_BACKOFF_MAX_S ? d : FTCTL_BACKOFF_MAX_S;
}

bool ftctl_sched_init(struct ftctl_sched *s, size_t n, size_t max, double timeout_s)
{
	memset(s, 0, sizeof(*s));
	s->job = calloc(n ? n : 1, sizeof(*s->job));
	if (!s->job)
		return false;
	s->n = s->left = n;
	s->max = max ? max : 1;
	s->window = (double)s->max;
	s->timeout_s = timeout_s;
	return true;
}

void ftctl_sched_free(struct ftctl_sched *s)
{
	free(s->job);
	s->job = NULL;
}

static void finish(struct ftctl_sched *s, struct ftctl_job_sched *j)
{
	if (j->state == FTCTL_JOB_SENT)
		s->in_flight--;
	if (j->state != FTCTL_JOB_DONE)
		s->left--;
	j->state = FTCTL_JOB_DONE;
}

/* The window in whole requests: at least one is always allowed. */
static size_t room(const struct ftctl_sched *s)
{
	size_t w = (size_t)s->window;
	return w < 1 ? 1 : w;
}

/* The oldest refused job that is due, or -1. */
static long due_refused(const struct ftctl_sched *s, double now)
{
	for (size_t i = 0; i < s->next_new; i++)
		if (s->job[i].state == FTCTL_JOB_REFUSED && s->job[i].due_s <= now)
			return (long)i;
	return -1;
}

long ftctl_sched_next(struct ftctl_sched *s, double now)
{
	if (s->in_flight >= room(s))
		return -1;
	long i = due_refused(s, now);
	if (i < 0) {
		if (s->next_new >= s->n)
			return -1;
		i = (long)s->next_new++;
		s->job[i].first_s = now;
	}
	struct ftctl_job_sched *j = &s->job[i];
	j->state = FTCTL_JOB_SENT;
	j->tries++;
	s->in_flight++;
	return i;
}

void ftctl_sched_answered(struct ftctl_sched *s, size_t i)
{
	if (s->job[i].state != FTCTL_JOB_SENT)
		return;
	finish(s, &s->job[i]);
	/* The gateway took it: room for one more, a window's worth later. */
	s->window += 1.0 / s->window;
	if (s->window > (double)s->max)
		s->window = (double)s->max;
}

bool ftctl_sched_refused(struct ftctl_sched *s, size_t i, double now, double retry_after_s)
{
	struct ftctl_job_sched *j = &s->job[i];
	if (j->state != FTCTL_JOB_SENT)
		return false;
	s->in_flight--;
	s->refusals++;
	/* What the gateway holds of ours is what it did not refuse. */
	s->window = s->in_flight > 0 ? (double)s->in_flight : 1.0;
	double wait = ftctl_backoff_s(j->tries, retry_after_s);
	if (s->timeout_s > 0 && now + wait > j->first_s + s->timeout_s) {
		j->state = FTCTL_JOB_DONE;
		s->left--;
		return false;
	}
	j->state = FTCTL_JOB_REFUSED;
	j->due_s = now + wait;
	j->last_delay_s = wait;
	return true;
}

double ftctl_sched_wake_in(const struct ftctl_sched *s, double now)
{
	if (s->in_flight >= room(s))
		return -1;
	double soonest = -1;
	for (size_t i = 0; i < s->next_new; i++) {
		const struct ftctl_job_sched *j = &s->job[i];
		if (j->state != FTCTL_JOB_REFUSED)
			continue;
		double d = j->due_s > now ? j->due_s - now : 0;
		if (soonest < 0 || d < soonest)
			soonest = d;
	}
	return soonest;
}

double ftctl_sched_time_left(const struct ftctl_sched *s, size_t i, double now)
{
	if (s->timeout_s <= 0)
		return 0;
	double left = s->job[i].first_s + s->timeout_s - now;
	/* Never 0, which would mean no limit: a last millisecond. */
	return left > 0.001 ? left : 0.001;
}

size_t ftctl_sched_waiting_retry(const struct ftctl_sched *s)
{
	size_t k = 0;
	for (size_t i = 0; i < s->next_new; i++)
		k += s->job[i].state == FTCTL_JOB_REFUSED;
	return k;
}

/* ---- the default of -P ---- */

long ftctl_default_parallel(struct json_object *view, struct json_object *recent,
			    struct json_object *limits)
{
	struct json_object *nodes;
	if (!view || !json_object_object_get_ex(view, "nodes", &nodes) ||
	    !json_object_is_type(nodes, json_type_array))
		return FTCTL_PARALLEL_FALLBACK;
	long workers = 0;
	for (size_t i = 0; i < json_object_array_length(nodes); i++) {
		const char *role = ftctl_jstr(json_object_array_get_idx(nodes, i), "role", "");
		workers += strcmp(role, "FOLLOWER") == 0;
	}
	/* The leader works only when nobody else can (dispatch.h). */
	if (workers == 0 && ftctl_jhas(view, "leader"))
		workers = 1;
	long slots = (long)ftctl_jint(limits, "worker_slots", FTCTL_SLOTS_PER_WORKER);
	if (slots < 1)
		slots = FTCTL_SLOTS_PER_WORKER;
	long free_slots = workers * slots - (long)ftctl_jint(recent, "in_flight", 0);
	return free_slots < 1				 ? 1
	       : free_slots > FTCTL_PARALLEL_DEFAULT_MAX ? FTCTL_PARALLEL_DEFAULT_MAX
							 : free_slots;
}
