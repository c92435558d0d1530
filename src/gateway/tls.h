/* The gateway's HTTPS credentials (gateway.tls_cert_file, tls_key_file),
 * read once at start for lib/httpd.h: the certificate (with its chain)
 * and the private key, as PEM text.  A key file that others (not its
 * owner, not its group: Debian's ssl-cert group reads keys) can read is
 * refused, and so is anything that is not PEM. */
#ifndef FT_GATEWAY_TLS_H
#define FT_GATEWAY_TLS_H

#include <stddef.h>

#include "conf/config.h"

/* PEM files are at most this large. */
#define GW_TLS_FILE_MAX (1024 * 1024)

struct gw_tls {
	char *cert, *key; /* NUL-terminated PEM; NULL: plain HTTP */
};

/* Reads the files conf names (nothing when it names none).  -1 with the
 * reason in err when one cannot be used. */
int gw_tls_read(const struct ft_gw_access_conf *conf, struct gw_tls *out, char *err, size_t errlen);

/* Erases the key from memory and frees both. */
void gw_tls_clear(struct gw_tls *t);

#endif
