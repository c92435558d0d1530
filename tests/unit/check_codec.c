#include <check.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/codec.h"
#include "lib/keyring.h"

#define MAX_DATAGRAM FT_GOSSIP_MAX_BYTES
#define SAMPLE_LEN (FT_GOSSIP_OVERHEAD_BYTES + 4 * FT_GOSSIP_ENTRY_BYTES)

static struct ft_gossip_msg msg, back;
static uint8_t buf[MAX_DATAGRAM + 64];
static struct ft_cluster_key ckey, other_ckey;
static struct ft_gossip_key key, other_key;

static void setup_keys(void)
{
	for (int i = 0; i < FT_KEY_BYTES; i++) {
		ckey.bytes[i] = (uint8_t)(i * 7 + 1);
		other_ckey.bytes[i] = (uint8_t)(i * 11 + 3);
	}
	ft_key_set_id(&ckey);
	ft_key_set_id(&other_ckey);
	ft_gossip_key_derive(&key, &ckey);
	ft_gossip_key_derive(&other_key, &other_ckey);
}

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
	m->counter = 0x1112131415161718ull;
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
	ck_assert_uint_eq(a->counter, b->counter);
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
	ssize_t len = ft_gossip_encode(&msg, &key, buf, sizeof buf);
	ck_assert_int_eq(len, SAMPLE_LEN);
	return (size_t)len;
}

static enum ft_gossip_verdict decode(const uint8_t *p, size_t len, const char **why)
{
	return ft_gossip_decode(p, len, &key, 1, &back, why);
}

/* The MAC made again over the first len - 16 bytes as they are now: what
 * a key holder would send, so that the checks behind the MAC are reached. */
static void reseal(size_t len)
{
	uint8_t tag[crypto_auth_hmacsha512256_BYTES];
	crypto_auth_hmacsha512256(tag, buf, len - FT_GOSSIP_MAC_BYTES, key.mac);
	memcpy(buf + len - FT_GOSSIP_MAC_BYTES, tag, FT_GOSSIP_MAC_BYTES);
}

/* Decoding must fail with verdict v and a reason containing `needle`. */
static void assert_verdict(size_t len, enum ft_gossip_verdict v, const char *needle)
{
	const char *why = NULL;
	ck_assert_int_eq(decode(buf, len, &why), v);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, needle), "reason \"%s\" lacks \"%s\"", why, needle);
}

/* Structural defects, reached only with a right MAC. */
static void assert_rejects(size_t len, const char *needle)
{
	reseal(len);
	assert_verdict(len, FT_GOSSIP_MALFORMED, needle);
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
	ck_assert_int_eq(decode(buf, len, &why), FT_GOSSIP_OK);
	assert_same(&msg, &back);

	/* Canonical: re-encoding gives the very same bytes, MAC included. */
	uint8_t again[sizeof buf];
	ck_assert_int_eq(ft_gossip_encode(&back, &key, again, sizeof again), (ssize_t)len);
	ck_assert_mem_eq(again, buf, len);
}
END_TEST

