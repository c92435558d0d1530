#include "client/args.h"

#include <stdlib.h>

bool ftctl_parse_long(const char *s, long min, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < min)
		return false;
	*out = v;
	return true;
}

bool ftctl_parse_seconds(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (!*s || *end || !(v > 0) || v > 86400)
		return false;
	*out = v;
	return true;
}
