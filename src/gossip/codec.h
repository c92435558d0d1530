/* Gossip datagram codec.
 *
 * A datagram is untrusted bytes from the network: the decoder validates
 * everything (magic, version, key, MAC, lengths, counts, states) and never
 * reads past the buffer.  Wire format, version 2 (all integers big-endian):
 *
 *   0  4  magic "FTGS"
 *   4  1  version (FT_GOSSIP_VERSION)
 *   5  1  flags (0; reserved)
 *   6  2  entry count N (<= FT_GOSSIP_MAX_ENTRIES)
 *   8  4  sender member ID
 *  12  8  sender incarnation (its start, wall-clock ms)
 *  20  8  sender's send time, wall-clock ms
 *  28  8  key id: which cluster key made the MAC (lib/keyring.h)
 *  36  8  counter: the sender's datagram number, strictly increasing
 *         within its incarnation (one count for all its targets, from 1,
 *         never reset: a new life goes on counting)
 *  44  N x 21-byte entries: id u32, incarnation u64, heartbeat u64, state u8
 *  44 + 21N  16  MAC over every byte before it
 *
 * The datagram length must be exactly 60 + 21 * N.
 *
 * The MAC is HMAC-SHA-512/256 (crypto_auth_hmacsha512256) truncated to its
 * first 16 bytes, keyed with a gossip key derived from the cluster key
 * (crypto_kdf_derive_from_key, context "ftgossip", subkey 1), so that no
 * MAC of the sealed TCP links (lib/seal.c, keyed with the cluster key
 * itself) is ever a valid gossip MAC or the reverse.  16 bytes, not 32: a
 * forger can only try online, one datagram per guess, each counted and
 * dropped by the receiver, and 2^-128 a guess is far beyond reach; the full
 * tag would make authentication add 48 bytes to every datagram instead of
 * 32.  A sender uses its current key (paths.key_file); a receiver accepts
 * its current and, during a key roll, its next key, found by the key id.
 *
 * Order of the checks: only the magic, the version and the key id are
 * read before the MAC is verified (in constant time); no other field is
 * interpreted unless the MAC is right.  The codec says only that the bytes
 * were made by a holder of the key; the receiver then (gossip.c with
 * gossip/freshness.h) requires, in this order: a configured sender ID; a
 * sender incarnation at most gossip.max_clock_skew_ms ahead of its clock,
 * and a send time at most that long ago; a counter above the highest seen
 * in that incarnation of the sender (else "replay"), and no older
 * incarnation than the newest seen (else "stale"); the sender's configured
 * address.  Only then is the counter remembered, and an entry whose
 * incarnation is beyond the bound is ignored alone: it is what a key
 * holder with a far-off clock says of another member, and refusing the
 * whole datagram would silence a healthy sender for it.  Version 1 (no
 * MAC) is refused: a cluster moves to version 2 all at once. */
#ifndef FT_GOSSIP_CODEC_H
#define FT_GOSSIP_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/keyring.h"

#define FT_GOSSIP_VERSION 2
#define FT_GOSSIP_HEADER_BYTES 44
#define FT_GOSSIP_ENTRY_BYTES 21
#define FT_GOSSIP_MAC_BYTES 16
/* Header and MAC: a datagram of N entries is this + 21 * N bytes. */
#define FT_GOSSIP_OVERHEAD_BYTES (FT_GOSSIP_HEADER_BYTES + FT_GOSSIP_MAC_BYTES)
#define FT_GOSSIP_MAX_ENTRIES 256
#define FT_GOSSIP_MAX_BYTES \
	(FT_GOSSIP_OVERHEAD_BYTES + FT_GOSSIP_ENTRY_BYTES * FT_GOSSIP_MAX_ENTRIES)
#define FT_GOSSIP_MAC_KEY_BYTES 32

enum ft_member_state {
	FT_MEMBER_ALIVE = 1,
	FT_MEMBER_FAILED = 2,
};

struct ft_gossip_entry {
	uint32_t id;
	uint64_t incarnation;
	uint64_t heartbeat;
	uint8_t state; /* enum ft_member_state */
};

struct ft_gossip_msg {
	uint32_t sender;
	uint64_t sender_incarnation;
	uint64_t sent_ms;
	uint64_t counter;
	size_t n;
	struct ft_gossip_entry e[FT_GOSSIP_MAX_ENTRIES];
};

/* A cluster key's gossip MAC key, with the id of the cluster key. */
struct ft_gossip_key {
	uint8_t id[FT_KEY_ID_BYTES];
	uint8_t mac[FT_GOSSIP_MAC_KEY_BYTES];
};

void ft_gossip_key_derive(struct ft_gossip_key *gk, const struct ft_cluster_key *k);
void ft_gossip_key_wipe(struct ft_gossip_key *gk);

/* Returns bytes written, or -1 if cap is too small (or m, k or buf is
 * NULL).  The key id and MAC are k's; the counter is m->counter. */
ssize_t ft_gossip_encode(const struct ft_gossip_msg *m, const struct ft_gossip_key *k, uint8_t *buf,
			 size_t cap);

enum ft_gossip_verdict {
	FT_GOSSIP_OK = 0,
	FT_GOSSIP_MALFORMED,   /* not a well-formed version-2 datagram */
	FT_GOSSIP_UNKNOWN_KEY, /* made with none of the keys given */
	FT_GOSSIP_BAD_MAC,     /* forged, damaged, or a key id copied without the key */
};

/* Accepts a datagram made with one of the n_keys keys (current and, during
 * a key roll, next).  Returns FT_GOSSIP_OK, or another verdict with *why set
 * to a static description of the defect. */
enum ft_gossip_verdict ft_gossip_decode(const uint8_t *buf, size_t len,
					const struct ft_gossip_key *keys, size_t n_keys,
					struct ft_gossip_msg *out, const char **why);

/* One-line human rendering of a message for the verbose log. */
void ft_gossip_format(const struct ft_gossip_msg *m, char *buf, size_t cap);

const char *ft_member_state_name(int state);

#endif
