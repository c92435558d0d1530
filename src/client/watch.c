/* ftctl watch: the status table, refreshed (on a terminal, in place). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "client/args.h"
#include "client/clock.h"
#include "client/ftctl.h"
#include "client/http.h"
#include "client/status.h"
#include "client/usage.h"

static int watch(long count, double interval)
{
	bool tty = isatty(STDOUT_FILENO);
	ftctl_catch_interrupts();
	for (long i = 0; !ftctl_interrupted && (count <= 0 || i < count); i++) {
		if (i > 0)
			ftctl_sleep_s(interval);
		if (ftctl_interrupted)
			break;
		time_t t = time(NULL);
		char when[32];
		strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
		if (tty)
			printf("\033[H\033[2J");
		else if (i > 0)
			printf("\n");
		printf("ftctl watch: %s every %gs, %s\n", ftctl_gateway, interval, when);
		struct json_object *view = ftctl_get_cluster();
		if (view) {
			ftctl_show_status(view);
			json_object_put(view);
		} else {
			printf("(no answer from the gateway)\n");
		}
		fflush(stdout);
	}
	return EXIT_OK;
}

int ftctl_watch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	long count = 0;
	double interval = 1;
	int c;
	while ((c = getopt_long(argc, argv, "n:i:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!ftctl_parse_long(optarg, 1, &count))
				return ftctl_bad_usage(ftctl_usage_watch,
						       "--count: not a positive number: ", optarg);
			break;
		case 'i':
			if (!ftctl_parse_seconds(optarg, &interval))
				return ftctl_bad_usage(
					ftctl_usage_watch,
					"--interval: not a number of seconds: ", optarg);
			break;
		case 'h':
			fputs(ftctl_usage_watch, stdout);
			return EXIT_OK;
		default:
			fputs(ftctl_usage_watch, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return ftctl_bad_usage(ftctl_usage_watch, "watch: unexpected argument ",
				       argv[optind]);
	return watch(count, interval);
}
