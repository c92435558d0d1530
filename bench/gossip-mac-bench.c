/* What authenticating a gossip datagram costs (not a test): for tables of
 * a few sizes, the time to encode + decode a datagram with the codec the
 * daemons use (src/gossip/codec.c, MAC made and verified), the time of the
 * MAC steps alone (HMAC-SHA-512/256 over the same bytes, once to make and
 * once to verify, as the codec does), and so the codec without them; and
 * the bytes authentication adds.  Each figure is the fastest of 7 rounds,
 * the two kinds interleaved, so that a load that comes and goes does not
 * fall on one of them only.  Run by bench/gossip-bench.py, or alone:
 *
 *     ./gossip-mac-bench [SECONDS_PER_CASE]     (default 0.3)
 *
 * Prints one line per size, then a Markdown table.  Exit status 0, or 1
 * when libsodium cannot start or a datagram does not decode. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gossip/codec.h"

/* What version 1 (no authentication) had and version 2 adds. */
#define V1_OVERHEAD 28
#define AUTH_BYTES (FT_GOSSIP_OVERHEAD_BYTES - V1_OVERHEAD)
#define ROUNDS 7

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct ft_gossip_msg msg, back;
static uint8_t buf[FT_GOSSIP_MAX_BYTES];
static struct ft_gossip_key key;
static volatile uint8_t sink;

static void fill(size_t n)
{
	memset(&msg, 0, sizeof(msg));
	msg.sender = 3;
	msg.sender_incarnation = 1764100000123ull;
	msg.sent_ms = 1764100009999ull;
	for (size_t i = 0; i < n; i++)
		msg.e[msg.n++] = (struct ft_gossip_entry){ .id = (uint32_t)i,
							   .incarnation = 1764100000000ull + i,
							   .heartbeat = 1000 + i,
							   .state = FT_MEMBER_ALIVE };
}

/* ns per datagram: encode and decode (MAC made and verified). */
static double time_codec(double secs, size_t *len_out)
{
	long iters = 0;
	double t0 = now_s(), t;
	do {
		for (int k = 0; k < 256; k++) {
			msg.counter++;
			ssize_t len = ft_gossip_encode(&msg, &key, buf, sizeof(buf));
			if (len < 0 || ft_gossip_decode(buf, (size_t)len, &key, 1, &back, NULL) !=
					       FT_GOSSIP_OK) {
				fprintf(stderr, "gossip-mac-bench: a datagram does not decode\n");
				exit(1);
			}
			*len_out = (size_t)len;
		}
		iters += 256;
		t = now_s();
	} while (t - t0 < secs);
	return (t - t0) * 1e9 / (double)iters;
}

/* ns per datagram: the MAC steps alone, over the same bytes. */
static double time_mac(double secs, size_t len)
{
	uint8_t tag[crypto_auth_hmacsha512256_BYTES], want[crypto_auth_hmacsha512256_BYTES];
	size_t body = len - FT_GOSSIP_MAC_BYTES;
	long iters = 0;
	double t0 = now_s(), t;
	do {
		for (int k = 0; k < 256; k++) {
			buf[36] ^= 1; /* a new counter each time, as on the wire */
			crypto_auth_hmacsha512256(tag, buf, body, key.mac);
			memcpy(buf + body, tag, FT_GOSSIP_MAC_BYTES);
			crypto_auth_hmacsha512256(want, buf, body, key.mac);
			sink ^= (uint8_t)crypto_verify_16(want, buf + body);
		}
		iters += 256;
		t = now_s();
	} while (t - t0 < secs);
	return (t - t0) * 1e9 / (double)iters;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 0.3;
	if (secs <= 0 || secs > 60) {
		fprintf(stderr, "usage: %s [SECONDS_PER_CASE (0-60]]\n", argv[0]);
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "gossip-mac-bench: libsodium cannot start\n");
		return 1;
	}
	struct ft_cluster_key ck;
	randombytes_buf(ck.bytes, sizeof(ck.bytes));
	memset(ck.id, 7, sizeof(ck.id));
	ft_gossip_key_derive(&key, &ck);

	static const size_t sizes[] = { 4, 8, 26, 51, 256 };
	struct {
		size_t n, len;
		double codec, mac;
	} r[sizeof(sizes) / sizeof(sizes[0])];
	size_t nr = sizeof(sizes) / sizeof(sizes[0]);
	for (size_t i = 0; i < nr; i++) {
		fill(sizes[i]);
		r[i].n = sizes[i];
		time_codec(secs / 4, &r[i].len); /* warm-up */
		/* Interleaved rounds, the fastest of each kept: on a shared
		 * machine the least disturbed run is the closest to the cost. */
		r[i].codec = r[i].mac = 1e300;
		for (int k = 0; k < ROUNDS; k++) {
			double c = time_codec(secs / ROUNDS, &r[i].len);
			double m = time_mac(secs / ROUNDS, r[i].len);
			r[i].codec = c < r[i].codec ? c : r[i].codec;
			r[i].mac = m < r[i].mac ? m : r[i].mac;
		}
		printf("entries %zu: %zu bytes, encode+decode %.2f us, of which MAC %.2f us\n",
		       r[i].n, r[i].len, r[i].codec / 1000, r[i].mac / 1000);
	}
	printf("\n| entries | bytes (v1 -> v2) | added | encode+decode | MAC make+verify | "
	       "codec without MAC | MAC share |\n|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < nr; i++) {
		double plain = r[i].codec - r[i].mac;
		printf("| %zu | %zu -> %zu | +%d (%.0f%%) | %.2f us | %.2f us | %.2f us | %.0f%% |\n",
		       r[i].n, r[i].len - AUTH_BYTES, r[i].len, AUTH_BYTES,
		       100.0 * AUTH_BYTES / (double)(r[i].len - AUTH_BYTES), r[i].codec / 1000,
		       r[i].mac / 1000, plain > 0 ? plain / 1000 : 0.0,
		       100.0 * r[i].mac / r[i].codec);
	}
	printf("\nadded per datagram: %d bytes (key id 8, counter 8, MAC %d); the MAC "
	       "columns are HMAC-SHA-512/256 over the datagram, made once and verified once\n",
	       AUTH_BYTES, FT_GOSSIP_MAC_BYTES);
	return 0;
}
