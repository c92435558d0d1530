#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/codec.h"

#define MAX_DATAGRAM (FT_GOSSIP_HEADER_BYTES + FT_GOSSIP_ENTRY_BYTES * FT_GOSSIP_MAX_ENTRIES)

static struct ft_gossip_msg msg, back;
static uint8_t buf[MAX_DATAGRAM + 64];

static void add(struct ft_gossip_msg *m, uint32_t id, uint64_t inc, uint64_t hb, uint8_t state)
{
	m->e[m->n++] = (struct ft_gossip_entry){
		.id = id, .incarnation = inc, .heartbeat = hb, .state = state
	};
}

/* A message exercising every byte of every field. */
static void sample_msg(struct ft_gossip_msg *m)
{
	memset(m, 0, sizeof *m);
	m->sender = 3;
	m->sender_incarnation = 1764100000123ull;
	m->sent_ms = 0x0102030405060708ull;
	add(m, 3, 1764100000123ull, 40, FT_MEMBER_ALIVE);
	add(m, 0, 1, 0, FT_MEMBER_ALIVE);
	add(m, 65535, UINT64_MAX, UINT64_MAX, FT_MEMBER_FAILED);
	add(m, 2, 17, 12, FT_MEMBER_FAILED);
}

static void assert_same(const struct ft_gossip_msg *a, const struct ft_gossip_msg *b)
{
	ck_assert_uint_eq(a->sender, b->sender);
	ck_assert_uint_eq(a->sender_incarnation, b->sender_incarnation);
	ck_assert_uint_eq(a->sent_ms, b->sent_ms);
	ck_assert_uint_eq(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		ck_assert_uint_eq(a->e[i].id, b->e[i].id);
		ck_assert_uint_eq(a->e[i].incarnation, b->e[i].incarnation);
		ck_assert_uint_eq(a->e[i].heartbeat, b->e[i].heartbeat);
		ck_assert_uint_eq(a->e[i].state, b->e[i].state);
	}
}

static size_t encode_sample(void)
{
	sample_msg(&msg);
	ssize_t len = ft_gossip_encode(&msg, buf, sizeof buf);
	ck_assert_int_eq(len, FT_GOSSIP_HEADER_BYTES + 4 * FT_GOSSIP_ENTRY_BYTES);
	return (size_t)len;
}

/* Decoding must fail, with a reason containing `needle`. */
static void assert_rejects(size_t len, const char *needle)
{
	const char *why = NULL;
	ck_assert_int_eq(ft_gossip_decode(buf, len, &back, &why), -1);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, needle), "reason \"%s\" lacks \"%s\"", why, needle);
}

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint8_t *entry_at(size_t i)
{
	return buf + FT_GOSSIP_HEADER_BYTES + FT_GOSSIP_ENTRY_BYTES * i;
}

START_TEST(round_trip)
{
	size_t len = encode_sample();
	const char *why = "untouched";
	ck_assert_int_eq(ft_gossip_decode(buf, len, &back, &why), 0);
	assert_same(&msg, &back);

	/* Canonical: re-encoding gives the very same bytes. */
	uint8_t again[sizeof buf];
	ck_assert_int_eq(ft_gossip_encode(&back, again, sizeof again), (ssize_t)len);
	ck_assert_mem_eq(again, buf, len);
}
END_TEST

START_TEST(wire_layout)
{
	encode_sample();
	static const uint8_t head[] = {
		'F', 'T', 'G',	'S',  1,    0,	  0,	4,    /* magic, version, flags, count */
		0,   0,	  0,	3,			      /* sender */
		0,   0,	  0x01, 0x9a, 0xbc, 0x8d, 0xc9, 0x7b, /* 1764100000123 */
		1,   2,	  3,	4,    5,    6,	  7,	8,    /* sent_ms */
	};
	ck_assert_mem_eq(buf, head, sizeof head);
	static const uint8_t third[] = {
		0,    0,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2,
	};
	ck_assert_mem_eq(entry_at(2), third, sizeof third);
	static const uint8_t fourth[] = { 0,  0, 0, 2, 0, 0, 0, 0, 0,  0, 0,
					  17, 0, 0, 0, 0, 0, 0, 0, 12, 2 };
	ck_assert_mem_eq(entry_at(3), fourth, sizeof fourth);
}
END_TEST

START_TEST(empty_and_full)
{
	memset(&msg, 0, sizeof msg);
	msg.sender = 0;
	ck_assert_int_eq(ft_gossip_encode(&msg, buf, sizeof buf), FT_GOSSIP_HEADER_BYTES);
	ck_assert_int_eq(ft_gossip_decode(buf, FT_GOSSIP_HEADER_BYTES, &back, NULL), 0);
	assert_same(&msg, &back);

	for (uint32_t i = 0; i < FT_GOSSIP_MAX_ENTRIES; i++)
		add(&msg, i * 200, i, 1000 + i, i % 2 ? FT_MEMBER_FAILED : FT_MEMBER_ALIVE);
	ck_assert_int_eq(ft_gossip_encode(&msg, buf, sizeof buf), MAX_DATAGRAM);
	ck_assert_int_eq(ft_gossip_decode(buf, MAX_DATAGRAM, &back, NULL), 0);
	assert_same(&msg, &back);
}
END_TEST

