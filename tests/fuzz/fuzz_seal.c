/* libFuzzer harness for what a member reads from a stranger before and
 * after the cluster key handshake (lib/seal.c): any peer can connect to a
 * work port and send anything.
 *
 * The first byte picks what the rest is:
 *   0  handshake bytes to a responder, fed in pieces the next byte sizes;
 *   1  sealed records to a responder whose handshake an honest initiator
 *      completed in memory: a stranger without the key;
 *   2  plaintext an honest initiator seals and the responder opens, then
 *      decodes as frames: the path of every member's bytes.
 * Invariants: nothing reads past its input or claims more bytes than it
 * was given; no record a stranger made opens; what was sealed opens to
 * exactly itself; a failed seal stays failed. */
#include <sodium.h>
#include <string.h>

#include "lib/frame.h"
#include "lib/keyring.h"
#include "lib/seal.h"

#include "require.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ft_keyring ring;
/* One honest handshake, done once: each input starts from a copy (a seal
 * is a plain value), so that X25519 does not dominate the run. */
static struct ft_seal opened_i, opened_r;
static void open_pair(struct ft_seal *i, struct ft_seal *r);

static void setup(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	require(sodium_init() >= 0);
	memset(ring.current.bytes, 0x5a, FT_KEY_BYTES);
	ft_key_set_id(&ring.current);
	memset(ring.next.bytes, 0xa5, FT_KEY_BYTES);
	ft_key_set_id(&ring.next);
	ring.has_next = true;
	open_pair(&opened_i, &opened_r);
}

static void open_pair(struct ft_seal *i, struct ft_seal *r)
{
	struct ft_buf to_r = { 0 }, to_i = { 0 };
	const char *why = NULL;
	ft_seal_begin(i, true, &ring, &to_r);
	ft_seal_begin(r, false, &ring, &to_i);
	require(ft_seal_handshake(r, &ring, (const uint8_t *)to_r.data, to_r.len, &to_i, &why) ==
		FT_SEAL_HELLO1_BYTES);
	ft_buf_consume(&to_r, to_r.len);
	require(ft_seal_handshake(i, &ring, (const uint8_t *)to_i.data, to_i.len, &to_r, &why) ==
		FT_SEAL_HELLO2_BYTES);
	require(ft_seal_handshake(r, &ring, (const uint8_t *)to_r.data, to_r.len, &to_i, &why) ==
		FT_SEAL_HELLO3_BYTES);
	require(ft_seal_is_open(i) && ft_seal_is_open(r));
	ft_buf_free(&to_r);
	ft_buf_free(&to_i);
}

static void handshake_bytes(const uint8_t *data, size_t size)
{
	if (size < 1)
		return;
	size_t piece = (size_t)data[0] % 48 + 1;
	data++, size--;
	struct ft_seal r;
	struct ft_buf in = { 0 }, out = { 0 };
	ft_seal_begin(&r, false, &ring, &out);
	const char *why = NULL;
	bool failed = false;
	for (size_t off = 0; off < size && !failed;) {
		size_t n = size - off < piece ? size - off : piece;
		ft_buf_append(&in, data + off, n);
		off += n;
		while (in.len && !ft_seal_is_open(&r)) {
			long used = ft_seal_handshake(&r, &ring, (const uint8_t *)in.data, in.len,
						      &out, &why);
			if (used < 0) {
				failed = true;
				require(r.state == FT_SEAL_FAILED);
				require(ft_seal_handshake(&r, &ring, (const uint8_t *)in.data,
							  in.len, &out, &why) < 0);
				break;
			}
			if (used == 0)
				break;
			require((size_t)used <= in.len);
			ft_buf_consume(&in, (size_t)used);
		}
	}
	/* A stranger cannot make the third message's mac. */
	require(!ft_seal_is_open(&r));
	ft_buf_free(&in);
	ft_buf_free(&out);
}

static void stranger_records(const uint8_t *data, size_t size)
{
	struct ft_seal r = opened_r;
	struct ft_buf plain = { 0 };
	const char *why = NULL;
	size_t off = 0;
	for (;;) {
		long n = ft_seal_open_record(&r, data + off, size - off, &plain, &why);
		if (n <= 0)
			break;
		/* Forging a Poly1305 tag by chance: not in this universe. */
		require(0);
	}
	require(plain.len == 0);
	ft_buf_free(&plain);
}

static void honest_stream(const uint8_t *data, size_t size)
{
	struct ft_seal i = opened_i, r = opened_r;
	struct ft_buf wire = { 0 }, plain = { 0 };
	ft_seal_write(&i, data, size, &wire);
	const char *why = NULL;
	size_t off = 0;
	while (off < wire.len) {
		long n = ft_seal_open_record(&r, (const uint8_t *)wire.data + off, wire.len - off,
					     &plain, &why);
		require(n > 0);
		off += (size_t)n;
	}
	require(plain.len == size && (size == 0 || memcmp(plain.data, data, size) == 0));
	size_t at = 0;
	while (at < plain.len) {
		struct ft_frame f;
		long n = ft_frame_decode((const uint8_t *)plain.data + at, plain.len - at, 65536,
					 &f, &why);
		if (n <= 0)
			break;
		require((size_t)n <= plain.len - at);
		at += (size_t)n;
		ft_frame_release(&f);
	}
	ft_buf_free(&wire);
	ft_buf_free(&plain);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		handshake_bytes(data + 1, size - 1);
		break;
	case 1:
		stranger_records(data + 1, size - 1);
		break;
	default:
		honest_stream(data + 1, size - 1);
		break;
	}
	return 0;
}
