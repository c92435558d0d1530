/* ftctl's help texts.  tests/check-docs.sh checks that every option they
 * list is in man/ftctl.1 and the other way round. */
#include "client/usage.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "client/ftctl.h"

const char ftctl_usage_main[] =
	"Usage: ftctl [--gateway URL] [--timeout SEC] COMMAND [OPTIONS] [ARGS]\n"
	"\n"
	"The command-line client of an ftcluster gateway.\n"
	"\n"
	"Commands (ftctl COMMAND --help for each):\n"
	"  submit [OPTIONS] FILE.java...  run each file on the cluster, several at once,\n"
	"                                 and print each result as it arrives (\"-\":\n"
	"                                 the source from standard input)\n"
	"  get [--json] ID...             show runs (as submit --no-wait names them)\n"
	"  wait [--json] ID...            wait until the runs are done, print each result\n"
	"  cancel [--json] ID...          cancel runs that have not finished\n"
	"  status [--json]                the members (role, state, heartbeat age,\n"
	"                                 incarnation), the leader and its epoch\n"
	"  watch [--count N] [--interval SEC]\n"
	"                                 status, refreshed every second\n"
	"  logs NODE [OPTIONS]            a node's heartbeat log (verbose by default)\n"
	"  keygen [--force] FILE          write a new cluster key to FILE (mode 0600)\n"
	"\n"
	"Global options (before the command):\n"
	"  -g, --gateway URL     gateway address (default " FTCTL_DEFAULT_GATEWAY
	", or $FTCTL_GATEWAY)\n"
	"  -t, --timeout SEC     give up on a request after SEC seconds (default 120; 0: never)\n"
	"  -h, --help            show this help\n"
	"  -V, --version         show the version\n"
	"\n"
	"submit options:\n"
	"  -j, --json            one JSON object per result (JSON Lines) on standard output\n"
	"      --stdin FILE      send FILE as the program's standard input\n"
	"  -a, --arg ARG         pass ARG to run(String[] args) (repeatable)\n"
	"  -w, --with FILE.java  compile FILE.java with each program (repeatable)\n"
	"      --time-limit MS   ask for a run time limit of MS milliseconds\n"
	"      --memory-limit MB ask for a memory limit of MB MiB\n"
	"  -P, --parallel N      at most N requests at a time (default: the cluster's free\n"
	"                        worker slots)\n"
	"      --no-wait         print each run's ID and return at once\n"
	"      --expect FILE     judge each answer against FILE: accepted or wrong_answer\n"
	"      --compare HOW     --expect's comparison: trailing_whitespace (default), exact\n"
	"  -q, --quiet           no progress line on standard error\n"
	"      --progress        a progress line even when standard error is not a terminal\n"
	"get, wait, cancel options:\n"
	"  -j, --json            print each run (or error) as one JSON object a line\n"
	"status options:\n"
	"  -j, --json            print the cluster view as JSON\n"
	"watch options:\n"
	"  -n, --count N         stop after N refreshes (default: until interrupted)\n"
	"  -i, --interval SEC    seconds between refreshes (default 1)\n"
	"keygen options:\n"
	"  -f, --force           replace FILE if it exists\n"
	"logs options:\n"
	"  -s, --summary         the summary log instead of the verbose one\n"
	"  -f, --follow          keep printing new lines as they are logged\n"
	"      --tail N          start with the last N lines only\n"
	"  -n, --count N         with --follow: stop after N polls\n"
	"  -i, --interval SEC    with --follow: seconds between polls (default 1)\n"
	"\n"
	"Exit status: 0 success; 1 a run did not succeed (submit, wait), had finished\n"
	"(cancel) or no leader (status); 2 an error (gateway unreachable, bad answer,\n"
	"unreadable file, unknown run); 64 usage error.\n";

