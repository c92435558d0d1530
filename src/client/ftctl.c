/* ftctl's main: the global options, then one command (see ftctl.h). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/args.h"
#include "client/ftctl.h"
#include "client/http.h"
#include "client/usage.h"

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "gateway", required_argument, NULL, 'g' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *gateway = FTCTL_DEFAULT_GATEWAY;
	if (getenv("FTCTL_GATEWAY") && *getenv("FTCTL_GATEWAY"))
		gateway = getenv("FTCTL_GATEWAY");
	int o;
	while ((o = getopt_long(argc, argv, "+g:t:hV", opts, NULL)) != -1) {
		switch (o) {
		case 'g':
			gateway = optarg;
			break;
		case 't':
			if (!ftctl_parse_long(optarg, 0, &ftctl_timeout_s))
				return ftctl_bad_usage(
					ftctl_usage_main,
					"--timeout: not a number of seconds: ", optarg);
			break;
		case 'h':
			fputs(ftctl_usage_main, stdout);
			return EXIT_OK;
		case 'V':
			printf("ftctl %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		default:
			fputs(ftctl_usage_main, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(ftctl_usage_main, stderr);
		return EXIT_USAGE;
	}
	/* A trailing slash would make "//v1/..." paths. */
	static char gw_buf[1024];
	snprintf(gw_buf, sizeof(gw_buf), "%s", gateway);
	size_t gl = strlen(gw_buf);
	while (gl > 0 && gw_buf[gl - 1] == '/')
		gw_buf[--gl] = '\0';
	ftctl_gateway = gw_buf;

	const char *cmd = argv[optind];
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	optind = 0; /* reinitialise getopt for the command's own options */
	ftctl_http_init();
	int rc;
	if (strcmp(cmd, "submit") == 0)
		rc = ftctl_submit(sub_argc, sub_argv);
	else if (strcmp(cmd, "status") == 0)
		rc = ftctl_status(sub_argc, sub_argv);
	else if (strcmp(cmd, "watch") == 0)
		rc = ftctl_watch(sub_argc, sub_argv);
	else if (strcmp(cmd, "logs") == 0)
		rc = ftctl_logs(sub_argc, sub_argv);
	else if (strcmp(cmd, "get") == 0 || strcmp(cmd, "wait") == 0 || strcmp(cmd, "cancel") == 0)
		rc = ftctl_runs(sub_argc, sub_argv);
	else if (strcmp(cmd, "keygen") == 0)
		rc = ftctl_keygen(sub_argc, sub_argv);
	else if (strcmp(cmd, "help") == 0) {
		fputs(ftctl_usage_of(sub_argc > 1 ? sub_argv[1] : ""), stdout);
		rc = EXIT_OK;
	} else {
		fprintf(stderr, "ftctl: unknown command: %s\n", cmd);
		fputs(ftctl_usage_main, stderr);
		rc = EXIT_USAGE;
	}
	ftctl_http_cleanup();
	return rc;
}