START_TEST(encode_cap_and_oversize)
{
	sample_msg(&msg);
	size_t need = FT_GOSSIP_HEADER_BYTES + 4 * FT_GOSSIP_ENTRY_BYTES;
	/* Short buffers are refused without writing past them. */
	for (size_t cap = 0; cap < need; cap++) {
		uint8_t *small = malloc(cap ? cap : 1);
		ck_assert_int_eq(ft_gossip_encode(&msg, small, cap), -1);
		free(small);
	}
	ck_assert_int_eq(ft_gossip_encode(&msg, buf, need), (ssize_t)need);

	msg.n = FT_GOSSIP_MAX_ENTRIES + 1;
	ck_assert_int_eq(ft_gossip_encode(&msg, buf, sizeof buf), -1);
	msg.n = (size_t)-1;
	ck_assert_int_eq(ft_gossip_encode(&msg, buf, sizeof buf), -1);
}
END_TEST

START_TEST(truncated_at_every_length)
{
	size_t len = encode_sample();
	for (size_t cut = 0; cut < len; cut++) {
		/* A copy of exactly `cut` bytes, so ASan sees any over-read. */
		uint8_t *p = malloc(cut ? cut : 1);
		memcpy(p, buf, cut);
		const char *why = NULL;
		ck_assert_int_eq(ft_gossip_decode(p, cut, &back, &why), -1);
		ck_assert_ptr_nonnull(why);
		free(p);
	}
	assert_rejects(FT_GOSSIP_HEADER_BYTES - 1, "shorter");
	assert_rejects(len - 1, "length");
}
END_TEST

START_TEST(trailing_bytes)
{
	size_t len = encode_sample();
	buf[len] = 0;
	assert_rejects(len + 1, "length");
	assert_rejects(len + FT_GOSSIP_ENTRY_BYTES, "length");
}
END_TEST

START_TEST(bad_magic)
{
	size_t len = encode_sample();
	for (int i = 0; i < 4; i++) {
		encode_sample();
		buf[i] ^= 0x20;
		assert_rejects(len, "magic");
	}
}
END_TEST

START_TEST(bad_version)
{
	size_t len = encode_sample();
	static const uint8_t versions[] = { 0, 2, 7, 255 };
	for (size_t i = 0; i < sizeof versions; i++) {
		buf[4] = versions[i];
		assert_rejects(len, "version");
	}
}
END_TEST

START_TEST(bad_flags)
{
	size_t len = encode_sample();
	buf[5] = 1;
	assert_rejects(len, "flags");
	buf[5] = 0x80;
	assert_rejects(len, "flags");
}
END_TEST

START_TEST(count_too_big)
{
	encode_sample();
	/* The length matches the claimed count, so only the count is wrong. */
	size_t n = FT_GOSSIP_MAX_ENTRIES + 1;
	size_t len = FT_GOSSIP_HEADER_BYTES + FT_GOSSIP_ENTRY_BYTES * n;
	uint8_t *big = calloc(1, len);
	memcpy(big, buf, FT_GOSSIP_HEADER_BYTES);
	put_be(big + 6, n, 2);
	const char *why = NULL;
	ck_assert_int_eq(ft_gossip_decode(big, len, &back, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "too many"));
	put_be(big + 6, 0xffff, 2);
	ck_assert_int_eq(ft_gossip_decode(big, len, &back, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "too many"));
	free(big);
}
END_TEST

START_TEST(count_length_mismatch)
{
	size_t len = encode_sample();
	put_be(buf + 6, 3, 2);
	assert_rejects(len, "length");
	put_be(buf + 6, 5, 2);
	assert_rejects(len, "length");
	put_be(buf + 6, 0, 2);
	assert_rejects(len, "length");
}
END_TEST

START_TEST(bad_state)
{
	size_t len = encode_sample();
	static const uint8_t states[] = { 0, 3, 255 };
	for (size_t i = 0; i < sizeof states; i++) {
		encode_sample();
		entry_at(1)[20] = states[i];
		assert_rejects(len, "state");
	}
}
END_TEST

START_TEST(duplicate_ids)
{
	size_t len = encode_sample();
	put_be(entry_at(3), 3, 4); /* same as entry 0 */
	assert_rejects(len, "duplicate");
	encode_sample();
	put_be(entry_at(2), 0, 4); /* 65535 -> 0, same as entry 1 */
	assert_rejects(len, "duplicate");
}
END_TEST

