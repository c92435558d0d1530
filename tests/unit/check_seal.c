/* Unit tests for the sealed channel (lib/seal.c) and the cluster key
 * (lib/keyring.c): two ends in memory, honest and not. */
#include <check.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/keyring.h"
#include "lib/seal.h"
#include "lib/secretfile.h"

static struct ft_keyring ring_of(uint8_t fill)
{
	struct ft_keyring kr;
	memset(&kr, 0, sizeof(kr));
	memset(kr.current.bytes, fill, FT_KEY_BYTES);
	ft_key_set_id(&kr.current);
	return kr;
}

struct pair {
	struct ft_seal i, r;
	struct ft_buf to_r, to_i; /* bytes in flight each way */
};

/* Moves bytes between the two ends until neither has more to say; the
 * handshake result of the side that failed, or 0. */
static int shake(struct pair *p, const struct ft_keyring *ki, const struct ft_keyring *kr,
		 const char **why)
{
	memset(p, 0, sizeof(*p));
	ft_seal_begin(&p->i, true, ki, &p->to_r);
	ft_seal_begin(&p->r, false, kr, &p->to_i);
	for (int round = 0; round < 4; round++) {
		while (p->to_r.len && !ft_seal_is_open(&p->r)) {
			long n = ft_seal_handshake(&p->r, kr, (const uint8_t *)p->to_r.data,
						   p->to_r.len, &p->to_i, why);
			if (n < 0)
				return -1;
			if (n == 0)
				break;
			ft_buf_consume(&p->to_r, (size_t)n);
		}
		while (p->to_i.len && !ft_seal_is_open(&p->i)) {
			long n = ft_seal_handshake(&p->i, ki, (const uint8_t *)p->to_i.data,
						   p->to_i.len, &p->to_r, why);
			if (n < 0)
				return -2;
			if (n == 0)
				break;
			ft_buf_consume(&p->to_i, (size_t)n);
		}
	}
	return 0;
}

static void pair_free(struct pair *p)
{
	ft_buf_free(&p->to_r);
	ft_buf_free(&p->to_i);
}

/* Opens every whole record in buf into plain; -1 at the first that fails. */
static int open_all(struct ft_seal *s, struct ft_buf *buf, struct ft_buf *plain)
{
	const char *why = NULL;
	for (;;) {
		long n = ft_seal_open_record(s, (const uint8_t *)buf->data, buf->len, plain, &why);
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		ft_buf_consume(buf, (size_t)n);
	}
}

START_TEST(test_same_key_opens_both_ways)
{
	struct ft_keyring k = ring_of(7);
	struct pair p;
	const char *why = NULL;
	ck_assert_int_eq(shake(&p, &k, &k, &why), 0);
	ck_assert(ft_seal_is_open(&p.i));
	ck_assert(ft_seal_is_open(&p.r));
	ck_assert_uint_eq(p.to_r.len, 0);
	ck_assert_uint_eq(p.to_i.len, 0);

	struct ft_buf plain = { 0 };
	ft_seal_write(&p.i, "hello, leader", 13, &p.to_r);
	ft_seal_write(&p.i, "again", 5, &p.to_r);
	/* Sealed: the words are not on the wire. */
	ck_assert_ptr_null(memmem(p.to_r.data, p.to_r.len, "hello", 5));
	ck_assert_int_eq(open_all(&p.r, &p.to_r, &plain), 0);
	ck_assert_uint_eq(plain.len, 18);
	ck_assert_mem_eq(plain.data, "hello, leaderagain", 18);
	ft_buf_consume(&plain, plain.len);
	ft_seal_write(&p.r, "ok", 2, &p.to_i);
	ck_assert_int_eq(open_all(&p.i, &p.to_i, &plain), 0);
	ck_assert_mem_eq(plain.data, "ok", 2);
	ft_buf_free(&plain);
	pair_free(&p);
}
END_TEST

