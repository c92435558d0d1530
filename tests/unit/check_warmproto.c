/* The warm compiler's protocol (runner/warmproto.c): requests as
 * ft.Compiler --server reads them, and the incremental parse of its
 * answers, which must never believe a malformed one. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bytes.h"
#include "lib/util.h"
#include "runner/javawire.h"
#include "runner/warmproto.h"

static void put32(struct ft_buf *b, uint32_t v)
{
	char p[4];
	ft_put_be32(p, v);
	ft_buf_append(b, p, 4);
}

static void put_bytes(struct ft_buf *b, const void *p, size_t n)
{
	put32(b, (uint32_t)n);
	ft_buf_append(b, p, n);
}

/* An answer with classes: names[i] -> data[i] (strings). */
static void classes_answer(struct ft_buf *b, const char *const *names, const char *const *data,
			   size_t n)
{
	ft_buf_append(b, (char[]){ FT_WIRE_COMPILER_CLASSES }, 1);
	put32(b, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		put_bytes(b, names[i], strlen(names[i]));
		put_bytes(b, data[i], strlen(data[i]));
	}
}

static void error_answer(struct ft_buf *b, const char *body)
{
	ft_buf_append(b, (char[]){ FT_WIRE_COMPILER_ERRORS }, 1);
	put_bytes(b, body, strlen(body));
}

static enum ft_warm_answer parse(const struct ft_buf *b, size_t n, struct ft_compiled **cc,
				 size_t *used)
{
	return ft_warmproto_parse((const unsigned char *)b->data, n, cc, used);
}

/* Every proper prefix of b is incomplete, and b itself gives want. */
static struct ft_compiled *parse_whole(const struct ft_buf *b, enum ft_warm_answer want)
{
	struct ft_compiled *cc;
	size_t used;
	for (size_t k = 0; k < b->len; k++) {
		ck_assert_int_eq(parse(b, k, &cc, &used), FT_WARM_NEED_MORE);
		ck_assert_ptr_null(cc);
		ck_assert_uint_eq(used, 0);
	}
	ck_assert_int_eq(parse(b, b->len, &cc, &used), want);
	if (want > FT_WARM_NEED_MORE)
		ck_assert_uint_eq(used, b->len);
	return cc;
}

/* ---- requests ---- */

START_TEST(request_layout)
{
	struct ft_job_file files[] = {
		{ .name = "Main.java", .src = "class Main {}", .len = 13 },
		{ .name = "U.java", .src = "", .len = 0 },
	};
	size_t len;
	char *req = ft_warmproto_request(files, 2, &len);
	ck_assert_ptr_nonnull(req);
	static const char want[] = "\0\0\0\2"
				   "\0\0\0\x09Main.java\0\0\0\x0d"
				   "class Main {}"
				   "\0\0\0\x06U.java\0\0\0\0";
	ck_assert_uint_eq(len, sizeof(want) - 1);
	ck_assert_mem_eq(req, want, len);
	free(req);
}
END_TEST

START_TEST(request_with_nul_in_source)
{
	struct ft_job_file f = { .name = "A.java", .src = "a\0b", .len = 3 };
	size_t len;
	char *req = ft_warmproto_request(&f, 1, &len);
	ck_assert_uint_eq(len, 4 + 4 + 6 + 4 + 3);
	ck_assert_uint_eq(ft_get_be32(req + 14), 3);
	ck_assert_mem_eq(req + 18, "a\0b", 3);
	free(req);
}
END_TEST

START_TEST(request_too_big_for_u32)
{
	struct ft_job_file f = { .name = "A.java", .src = "x", .len = (size_t)UINT32_MAX + 1 };
	size_t len = 7;
	errno = 0;
	ck_assert_ptr_null(ft_warmproto_request(&f, 1, &len));
	ck_assert_int_eq(errno, EOVERFLOW);
	ck_assert_uint_eq(len, 7);
	errno = 0;
	ck_assert_ptr_null(ft_warmproto_request(&f, (size_t)UINT32_MAX + 1, &len));
	ck_assert_int_eq(errno, EOVERFLOW);
}
END_TEST

