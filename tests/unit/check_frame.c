/* Unit tests for the internal TCP frame codec, including hostile input. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/frame.h"
#include "lib/util.h"

#define MAX 4096

static struct ft_buf encode_sample(void)
{
	struct ft_buf b = { 0 };
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "req", json_object_new_uint64(1764100000000123ULL));
	json_object_object_add(m, "verdict", json_object_new_string("ok"));
	ck_assert_int_eq(ft_frame_encode(&b, FT_FRAME_RESULT, m, "hello\0world", 11, MAX), 0);
	json_object_put(m);
	return b;
}

START_TEST(round_trip)
{
	struct ft_buf b = encode_sample();
	struct ft_frame f;
	const char *why = NULL;
	long n = ft_frame_decode((const uint8_t *)b.data, b.len, MAX, &f, &why);
	ck_assert_int_eq(n, (long)b.len);
	ck_assert_int_eq(f.type, FT_FRAME_RESULT);
	ck_assert_uint_eq(ft_meta_u64(&f, "req", 0), 1764100000000123ULL);
	ck_assert_str_eq(ft_meta_str(&f, "verdict", ""), "ok");
	ck_assert_str_eq(ft_meta_str(&f, "missing", "dflt"), "dflt");
	ck_assert_int_eq(ft_meta_int(&f, "verdict", -7), -7); /* mistyped: default */
	ck_assert_uint_eq(f.blob_len, 11);
	ck_assert_mem_eq(f.blob, "hello\0world", 11);
	ft_frame_release(&f);
	ft_buf_free(&b);
}
END_TEST

START_TEST(every_prefix_needs_more)
{
	struct ft_buf b = encode_sample();
	for (size_t len = 0; len < b.len; len++) {
		struct ft_frame f;
		const char *why = NULL;
		ck_assert_int_eq(ft_frame_decode((const uint8_t *)b.data, len, MAX, &f, &why), 0);
	}
	ft_buf_free(&b);
}
END_TEST

START_TEST(two_frames_back_to_back)
{
	struct ft_buf b = encode_sample();
	ck_assert_int_eq(ft_frame_encode(&b, FT_FRAME_ACK, NULL, NULL, 0, MAX), 0);
	struct ft_frame f;
	const char *why;
	long n1 = ft_frame_decode((const uint8_t *)b.data, b.len, MAX, &f, &why);
	ck_assert_int_gt(n1, 0);
	ft_frame_release(&f);
	long n2 = ft_frame_decode((const uint8_t *)b.data + n1, b.len - (size_t)n1, MAX, &f, &why);
	ck_assert_int_eq(n2, FT_FRAME_HEADER_BYTES);
	ck_assert_int_eq(f.type, FT_FRAME_ACK);
	ck_assert_uint_eq(f.blob_len, 0);
	ft_frame_release(&f);
	ft_buf_free(&b);
}
END_TEST

static void expect_bad(const uint8_t *buf, size_t len, size_t max, const char *why_part)
{
	struct ft_frame f;
	const char *why = NULL;
	ck_assert_int_eq(ft_frame_decode(buf, len, max, &f, &why), -1);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, why_part), "why '%s' lacks '%s'", why, why_part);
	ck_assert_ptr_null(f.meta);
}

START_TEST(malformed)
{
	struct ft_buf b = encode_sample();
	uint8_t *p = (uint8_t *)b.data;

	p[0] = 'X';
	expect_bad(p, 1, MAX, "magic"); /* refused on the first byte */
	p[0] = 'F';
	p[2] = 9;
	expect_bad(p, b.len, MAX, "version");
	p[2] = FT_FRAME_VERSION;
	p[3] = 0;
	expect_bad(p, b.len, MAX, "type");
	p[3] = FT_FRAME_TYPE_MAX + 1;
	expect_bad(p, b.len, MAX, "type");
	p[3] = FT_FRAME_RESULT;
	/* oversize: refused from the header alone, before the body arrives */
	expect_bad(p, FT_FRAME_HEADER_BYTES, 16, "maximum");
	/* a declared length of 4 GiB */
	uint8_t huge[FT_FRAME_HEADER_BYTES] = {
		'F', 'T', 1, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0
	};
	expect_bad(huge, sizeof(huge), MAX, "maximum");
	ft_buf_free(&b);
}
END_TEST

START_TEST(meta_must_be_object)
{
	static const char *metas[] = { "[1,2]", "42", "{\"a\":", "{} trailing", "\"str\"" };
	for (size_t i = 0; i < sizeof(metas) / sizeof(metas[0]); i++) {
		size_t ml = strlen(metas[i]);
		uint8_t buf[64] = {
			'F', 'T', 1, FT_FRAME_SUBMIT, 0, 0, 0, (uint8_t)ml, 0, 0, 0, 0
		};
		memcpy(buf + FT_FRAME_HEADER_BYTES, metas[i], ml);
		expect_bad(buf, FT_FRAME_HEADER_BYTES + ml, MAX, "JSON");
	}
}
END_TEST

START_TEST(encode_refuses_oversize)
{
	struct ft_buf b = { 0 };
	char blob[100] = { 0 };
	ck_assert_int_eq(ft_frame_encode(&b, FT_FRAME_SUBMIT, NULL, blob, sizeof(blob), 64), -1);
	ck_assert_uint_eq(b.len, 0);
	ft_buf_free(&b);
}
END_TEST

START_TEST(type_names)
{
	ck_assert_str_eq(ft_frame_type_name(FT_FRAME_HELLO), "HELLO");
	ck_assert_str_eq(ft_frame_type_name(FT_FRAME_REJECT), "REJECT");
	ck_assert_str_eq(ft_frame_type_name(0), "UNKNOWN");
	ck_assert_str_eq(ft_frame_type_name(99), "UNKNOWN");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("frame");
	TCase *tc = tcase_create("codec");
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, every_prefix_needs_more);
	tcase_add_test(tc, two_frames_back_to_back);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, meta_must_be_object);
	tcase_add_test(tc, encode_refuses_oversize);
	tcase_add_test(tc, type_names);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