START_TEST(wire_layout)
{
	encode_sample();
	static const uint8_t head[] = {
		'F', 'T', 'G',	'S',  2,    0,	  0,	4,    /* magic, version, flags, count */
		0,   0,	  0,	3,			      /* sender */
		0,   0,	  0x01, 0x9a, 0xbc, 0x8d, 0xc9, 0x7b, /* 1764100000123 */
		1,   2,	  3,	4,    5,    6,	  7,	8,    /* sent_ms */
	};
	ck_assert_mem_eq(buf, head, sizeof head);
	ck_assert_mem_eq(buf + 28, ckey.id, FT_KEY_ID_BYTES);
	static const uint8_t counter[] = { 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18 };
	ck_assert_mem_eq(buf + 36, counter, sizeof counter);
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

/* The MAC as codec.h defines it, computed here from libsodium alone: the
 * first 16 bytes of HMAC-SHA-512/256 under the cluster key's gossip
 * subkey (KDF context "ftgossip", subkey 1) over everything before it. */
START_TEST(mac_is_the_documented_one)
{
	size_t len = encode_sample();
	uint8_t sub[32], tag[crypto_auth_hmacsha512256_BYTES];
	ck_assert_int_eq(crypto_kdf_derive_from_key(sub, sizeof sub, 1, "ftgossip", ckey.bytes), 0);
	ck_assert_mem_eq(sub, key.mac, sizeof sub);
	crypto_auth_hmacsha512256(tag, buf, len - 16, sub);
	ck_assert_mem_eq(buf + len - 16, tag, 16);

	/* Not the MAC the cluster key itself would make (lib/seal.c keys its
	 * handshake MACs with it): the two uses never share a tag. */
	crypto_auth_hmacsha512256(tag, buf, len - 16, ckey.bytes);
	ck_assert_int_ne(memcmp(buf + len - 16, tag, 16), 0);
	ck_assert_int_ne(memcmp(key.mac, ckey.bytes, sizeof key.mac), 0);
	ck_assert_mem_eq(key.id, ckey.id, FT_KEY_ID_BYTES);
}
END_TEST

START_TEST(empty_and_full)
{
	memset(&msg, 0, sizeof msg);
	msg.sender = 0;
	ck_assert_int_eq(ft_gossip_encode(&msg, &key, buf, sizeof buf), FT_GOSSIP_OVERHEAD_BYTES);
	ck_assert_int_eq(decode(buf, FT_GOSSIP_OVERHEAD_BYTES, NULL), FT_GOSSIP_OK);
	assert_same(&msg, &back);

	for (uint32_t i = 0; i < FT_GOSSIP_MAX_ENTRIES; i++)
		add(&msg, i * 200, i, 1000 + i, i % 2 ? FT_MEMBER_FAILED : FT_MEMBER_ALIVE);
	ck_assert_int_eq(ft_gossip_encode(&msg, &key, buf, sizeof buf), MAX_DATAGRAM);
	ck_assert_int_eq(decode(buf, MAX_DATAGRAM, NULL), FT_GOSSIP_OK);
	assert_same(&msg, &back);
}
END_TEST

START_TEST(encode_cap_and_oversize)
{
	sample_msg(&msg);
	size_t need = SAMPLE_LEN;
	/* Short buffers are refused without writing past them. */
	for (size_t cap = 0; cap < need; cap++) {
		uint8_t *small = malloc(cap ? cap : 1);
		ck_assert_int_eq(ft_gossip_encode(&msg, &key, small, cap), -1);
		free(small);
	}
	ck_assert_int_eq(ft_gossip_encode(&msg, &key, buf, need), (ssize_t)need);

	msg.n = FT_GOSSIP_MAX_ENTRIES + 1;
	ck_assert_int_eq(ft_gossip_encode(&msg, &key, buf, sizeof buf), -1);
	msg.n = (size_t)-1;
	ck_assert_int_eq(ft_gossip_encode(&msg, &key, buf, sizeof buf), -1);
}
END_TEST

/* One bit changed anywhere, header, entries or MAC: never accepted. */
START_TEST(any_bit_flipped_is_refused)
{
	size_t len = encode_sample();
	for (size_t i = 0; i < len; i++) {
		for (int b = 0; b < 8; b++) {
			encode_sample();
			buf[i] ^= (uint8_t)(1u << b);
			const char *why = NULL;
			enum ft_gossip_verdict v = decode(buf, len, &why);
			ck_assert_msg(v != FT_GOSSIP_OK, "byte %zu bit %d: accepted", i, b);
			ck_assert_ptr_nonnull(why);
			/* Past magic, version and key id, only the MAC can tell. */
			if (i >= 36)
				ck_assert_msg(v == FT_GOSSIP_BAD_MAC, "byte %zu bit %d: %s", i, b,
					      why);
			else if (i >= 28)
				ck_assert_int_eq(v, FT_GOSSIP_UNKNOWN_KEY);
			else if (i >= 5)
				ck_assert_msg(v == FT_GOSSIP_BAD_MAC, "byte %zu bit %d: %s", i, b,
					      why);
			else
				ck_assert_int_eq(v, FT_GOSSIP_MALFORMED);
		}
	}
}
END_TEST

START_TEST(random_macs_are_refused)
{
	size_t len = encode_sample();
	for (int i = 0; i < 1000; i++) {
		randombytes_buf(buf + len - FT_GOSSIP_MAC_BYTES, FT_GOSSIP_MAC_BYTES);
		ck_assert_int_eq(decode(buf, len, NULL), FT_GOSSIP_BAD_MAC);
	}
	/* Nor the MAC of another datagram. */
	encode_sample();
	uint8_t tag[FT_GOSSIP_MAC_BYTES];
	memcpy(tag, buf + len - FT_GOSSIP_MAC_BYTES, sizeof tag);
	msg.counter++;
	ck_assert_int_eq(ft_gossip_encode(&msg, &key, buf, sizeof buf), (ssize_t)len);
	memcpy(buf + len - FT_GOSSIP_MAC_BYTES, tag, sizeof tag);
	assert_verdict(len, FT_GOSSIP_BAD_MAC, "bad mac");
}
END_TEST

START_TEST(other_keys)
{
	/* Made with a key the receiver does not hold. */
	sample_msg(&msg);
	size_t len = (size_t)ft_gossip_encode(&msg, &other_key, buf, sizeof buf);
	assert_verdict(len, FT_GOSSIP_UNKNOWN_KEY, "unknown cluster key");

	/* Our key's id, another key's MAC: the id names a key, it proves nothing. */
	memcpy(buf + 28, key.id, FT_KEY_ID_BYTES);
	assert_verdict(len, FT_GOSSIP_BAD_MAC, "bad mac");

	/* During a key roll both are accepted, whichever comes first. */
	const struct ft_gossip_key both[2] = { key, other_key };
	ck_assert_int_eq(ft_gossip_encode(&msg, &other_key, buf, sizeof buf), (ssize_t)len);
	ck_assert_int_eq(ft_gossip_decode(buf, len, both, 2, &back, NULL), FT_GOSSIP_OK);
	assert_same(&msg, &back);
	ck_assert_int_eq(ft_gossip_decode(buf, len, both, 1, &back, NULL), FT_GOSSIP_UNKNOWN_KEY);
	ck_assert_int_eq(ft_gossip_encode(&msg, &key, buf, sizeof buf), (ssize_t)len);
	ck_assert_int_eq(ft_gossip_decode(buf, len, both, 2, &back, NULL), FT_GOSSIP_OK);

	/* No key at all: nothing is accepted. */
	ck_assert_int_eq(ft_gossip_decode(buf, len, NULL, 0, &back, NULL), FT_GOSSIP_UNKNOWN_KEY);
	ck_assert_int_eq(ft_gossip_encode(&msg, NULL, buf, sizeof buf), -1);
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
		ck_assert_int_ne(decode(p, cut, &why), FT_GOSSIP_OK);
		ck_assert_ptr_nonnull(why);
		free(p);
	}
	assert_verdict(FT_GOSSIP_OVERHEAD_BYTES - 1, FT_GOSSIP_MALFORMED, "shorter");
	/* Cut, its MAC no longer where the decoder looks. */
	assert_verdict(len - 1, FT_GOSSIP_BAD_MAC, "mac");
	/* Cut and sealed again by a key holder: the count gives it away. */
	assert_rejects(len - 1, "length");
}
END_TEST

