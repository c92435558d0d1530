/* Parsing ftctl's option values (pure). */
#ifndef FTCTL_ARGS_H
#define FTCTL_ARGS_H

#include <stdbool.h>

/* A whole decimal number >= min into *out; false (and *out untouched) if s
 * is empty, has anything else, or is below min. */
bool ftctl_parse_long(const char *s, long min, long *out);
/* A number of seconds, fractions allowed, in (0, 86400]; false otherwise. */
bool ftctl_parse_seconds(const char *s, double *out);

#endif