START_TEST(test_large_writes_split_and_rejoin)
{
	struct ft_keyring k = ring_of(1);
	struct pair p;
	const char *why = NULL;
	ck_assert_int_eq(shake(&p, &k, &k, &why), 0);
	size_t n = 3 * FT_SEAL_RECORD_MAX + 17;
	uint8_t *big = malloc(n);
	for (size_t i = 0; i < n; i++)
		big[i] = (uint8_t)(i * 31);
	ft_seal_write(&p.i, big, n, &p.to_r);
	ck_assert_uint_eq(p.to_r.len, n + 4 * FT_SEAL_RECORD_OVERHEAD);
	/* A record cut short waits for the rest. */
	struct ft_buf plain = { 0 };
	const char *w = NULL;
	ck_assert_int_eq(ft_seal_open_record(&p.r, (const uint8_t *)p.to_r.data, 100, &plain, &w),
			 0);
	ck_assert_int_eq(open_all(&p.r, &p.to_r, &plain), 0);
	ck_assert_uint_eq(plain.len, n);
	ck_assert_mem_eq(plain.data, big, n);
	free(big);
	ft_buf_free(&plain);
	pair_free(&p);
}
END_TEST

START_TEST(test_another_key_fails_the_handshake)
{
	struct ft_keyring a = ring_of(1), b = ring_of(2);
	struct pair p;
	const char *why = NULL;
	/* The responder does not know the initiator's key id. */
	ck_assert_int_eq(shake(&p, &a, &b, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "another cluster key"));
	pair_free(&p);

	/* A stranger who copies our key id but not the key: the responder's
	 * mac does not verify at the initiator... */
	struct ft_keyring forged = b;
	memcpy(forged.current.id, a.current.id, FT_KEY_ID_BYTES);
	ck_assert_int_eq(shake(&p, &a, &forged, &why), -2);
	ck_assert_ptr_nonnull(strstr(why, "bad handshake mac"));
	pair_free(&p);
	/* ...and one who goes on anyway with a made-up hello3 is refused by
	 * the responder. */
	struct ft_seal r;
	struct ft_buf out = { 0 };
	uint8_t hello1[FT_SEAL_HELLO1_BYTES] = { 'F', 'T', 'S', 1 }, hello3[32];
	memcpy(hello1 + 4, a.current.id, FT_KEY_ID_BYTES);
	randombytes_buf(hello1 + 4 + FT_KEY_ID_BYTES, 32);
	randombytes_buf(hello3, sizeof(hello3));
	ft_seal_begin(&r, false, &a, &out);
	ck_assert_int_eq(ft_seal_handshake(&r, &a, hello1, sizeof(hello1), &out, &why),
			 FT_SEAL_HELLO1_BYTES);
	ck_assert_int_eq(ft_seal_handshake(&r, &a, hello3, sizeof(hello3), &out, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "bad handshake mac"));
	ck_assert(!ft_seal_is_open(&r));
	ft_buf_free(&out);
}
END_TEST

START_TEST(test_next_key_is_accepted_during_a_roll)
{
	struct ft_keyring old = ring_of(1), rolled = ring_of(2);
	rolled.next = old.current;
	rolled.has_next = true;
	struct pair p;
	const char *why = NULL;
	/* A member not yet reloaded speaks the old key to one that has. */
	ck_assert_int_eq(shake(&p, &old, &rolled, &why), 0);
	ck_assert(ft_seal_is_open(&p.r));
	ck_assert_mem_eq(p.r.key.id, old.current.id, FT_KEY_ID_BYTES);
	pair_free(&p);
	/* The other way: the reloaded one speaks the new key, which the old
	 * one does not know yet. */
	ck_assert_int_eq(shake(&p, &rolled, &old, &why), -1);
	pair_free(&p);
}
END_TEST

START_TEST(test_replayed_handshake_does_not_open)
{
	struct ft_keyring k = ring_of(9);
	struct pair p;
	const char *why = NULL;
	/* Record what an honest initiator sends: hello1, hello3, a record. */
	struct ft_seal i, r;
	struct ft_buf wire = { 0 }, back = { 0 };
	ft_seal_begin(&i, true, &k, &wire);
	ft_seal_begin(&r, false, &k, &back);
	ck_assert_int_eq(
		ft_seal_handshake(&r, &k, (const uint8_t *)wire.data, wire.len, &back, &why),
		FT_SEAL_HELLO1_BYTES);
	size_t h1 = wire.len;
	ck_assert_int_eq(
		ft_seal_handshake(&i, &k, (const uint8_t *)back.data, back.len, &wire, &why),
		FT_SEAL_HELLO2_BYTES);
	ft_seal_write(&i, "SUBMIT", 6, &wire);
	/* Played again to a new responder: hello1 passes (anyone may say it),
	 * the old hello3 does not fit the new transcript. */
	struct ft_seal r2;
	struct ft_buf back2 = { 0 };
	ft_seal_begin(&r2, false, &k, &back2);
	ck_assert_int_eq(ft_seal_handshake(&r2, &k, (const uint8_t *)wire.data, h1, &back2, &why),
			 FT_SEAL_HELLO1_BYTES);
	ck_assert_int_eq(ft_seal_handshake(&r2, &k, (const uint8_t *)wire.data + h1, wire.len - h1,
					   &back2, &why),
			 -1);
	ck_assert(!ft_seal_is_open(&r2));
	ft_buf_free(&wire);
	ft_buf_free(&back);
	ft_buf_free(&back2);
	(void)p;
}
END_TEST

