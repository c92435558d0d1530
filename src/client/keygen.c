/* ftctl keygen: a new cluster key (paths.key_file), made where it will be
 * kept, readable by its owner only. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/ftctl.h"
#include "client/usage.h"
#include "lib/keyring.h"

int ftctl_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool force = false;
	int o;
	while ((o = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (o) {
		case 'f':
			force = true;
			break;
		case 'h':
			fputs(ftctl_usage_keygen, stdout);
			return EXIT_OK;
		default:
			fputs(ftctl_usage_keygen, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(ftctl_usage_keygen, stderr);
		return EXIT_USAGE;
	}
	const char *path = argv[optind];
	if (sodium_init() < 0) {
		fprintf(stderr, "ftctl: libsodium cannot start\n");
		return EXIT_ERROR;
	}
	/* Never replace a key by accident: a cluster whose members hold
	 * different keys stops talking. */
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (force ? O_TRUNC : O_EXCL);
	int fd = open(path, flags, 0600);
	if (fd < 0) {
		fprintf(stderr, "ftctl: %s: %s%s\n", path, strerror(errno),
			errno == EEXIST ? " (--force replaces it)" : "");
		return EXIT_ERROR;
	}
	/* An existing file kept its mode: make it the owner's only. */
	struct ft_cluster_key k;
	ft_key_generate(k.bytes);
	ft_key_set_id(&k);
	bool ok = fchmod(fd, 0600) == 0 && write(fd, k.bytes, sizeof(k.bytes)) == sizeof(k.bytes);
	int e = errno;
	ok = close(fd) == 0 && ok;
	if (!ok) {
		fprintf(stderr, "ftctl: %s: %s\n", path, strerror(e));
		sodium_memzero(&k, sizeof(k));
		return EXIT_ERROR;
	}
	char id[2 * FT_KEY_ID_BYTES + 1];
	ft_key_id_hex(&k, id);
	sodium_memzero(&k, sizeof(k));
	printf("%s: a new cluster key, id %s\n", path, id);
	return EXIT_OK;
}
