/* Reading a secret from a file: a key, a password, a token list.
 *
 * One reader for every secret ftcluster keeps in a file, so that each is
 * refused the same way when others can read it, and every message names
 * the setting and the file. */
#ifndef FT_SECRETFILE_H
#define FT_SECRETFILE_H

#include <stdbool.h>
#include <stddef.h>

/* Reads the whole of path into buf (at most cap bytes; a longer file is
 * an error), sets *len.  label is the setting that named the file, for
 * messages ("paths.key_file").  A file that group or others may read or
 * write is refused when strict.  Returns 0; 1 if the file was read but is
 * exposed so (not strict; the warning is in err, for the caller to log);
 * or -1 with "label path: why" in err, buf then wiped. */
int ft_secret_file_read(const char *label, const char *path, bool strict, unsigned char *buf,
			size_t cap, size_t *len, char *err, size_t errlen);

/* The length of buf[0..len) without its trailing CR and LF bytes: secrets
 * written with echo. */
size_t ft_secret_trim_newlines(const unsigned char *buf, size_t len);

/* A "user:password" credential (ZooKeeper's digest scheme): the first line
 * of path, read as ft_secret_file_read does (strict).  out gets it with a
 * NUL; 0, or -1 with "label path: why" in err and out wiped. */
int ft_secret_credential_read(const char *label, const char *path, char *out, size_t cap, char *err,
			      size_t errlen);

#endif
