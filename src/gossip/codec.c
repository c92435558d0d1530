#include "gossip/codec.h"
#include "lib/bytes.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MAX_MEMBER_ID 65535u

_Static_assert(FT_GOSSIP_MAC_KEY_BYTES == crypto_auth_hmacsha512256_KEYBYTES, "gossip MAC key");
_Static_assert(FT_GOSSIP_MAC_BYTES <= crypto_auth_hmacsha512256_BYTES, "gossip MAC length");
_Static_assert(FT_KEY_BYTES == crypto_kdf_KEYBYTES, "cluster key as a KDF key");

static const uint8_t magic[4] = { 'F', 'T', 'G', 'S' };

/* The KDF's context: 8 bytes that no other use of the cluster key shares. */
static const char kdf_context[crypto_kdf_CONTEXTBYTES] = { 'f', 't', 'g', 'o', 's', 's', 'i', 'p' };

void ft_gossip_key_derive(struct ft_gossip_key *gk, const struct ft_cluster_key *k)
{
	memcpy(gk->id, k->id, sizeof(gk->id));
	crypto_kdf_derive_from_key(gk->mac, sizeof(gk->mac), 1, kdf_context, k->bytes);
}

void ft_gossip_key_wipe(struct ft_gossip_key *gk)
{
	sodium_memzero(gk, sizeof(*gk));
}

static void mac_of(uint8_t out[crypto_auth_hmacsha512256_BYTES], const struct ft_gossip_key *k,
		   const uint8_t *buf, size_t len)
{
	crypto_auth_hmacsha512256(out, buf, len, k->mac);
}

ssize_t ft_gossip_encode(const struct ft_gossip_msg *m, const struct ft_gossip_key *k, uint8_t *buf,
			 size_t cap)
{
	/* A count the decoder would refuse is never put on the wire. */
	if (!m || !k || m->n > FT_GOSSIP_MAX_ENTRIES)
		return -1;
	size_t body = FT_GOSSIP_HEADER_BYTES + FT_GOSSIP_ENTRY_BYTES * m->n;
	size_t len = body + FT_GOSSIP_MAC_BYTES;
	if (!buf || cap < len)
		return -1;

	memcpy(buf, magic, sizeof magic);
	buf[4] = FT_GOSSIP_VERSION;
	buf[5] = 0;
	ft_put_be16(buf + 6, (uint16_t)m->n);
	ft_put_be32(buf + 8, m->sender);
	ft_put_be64(buf + 12, m->sender_incarnation);
	ft_put_be64(buf + 20, m->sent_ms);
	memcpy(buf + 28, k->id, FT_KEY_ID_BYTES);
	ft_put_be64(buf + 36, m->counter);

	uint8_t *p = buf + FT_GOSSIP_HEADER_BYTES;
	for (size_t i = 0; i < m->n; i++, p += FT_GOSSIP_ENTRY_BYTES) {
		const struct ft_gossip_entry *e = &m->e[i];
		ft_put_be32(p, e->id);
		ft_put_be64(p + 4, e->incarnation);
		ft_put_be64(p + 12, e->heartbeat);
		p[20] = e->state;
	}
	uint8_t tag[crypto_auth_hmacsha512256_BYTES];
	mac_of(tag, k, buf, body);
	memcpy(buf + body, tag, FT_GOSSIP_MAC_BYTES);
	return (ssize_t)len;
}

static enum ft_gossip_verdict fail(const char **why, enum ft_gossip_verdict v, const char *text)
{
	if (why)
		*why = text;
	return v;
}

static const struct ft_gossip_key *key_by_id(const struct ft_gossip_key *keys, size_t n,
					     const uint8_t *id)
{
	for (size_t i = 0; keys && i < n; i++)
		if (sodium_memcmp(keys[i].id, id, FT_KEY_ID_BYTES) == 0)
			return &keys[i];
	return NULL;
}

/* Whether the last FT_GOSSIP_MAC_BYTES of buf are the MAC of the rest. */
static bool mac_ok(const struct ft_gossip_key *k, const uint8_t *buf, size_t len)
{
	uint8_t want[crypto_auth_hmacsha512256_BYTES];
	size_t body = len - FT_GOSSIP_MAC_BYTES;
	mac_of(want, k, buf, body);
	bool ok = crypto_verify_16(want, buf + body) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
}

/* Read only once the MAC is known to be right. */
static const char *check_header(const uint8_t *buf, size_t len)
{
	if (buf[5] != 0)
		return "reserved flags set";
	size_t n = ft_get_be16(buf + 6);
	if (n > FT_GOSSIP_MAX_ENTRIES)
		return "too many entries";
	/* Exact length: trailing bytes would mean sender and receiver disagree
	 * about the format, and that must not pass silently. */
	if (len != FT_GOSSIP_OVERHEAD_BYTES + FT_GOSSIP_ENTRY_BYTES * n)
		return "length does not match entry count";
	if (ft_get_be32(buf + 8) > MAX_MEMBER_ID)
		return "sender id out of range";
	return NULL;
}

