#include "lib/secretfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/util.h"

int ft_secret_file_read(const char *label, const char *path, bool strict, unsigned char *buf,
			size_t cap, size_t *len, char *err, size_t errlen)
{
	*len = 0;
	if (!path || !*path) {
		ft_set_err(err, errlen, "%s is not set", label);
		return -1;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ft_set_err(err, errlen, "%s %s: %s", label, path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ft_set_err(err, errlen, "%s %s: not a regular file", label, path);
		close(fd);
		return -1;
	}
	bool exposed = (st.st_mode & 0077) != 0;
	if (exposed) {
		ft_set_err(err, errlen,
			   "%s %s can be read or written by others (mode %03o): chmod 600 it",
			   label, path, (unsigned)(st.st_mode & 0777));
		if (strict) {
			close(fd);
			return -1;
		}
	}
	size_t n = 0;
	for (;;) {
		/* One byte past cap tells a file that is too long. */
		unsigned char extra;
		unsigned char *dst = n < cap ? buf + n : &extra;
		size_t room = n < cap ? cap - n : 1;
		ssize_t r = read(fd, dst, room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ft_set_err(err, errlen, "%s %s: %s", label, path, strerror(errno));
			break;
		}
		if (r == 0) {
			close(fd);
			*len = n;
			return exposed ? 1 : 0;
		}
		if (dst == &extra) {
			sodium_memzero(&extra, 1);
			ft_set_err(err, errlen, "%s %s: longer than %zu bytes", label, path, cap);
			break;
		}
		n += (size_t)r;
	}
	close(fd);
	sodium_memzero(buf, cap);
	return -1;
}

size_t ft_secret_trim_newlines(const unsigned char *buf, size_t len)
{
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	return len;
}

int ft_secret_credential_read(const char *label, const char *path, char *out, size_t cap, char *err,
			      size_t errlen)
{
	size_t n = 0;
	if (cap < 2 || ft_secret_file_read(label, path, true, (unsigned char *)out, cap - 1, &n,
					   err, errlen) < 0)
		return -1;
	/* One line: what follows a newline is not part of the credential. */
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	const char *colon = strchr(out, ':');
	if (!colon || colon == out || !colon[1]) {
		ft_set_err(err, errlen, "%s %s: want one line user:password", label, path);
		sodium_memzero(out, cap);
		return -1;
	}
	return 0;
}
