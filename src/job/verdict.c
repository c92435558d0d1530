/* Verdict names and what they mean to the plain API (job/verdict.h). */
#include "job/verdict.h"

#include <string.h>

static const char *const names[FT_VERDICT_N] = {
	[FT_VERDICT_OK] = "ok",
	[FT_VERDICT_COMPILE_ERROR] = "compile_error",
	[FT_VERDICT_RUNTIME_ERROR] = "runtime_error",
	[FT_VERDICT_TIME_LIMIT] = "time_limit",
	[FT_VERDICT_MEMORY_LIMIT] = "memory_limit",
	[FT_VERDICT_OUTPUT_LIMIT] = "output_limit",
	[FT_VERDICT_NONZERO_EXIT] = "nonzero_exit",
	[FT_VERDICT_CANCELLED] = "cancelled",
	[FT_VERDICT_ACCEPTED] = "accepted",
	[FT_VERDICT_WRONG_ANSWER] = "wrong_answer",
	[FT_VERDICT_INTERNAL_ERROR] = "internal_error",
	[FT_VERDICT_UNAVAILABLE] = "unavailable",
	[FT_VERDICT_TIMEOUT] = "timeout",
	[FT_VERDICT_OVERLOADED] = "overloaded",
	[FT_VERDICT_UNKNOWN] = "unknown",
};

const char *ft_verdict_name(enum ft_verdict v)
{
	if ((unsigned)v >= FT_VERDICT_N)
		return names[FT_VERDICT_UNKNOWN];
	return names[v];
}

enum ft_verdict ft_verdict_from_name(const char *name)
{
	for (int i = 0; name && i < FT_VERDICT_N; i++)
		if (strcmp(names[i], name) == 0)
			return (enum ft_verdict)i;
	return FT_VERDICT_UNKNOWN;
}

unsigned ft_verdict_http_status(enum ft_verdict v)
{
	switch (v) {
	case FT_VERDICT_OK:
	case FT_VERDICT_ACCEPTED:
		return 200;
	case FT_VERDICT_INTERNAL_ERROR:
		return 500;
	case FT_VERDICT_UNAVAILABLE:
	case FT_VERDICT_TIMEOUT:
	case FT_VERDICT_OVERLOADED:
		return 503;
	default:
		return 400;
	}
}

bool ft_verdict_cacheable(enum ft_verdict v)
{
	return v == FT_VERDICT_OK || v == FT_VERDICT_COMPILE_ERROR;
}

static bool starts(const char *body, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && memcmp(body, prefix, n) == 0;
}

enum ft_verdict ft_verdict_of_answer(unsigned status, const char *body, size_t len)
{
	static const struct {
		const char *head;
		enum ft_verdict v;
	} heads[] = {
		{ FT_COMPILE_ERROR_HEAD, FT_VERDICT_COMPILE_ERROR },
		{ FT_NO_CLASS_NAME, FT_VERDICT_COMPILE_ERROR },
		{ "Exception thrown by", FT_VERDICT_RUNTIME_ERROR },
		{ "Program exited with", FT_VERDICT_RUNTIME_ERROR },
		{ "Program was killed by", FT_VERDICT_RUNTIME_ERROR },
		{ "Time limit exceeded", FT_VERDICT_TIME_LIMIT },
		{ "Output limit exceeded", FT_VERDICT_OUTPUT_LIMIT },
		{ "Memory limit exceeded", FT_VERDICT_MEMORY_LIMIT },
	};
	if (!body)
		len = 0;
	switch (status) {
	case 200:
		return FT_VERDICT_OK;
	case 500:
		return FT_VERDICT_INTERNAL_ERROR;
	case 503:
		return FT_VERDICT_TIMEOUT;
	case 400:
		for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
			if (starts(body, len, heads[i].head))
				return heads[i].v;
		return FT_VERDICT_UNKNOWN;
	default:
		return FT_VERDICT_UNKNOWN;
	}
}
