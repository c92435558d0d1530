/* ftctl: the command-line client of an ftcluster gateway, on its JSON API
 * (docs/openapi.yaml).  One module per command:
 *
 *   ftctl.c    main: global options, the command's dispatch, "help"
 *   submit.c   POST /v1/runs for each file, -P at a time; results as they come
 *   runs.c     get, wait, cancel: GET and DELETE /v1/runs/ID
 *   status.c   GET /v1/cluster as a table
 *   watch.c    status, refreshed
 *   logs.c     a node's heartbeat log, through the URLs /v1/cluster lists
 *   keygen.c   a new cluster key file (paths.key_file)
 *
 * over pure helpers (args.c, usage.c, fields.c, output.c, payload.c,
 * lines.c, sched.c, unit-tested by check_ftctl), libcurl (http.c) and the clock
 * (clock.c). */
#ifndef FTCTL_H
#define FTCTL_H

#define FTCTL_DEFAULT_GATEWAY "http://127.0.0.1:8888"

enum { EXIT_OK = 0, EXIT_FAILED_RUN = 1, EXIT_ERROR = 2, EXIT_USAGE = 64 };

/* Each command: argv[0] is its name, getopt is reset; returns the exit
 * status. */
int ftctl_submit(int argc, char **argv);
int ftctl_status(int argc, char **argv);
int ftctl_watch(int argc, char **argv);
int ftctl_logs(int argc, char **argv);
/* get, wait and cancel (argv[0] says which). */
int ftctl_runs(int argc, char **argv);
int ftctl_keygen(int argc, char **argv);

#endif
