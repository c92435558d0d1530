/* Unit tests for the UTF-8 check shared by the gateway (which replaces what
 * is not UTF-8 in program output) and ftctl (which refuses it), and the
 * big-endian integers of the wire formats. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bytes.h"
#include "lib/util.h"

#define LEN(s) (sizeof(s) - 1)

START_TEST(character_lengths)
{
	ck_assert_uint_eq(ft_utf8_char_len("a", 1), 1);
	ck_assert_uint_eq(ft_utf8_char_len("\xc3\xa9", 2), 2);	       /* é */
	ck_assert_uint_eq(ft_utf8_char_len("\xe2\x82\xac", 3), 3);     /* € */
	ck_assert_uint_eq(ft_utf8_char_len("\xf0\x9f\x98\x80", 4), 4); /* U+1F600 */
	ck_assert_uint_eq(ft_utf8_char_len("\xf4\x8f\xbf\xbf", 4), 4); /* U+10FFFF */
	ck_assert_uint_eq(ft_utf8_char_len("\xc3\xa9", 1), 0);	       /* cut short */
	ck_assert_uint_eq(ft_utf8_char_len("\xa9", 1), 0);	       /* stray continuation */
	ck_assert_uint_eq(ft_utf8_char_len("\xc3\x41", 2), 0);	       /* missing continuation */
	ck_assert_uint_eq(ft_utf8_char_len("\xc0\xaf", 2), 0);	       /* overlong '/' */
	ck_assert_uint_eq(ft_utf8_char_len("\xe0\x80\xaf", 3), 0);     /* overlong */
	ck_assert_uint_eq(ft_utf8_char_len("\xed\xa0\x80", 3), 0);     /* surrogate D800 */
	ck_assert_uint_eq(ft_utf8_char_len("\xf4\x90\x80\x80", 4), 0); /* beyond U+10FFFF */
	ck_assert_uint_eq(ft_utf8_char_len("\xff", 1), 0);
	ck_assert_uint_eq(ft_utf8_char_len("\xf8\x88\x80\x80\x80", 5), 0);
}
END_TEST

START_TEST(whole_buffers)
{
	ck_assert(ft_utf8_valid("", 0));
	ck_assert(ft_utf8_valid("caf\xc3\xa9 \xe2\x82\xac\0x", LEN("caf\xc3\xa9 \xe2\x82\xac\0x")));
	ck_assert(!ft_utf8_valid("caf\xe9", LEN("caf\xe9")));
	ck_assert(!ft_utf8_valid("ok\xe2\x82", LEN("ok\xe2\x82")));
}
END_TEST

START_TEST(big_endian_integers)
{
	unsigned char b[6] = { 0xaa, 0, 0, 0, 0, 0xbb };
	ft_put_be32(b + 1, 0x01020304);
	ck_assert_mem_eq(b, "\xaa\x01\x02\x03\x04\xbb", 6);
	ck_assert_uint_eq(ft_get_be32(b + 1), 0x01020304);
	ft_put_be32(b + 1, 0xfffffffe);
	ck_assert_mem_eq(b, "\xaa\xff\xff\xff\xfe\xbb", 6);
	ck_assert_uint_eq(ft_get_be32(b + 1), 0xfffffffe);
	ck_assert_uint_eq(ft_get_be32("\x80\0\0\x01"), 0x80000001);
	unsigned char w[8];
	ft_put_be16(w, 0xabcd);
	ck_assert_mem_eq(w, "\xab\xcd", 2);
	ck_assert_uint_eq(ft_get_be16(w), 0xabcd);
	ft_put_be64(w, 0x0102030405060708ULL);
	ck_assert_mem_eq(w, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	ck_assert(ft_get_be64(w) == 0x0102030405060708ULL);
	ck_assert(ft_get_be64("\xff\0\0\0\0\0\0\x01") == 0xff00000000000001ULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("utf8");
	tcase_add_test(tc, character_lengths);
	tcase_add_test(tc, whole_buffers);
	suite_add_tcase(s, tc);
	tc = tcase_create("be32");
	tcase_add_test(tc, big_endian_integers);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
