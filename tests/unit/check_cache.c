/* Unit tests for the gateway response cache. */
#include "gateway/cache.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Strings as keys and bodies; the byte counts below are strlen(key) + strlen(body). */
static void put(struct ft_cache *c, const char *key, int status, const char *body)
{
	ft_cache_put(c, key, strlen(key), status, body, strlen(body));
}

static bool has(struct ft_cache *c, const char *key)
{
	const char *body;
	size_t blen;
	int status;

	return ft_cache_get(c, key, strlen(key), &status, &body, &blen);
}

/* Asserts KEY is cached with exactly STATUS and BODY. */
#define assert_hit(c, key, want_status, want_body)                                             \
	do {                                                                                   \
		const char *body_;                                                             \
		size_t blen_;                                                                  \
		int status_;                                                                   \
		ck_assert_msg(ft_cache_get((c), (key), strlen(key), &status_, &body_, &blen_), \
			      "miss for '%s'", (key));                                         \
		ck_assert_int_eq(status_, (want_status));                                      \
		ck_assert_uint_eq(blen_, strlen(want_body));                                   \
		ck_assert_mem_eq(body_, (want_body), blen_);                                   \
	} while (0)

START_TEST(test_hit_and_miss)
{
	struct ft_cache *c = ft_cache_new(10, 1000);
	int status = -1;
	const char *body = NULL;
	size_t blen = 99;

	ck_assert_ptr_nonnull(c);
	ck_assert(!ft_cache_get(c, "k", 1, &status, &body, &blen));
	/* A miss leaves the outputs alone. */
	ck_assert_int_eq(status, -1);
	ck_assert_ptr_null(body);
	ck_assert_uint_eq(blen, 99);

	put(c, "class A {}", 200, "{\"status\":\"ok\"}");
	assert_hit(c, "class A {}", 200, "{\"status\":\"ok\"}");
	ck_assert(!has(c, "class B {}"));
	ck_assert_uint_eq(ft_cache_entries(c), 1);
	ck_assert_uint_eq(ft_cache_bytes(c), strlen("class A {}") + strlen("{\"status\":\"ok\"}"));
	ft_cache_free(c);
}
END_TEST

START_TEST(test_empty_key_and_body)
{
	struct ft_cache *c = ft_cache_new(10, 1000);
	const char *body;
	size_t blen;
	int status;

	ft_cache_put(c, NULL, 0, 204, NULL, 0);
	ck_assert(ft_cache_get(c, NULL, 0, &status, &body, &blen));
	ck_assert_int_eq(status, 204);
	ck_assert_uint_eq(blen, 0);
	ck_assert_uint_eq(ft_cache_entries(c), 1);
	ck_assert_uint_eq(ft_cache_bytes(c), 0);
	ck_assert(!has(c, "x"));
	ft_cache_free(c);
}
END_TEST

START_TEST(test_replace)
{
	struct ft_cache *c = ft_cache_new(10, 1000);

	put(c, "key", 200, "first answer");
	put(c, "key", 400, "second");
	assert_hit(c, "key", 400, "second");
	ck_assert_uint_eq(ft_cache_entries(c), 1);
	ck_assert_uint_eq(ft_cache_bytes(c), 3 + 6);

	/* Re-putting the body a get handed out is safe. */
	{
		const char *body;
		size_t blen;
		int status;

		ck_assert(ft_cache_get(c, "key", 3, &status, &body, &blen));
		ft_cache_put(c, "key", 3, 201, body, blen);
		assert_hit(c, "key", 201, "second");
	}
	ft_cache_free(c);
}
END_TEST

/* A replaced entry becomes the most recently used one. */
START_TEST(test_replace_refreshes_recency)
{
	struct ft_cache *c = ft_cache_new(2, 1000);

	put(c, "a", 1, "x");
	put(c, "b", 2, "x");
	put(c, "a", 3, "y");
	put(c, "c", 4, "x"); /* evicts b, the least recently used */
	ck_assert(!has(c, "b"));
	assert_hit(c, "a", 3, "y");
	assert_hit(c, "c", 4, "x");
	ft_cache_free(c);
}
END_TEST

