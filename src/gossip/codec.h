/* Gossip datagram codec.
 *
 * A datagram is untrusted bytes from the network: the decoder validates
 * everything (magic, version, lengths, counts, states) and never reads past
 * the buffer.  Wire format (all integers big-endian):
 *
 *   0  4  magic "FTGS"
 *   4  1  version (FT_GOSSIP_VERSION)
 *   5  1  flags (0; reserved)
 *   6  2  entry count N (<= FT_GOSSIP_MAX_ENTRIES)
 *   8  4  sender member ID
 *  12  8  sender incarnation
 *  20  8  sender's send time, ms (informational)
 *  28  N x 21-byte entries: id u32, incarnation u64, heartbeat u64, state u8
 *
 * The datagram length must be exactly 28 + 21 * N. */
#ifndef FT_GOSSIP_CODEC_H
#define FT_GOSSIP_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FT_GOSSIP_VERSION 1
#define FT_GOSSIP_HEADER_BYTES 28
#define FT_GOSSIP_ENTRY_BYTES 21
#define FT_GOSSIP_MAX_ENTRIES 256

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
	size_t n;
	struct ft_gossip_entry e[FT_GOSSIP_MAX_ENTRIES];
};

/* Returns bytes written, or -1 if cap is too small. */
ssize_t ft_gossip_encode(const struct ft_gossip_msg *m, uint8_t *buf, size_t cap);

/* Returns 0, or -1 with *why set to a static description of the defect. */
int ft_gossip_decode(const uint8_t *buf, size_t len, struct ft_gossip_msg *out, const char **why);

/* One-line human rendering of a message for the verbose log. */
void ft_gossip_format(const struct ft_gossip_msg *m, char *buf, size_t cap);

const char *ft_member_state_name(int state);

#endif