START_TEST(trailing_bytes)
{
	size_t len = encode_sample();
	buf[len] = 0;
	assert_verdict(len + 1, FT_GOSSIP_BAD_MAC, "mac");
	assert_rejects(len + 1, "length");
	encode_sample();
	assert_rejects(len + FT_GOSSIP_ENTRY_BYTES, "length");
}
END_TEST

START_TEST(bad_magic)
{
	size_t len = encode_sample();
	for (int i = 0; i < 4; i++) {
		encode_sample();
		buf[i] ^= 0x20;
		assert_verdict(len, FT_GOSSIP_MALFORMED, "magic");
	}
}
END_TEST

START_TEST(bad_version)
{
	size_t len = encode_sample();
	static const uint8_t versions[] = { 0, 1, 3, 7, 255 };
	for (size_t i = 0; i < sizeof versions; i++) {
		buf[4] = versions[i];
		/* Refused before the MAC: another version's MAC is not ours to check. */
		assert_verdict(len, FT_GOSSIP_MALFORMED, "version");
	}
	/* Version 1, the unauthenticated format, says so. */
	buf[4] = 1;
	assert_verdict(len, FT_GOSSIP_MALFORMED, "without gossip MACs");
}
END_TEST

START_TEST(bad_flags)
{
	size_t len = encode_sample();
	buf[5] = 1;
	assert_verdict(len, FT_GOSSIP_BAD_MAC, "mac");
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
	size_t len = FT_GOSSIP_OVERHEAD_BYTES + FT_GOSSIP_ENTRY_BYTES * n;
	static uint8_t big[FT_GOSSIP_OVERHEAD_BYTES + FT_GOSSIP_ENTRY_BYTES * 0x10000];
	memset(big, 0, sizeof big);
	memcpy(big, buf, FT_GOSSIP_HEADER_BYTES);
	const uint16_t counts[] = { (uint16_t)n, 0xffff };
	for (size_t i = 0; i < 2; i++) {
		put_be(big + 6, counts[i], 2);
		if (counts[i] == 0xffff)
			len = FT_GOSSIP_OVERHEAD_BYTES + FT_GOSSIP_ENTRY_BYTES * 0xffffu;
		uint8_t tag[crypto_auth_hmacsha512256_BYTES];
		crypto_auth_hmacsha512256(tag, big, len - 16, key.mac);
		memcpy(big + len - 16, tag, 16);
		const char *why = NULL;
		ck_assert_int_eq(ft_gossip_decode(big, len, &key, 1, &back, &why),
				 FT_GOSSIP_MALFORMED);
		ck_assert_ptr_nonnull(strstr(why, "too many"));
	}
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
	reseal(len);
	ck_assert_int_eq(decode(buf, len, NULL), FT_GOSSIP_OK);
	ck_assert_uint_eq(back.sender, 65535);
}
END_TEST

