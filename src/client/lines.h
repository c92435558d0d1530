/* "logs --follow" polls a node's whole log (its tail) again and again;
 * these find which lines of a new copy were not printed yet (pure). */
#ifndef FTCTL_LINES_H
#define FTCTL_LINES_H

#include <stddef.h>

struct ftctl_lines {
	char **v;
	size_t n;
};

/* How many of the last lines printed are kept to find the place again. */
#define FTCTL_KEEP_LINES 8

/* Appends text's lines (without their newlines) to out. */
void ftctl_lines_split(const char *text, struct ftctl_lines *out);
void ftctl_lines_free(struct ftctl_lines *l);

/* Where new lines start in now: just after the last occurrence of the
 * lines printed last (seen); 0 if they are not there (the log was rotated,
 * or more than a poll's worth was written). */
size_t ftctl_lines_resume_at(const struct ftctl_lines *now, const struct ftctl_lines *seen);
/* seen := the last FTCTL_KEEP_LINES lines of now. */
void ftctl_lines_remember(struct ftctl_lines *seen, const struct ftctl_lines *now);

#endif