START_TEST(test_evict_by_count)
{
	struct ft_cache *c = ft_cache_new(3, 1000);

	put(c, "a", 1, "A");
	put(c, "b", 2, "B");
	put(c, "c", 3, "C");
	ck_assert_uint_eq(ft_cache_entries(c), 3);

	/* Using a makes b the least recently used. */
	assert_hit(c, "a", 1, "A");
	put(c, "d", 4, "D");
	ck_assert_uint_eq(ft_cache_entries(c), 3);
	ck_assert(!has(c, "b"));

	put(c, "e", 5, "E"); /* then c */
	ck_assert(!has(c, "c"));
	put(c, "f", 6, "F"); /* then a */
	ck_assert(!has(c, "a"));
	assert_hit(c, "d", 4, "D");
	assert_hit(c, "e", 5, "E");
	assert_hit(c, "f", 6, "F");
	ck_assert_uint_eq(ft_cache_entries(c), 3);
	ck_assert_uint_eq(ft_cache_bytes(c), 6);
	ft_cache_free(c);
}
END_TEST

START_TEST(test_evict_by_bytes)
{
	/* Each entry below is 2 + 8 = 10 bytes; three fit exactly. */
	struct ft_cache *c = ft_cache_new(100, 30);

	put(c, "k1", 1, "12345678");
	put(c, "k2", 2, "12345678");
	put(c, "k3", 3, "12345678");
	ck_assert_uint_eq(ft_cache_entries(c), 3);
	ck_assert_uint_eq(ft_cache_bytes(c), 30);

	assert_hit(c, "k1", 1, "12345678");
	put(c, "k4", 4, "12345678"); /* evicts k2 */
	ck_assert(!has(c, "k2"));
	ck_assert_uint_eq(ft_cache_bytes(c), 30);

	/* 2 + 18 = 20 bytes needs two victims, oldest first: k3, then k1. */
	put(c, "k5", 5, "123456789012345678");
	ck_assert(!has(c, "k3"));
	ck_assert(!has(c, "k1"));
	assert_hit(c, "k4", 4, "12345678");
	assert_hit(c, "k5", 5, "123456789012345678");
	ck_assert_uint_eq(ft_cache_entries(c), 2);
	ck_assert_uint_eq(ft_cache_bytes(c), 30);
	ft_cache_free(c);
}
END_TEST

/* The key counts towards the byte budget, not only the body. */
START_TEST(test_key_bytes_count)
{
	struct ft_cache *c = ft_cache_new(100, 20);

	put(c, "0123456789", 1, "");
	put(c, "abcdefghij", 2, "");
	ck_assert_uint_eq(ft_cache_bytes(c), 20);
	put(c, "K", 3, "");
	ck_assert(!has(c, "0123456789"));
	ck_assert_uint_eq(ft_cache_entries(c), 2);
	ck_assert_uint_eq(ft_cache_bytes(c), 11);
	ft_cache_free(c);
}
END_TEST

START_TEST(test_oversize_not_kept)
{
	struct ft_cache *c = ft_cache_new(10, 10);

	put(c, "small", 1, "x");
	put(c, "big", 2, "123456789"); /* 3 + 9 = 12 > 10 */
	ck_assert(!has(c, "big"));
	/* Nothing was evicted to make room for it either. */
	assert_hit(c, "small", 1, "x");

	/* An entry of exactly max_bytes is kept, alone. */
	put(c, "fit", 3, "1234567");
	assert_hit(c, "fit", 3, "1234567");
	ck_assert(!has(c, "small"));
	ck_assert_uint_eq(ft_cache_bytes(c), 10);

	/* Replacing with an answer too large drops the stale one. */
	put(c, "fit", 4, "12345678");
	ck_assert(!has(c, "fit"));
	ck_assert_uint_eq(ft_cache_entries(c), 0);
	ck_assert_uint_eq(ft_cache_bytes(c), 0);

	/* Sizes near SIZE_MAX must not wrap around into "fits". */
	ft_cache_put(c, "k", 1, 5, "", SIZE_MAX);
	ck_assert_uint_eq(ft_cache_entries(c), 0);
	ft_cache_free(c);
}
END_TEST