/* ---- good answers ---- */

START_TEST(classes_byte_by_byte)
{
	static const char *const names[] = { "p.Main", "p.Main$Inner", "Q" };
	static const char *const data[] = { "\xca\xfe\xba\xbe", "", "xyz" };
	struct ft_buf b = { 0 };
	classes_answer(&b, names, data, 3);
	struct ft_compiled *cc = parse_whole(&b, FT_WARM_CLASSES);
	ck_assert_ptr_nonnull(cc);
	ck_assert(cc->ok);
	ck_assert_int_eq(cc->refs, 1);
	ck_assert_uint_eq(cc->n, 3);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_str_eq(cc->cls[i].name, names[i]);
		ck_assert_uint_eq(cc->cls[i].len, strlen(data[i]));
		ck_assert_mem_eq(cc->cls[i].data, data[i], cc->cls[i].len);
	}
	/* What it holds: names and class bytes. */
	ck_assert_uint_eq(cc->bytes, 6 + 4 + 12 + 0 + 1 + 3);
	ft_compiled_unref(cc);
	ft_buf_free(&b);
}
END_TEST

START_TEST(no_classes)
{
	struct ft_buf b = { 0 };
	classes_answer(&b, NULL, NULL, 0);
	ck_assert_uint_eq(b.len, 5);
	struct ft_compiled *cc = parse_whole(&b, FT_WARM_CLASSES);
	ck_assert(cc->ok);
	ck_assert_uint_eq(cc->n, 0);
	ck_assert_uint_eq(cc->bytes, 0);
	ft_compiled_unref(cc);
	ft_buf_free(&b);
}
END_TEST

START_TEST(compile_error_byte_by_byte)
{
	static const char body[] = FT_WIRE_COMPILE_ERROR_HEAD "\nError on line 1, column 2";
	struct ft_buf b = { 0 };
	error_answer(&b, body);
	struct ft_compiled *cc = parse_whole(&b, FT_WARM_COMPILE_ERROR);
	ck_assert(!cc->ok);
	ck_assert_uint_eq(cc->body_len, strlen(body));
	ck_assert_str_eq(cc->body, body);
	ck_assert_uint_eq(cc->bytes, strlen(body));
	ck_assert_uint_eq(cc->n, 0);
	ft_compiled_unref(cc);

	/* Exactly the head is still the contract's text. */
	b.len = 0;
	error_answer(&b, FT_WIRE_COMPILE_ERROR_HEAD);
	cc = parse_whole(&b, FT_WARM_COMPILE_ERROR);
	ck_assert_str_eq(cc->body, FT_WIRE_COMPILE_ERROR_HEAD);
	ft_compiled_unref(cc);
	ft_buf_free(&b);
}
END_TEST

START_TEST(out_of_memory)
{
	struct ft_buf b = { 0 };
	ft_buf_append(&b, (char[]){ FT_WIRE_COMPILER_OUT_OF_MEMORY }, 1);
	struct ft_compiled *cc = parse_whole(&b, FT_WARM_OUT_OF_MEMORY);
	ck_assert_ptr_null(cc);
	ft_buf_free(&b);
}
END_TEST

/* An answer split at every offset, the rest arriving later, with the
 * start of the next answer already behind it: only the first counts. */
START_TEST(split_at_every_offset)
{
	static const char *const names[] = { "a.B" };
	static const char *const data[] = { "0123456789" };
	struct ft_buf one = { 0 };
	classes_answer(&one, names, data, 1);
	for (size_t k = 0; k <= one.len; k++) {
		struct ft_buf got = { 0 };
		struct ft_compiled *cc;
		size_t used;
		ft_buf_append(&got, one.data, k);
		enum ft_warm_answer a = parse(&got, got.len, &cc, &used);
		ck_assert_int_eq(a, k < one.len ? FT_WARM_NEED_MORE : FT_WARM_CLASSES);
		ft_compiled_unref(cc);
		ft_buf_append(&got, one.data + k, one.len - k);
		error_answer(&got, FT_WIRE_COMPILE_ERROR_HEAD "next");
		ck_assert_int_eq(parse(&got, got.len, &cc, &used), FT_WARM_CLASSES);
		ck_assert_uint_eq(used, one.len);
		ck_assert_str_eq(cc->cls[0].name, "a.B");
		ft_compiled_unref(cc);
		ft_buf_free(&got);
	}
	ft_buf_free(&one);
}
END_TEST

