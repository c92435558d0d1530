#include "gateway/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/util.h"

/* The whole of path, NUL-terminated; NULL with the reason in err. */
static char *read_pem(const char *label, const char *path, bool secret, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "%s %s: %s", label, path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > GW_TLS_FILE_MAX) {
		snprintf(err, errlen, "%s %s: not a regular file of at most %d bytes", label, path,
			 GW_TLS_FILE_MAX);
		close(fd);
		return NULL;
	}
	if (secret && (st.st_mode & 0007)) {
		snprintf(err, errlen, "%s %s can be read by others (mode %03o): chmod o-rwx it",
			 label, path, (unsigned)(st.st_mode & 0777));
		close(fd);
		return NULL;
	}
	size_t cap = (size_t)st.st_size, len = 0;
	char *buf = ft_xmalloc(cap + 1);
	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (!strstr(buf, "-----BEGIN ")) {
		snprintf(err, errlen, "%s %s: not PEM (no -----BEGIN line)", label, path);
		sodium_memzero(buf, len);
		free(buf);
		return NULL;
	}
	return buf;
}

int gw_tls_read(const struct ft_gw_access_conf *conf, struct gw_tls *out, char *err, size_t errlen)
{
	*out = (struct gw_tls){ 0 };
	if (!conf->tls_cert_file[0])
		return 0;
	out->cert = read_pem("gateway.tls_cert_file", conf->tls_cert_file, false, err, errlen);
	if (out->cert)
		out->key = read_pem("gateway.tls_key_file", conf->tls_key_file, true, err, errlen);
	if (!out->key) {
		gw_tls_clear(out);
		return -1;
	}
	return 0;
}

void gw_tls_clear(struct gw_tls *t)
{
	if (t->key)
		sodium_memzero(t->key, strlen(t->key));
	free(t->key);
	free(t->cert);
	*t = (struct gw_tls){ 0 };
}