START_TEST(null_arguments)
{
	const char *why = NULL;
	ck_assert_int_eq(decode(NULL, 0, &why), FT_GOSSIP_MALFORMED);
	ck_assert_ptr_nonnull(why);
	ck_assert_int_eq(ft_gossip_encode(NULL, &key, buf, sizeof buf), -1);
	sample_msg(&msg);
	ck_assert_int_eq(ft_gossip_encode(&msg, &key, NULL, 0), -1);
}
END_TEST

START_TEST(format_line)
{
	sample_msg(&msg);
	char line[512];
	ft_gossip_format(&msg, line, sizeof line);
	ck_assert_str_eq(line, "from 3 inc 1764100000123 sent 72623859790382856 "
			       "counter 1230066625199609624: "
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
	tcase_add_test(ok, mac_is_the_documented_one);
	tcase_add_test(ok, empty_and_full);
	tcase_add_test(ok, encode_cap_and_oversize);
	tcase_add_test(ok, null_arguments);
	suite_add_tcase(s, ok);

	TCase *auth = tcase_create("authentication");
	tcase_add_test(auth, any_bit_flipped_is_refused);
	tcase_add_test(auth, random_macs_are_refused);
	tcase_add_test(auth, other_keys);
	suite_add_tcase(s, auth);

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
	if (sodium_init() < 0)
		return EXIT_FAILURE;
	setup_keys();
	SRunner *sr = srunner_create(codec_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
