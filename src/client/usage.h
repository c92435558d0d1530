/* ftctl's --help texts, and what a usage error prints. */
#ifndef FTCTL_USAGE_H
#define FTCTL_USAGE_H

extern const char ftctl_usage_main[];
extern const char ftctl_usage_submit[];
extern const char ftctl_usage_status[];
extern const char ftctl_usage_watch[];
extern const char ftctl_usage_logs[];
extern const char ftctl_usage_get[];
extern const char ftctl_usage_wait[];
extern const char ftctl_usage_cancel[];
extern const char ftctl_usage_keygen[];

/* "ftctl help COMMAND": the command's text, the main one for any other. */
const char *ftctl_usage_of(const char *command);

/* "ftctl: <what><arg>" and the usage on stderr; returns EXIT_USAGE. */
int ftctl_bad_usage(const char *usage, const char *what, const char *arg);

#include <stdbool.h>
/* The options of a command that has only --json and --help: -1 to go on
 * (*json set, optind at the first argument), else the exit status (help
 * printed, or a usage error). */
int ftctl_json_options(int argc, char **argv, const char *usage, bool *json);

#endif
