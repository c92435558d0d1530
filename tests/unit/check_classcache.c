/* The class cache (runner/classcache.c): FNV-1a keys, hits only on the
 * whole key, least recently used entries evicted past the bounds, and
 * references shared with the jobs that use an entry. */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "runner/classcache.h"
#include "runner/javawire.h"

static struct ft_compiled *error_of(const char *body)
{
	return ft_compiled_new_error(body, strlen(body));
}

static void put(struct ft_classcache *c, const char *key, struct ft_compiled *cc)
{
	ft_classcache_put(c, key, strlen(key), cc);
}

/* What key is kept as (a reference), NULL if nothing; a hit makes it the
 * newest. */
static struct ft_compiled *get(struct ft_classcache *c, const char *key)
{
	return ft_classcache_get(c, key, strlen(key));
}

static bool kept(struct ft_classcache *c, const char *key)
{
	struct ft_compiled *cc = get(c, key);
	ft_compiled_unref(cc);
	return cc != NULL;
}

START_TEST(fnv1a_vectors)
{
	/* The reference values of 64-bit FNV-1a. */
	ck_assert_uint_eq(FT_FNV1A64_OFFSET_BASIS, 0xcbf29ce484222325ULL);
	ck_assert_uint_eq(ft_fnv1a64(FT_FNV1A64_OFFSET_BASIS, "", 0), 0xcbf29ce484222325ULL);
	ck_assert_uint_eq(ft_fnv1a64(FT_FNV1A64_OFFSET_BASIS, "a", 1), 0xaf63dc4c8601ec8cULL);
	ck_assert_uint_eq(ft_fnv1a64(FT_FNV1A64_OFFSET_BASIS, "foobar", 6), 0x85944171f73967e8ULL);
	/* Going on from an earlier value is hashing the concatenation. */
	uint64_t h = ft_fnv1a64(FT_FNV1A64_OFFSET_BASIS, "foo", 3);
	ck_assert_uint_eq(ft_fnv1a64(h, "bar", 3), 0x85944171f73967e8ULL);
}
END_TEST

START_TEST(key_hash_covers_flags_and_key)
{
	static const char flags[] = "ftc3 " FT_WIRE_COMPILER_FLAGS;
	uint64_t h = ft_fnv1a64(FT_FNV1A64_OFFSET_BASIS, flags, sizeof(flags));
	ck_assert_uint_eq(ft_classcache_hash("", 0), h);
	ck_assert_uint_eq(ft_classcache_hash("k\0y", 3), ft_fnv1a64(h, "k\0y", 3));
	ck_assert_uint_ne(ft_classcache_hash("ab", 2), ft_classcache_hash("ba", 2));
}
END_TEST

START_TEST(miss_then_hit)
{
	struct ft_classcache *c = ft_classcache_new(8, 1 << 20);
	ck_assert_ptr_null(get(c, "src"));
	struct ft_compiled *cc = error_of("Code did not compile:\nx");
	put(c, "src", cc);
	ck_assert_int_eq(cc->refs, 2);
	ck_assert_uint_eq(ft_classcache_entries(c), 1);
	ck_assert_uint_eq(ft_classcache_bytes(c), 3 + cc->bytes);

	struct ft_compiled *hit = get(c, "src");
	ck_assert_ptr_eq(hit, cc);
	ck_assert_int_eq(cc->refs, 3);
	ft_compiled_unref(hit);
	/* Same length, other bytes; a prefix; a longer key: misses. */
	ck_assert_ptr_null(get(c, "srd"));
	ck_assert_ptr_null(get(c, "sr"));
	ck_assert_ptr_null(get(c, "srcs"));
	/* Keys are bytes, NULs included. */
	ft_classcache_put(c, "a\0b", 3, cc);
	ck_assert_ptr_null(ft_classcache_get(c, "a\0c", 3));
	hit = ft_classcache_get(c, "a\0b", 3);
	ck_assert_ptr_eq(hit, cc);
	ft_compiled_unref(hit);

	ft_compiled_unref(cc);
	ft_classcache_free(c);
}
END_TEST

START_TEST(evicts_least_recently_used_by_count)
{
	struct ft_classcache *c = ft_classcache_new(3, 1 << 20);
	const char *keys[] = { "a", "b", "c" };
	for (int i = 0; i < 3; i++) {
		struct ft_compiled *cc = error_of(keys[i]);
		put(c, keys[i], cc);
		ft_compiled_unref(cc);
	}
	/* a is used again: b is now the oldest. */
	ft_compiled_unref(get(c, "a"));
	struct ft_compiled *cc = error_of("d");
	put(c, "d", cc);
	ft_compiled_unref(cc);
	ck_assert_uint_eq(ft_classcache_entries(c), 3);
	ck_assert(!kept(c, "b"));
	ck_assert(kept(c, "a"));
	ck_assert(kept(c, "c"));
	ck_assert(kept(c, "d"));
	ft_classcache_free(c);
}
END_TEST

