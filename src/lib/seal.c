#include "lib/seal.h"

#include <sodium.h>
#include <string.h>

#include "lib/bytes.h"

static const uint8_t magic[4] = { 'F', 'T', 'S', 1 };

/* Tells what a peer that is not a sealed member sent, for the log. */
static const char *bad_magic(const uint8_t *in)
{
	if (in[0] == 'F' && in[1] == 'T' && in[2] != 'S')
		return "a peer without the cluster key handshake (an older ftcluster?)";
	return "not an ftcluster handshake";
}

static bool magic_ok(const uint8_t *in, size_t len, const char **why)
{
	size_t n = len < sizeof(magic) ? len : sizeof(magic);
	if (memcmp(in, magic, n) != 0) {
		*why = n >= 3 ? bad_magic(in) : "not an ftcluster handshake";
		return false;
	}
	return true;
}

static void mac(uint8_t out[32], const struct ft_cluster_key *k, char who, const uint8_t th[32])
{
	uint8_t msg[11 + 32];
	memcpy(msg, "ftcluster ", 10);
	msg[10] = (uint8_t)who;
	memcpy(msg + 11, th, 32);
	crypto_auth_hmacsha512256(out, msg, sizeof(msg), k->bytes);
}

static void transcript(struct ft_seal *s, const uint8_t *hello2)
{
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, sizeof(s->th));
	crypto_generichash_update(&h, s->hello1, sizeof(s->hello1));
	crypto_generichash_update(&h, hello2, FT_SEAL_HELLO2_BYTES - 32);
	crypto_generichash_final(&h, s->th, sizeof(s->th));
}

/* The record keys: the ephemeral exchange's, bound to K and this
 * connection's transcript. */
static int derive(struct ft_seal *s, const uint8_t *peer_epk)
{
	uint8_t rx[crypto_kx_SESSIONKEYBYTES], tx[crypto_kx_SESSIONKEYBYTES];
	int r = s->initiator ? crypto_kx_client_session_keys(rx, tx, s->epk, s->esk, peer_epk)
			     : crypto_kx_server_session_keys(rx, tx, s->epk, s->esk, peer_epk);
	if (r == 0) {
		uint8_t in[crypto_kx_SESSIONKEYBYTES + 32];
		memcpy(in + crypto_kx_SESSIONKEYBYTES, s->th, 32);
		memcpy(in, tx, sizeof(tx));
		crypto_generichash(s->tx, sizeof(s->tx), in, sizeof(in), s->key.bytes,
				   sizeof(s->key.bytes));
		memcpy(in, rx, sizeof(rx));
		crypto_generichash(s->rx, sizeof(s->rx), in, sizeof(in), s->key.bytes,
				   sizeof(s->key.bytes));
		sodium_memzero(in, sizeof(in));
	}
	sodium_memzero(rx, sizeof(rx));
	sodium_memzero(tx, sizeof(tx));
	sodium_memzero(s->esk, sizeof(s->esk));
	return r;
}

static long fail(struct ft_seal *s, const char **why, const char *what)
{
	*why = what;
	ft_seal_wipe(s);
	s->state = FT_SEAL_FAILED;
	return -1;
}

void ft_seal_begin(struct ft_seal *s, bool initiator, const struct ft_keyring *kr,
		   struct ft_buf *out)
{
	memset(s, 0, sizeof(*s));
	s->initiator = initiator;
	crypto_kx_keypair(s->epk, s->esk);
	if (!initiator) {
		s->state = FT_SEAL_WANT_HELLO1;
		return;
	}
	s->key = kr->current;
	memcpy(s->hello1, magic, 4);
	memcpy(s->hello1 + 4, s->key.id, FT_KEY_ID_BYTES);
	memcpy(s->hello1 + 4 + FT_KEY_ID_BYTES, s->epk, 32);
	ft_buf_append(out, s->hello1, sizeof(s->hello1));
	s->state = FT_SEAL_WANT_HELLO2;
}

static long take_hello1(struct ft_seal *s, const struct ft_keyring *kr, const uint8_t *in,
			struct ft_buf *out, const char **why)
{
	const struct ft_cluster_key *k = ft_keyring_find(kr, in + 4);
	if (!k)
		return fail(s, why, "the peer speaks another cluster key (paths.key_file)");
	s->key = *k;
	memcpy(s->hello1, in, sizeof(s->hello1));
	uint8_t *h2 = ft_buf_extend(out, FT_SEAL_HELLO2_BYTES);
	memcpy(h2, magic, 4);
	memcpy(h2 + 4, s->key.id, FT_KEY_ID_BYTES);
	memcpy(h2 + 4 + FT_KEY_ID_BYTES, s->epk, 32);
	transcript(s, h2);
	mac(h2 + FT_SEAL_HELLO1_BYTES, &s->key, 'R', s->th);
	if (derive(s, in + 4 + FT_KEY_ID_BYTES) < 0)
		return fail(s, why, "the peer's ephemeral key is unusable");
	s->state = FT_SEAL_WANT_HELLO3;
	return FT_SEAL_HELLO1_BYTES;
}

