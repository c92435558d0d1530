/* Base64 (lib/base64.c): RFC 4648's vectors, bytes that are not text, line
 * breaks in the input, and what is refused. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"

static void round_trip(const char *raw, size_t n, const char *b64)
{
	size_t len;
	char *e = ft_base64_encode(raw, n, &len);
	ck_assert_str_eq(e, b64);
	ck_assert_uint_eq(len, strlen(b64));
	char *d = ft_base64_decode(e, len, &len);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(len, n);
	ck_assert_mem_eq(d, raw, n);
	ck_assert_int_eq(d[n], '\0');
	free(e);
	free(d);
}

START_TEST(rfc4648_vectors)
{
	round_trip("", 0, "");
	round_trip("f", 1, "Zg==");
	round_trip("fo", 2, "Zm8=");
	round_trip("foo", 3, "Zm9v");
	round_trip("foob", 4, "Zm9vYg==");
	round_trip("fooba", 5, "Zm9vYmE=");
	round_trip("foobar", 6, "Zm9vYmFy");
	round_trip("\xff\xfe\0\x80", 4, "//4AgA==");
}
END_TEST

START_TEST(wrapped_lines_and_refusals)
{
	size_t len;
	char *d = ft_base64_decode("Zm9v\nYmFy\r\n", 11, &len);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(len, 6);
	ck_assert_mem_eq(d, "foobar", 6);
	free(d);
	ck_assert_ptr_null(ft_base64_decode("Zm9v!", 5, &len));
	ck_assert_ptr_null(ft_base64_decode("Zm9", 3, &len));	   /* cut short */
	ck_assert_ptr_null(ft_base64_decode("Zg==Zg==", 8, &len)); /* after the padding */
	ck_assert_ptr_null(ft_base64_decode("Zm9v\0", 5, &len));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("base64");
	TCase *tc = tcase_create("codec");
	tcase_add_test(tc, rfc4648_vectors);
	tcase_add_test(tc, wrapped_lines_and_refusals);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
