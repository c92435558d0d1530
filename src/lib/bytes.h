/* Big-endian integers in byte buffers: every wire format of the cluster
 * (frames, gossip datagrams, the warm compiler's protocol) writes its
 * lengths and counters with these.  Header-only, so that a decoder built
 * alone (the fuzz harnesses) needs nothing else. */
#ifndef FT_BYTES_H
#define FT_BYTES_H

#include <stdint.h>

static inline void ft_put_be16(void *p, uint16_t v)
{
	unsigned char *b = p;
	b[0] = (unsigned char)(v >> 8);
	b[1] = (unsigned char)v;
}

static inline void ft_put_be32(void *p, uint32_t v)
{
	unsigned char *b = p;
	for (int i = 3; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)v;
}

static inline void ft_put_be64(void *p, uint64_t v)
{
	unsigned char *b = p;
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)v;
}

static inline uint16_t ft_get_be16(const void *p)
{
	const unsigned char *b = p;
	return (uint16_t)((unsigned)b[0] << 8 | b[1]);
}

static inline uint32_t ft_get_be32(const void *p)
{
	const unsigned char *b = p;
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v = v << 8 | b[i];
	return v;
}

static inline uint64_t ft_get_be64(const void *p)
{
	const unsigned char *b = p;
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

#endif