static long take_hello2(struct ft_seal *s, const uint8_t *in, struct ft_buf *out, const char **why)
{
	if (sodium_memcmp(in + 4, s->key.id, FT_KEY_ID_BYTES) != 0)
		return fail(s, why, "the peer answered with another cluster key");
	transcript(s, in);
	uint8_t want[32];
	mac(want, &s->key, 'R', s->th);
	int ok = crypto_verify_32(want, in + FT_SEAL_HELLO1_BYTES);
	sodium_memzero(want, sizeof(want));
	if (ok != 0)
		return fail(s, why, "the peer does not hold the cluster key (bad handshake mac)");
	if (derive(s, in + 4 + FT_KEY_ID_BYTES) < 0)
		return fail(s, why, "the peer's ephemeral key is unusable");
	mac(ft_buf_extend(out, FT_SEAL_HELLO3_BYTES), &s->key, 'I', s->th);
	s->state = FT_SEAL_OPEN;
	return FT_SEAL_HELLO2_BYTES;
}

static long take_hello3(struct ft_seal *s, const uint8_t *in, const char **why)
{
	uint8_t want[32];
	mac(want, &s->key, 'I', s->th);
	int ok = crypto_verify_32(want, in);
	sodium_memzero(want, sizeof(want));
	if (ok != 0)
		return fail(s, why, "the peer does not hold the cluster key (bad handshake mac)");
	s->state = FT_SEAL_OPEN;
	return FT_SEAL_HELLO3_BYTES;
}

long ft_seal_handshake(struct ft_seal *s, const struct ft_keyring *kr, const uint8_t *in,
		       size_t len, struct ft_buf *out, const char **why)
{
	switch (s->state) {
	case FT_SEAL_WANT_HELLO1:
		if (!magic_ok(in, len, why))
			return fail(s, why, *why);
		return len < FT_SEAL_HELLO1_BYTES ? 0 : take_hello1(s, kr, in, out, why);
	case FT_SEAL_WANT_HELLO2:
		if (!magic_ok(in, len, why))
			return fail(s, why, *why);
		return len < FT_SEAL_HELLO2_BYTES ? 0 : take_hello2(s, in, out, why);
	case FT_SEAL_WANT_HELLO3:
		return len < FT_SEAL_HELLO3_BYTES ? 0 : take_hello3(s, in, why);
	case FT_SEAL_OPEN:
		return 0;
	case FT_SEAL_FAILED:
		break;
	}
	*why = "the handshake failed already";
	return -1;
}

static void nonce_of(uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES], uint64_t n)
{
	memset(nonce, 0, crypto_aead_chacha20poly1305_IETF_NPUBBYTES);
	ft_put_be64(nonce + 4, n);
}

void ft_seal_write(struct ft_seal *s, const void *plain, size_t len, struct ft_buf *out)
{
	const uint8_t *p = plain;
	while (len > 0) {
		size_t n = len < FT_SEAL_RECORD_MAX ? len : FT_SEAL_RECORD_MAX;
		uint8_t *rec = ft_buf_extend(out, FT_SEAL_RECORD_OVERHEAD + n);
		ft_put_be32(rec, (uint32_t)(n + crypto_aead_chacha20poly1305_IETF_ABYTES));
		uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
		nonce_of(nonce, s->tx_n++);
		crypto_aead_chacha20poly1305_ietf_encrypt(rec + 4, NULL, p, n, rec, 4, NULL, nonce,
							  s->tx);
		p += n;
		len -= n;
	}
}

long ft_seal_open_record(struct ft_seal *s, const uint8_t *in, size_t len, struct ft_buf *plain,
			 const char **why)
{
	if (len < 4)
		return 0;
	uint32_t clen = ft_get_be32(in);
	if (clen < crypto_aead_chacha20poly1305_IETF_ABYTES ||
	    clen > FT_SEAL_RECORD_MAX + crypto_aead_chacha20poly1305_IETF_ABYTES) {
		*why = "sealed record of an impossible length";
		return -1;
	}
	if (len - 4 < clen)
		return 0;
	size_t n = clen - crypto_aead_chacha20poly1305_IETF_ABYTES;
	size_t before = plain->len;
	uint8_t *dst = ft_buf_extend(plain, n);
	uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
	nonce_of(nonce, s->rx_n);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(dst, NULL, NULL, in + 4, clen, in, 4, nonce,
						      s->rx) != 0) {
		plain->len = before;
		plain->data[before] = '\0';
		*why = "a sealed record does not open (forged, replayed, reordered or damaged)";
		return -1;
	}
	s->rx_n++;
	return (long)(4 + clen);
}

void ft_seal_wipe(struct ft_seal *s)
{
	sodium_memzero(s, sizeof(*s));
}
