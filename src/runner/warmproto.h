/* The warm compiler's protocol (ft.Compiler --server, java/ft/Compiler.java):
 * pure encoding and decoding, no I/O.  Unit-tested
 * (tests/unit/check_warmproto.c) and fuzzed (tests/fuzz/fuzz_warmproto.c).
 *
 * All integers are u32, big-endian.
 * Request (stdin): the file count, then per file the name's length, the
 * name, the text's length, the text.  The first file is the main one.
 * Answer (stdout), one per request, tags from javawire.h:
 *   FT_WIRE_COMPILER_CLASSES: the class count, then per class the binary
 *     name's length, the name, the class file's length, its bytes;
 *   FT_WIRE_COMPILER_ERRORS: the body's length, the body (the contract's
 *     compile error, starting with FT_WIRE_COMPILE_ERROR_HEAD);
 *   FT_WIRE_COMPILER_OUT_OF_MEMORY alone (the JVM then exits).
 * The compiler is ours, but it reads untrusted sources: an answer is
 * checked (class count, name lengths, no NUL in a name, the error head)
 * before anything of it is believed. */
#ifndef FT_WARMPROTO_H
#define FT_WARMPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "job/jobspec.h"
#include "runner/compiled.h"

/* Most classes one answer may carry. */
#define FT_WARMPROTO_MAX_CLASSES 65536

/* The request for files[0..n) (every name set), malloc'd, *len bytes;
 * NULL with errno EOVERFLOW if a count or length does not fit in a u32. */
char *ft_warmproto_request(const struct ft_job_file *files, size_t n, size_t *len);

enum ft_warm_answer {
	FT_WARM_MALFORMED = -1,
	FT_WARM_NEED_MORE = 0, /* not all of it is there yet */
	FT_WARM_CLASSES,       /* *ccp: the classes */
	FT_WARM_COMPILE_ERROR, /* *ccp: the compile error */
	FT_WARM_OUT_OF_MEMORY,
};

/* The answer at the start of b[0..n).  With classes or a compile error
 * *ccp gets a new reference (else NULL).  *used: the answer's length once
 * one is complete (bytes after it are not looked at), else 0.  Decided
 * answers stay decided: more bytes after b[n) never change the result. */
enum ft_warm_answer ft_warmproto_parse(const unsigned char *b, size_t n, struct ft_compiled **ccp,
				       size_t *used);

#endif
