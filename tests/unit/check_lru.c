/* The caches' recency list (lib/lru.c): order, touch, removal anywhere,
 * and the count and bytes it keeps. */
#include <check.h>
#include <stdlib.h>

#include "lib/lru.h"

struct item {
	int id;
	struct ft_lru_link link;
};

/* The ids from newest to oldest, checked against the links both ways. */
static void assert_order(const struct ft_lru *lru, const int *want, size_t n)
{
	size_t i = 0;
	const struct ft_lru_link *prev = NULL;
	for (const struct ft_lru_link *l = lru->newest; l; prev = l, l = l->older, i++) {
		ck_assert_uint_lt(i, n);
		ck_assert_int_eq(FT_LRU_ENTRY(l, struct item, link)->id, want[i]);
		ck_assert_ptr_eq(l->newer, prev);
	}
	ck_assert_uint_eq(i, n);
	ck_assert_ptr_eq(lru->oldest, prev);
	ck_assert_uint_eq(lru->n, n);
}

START_TEST(added_newest_first_and_counted)
{
	struct ft_lru lru = { 0 };
	struct item it[3] = { { .id = 1 }, { .id = 2 }, { .id = 3 } };
	assert_order(&lru, NULL, 0);
	for (int i = 0; i < 3; i++)
		ft_lru_add(&lru, &it[i].link, (size_t)(10 * (i + 1)));
	assert_order(&lru, (int[]){ 3, 2, 1 }, 3);
	ck_assert_uint_eq(lru.bytes, 60);
}
END_TEST

START_TEST(touch_makes_newest)
{
	struct ft_lru lru = { 0 };
	struct item it[3] = { { .id = 1 }, { .id = 2 }, { .id = 3 } };
	for (int i = 0; i < 3; i++)
		ft_lru_add(&lru, &it[i].link, 1);
	ft_lru_touch(&lru, &it[0].link); /* the oldest */
	assert_order(&lru, (int[]){ 1, 3, 2 }, 3);
	ft_lru_touch(&lru, &it[0].link); /* already the newest */
	assert_order(&lru, (int[]){ 1, 3, 2 }, 3);
	ft_lru_touch(&lru, &it[2].link); /* the middle */
	assert_order(&lru, (int[]){ 3, 1, 2 }, 3);
	ck_assert_uint_eq(lru.bytes, 3);
}
END_TEST

START_TEST(remove_anywhere)
{
	struct ft_lru lru = { 0 };
	struct item it[4] = { { .id = 1 }, { .id = 2 }, { .id = 3 }, { .id = 4 } };
	for (int i = 0; i < 4; i++)
		ft_lru_add(&lru, &it[i].link, (size_t)(i + 1));
	ft_lru_remove(&lru, &it[1].link); /* the middle */
	assert_order(&lru, (int[]){ 4, 3, 1 }, 3);
	ck_assert_uint_eq(lru.bytes, 8);
	ft_lru_remove(&lru, &it[0].link); /* the oldest */
	assert_order(&lru, (int[]){ 4, 3 }, 2);
	ft_lru_remove(&lru, &it[3].link); /* the newest */
	assert_order(&lru, (int[]){ 3 }, 1);
	ft_lru_remove(&lru, &it[2].link);
	assert_order(&lru, NULL, 0);
	ck_assert_uint_eq(lru.bytes, 0);
	ck_assert_ptr_null(lru.newest);
	/* Removed links can be added again. */
	ft_lru_add(&lru, &it[1].link, 5);
	assert_order(&lru, (int[]){ 2 }, 1);
	ck_assert_uint_eq(lru.bytes, 5);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lru");
	TCase *tc = tcase_create("list");
	tcase_add_test(tc, added_newest_first_and_counted);
	tcase_add_test(tc, touch_makes_newest);
	tcase_add_test(tc, remove_anywhere);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
