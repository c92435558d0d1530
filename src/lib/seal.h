/* A sealed channel between two members over one TCP connection: both
 * prove they hold the cluster key (lib/keyring.h), then every byte either
 * way travels in authenticated, encrypted records.
 *
 * Handshake, before any frame (the initiator is the side that connected):
 *
 *   I -> R  hello1  "FTS" 1 | key id (8) | I's ephemeral X25519 key (32)
 *   R -> I  hello2  "FTS" 1 | key id (8) | R's ephemeral X25519 key (32) | mac_R (32)
 *   I -> R  hello3  mac_I (32), then I's records at once
 *
 *   th    = BLAKE2b-256(hello1 | hello2 without its mac)
 *   mac_X = HMAC-SHA-512-256(K, "ftcluster R" or "ftcluster I" | th)
 *   keys  = crypto_kx session keys of the two ephemeral keys, each then
 *           BLAKE2b-256 keyed with K over (that key | th)
 *
 * The ephemeral keys are each side's fresh nonce: a recorded handshake
 * replayed meets a new key and a new th, and its mac_I no longer fits.
 * A stranger without K cannot make a mac (nor learn one worth anything:
 * each th is new), and cannot read or forge records; a later theft of K
 * does not open recorded traffic (the session keys came from ephemeral
 * keys that are gone).  The key id lets a responder pick which of its keys
 * (current, next) the initiator speaks; both macs cover it.
 *
 * Records:  length L (4, big-endian) | ChaCha20-Poly1305-IETF ciphertext (L)
 * with the length as associated data and the record's number in its
 * direction as nonce: a record dropped, replayed, reordered or moved from
 * another connection fails to open.
 *
 * Pure: bytes in, bytes out; lib/conn.c drives it on a socket. */
#ifndef FT_SEAL_H
#define FT_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/keyring.h"
#include "lib/util.h"

#define FT_SEAL_HELLO1_BYTES (4 + FT_KEY_ID_BYTES + 32)
#define FT_SEAL_HELLO2_BYTES (FT_SEAL_HELLO1_BYTES + 32)
#define FT_SEAL_HELLO3_BYTES 32
/* Plaintext bytes in one record at most: frames larger are split. */
#define FT_SEAL_RECORD_MAX 65536
/* A record's bytes beyond its plaintext: length and tag. */
#define FT_SEAL_RECORD_OVERHEAD (4 + 16)

enum ft_seal_state {
	FT_SEAL_WANT_HELLO1, /* responder */
	FT_SEAL_WANT_HELLO2, /* initiator, hello1 sent */
	FT_SEAL_WANT_HELLO3, /* responder, hello2 sent */
	FT_SEAL_OPEN,
	FT_SEAL_FAILED,
};

struct ft_seal {
	enum ft_seal_state state;
	bool initiator;
	struct ft_cluster_key key; /* the one both sides speak */
	uint8_t esk[32], epk[32];  /* ephemeral; wiped once open */
	uint8_t hello1[FT_SEAL_HELLO1_BYTES];
	uint8_t th[32];
	uint8_t tx[32], rx[32];
	uint64_t tx_n, rx_n;
};

/* Begins a handshake.  An initiator's hello1, to be sent first, is
 * appended to out; NULL for a responder.  The initiator speaks
 * kr->current. */
void ft_seal_begin(struct ft_seal *s, bool initiator, const struct ft_keyring *kr,
		   struct ft_buf *out);

/* Feeds handshake bytes (in[0..len)): returns how many it used (> 0), 0
 * if more are needed, -1 if the peer failed (why says how; the seal is
 * then FAILED).  What to send back is appended to out.  Once open, the
 * caller passes further bytes to ft_seal_open_record. */
long ft_seal_handshake(struct ft_seal *s, const struct ft_keyring *kr, const uint8_t *in,
		       size_t len, struct ft_buf *out, const char **why);

static inline bool ft_seal_is_open(const struct ft_seal *s)
{
	return s->state == FT_SEAL_OPEN;
}

/* Seals plain[0..len) into records appended to out.  Open seals only. */
void ft_seal_write(struct ft_seal *s, const void *plain, size_t len, struct ft_buf *out);

/* Opens one record from in[0..len) into plain (appended): bytes used
 * (> 0), 0 if the record is not all there, -1 if it does not open (why). */
long ft_seal_open_record(struct ft_seal *s, const uint8_t *in, size_t len, struct ft_buf *plain,
			 const char **why);

void ft_seal_wipe(struct ft_seal *s);

#endif