START_TEST(id_out_of_range)
{
	size_t len = encode_sample();
	put_be(entry_at(1), 65536, 4);
	assert_rejects(len, "id");
	put_be(entry_at(1), 0xffffffffu, 4);
	assert_rejects(len, "id");

	encode_sample();
	put_be(buf + 8, 65536, 4);
	assert_rejects(len, "sender");

	/* 65535 itself is a valid ID (the sample carries one as an entry). */
	encode_sample();
	put_be(buf + 8, 65535, 4);
	ck_assert_int_eq(ft_gossip_decode(buf, len, &back, NULL), 0);
	ck_assert_uint_eq(back.sender, 65535);
}
END_TEST

START_TEST(null_arguments)
{
	const char *why = NULL;
	ck_assert_int_eq(ft_gossip_decode(NULL, 0, &back, &why), -1);
	ck_assert_ptr_nonnull(why);
	ck_assert_int_eq(ft_gossip_encode(NULL, buf, sizeof buf), -1);
	sample_msg(&msg);
	ck_assert_int_eq(ft_gossip_encode(&msg, NULL, 0), -1);
}
END_TEST

START_TEST(format_line)
{
	sample_msg(&msg);
	char line[512];
	ft_gossip_format(&msg, line, sizeof line);
	ck_assert_str_eq(line, "from 3 inc 1764100000123 sent 72623859790382856: "
			       "[3 inc 1764100000123 hb 40 alive] [0 inc 1 hb 0 alive] "
			       "[65535 inc 18446744073709551615 hb 18446744073709551615 failed] "
			       "[2 inc 17 hb 12 failed]");

	msg.e[0].state = 9; /* never decoded, but format must not trust it */
	ft_gossip_format(&msg, line, sizeof line);
	ck_assert_ptr_nonnull(strstr(line, "hb 40 unknown]"));
}
END_TEST

START_TEST(format_truncates_safely)
{
	sample_msg(&msg);
	char full[512];
	ft_gossip_format(&msg, full, sizeof full);
	size_t flen = strlen(full);

	for (size_t cap = 1; cap <= flen + 2; cap++) {
		/* Exactly cap bytes on the heap so any overrun is caught by ASan. */
		char *p = malloc(cap);
		ft_gossip_format(&msg, p, cap);
		size_t n = strnlen(p, cap);
		ck_assert_uint_lt(n, cap);
		if (cap > flen) {
			ck_assert_str_eq(p, full);
		} else if (cap >= 4) {
			/* Cut lines say so, and agree with the full line before the cut. */
			ck_assert_uint_eq(n, cap - 1);
			ck_assert_str_eq(p + n - 3, "...");
			ck_assert_int_eq(strncmp(p, full, n - 3), 0);
		}
		free(p);
	}
	char guard = 'x';
	ft_gossip_format(&msg, &guard, 0);
	ck_assert_int_eq(guard, 'x');
}
END_TEST

START_TEST(format_full_message)
{
	memset(&msg, 0, sizeof msg);
	for (uint32_t i = 0; i < FT_GOSSIP_MAX_ENTRIES; i++)
		add(&msg, i, UINT64_MAX, UINT64_MAX, FT_MEMBER_ALIVE);
	char line[256];
	ft_gossip_format(&msg, line, sizeof line);
	ck_assert_uint_eq(strlen(line), sizeof line - 1);
}
END_TEST

START_TEST(state_names)
{
	ck_assert_str_eq(ft_member_state_name(FT_MEMBER_ALIVE), "alive");
	ck_assert_str_eq(ft_member_state_name(FT_MEMBER_FAILED), "failed");
	ck_assert_str_eq(ft_member_state_name(0), "unknown");
	ck_assert_str_eq(ft_member_state_name(3), "unknown");
	ck_assert_str_eq(ft_member_state_name(-1), "unknown");
}
END_TEST

static Suite *codec_suite(void)
{
	Suite *s = suite_create("gossip codec");
	TCase *ok = tcase_create("valid");
	tcase_add_test(ok, round_trip);
	tcase_add_test(ok, wire_layout);
	tcase_add_test(ok, empty_and_full);
	tcase_add_test(ok, encode_cap_and_oversize);
	tcase_add_test(ok, null_arguments);
	suite_add_tcase(s, ok);

	TCase *bad = tcase_create("malformed");
	tcase_add_test(bad, truncated_at_every_length);
	tcase_add_test(bad, trailing_bytes);
	tcase_add_test(bad, bad_magic);
	tcase_add_test(bad, bad_version);
	tcase_add_test(bad, bad_flags);
	tcase_add_test(bad, count_too_big);
	tcase_add_test(bad, count_length_mismatch);
	tcase_add_test(bad, bad_state);
	tcase_add_test(bad, duplicate_ids);
	tcase_add_test(bad, id_out_of_range);
	suite_add_tcase(s, bad);

	TCase *fmt = tcase_create("format");
	tcase_add_test(fmt, format_line);
	tcase_add_test(fmt, format_truncates_safely);
	tcase_add_test(fmt, format_full_message);
	tcase_add_test(fmt, state_names);
	suite_add_tcase(s, fmt);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(codec_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