/* ---- malformed answers ---- */

static void assert_malformed(const struct ft_buf *b)
{
	struct ft_compiled *cc = (struct ft_compiled *)1;
	size_t used = 1;
	ck_assert_int_eq(parse(b, b->len, &cc, &used), FT_WARM_MALFORMED);
	ck_assert_ptr_null(cc);
	ck_assert_uint_eq(used, 0);
}

START_TEST(bad_tags)
{
	static const char tags[] = { 0,	  'X',	     FT_WIRE_RESULT_STARTED, FT_WIRE_SPARE_READY,
				     'o', (char)0xff };
	for (size_t i = 0; i < sizeof(tags); i++) {
		struct ft_buf b = { 0 };
		ft_buf_append(&b, &tags[i], 1);
		assert_malformed(&b);
		/* Decided at the first byte: more does not help. */
		put32(&b, 0);
		assert_malformed(&b);
		ft_buf_free(&b);
	}
}
END_TEST

START_TEST(class_counts)
{
	struct ft_buf b = { 0 };
	ft_buf_append(&b, (char[]){ FT_WIRE_COMPILER_CLASSES }, 1);
	put32(&b, FT_WARMPROTO_MAX_CLASSES + 1);
	assert_malformed(&b);
	b.len = 1;
	put32(&b, UINT32_MAX);
	assert_malformed(&b);
	/* The most it may announce: waits for them. */
	b.len = 1;
	put32(&b, FT_WARMPROTO_MAX_CLASSES);
	struct ft_compiled *cc;
	size_t used;
	ck_assert_int_eq(parse(&b, b.len, &cc, &used), FT_WARM_NEED_MORE);
	/* Fewer classes than announced: still waiting. */
	b.len = 1;
	put32(&b, 2);
	put_bytes(&b, "A", 1);
	put_bytes(&b, "x", 1);
	ck_assert_int_eq(parse(&b, b.len, &cc, &used), FT_WARM_NEED_MORE);
	ft_buf_free(&b);
}
END_TEST

START_TEST(name_lengths)
{
	struct ft_buf b = { 0 };
	char name[FT_CLASS_NAME_MAX + 1];
	memset(name, 'N', sizeof(name));

	/* Empty and too long names are refused as soon as their length is. */
	ft_buf_append(&b, (char[]){ FT_WIRE_COMPILER_CLASSES }, 1);
	put32(&b, 1);
	put32(&b, 0);
	assert_malformed(&b);
	b.len = 5;
	put32(&b, FT_CLASS_NAME_MAX + 1);
	assert_malformed(&b);
	b.len = 5;
	put32(&b, UINT32_MAX);
	assert_malformed(&b);
	/* A later class's bad name spoils the whole answer. */
	b.len = 1;
	put32(&b, 2);
	put_bytes(&b, "A", 1);
	put_bytes(&b, "", 0);
	put32(&b, 0);
	assert_malformed(&b);

	/* The longest allowed name is fine. */
	b.len = 1;
	put32(&b, 1);
	put_bytes(&b, name, FT_CLASS_NAME_MAX);
	put_bytes(&b, "", 0);
	struct ft_compiled *cc = parse_whole(&b, FT_WARM_CLASSES);
	ck_assert_uint_eq(strlen(cc->cls[0].name), FT_CLASS_NAME_MAX);
	ft_compiled_unref(cc);
	ft_buf_free(&b);
}
END_TEST