START_TEST(test_zero_capacity)
{
	struct ft_cache *none = ft_cache_new(0, 1000), *nobytes = ft_cache_new(10, 0);

	put(none, "a", 1, "b");
	put(nobytes, "a", 1, "b");
	ck_assert(!has(none, "a"));
	ck_assert(!has(nobytes, "a"));
	ck_assert_uint_eq(ft_cache_entries(none), 0);
	ck_assert_uint_eq(ft_cache_entries(nobytes), 0);
	ft_cache_free(none);
	ft_cache_free(nobytes);
	ft_cache_free(NULL);
}
END_TEST

/* Java sources share long prefixes; only the full key may decide a hit. */
START_TEST(test_similar_keys_distinct)
{
	struct ft_cache *c = ft_cache_new(100, 1 << 20);
	enum { LEN = 8192 };
	char *k1 = malloc(LEN), *k2 = malloc(LEN);
	const char *body;
	size_t blen;
	int status;

	memset(k1, 'p', LEN);
	memcpy(k2, k1, LEN);
	k2[LEN - 1] = 'q';
	ft_cache_put(c, k1, LEN, 1, "one", 3);
	ft_cache_put(c, k2, LEN, 2, "two", 3);
	ck_assert_uint_eq(ft_cache_entries(c), 2);
	ck_assert(ft_cache_get(c, k1, LEN, &status, &body, &blen));
	ck_assert_int_eq(status, 1);
	ck_assert(ft_cache_get(c, k2, LEN, &status, &body, &blen));
	ck_assert_int_eq(status, 2);

	/* A key that is a prefix of another, and keys with NUL bytes in them. */
	ck_assert(!ft_cache_get(c, k1, LEN - 1, &status, &body, &blen));
	ft_cache_put(c, "ab\0c", 4, 3, "x", 1);
	ft_cache_put(c, "ab\0d", 4, 4, "x", 1);
	ft_cache_put(c, "ab", 2, 5, "x", 1);
	ck_assert(ft_cache_get(c, "ab\0c", 4, &status, &body, &blen));
	ck_assert_int_eq(status, 3);
	ck_assert(ft_cache_get(c, "ab\0d", 4, &status, &body, &blen));
	ck_assert_int_eq(status, 4);
	ck_assert(ft_cache_get(c, "ab", 2, &status, &body, &blen));
	ck_assert_int_eq(status, 5);
	ck_assert(!ft_cache_get(c, "ab\0", 3, &status, &body, &blen));
	free(k1);
	free(k2);
	ft_cache_free(c);
}
END_TEST

/* Enough keys that buckets hold several entries and the table grows while
 * they are being added; every one must still find its own body. */
START_TEST(test_many_keys)
{
	enum { N = 5000 };
	struct ft_cache *c = ft_cache_new(N, (size_t)N * 64);
	char key[32], val[32];

	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "public class Main%d", i);
		snprintf(val, sizeof(val), "out %d", i);
		put(c, key, i, val);
	}
	ck_assert_uint_eq(ft_cache_entries(c), N);
	for (int i = N - 1; i >= 0; i--) {
		snprintf(key, sizeof(key), "public class Main%d", i);
		snprintf(val, sizeof(val), "out %d", i);
		assert_hit(c, key, i, val);
	}
	/* The gets above ran from N-1 down, so N-1 is now the oldest. */
	put(c, "one more", 0, "");
	snprintf(key, sizeof(key), "public class Main%d", N - 1);
	ck_assert(!has(c, key));
	ck_assert(has(c, "public class Main0"));
	ft_cache_free(c);
}
END_TEST

static Suite *cache_suite(void)
{
	Suite *s = suite_create("cache");
	TCase *tc = tcase_create("cache");

	tcase_add_test(tc, test_hit_and_miss);
	tcase_add_test(tc, test_empty_key_and_body);
	tcase_add_test(tc, test_replace);
	tcase_add_test(tc, test_replace_refreshes_recency);
	tcase_add_test(tc, test_evict_by_count);
	tcase_add_test(tc, test_evict_by_bytes);
	tcase_add_test(tc, test_key_bytes_count);
	tcase_add_test(tc, test_oversize_not_kept);
	tcase_add_test(tc, test_zero_capacity);
	tcase_add_test(tc, test_similar_keys_distinct);
	tcase_add_test(tc, test_many_keys);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cache_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