START_TEST(evicts_by_bytes)
{
	/* Each entry costs 1 (key) + 20 (body); 100 bytes hold four. */
	struct ft_classcache *c = ft_classcache_new(100, 100);
	const char *keys[] = { "1", "2", "3", "4", "5" };
	for (int i = 0; i < 5; i++) {
		struct ft_compiled *cc = error_of("01234567890123456789");
		put(c, keys[i], cc);
		ft_compiled_unref(cc);
		ck_assert_uint_le(ft_classcache_bytes(c), 100);
	}
	ck_assert_uint_eq(ft_classcache_entries(c), 4);
	ck_assert_uint_eq(ft_classcache_bytes(c), 84);
	ck_assert(!kept(c, "1"));
	ck_assert(kept(c, "5"));
	ft_classcache_free(c);
}
END_TEST

START_TEST(too_big_is_not_kept)
{
	struct ft_classcache *c = ft_classcache_new(100, 100);
	/* 1 + 24 = 25 = a quarter: kept; 26: not. */
	struct ft_compiled *ok = error_of("012345678901234567890123");
	struct ft_compiled *big = error_of("0123456789012345678901234");
	put(c, "k", ok);
	put(c, "K", big);
	ck_assert(kept(c, "k"));
	ck_assert(!kept(c, "K"));
	ck_assert_int_eq(big->refs, 1);
	ck_assert_uint_eq(ft_classcache_entries(c), 1);
	ft_compiled_unref(ok);
	ft_compiled_unref(big);
	ft_classcache_free(c);
}
END_TEST

START_TEST(put_again_keeps_the_first_and_refreshes_it)
{
	struct ft_classcache *c = ft_classcache_new(2, 1 << 20);
	struct ft_compiled *first = error_of("first");
	struct ft_compiled *second = error_of("second");
	struct ft_compiled *other = error_of("other");
	put(c, "k", first);
	put(c, "o", other);
	put(c, "k", second); /* k is the newest now, o the oldest */
	ck_assert_uint_eq(ft_classcache_entries(c), 2);
	ck_assert_int_eq(second->refs, 1);
	struct ft_compiled *third = error_of("third");
	put(c, "t", third);
	ck_assert(!kept(c, "o"));
	struct ft_compiled *hit = get(c, "k");
	ck_assert_ptr_eq(hit, first);
	ft_compiled_unref(hit);
	ft_compiled_unref(first);
	ft_compiled_unref(second);
	ft_compiled_unref(other);
	ft_compiled_unref(third);
	ft_classcache_free(c);
}
END_TEST

START_TEST(entries_outlive_the_cache_in_their_users)
{
	struct ft_classcache *c = ft_classcache_new(1, 1 << 20);
	struct ft_compiled *cc = ft_compiled_new_classes(1);
	cc->cls[0].name = strdup("A");
	cc->cls[0].data = (unsigned char *)strdup("bytes");
	cc->cls[0].len = 5;
	cc->n = 1;
	cc->bytes = 6;
	put(c, "k", cc);
	ft_compiled_unref(cc);
	struct ft_compiled *held = get(c, "k"); /* a job's */
	/* Evicted, then the cache goes: the job's reference stays good. */
	struct ft_compiled *x = error_of("x");
	put(c, "x", x);
	ft_compiled_unref(x);
	ck_assert(!kept(c, "k"));
	ft_classcache_free(c);
	ck_assert_int_eq(held->refs, 1);
	ck_assert_str_eq(held->cls[0].name, "A");
	ck_assert_mem_eq(held->cls[0].data, "bytes", 5);
	ft_compiled_unref(held);
	ft_compiled_unref(NULL);
	ck_assert_ptr_null(ft_compiled_ref(NULL));
}
END_TEST

static Suite *classcache_suite(void)
{
	Suite *s = suite_create("classcache");
	TCase *tc = tcase_create("hash");
	tcase_add_test(tc, fnv1a_vectors);
	tcase_add_test(tc, key_hash_covers_flags_and_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("lru");
	tcase_add_test(tc, miss_then_hit);
	tcase_add_test(tc, evicts_least_recently_used_by_count);
	tcase_add_test(tc, evicts_by_bytes);
	tcase_add_test(tc, too_big_is_not_kept);
	tcase_add_test(tc, put_again_keeps_the_first_and_refreshes_it);
	tcase_add_test(tc, entries_outlive_the_cache_in_their_users);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(classcache_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