START_TEST(test_records_replayed_reordered_tampered_or_moved_fail)
{
	struct ft_keyring k = ring_of(3);
	struct pair p, q;
	const char *why = NULL;
	ck_assert_int_eq(shake(&p, &k, &k, &why), 0);
	ck_assert_int_eq(shake(&q, &k, &k, &why), 0);
	struct ft_buf one = { 0 }, two = { 0 }, plain = { 0 };
	ft_seal_write(&p.i, "first", 5, &one);
	ft_seal_write(&p.i, "second", 6, &two);
	const uint8_t *o = (const uint8_t *)one.data, *t = (const uint8_t *)two.data;

	/* Reordered: the second first. */
	struct ft_seal r = p.r;
	ck_assert_int_lt(ft_seal_open_record(&r, t, two.len, &plain, &why), 0);
	/* Moved to another connection with the same key. */
	struct ft_seal other = q.r;
	ck_assert_int_lt(ft_seal_open_record(&other, o, one.len, &plain, &why), 0);
	/* Tampered: one bit of the ciphertext. */
	r = p.r;
	uint8_t bad[64];
	memcpy(bad, o, one.len);
	bad[6] ^= 1;
	ck_assert_int_lt(ft_seal_open_record(&r, bad, one.len, &plain, &why), 0);
	/* A length beyond any record. */
	memcpy(bad, o, one.len);
	bad[0] = 0x7f;
	ck_assert_int_lt(ft_seal_open_record(&r, bad, one.len, &plain, &why), 0);
	ck_assert_uint_eq(plain.len, 0);
	/* In order it opens, and then the first again (a replay) does not. */
	r = p.r;
	ck_assert_int_gt(ft_seal_open_record(&r, o, one.len, &plain, &why), 0);
	ck_assert_int_lt(ft_seal_open_record(&r, o, one.len, &plain, &why), 0);
	ck_assert_int_gt(ft_seal_open_record(&r, t, two.len, &plain, &why), 0);
	ck_assert_uint_eq(plain.len, 11);
	ft_buf_free(&one);
	ft_buf_free(&two);
	ft_buf_free(&plain);
	pair_free(&p);
	pair_free(&q);
}
END_TEST

START_TEST(test_garbage_and_old_peers_are_told_apart)
{
	struct ft_keyring k = ring_of(5);
	struct ft_seal r;
	struct ft_buf out = { 0 };
	const char *why = NULL;
	ft_seal_begin(&r, false, &k, &out);
	/* An unsealed frame (magic "FT", version 1) from an older member. */
	ck_assert_int_eq(ft_seal_handshake(&r, &k, (const uint8_t *)"FT\x01\x01", 4, &out, &why),
			 -1);
	ck_assert_ptr_nonnull(strstr(why, "older"));
	ft_seal_begin(&r, false, &k, &out);
	ck_assert_int_eq(ft_seal_handshake(&r, &k, (const uint8_t *)"GET /", 5, &out, &why), -1);
	/* A first byte that may still become a hello waits. */
	ft_seal_begin(&r, false, &k, &out);
	ck_assert_int_eq(ft_seal_handshake(&r, &k, (const uint8_t *)"F", 1, &out, &why), 0);
	ck_assert_uint_eq(out.len, 0);
	ft_buf_free(&out);
}
END_TEST

