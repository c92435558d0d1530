/* libFuzzer harness for the warm compiler's answers (runner/warmproto.c):
 * the compiler is ours, but it compiles untrusted sources, so the runner
 * believes nothing of an answer it has not checked.
 *
 * Arbitrary bytes are parsed as what the compiler wrote.  Invariants,
 * checked with abort() so that libFuzzer reports them: the result is one
 * of the five; an answer uses no byte it was not given, and only decided
 * answers use any; classes and compile errors come with what they hold,
 * nothing else does; a class list is within the bounds, every name
 * non-empty, short enough and free of NUL; a compile error starts with the
 * contract's head; encoding what was parsed gives back exactly the bytes
 * used; the same answer cut shorter is incomplete, and incomplete bytes
 * cut shorter stay incomplete (so a reader waiting for more never misses a
 * decision); the request for files made of the input decodes back to
 * them.  ASan's leak check sees anything parse leaves behind. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bytes.h"
#include "lib/util.h"
#include "runner/javawire.h"
#include "runner/warmproto.h"

#include "require.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put32(struct ft_buf *b, uint32_t v)
{
	char p[4];
	ft_put_be32(p, v);
	ft_buf_append(b, p, 4);
}

/* The bytes the compiler would have written for what was parsed. */
static void encode_answer(const struct ft_compiled *cc, struct ft_buf *b)
{
	if (!cc->ok) {
		ft_buf_append(b, (char[]){ FT_WIRE_COMPILER_ERRORS }, 1);
		put32(b, (uint32_t)cc->body_len);
		ft_buf_append(b, cc->body, cc->body_len);
		return;
	}
	ft_buf_append(b, (char[]){ FT_WIRE_COMPILER_CLASSES }, 1);
	put32(b, (uint32_t)cc->n);
	for (size_t i = 0; i < cc->n; i++) {
		size_t nl = strlen(cc->cls[i].name);
		put32(b, (uint32_t)nl);
		ft_buf_append(b, cc->cls[i].name, nl);
		put32(b, (uint32_t)cc->cls[i].len);
		ft_buf_append(b, cc->cls[i].data, cc->cls[i].len);
	}
}

static void check_compiled(const struct ft_compiled *cc, enum ft_warm_answer a)
{
	static const char head[] = FT_WIRE_COMPILE_ERROR_HEAD;
	require(cc->refs == 1);
	if (a == FT_WARM_COMPILE_ERROR) {
		require(!cc->ok && cc->n == 0 && cc->body != NULL);
		require(cc->body_len >= sizeof(head) - 1);
		require(memcmp(cc->body, head, sizeof(head) - 1) == 0);
		require(cc->body[cc->body_len] == '\0');
		require(cc->bytes == cc->body_len);
		return;
	}
	require(cc->ok && cc->body == NULL && cc->n <= FT_WARMPROTO_MAX_CLASSES);
	size_t bytes = 0;
	for (size_t i = 0; i < cc->n; i++) {
		size_t nl = strlen(cc->cls[i].name);
		require(nl > 0 && nl <= FT_CLASS_NAME_MAX);
		require(cc->cls[i].data != NULL);
		bytes += nl + cc->cls[i].len;
	}
	require(cc->bytes == bytes);
}

/* Parses data[0..n) and checks what any result must satisfy. */
static enum ft_warm_answer parse_checked(const uint8_t *data, size_t n, size_t *used)
{
	struct ft_compiled *cc;
	enum ft_warm_answer a = ft_warmproto_parse(data, n, &cc, used);
	require(a >= FT_WARM_MALFORMED && a <= FT_WARM_OUT_OF_MEMORY);
	require(*used <= n);
	require((*used > 0) == (a > FT_WARM_NEED_MORE));
	require((cc != NULL) == (a == FT_WARM_CLASSES || a == FT_WARM_COMPILE_ERROR));
	if (a == FT_WARM_OUT_OF_MEMORY)
		require(*used == 1 && data[0] == FT_WIRE_COMPILER_OUT_OF_MEMORY);
	if (cc) {
		check_compiled(cc, a);
		struct ft_buf again = { 0 };
		encode_answer(cc, &again);
		require(again.len == *used && memcmp(again.data, data, *used) == 0);
		ft_buf_free(&again);
	}
	ft_compiled_unref(cc);
	return a;
}

static void check_answer(const uint8_t *data, size_t size)
{
	size_t used, u;
	enum ft_warm_answer a = parse_checked(data, size, &used);
	if (a > FT_WARM_NEED_MORE) {
		/* Decided by exactly the bytes used. */
		require(parse_checked(data, used, &u) == a && u == used);
		require(parse_checked(data, used - 1, &u) == FT_WARM_NEED_MORE);
		require(parse_checked(data, used / 2, &u) == FT_WARM_NEED_MORE);
	} else if (size > 0) {
		/* Shorter never decides what longer did not. */
		enum ft_warm_answer b = parse_checked(data, size - 1, &u);
		require(b == FT_WARM_NEED_MORE || (a == FT_WARM_MALFORMED && b == a));
		b = parse_checked(data, size / 2, &u);
		require(b == FT_WARM_NEED_MORE || (a == FT_WARM_MALFORMED && b == a));
	}
}

/* Files cut out of the input (names and sources of any bytes but NUL in a
 * name) encode to a request that decodes back to them. */
static void check_request(const uint8_t *data, size_t size)
{
	struct ft_job_file files[4];
	char names[4][16];
	size_t n = size % 5, chunk = n ? size / n : 0;
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "F%zu.java", i);
		files[i] = (struct ft_job_file){ .name = names[i],
						 .src = (const char *)data + i * chunk,
						 .len = chunk };
	}
	size_t len;
	char *req = ft_warmproto_request(files, n, &len);
	require(req != NULL && len >= 4);
	require(ft_get_be32(req) == n);
	size_t off = 4;
	for (size_t i = 0; i < n; i++) {
		size_t nl = strlen(names[i]);
		require(off + 4 + nl + 4 <= len);
		require(ft_get_be32(req + off) == nl);
		require(memcmp(req + off + 4, names[i], nl) == 0);
		off += 4 + nl;
		require(ft_get_be32(req + off) == chunk);
		off += 4;
		require(off + chunk <= len && memcmp(req + off, files[i].src, chunk) == 0);
		off += chunk;
	}
	require(off == len);
	free(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_answer(data, size);
	check_request(data, size);
	return 0;
}