enum ft_gossip_verdict ft_gossip_decode(const uint8_t *buf, size_t len,
					const struct ft_gossip_key *keys, size_t n_keys,
					struct ft_gossip_msg *out, const char **why)
{
	if (!buf || !out)
		return fail(why, FT_GOSSIP_MALFORMED, "no buffer");
	if (len < FT_GOSSIP_OVERHEAD_BYTES)
		return fail(why, FT_GOSSIP_MALFORMED, "datagram shorter than header");
	if (memcmp(buf, magic, sizeof magic) != 0)
		return fail(why, FT_GOSSIP_MALFORMED, "bad magic");
	if (buf[4] != FT_GOSSIP_VERSION)
		return fail(why, FT_GOSSIP_MALFORMED,
			    buf[4] == 1 ? "unsupported version (1: a member without gossip MACs)"
					: "unsupported version");
	const struct ft_gossip_key *k = key_by_id(keys, n_keys, buf + 28);
	if (!k)
		return fail(why, FT_GOSSIP_UNKNOWN_KEY,
			    "unknown cluster key id (not paths.key_file nor key_file_next here)");
	if (!mac_ok(k, buf, len))
		return fail(why, FT_GOSSIP_BAD_MAC, "bad mac");

	const char *bad = check_header(buf, len);
	if (bad)
		return fail(why, FT_GOSSIP_MALFORMED, bad);
	out->n = ft_get_be16(buf + 6);
	out->sender = ft_get_be32(buf + 8);
	out->sender_incarnation = ft_get_be64(buf + 12);
	out->sent_ms = ft_get_be64(buf + 20);
	out->counter = ft_get_be64(buf + 36);

	/* One bit per possible ID: linear in the entry count, whatever the IDs. */
	uint8_t seen[(MAX_MEMBER_ID + 1) / 8];
	memset(seen, 0, sizeof seen);

	const uint8_t *p = buf + FT_GOSSIP_HEADER_BYTES;
	for (size_t i = 0; i < out->n; i++, p += FT_GOSSIP_ENTRY_BYTES) {
		struct ft_gossip_entry *e = &out->e[i];
		e->id = ft_get_be32(p);
		e->incarnation = ft_get_be64(p + 4);
		e->heartbeat = ft_get_be64(p + 12);
		e->state = p[20];
		if (e->id > MAX_MEMBER_ID)
			return fail(why, FT_GOSSIP_MALFORMED, "entry id out of range");
		if (e->state != FT_MEMBER_ALIVE && e->state != FT_MEMBER_FAILED)
			return fail(why, FT_GOSSIP_MALFORMED, "bad entry state");
		uint8_t bit = (uint8_t)(1u << (e->id & 7));
		if (seen[e->id >> 3] & bit)
			return fail(why, FT_GOSSIP_MALFORMED, "duplicate entry id");
		seen[e->id >> 3] |= bit;
	}
	return FT_GOSSIP_OK;
}

const char *ft_member_state_name(int state)
{
	switch (state) {
	case FT_MEMBER_ALIVE:
		return "alive";
	case FT_MEMBER_FAILED:
		return "failed";
	default:
		return "unknown";
	}
}

/* Appends to a bounded buffer; once full, later pieces are dropped and
 * *truncated records that the line is incomplete. */
struct sink {
	char *buf;
	size_t cap;
	size_t len;
	bool truncated;
};

static void sink_took(struct sink *s, int r)
{
	if (r < 0) {
		s->truncated = true;
		return;
	}
	size_t room = s->cap - s->len;
	if ((size_t)r >= room) {
		s->len = s->cap - 1;
		s->truncated = true;
	} else {
		s->len += (size_t)r;
	}
}

void ft_gossip_format(const struct ft_gossip_msg *m, char *buf, size_t cap)
{
	if (!buf || cap == 0)
		return;
	buf[0] = '\0';
	if (!m)
		return;

	struct sink s = { .buf = buf, .cap = cap };
	sink_took(&s,
		  snprintf(s.buf + s.len, s.cap - s.len,
			   "from %" PRIu32 " inc %" PRIu64 " sent %" PRIu64 " counter %" PRIu64 ":",
			   m->sender, m->sender_incarnation, m->sent_ms, m->counter));
	size_t n = m->n <= FT_GOSSIP_MAX_ENTRIES ? m->n : FT_GOSSIP_MAX_ENTRIES;
	for (size_t i = 0; i < n && !s.truncated; i++) {
		const struct ft_gossip_entry *e = &m->e[i];
		sink_took(&s,
			  snprintf(s.buf + s.len, s.cap - s.len,
				   " [%" PRIu32 " inc %" PRIu64 " hb %" PRIu64 " %s]", e->id,
				   e->incarnation, e->heartbeat, ft_member_state_name(e->state)));
	}
	/* Make a cut line recognisable as such in the log. */
	if (s.truncated && cap >= 4)
		memcpy(buf + cap - 4, "...", 4);
}
