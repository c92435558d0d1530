#include "gossip/codec.h"
#include "lib/bytes.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MAX_MEMBER_ID 65535u

static const uint8_t magic[4] = { 'F', 'T', 'G', 'S' };

ssize_t ft_gossip_encode(const struct ft_gossip_msg *m, uint8_t *buf, size_t cap)
{
	/* A count the decoder would refuse is never put on the wire. */
	if (!m || m->n > FT_GOSSIP_MAX_ENTRIES)
		return -1;
	size_t len = FT_GOSSIP_HEADER_BYTES + FT_GOSSIP_ENTRY_BYTES * m->n;
	if (!buf || cap < len)
		return -1;

	memcpy(buf, magic, sizeof magic);
	buf[4] = FT_GOSSIP_VERSION;
	buf[5] = 0;
	ft_put_be16(buf + 6, (uint16_t)m->n);
	ft_put_be32(buf + 8, m->sender);
	ft_put_be64(buf + 12, m->sender_incarnation);
	ft_put_be64(buf + 20, m->sent_ms);

	uint8_t *p = buf + FT_GOSSIP_HEADER_BYTES;
	for (size_t i = 0; i < m->n; i++, p += FT_GOSSIP_ENTRY_BYTES) {
		const struct ft_gossip_entry *e = &m->e[i];
		ft_put_be32(p, e->id);
		ft_put_be64(p + 4, e->incarnation);
		ft_put_be64(p + 12, e->heartbeat);
		p[20] = e->state;
	}
	return (ssize_t)len;
}

static int fail(const char **why, const char *text)
{
	if (why)
		*why = text;
	return -1;
}

static const char *check_header(const uint8_t *buf, size_t len)
{
	if (len < FT_GOSSIP_HEADER_BYTES)
		return "datagram shorter than header";
	if (memcmp(buf, magic, sizeof magic) != 0)
		return "bad magic";
	if (buf[4] != FT_GOSSIP_VERSION)
		return "unsupported version";
	if (buf[5] != 0)
		return "reserved flags set";
	size_t n = ft_get_be16(buf + 6);
	if (n > FT_GOSSIP_MAX_ENTRIES)
		return "too many entries";
	/* Exact length: trailing bytes would mean sender and receiver disagree
	 * about the format, and that must not pass silently. */
	if (len != FT_GOSSIP_HEADER_BYTES + FT_GOSSIP_ENTRY_BYTES * n)
		return "length does not match entry count";
	if (ft_get_be32(buf + 8) > MAX_MEMBER_ID)
		return "sender id out of range";
	return NULL;
}

int ft_gossip_decode(const uint8_t *buf, size_t len, struct ft_gossip_msg *out, const char **why)
{
	if (!buf || !out)
		return fail(why, "no buffer");
	const char *bad = check_header(buf, len);
	if (bad)
		return fail(why, bad);

	out->n = ft_get_be16(buf + 6);
	out->sender = ft_get_be32(buf + 8);
	out->sender_incarnation = ft_get_be64(buf + 12);
	out->sent_ms = ft_get_be64(buf + 20);

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
			return fail(why, "entry id out of range");
		if (e->state != FT_MEMBER_ALIVE && e->state != FT_MEMBER_FAILED)
			return fail(why, "bad entry state");
		uint8_t bit = (uint8_t)(1u << (e->id & 7));
		if (seen[e->id >> 3] & bit)
			return fail(why, "duplicate entry id");
		seen[e->id >> 3] |= bit;
	}
	return 0;
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
	sink_took(&s, snprintf(s.buf + s.len, s.cap - s.len,
			       "from %" PRIu32 " inc %" PRIu64 " sent %" PRIu64 ":", m->sender,
			       m->sender_incarnation, m->sent_ms));
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