const char ftctl_usage_submit[] =
	"Usage: ftctl [GLOBAL OPTIONS] submit [OPTIONS] FILE.java...\n"
	"\n"
	"Run each file on the cluster (POST /v1/runs), several at once, and print each\n"
	"result as it arrives: a line \"== FILE: VERDICT (details)\" and then what run()\n"
	"returned (for a class with only main(String[] args): what it printed), or the\n"
	"error, then what the program wrote to standard output and error, if anything\n"
	"(and not already shown), under \"-- stdout --\" and \"-- stderr --\".  While\n"
	"waiting, a progress line on standard error.  FILE \"-\" is standard input.\n"
	"A request the gateway refuses for now (503 overloaded) is sent again after its\n"
	"Retry-After, within --timeout; every file gets its answer.\n"
	"\n"
	"  -j, --json            one JSON object per result (JSON Lines): the run as the\n"
	"                        API returns it plus \"file\"\n"
	"      --stdin FILE      send FILE (UTF-8 text) as the program's standard input\n"
	"                        (\"-\": ftctl's own, if the source is not read from it)\n"
	"  -a, --arg ARG         pass ARG to the program's run(String[] args) or\n"
	"                        main(String[] args); repeat for more (a class with\n"
	"                        only run() cannot take arguments)\n"
	"  -w, --with FILE.java  another source file compiled together with each FILE\n"
	"                        (helper classes); FILE's public class is the one run;\n"
	"                        repeat for more\n"
	"      --time-limit MS   ask for a run time limit of MS milliseconds (at most the\n"
	"                        cluster's limits.run_wall_ms)\n"
	"      --memory-limit MB ask for a memory limit of MB MiB (64 to the cluster's\n"
	"                        limits.run_memory_bytes)\n"
	"  -P, --parallel N      at most N requests at a time (1 to 1024; fewer while the\n"
	"                        gateway refuses some).  Default: the cluster's free\n"
	"                        worker slots, limits.worker_slots per alive follower\n"
	"                        less the requests in flight (GET /v1/cluster, /v1/limits,\n"
	"                        /v1/recent), 1 to 64; 4 if the gateway does not say\n"
	"      --no-wait         do not wait for the results: print \"ID FILE\" for each\n"
	"                        run (with --json: the run as accepted, plus \"file\");\n"
	"                        ftctl wait ID shows the result\n"
	"      --expect FILE     judge each run against FILE's text (expected_output):\n"
	"                        verdict accepted if its answer matches, else wrong_answer\n"
	"      --compare HOW     how --expect compares: trailing_whitespace (the default:\n"
	"                        blanks at line ends and empty last lines forgiven) or\n"
	"                        exact\n"
	"  -q, --quiet           no progress line\n"
	"      --progress        a progress line even when standard error is not a terminal\n"
	"  -h, --help            show this help\n"
	"\n"
	"Exit status: 0 every run's verdict is ok (or accepted); 1 some verdict is not;\n"
	"2 some file got no result (unreadable, gateway unreachable, refused until\n"
	"--timeout); 64 usage error.  With --no-wait: 0 every file got a run ID, else 2.\n";

const char ftctl_usage_get[] =
	"Usage: ftctl [GLOBAL OPTIONS] get [--json] ID...\n"
	"\n"
	"Show each run (GET /v1/runs/ID): \"== ID: queued\", \"== ID: running (worker N)\"\n"
	"or, once done, its result as submit prints it.\n"
	"\n"
	"  -j, --json            each run as the API gives it, one a line\n"
	"  -h, --help            show this help\n"
	"\n"
	"Exit status: 0 every run was shown; 2 some is unknown (or its record expired)\n"
	"or the gateway did not answer; 64 usage error.\n";

const char ftctl_usage_wait[] =
	"Usage: ftctl [GLOBAL OPTIONS] wait [--json] ID...\n"
	"\n"
	"Wait until each run is done (polling GET /v1/runs/ID, within --timeout) and\n"
	"print its result as submit does, as each finishes.\n"
	"\n"
	"  -j, --json            each result as the API gives it, one a line\n"
	"  -h, --help            show this help\n"
	"\n"
	"Exit status: as submit's: 0 every verdict is ok (or accepted); 1 some is not;\n"
	"2 some run is unknown, or not done within --timeout; 64 usage error.\n";