static char *write_file(const char *data, size_t len, mode_t mode)
{
	char *path = strdup("/tmp/check_seal.XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	fchmod(fd, mode);
	close(fd);
	return path;
}

START_TEST(test_key_files)
{
	struct ft_keyring kr;
	char err[256];
	char raw[32];
	memset(raw, 0x41, sizeof(raw));
	char *p_raw = write_file(raw, 32, 0600);
	char *p_hex = write_file(
		"4141414141414141414141414141414141414141414141414141414141414141\n", 65, 0600);
	char *p_open = write_file(raw, 32, 0644);
	char *p_short = write_file(raw, 31, 0600);
	ck_assert_int_eq(ft_keyring_load(&kr, p_raw, "", err, sizeof(err)), 0);
	struct ft_keyring kh;
	ck_assert_int_eq(ft_keyring_load(&kh, p_hex, p_raw, err, sizeof(err)), 0);
	ck_assert(kh.has_next);
	/* Raw and hex forms of one key are one key. */
	ck_assert_mem_eq(kr.current.bytes, kh.current.bytes, FT_KEY_BYTES);
	ck_assert_mem_eq(kr.current.id, kh.current.id, FT_KEY_ID_BYTES);
	ck_assert_ptr_eq(ft_keyring_find(&kh, kr.current.id), &kh.current);

	ck_assert_int_eq(ft_keyring_load(&kr, p_open, "", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "paths.key_file"));
	ck_assert_ptr_nonnull(strstr(err, "chmod 600"));
	ck_assert_int_eq(ft_keyring_load(&kr, p_short, "", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "ftctl keygen"));
	ck_assert_int_eq(ft_keyring_load(&kr, "/nonexistent/cluster.key", "", err, sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/cluster.key"));
	ck_assert_int_eq(ft_keyring_load(&kr, p_raw, p_open, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "paths.key_file_next"));
	char *paths[] = { p_raw, p_hex, p_open, p_short };
	for (int i = 0; i < 4; i++) {
		unlink(paths[i]);
		free(paths[i]);
	}
}
END_TEST

START_TEST(test_credential_files)
{
	char cred[64], err[256];
	char *good = write_file("demo:s3cret\nignored\n", 20, 0600);
	char *crlf = write_file("demo:s3cret\r\n", 13, 0600);
	char *open = write_file("demo:s3cret\n", 12, 0640);
	char *no_pw = write_file("demo:\n", 6, 0600);
	char *no_user = write_file(":pw\n", 4, 0600);
	char *long_one = write_file(
		"demo:0123456789012345678901234567890123456789012345678901234567", 63, 0600);
	ck_assert_int_eq(
		ft_secret_credential_read("zk", good, cred, sizeof(cred), err, sizeof(err)), 0);
	ck_assert_str_eq(cred, "demo:s3cret");
	ck_assert_int_eq(
		ft_secret_credential_read("zk", crlf, cred, sizeof(cred), err, sizeof(err)), 0);
	ck_assert_str_eq(cred, "demo:s3cret");
	ck_assert_int_eq(
		ft_secret_credential_read("zk", open, cred, sizeof(cred), err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "chmod 600"));
	char *bad[] = { no_pw, no_user };
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(ft_secret_credential_read("zk", bad[i], cred, sizeof(cred), err,
							   sizeof(err)),
				 -1);
		ck_assert_ptr_nonnull(strstr(err, "user:password"));
		ck_assert_ptr_nonnull(strstr(err, bad[i]));
		ck_assert_int_eq(cred[0], 0); /* wiped */
	}
	/* 63 bytes and the NUL fit in 64; one more does not. */
	ck_assert_int_eq(
		ft_secret_credential_read("zk", long_one, cred, sizeof(cred), err, sizeof(err)), 0);
	ck_assert_int_eq(
		ft_secret_credential_read("zk", long_one, cred, sizeof(cred) - 1, err, sizeof(err)),
		-1);
	ck_assert_ptr_nonnull(strstr(err, "longer than"));
	char *paths[] = { good, crlf, open, no_pw, no_user, long_one };
	for (int i = 0; i < 6; i++) {
		unlink(paths[i]);
		free(paths[i]);
	}
}
END_TEST

static Suite *seal_suite(void)
{
	Suite *s = suite_create("seal");
	TCase *tc = tcase_create("seal");
	tcase_add_test(tc, test_same_key_opens_both_ways);
	tcase_add_test(tc, test_large_writes_split_and_rejoin);
	tcase_add_test(tc, test_another_key_fails_the_handshake);
	tcase_add_test(tc, test_next_key_is_accepted_during_a_roll);
	tcase_add_test(tc, test_replayed_handshake_does_not_open);
	tcase_add_test(tc, test_records_replayed_reordered_tampered_or_moved_fail);
	tcase_add_test(tc, test_garbage_and_old_peers_are_told_apart);
	tcase_add_test(tc, test_key_files);
	tcase_add_test(tc, test_credential_files);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (sodium_init() < 0)
		return EXIT_FAILURE;
	SRunner *sr = srunner_create(seal_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