START_TEST(huge_lengths_wait)
{
	/* Bytes of a class or an error body: whatever is announced is waited
	 * for (the reader bounds its buffer). */
	struct ft_buf b = { 0 };
	struct ft_compiled *cc;
	size_t used;
	ft_buf_append(&b, (char[]){ FT_WIRE_COMPILER_CLASSES }, 1);
	put32(&b, 1);
	put_bytes(&b, "A", 1);
	put32(&b, UINT32_MAX);
	ft_buf_append(&b, "abc", 3);
	ck_assert_int_eq(parse(&b, b.len, &cc, &used), FT_WARM_NEED_MORE);
	b.len = 0;
	ft_buf_append(&b, (char[]){ FT_WIRE_COMPILER_ERRORS }, 1);
	put32(&b, UINT32_MAX);
	ft_buf_append(&b, FT_WIRE_COMPILE_ERROR_HEAD, strlen(FT_WIRE_COMPILE_ERROR_HEAD));
	ck_assert_int_eq(parse(&b, b.len, &cc, &used), FT_WARM_NEED_MORE);
	ck_assert_ptr_null(cc);
	ft_buf_free(&b);
}
END_TEST

START_TEST(nul_in_names)
{
	static const char *const bad[] = { "a\0b", "\0", "ab\0" };
	static const size_t lens[] = { 3, 1, 3 };
	for (size_t i = 0; i < 3; i++) {
		struct ft_buf b = { 0 };
		ft_buf_append(&b, (char[]){ FT_WIRE_COMPILER_CLASSES }, 1);
		put32(&b, 2);
		put_bytes(&b, "Good", 4);
		put_bytes(&b, "x", 1);
		put_bytes(&b, bad[i], lens[i]);
		put_bytes(&b, "y", 1);
		/* Incomplete, it waits; complete, it is refused whole. */
		for (size_t k = 0; k < b.len; k++) {
			struct ft_compiled *cc;
			size_t used;
			ck_assert_int_eq(parse(&b, k, &cc, &used), FT_WARM_NEED_MORE);
		}
		assert_malformed(&b);
		ft_buf_free(&b);
	}
	/* NUL bytes in class data are just data. */
	struct ft_buf b = { 0 };
	ft_buf_append(&b, (char[]){ FT_WIRE_COMPILER_CLASSES }, 1);
	put32(&b, 1);
	put_bytes(&b, "A", 1);
	put_bytes(&b, "\0\0", 2);
	struct ft_compiled *cc = parse_whole(&b, FT_WARM_CLASSES);
	ck_assert_uint_eq(cc->cls[0].len, 2);
	ft_compiled_unref(cc);
	ft_buf_free(&b);
}
END_TEST

START_TEST(compile_error_without_head)
{
	static const char *const bodies[] = { "", "Code did not compile",
					      "code did not compile:\nx", "Error: x",
					      "Code did not\0compile:" };
	for (size_t i = 0; i < FT_ARRAY_SIZE(bodies); i++) {
		struct ft_buf b = { 0 };
		error_answer(&b, bodies[i]);
		assert_malformed(&b);
		ft_buf_free(&b);
	}
	/* A NUL inside the head. */
	struct ft_buf b = { 0 };
	static const char nul_head[] = "Code did not\0compile:\nx";
	ft_buf_append(&b, (char[]){ FT_WIRE_COMPILER_ERRORS }, 1);
	put_bytes(&b, nul_head, sizeof(nul_head) - 1);
	assert_malformed(&b);
	ft_buf_free(&b);
}
END_TEST

static Suite *warmproto_suite(void)
{
	Suite *s = suite_create("warmproto");
	TCase *tc = tcase_create("request");
	tcase_add_test(tc, request_layout);
	tcase_add_test(tc, request_with_nul_in_source);
	tcase_add_test(tc, request_too_big_for_u32);
	suite_add_tcase(s, tc);

	tc = tcase_create("answers");
	tcase_add_test(tc, classes_byte_by_byte);
	tcase_add_test(tc, no_classes);
	tcase_add_test(tc, compile_error_byte_by_byte);
	tcase_add_test(tc, out_of_memory);
	tcase_add_test(tc, split_at_every_offset);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed");
	tcase_add_test(tc, bad_tags);
	tcase_add_test(tc, class_counts);
	tcase_add_test(tc, name_lengths);
	tcase_add_test(tc, huge_lengths_wait);
	tcase_add_test(tc, nul_in_names);
	tcase_add_test(tc, compile_error_without_head);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(warmproto_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