const char ftctl_usage_cancel[] =
	"Usage: ftctl [GLOBAL OPTIONS] cancel [--json] ID...\n"
	"\n"
	"Cancel each run that has not finished (DELETE /v1/runs/ID): it is answered at\n"
	"once with verdict cancelled and the cluster stops it.  A run that had already\n"
	"finished is left as it is, and said so.\n"
	"\n"
	"  -j, --json            each answer as one JSON object a line\n"
	"  -h, --help            show this help\n"
	"\n"
	"Exit status: 0 every run was cancelled; 1 some had finished already; 2 some is\n"
	"unknown or the gateway did not answer; 64 usage error.\n";

const char ftctl_usage_status[] =
	"Usage: ftctl [GLOBAL OPTIONS] status [--json]\n"
	"\n"
	"Show the cluster (GET /v1/cluster): the leader and its epoch, then one line per\n"
	"member: ID, ROLE, STATE, AGE (since its heartbeat last rose, as the gateway saw\n"
	"it), HEARTBEAT, INCARNATION, RUNNING (requests the leader has assigned to it and\n"
	"not yet answered, from GET /v1/recent) and ADDRESS.  Members known to have\n"
	"failed are listed with state \"failed\".\n"
	"\n"
	"  -j, --json            print the view as JSON instead\n"
	"  -h, --help            show this help\n"
	"\n"
	"Exit status: 0 there is a leader; 1 there is none; 2 error.\n";

const char ftctl_usage_watch[] =
	"Usage: ftctl [GLOBAL OPTIONS] watch [--count N] [--interval SEC]\n"
	"\n"
	"Show the status table and refresh it (on a terminal, in place) until\n"
	"interrupted.\n"
	"\n"
	"  -n, --count N         stop after N refreshes\n"
	"  -i, --interval SEC    seconds between refreshes (default 1; fractions allowed)\n"
	"  -h, --help            show this help\n";

const char ftctl_usage_logs[] =
	"Usage: ftctl [GLOBAL OPTIONS] logs NODE [--summary] [--follow] [--tail N]\n"
	"\n"
	"Print node NODE's heartbeat log: the verbose log (every gossip message received)\n"
	"or, with --summary, the summary log (joins, failures, heartbeat updates).  The\n"
	"URL comes from GET /v1/cluster; for a node not listed there (failed) ftctl asks\n"
	"GET /v1/nodes/NODE/log, which redirects to the node.\n"
	"\n"
	"  -s, --summary         the summary log\n"
	"  -f, --follow          keep polling and print new lines as they are logged\n"
	"      --tail N          start with the last N lines only\n"
	"  -n, --count N         with --follow: stop after N polls\n"
	"  -i, --interval SEC    with --follow: seconds between polls (default 1)\n"
	"  -h, --help            show this help\n";

const char ftctl_usage_keygen[] =
	"Usage: ftctl keygen [--force] FILE\n"
	"\n"
	"Write a new cluster key (32 random bytes) to FILE, readable by its owner only,\n"
	"and print its id.  Every member of a cluster needs the same key\n"
	"(paths.key_file in ftcluster.yaml); a new key rolls in through\n"
	"paths.key_file_next (ftcluster.yaml(5), KEY ROLL).  An existing FILE is kept\n"
	"unless --force.\n"
	"\n"
	"  -f, --force           replace FILE if it exists\n"
	"  -h, --help            show this help\n";

const char *ftctl_usage_of(const char *command)
{
	return strcmp(command, "submit") == 0	? ftctl_usage_submit
	       : strcmp(command, "status") == 0 ? ftctl_usage_status
	       : strcmp(command, "watch") == 0	? ftctl_usage_watch
	       : strcmp(command, "logs") == 0	? ftctl_usage_logs
	       : strcmp(command, "get") == 0	? ftctl_usage_get
	       : strcmp(command, "wait") == 0	? ftctl_usage_wait
	       : strcmp(command, "cancel") == 0 ? ftctl_usage_cancel
	       : strcmp(command, "keygen") == 0 ? ftctl_usage_keygen
						: ftctl_usage_main;
}

int ftctl_json_options(int argc, char **argv, const char *usage, bool *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	*json = false;
	int c;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	return -1;
}

int ftctl_bad_usage(const char *usage, const char *what, const char *arg)
{
	fprintf(stderr, "ftctl: %s%s\n%s", what, arg, usage);
	return EXIT_USAGE;
}
