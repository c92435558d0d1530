/* Finding the class to run in a Java source, without a Java parser:
 * comments, string and character literals are skipped, then the first
 * top-level `public [modifiers] class Name` and the `package a.b;` line are
 * taken.  Pure logic, unit-tested. */
#ifndef FT_JAVASRC_H
#define FT_JAVASRC_H

#include <stddef.h>

/* Writes the fully qualified class name ("pkg.sub.Name" or "Name") into out.
 * Returns 0, or -1 if no public class is found (the contract's
 * "No class name found in code") or the name does not fit. Also returns the
 * simple name (for the file name Name.java) in simple. */
int ft_java_class_name(const char *src, size_t len, char *out, size_t outlen, char *simple,
		       size_t simplelen);

#endif
