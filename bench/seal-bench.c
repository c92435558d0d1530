/* What sealing member links costs (issue 13's goal: under 1 ms a request
 * at p50), against a baseline measured in the same run: the same frames
 * framed but not sealed.
 *
 * A hello-world request crosses four links, each way once at least:
 * SUBMIT (gateway -> leader), ASSIGN (leader -> worker), RESULT (worker ->
 * leader), RESULT (leader -> gateway), then ACK and RELEASE.  The bench
 * encodes those six frames with typical sizes, seals and opens each, and
 * prints the median of many rounds; a handshake (once per connection,
 * not per request) is timed too.  Prints figures only; exits non-zero only
 * if a record fails to open. */
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/frame.h"
#include "lib/keyring.h"
#include "lib/seal.h"
#include "lib/util.h"

#define ROUNDS 2001

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp);
	return v[n / 2];
}

static const char hello_src[] = "public class Hello { public String run() { return \"Hello, "
				"world\"; } } // a typical first program, about 120 bytes";

struct msg {
	int type;
	const char *meta;
	size_t blob;
};

static const struct msg request[] = {
	{ FT_FRAME_SUBMIT, "{\"req\":123456789012345,\"job\":{\"capture\":true,\"stdin\":\"\"}}",
	  sizeof(hello_src) },
	{ FT_FRAME_ASSIGN, "{\"req\":123456789012345,\"epoch\":4294967401,\"attempt\":1}",
	  sizeof(hello_src) },
	{ FT_FRAME_RESULT,
	  "{\"req\":123456789012345,\"epoch\":4294967401,\"verdict\":\"ok\",\"time_ms\":4,"
	  "\"wall_ms\":21,\"memory_kb\":38000,\"stdout_bytes\":0,\"stderr_bytes\":0}",
	  64 },
	{ FT_FRAME_RESULT,
	  "{\"req\":123456789012345,\"epoch\":4294967401,\"verdict\":\"ok\",\"time_ms\":4,"
	  "\"wall_ms\":21,\"memory_kb\":38000,\"stdout_bytes\":0,\"stderr_bytes\":0}",
	  64 },
	{ FT_FRAME_ACK, "{\"req\":123456789012345}", 0 },
	{ FT_FRAME_RELEASE, "{\"req\":123456789012345}", 0 },
};
#define N_MSG (sizeof(request) / sizeof(request[0]))

static void frames(struct ft_buf *out, struct json_object **metas, const uint8_t *blob)
{
	for (size_t i = 0; i < N_MSG; i++)
		ft_frame_encode(out, request[i].type, metas[i], blob, request[i].blob, 1 << 20);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	struct ft_keyring kr;
	memset(&kr, 0, sizeof(kr));
	ft_key_generate(kr.current.bytes);
	ft_key_set_id(&kr.current);
	uint8_t blob[256];
	memset(blob, 'x', sizeof(blob));
	struct json_object *metas[N_MSG];
	for (size_t i = 0; i < N_MSG; i++)
		metas[i] = json_tokener_parse(request[i].meta);

	static double plain_us[ROUNDS], sealed_us[ROUNDS], shake_us[ROUNDS / 4];
	struct ft_buf a = { 0 }, b = { 0 }, c = { 0 };
	size_t plain_bytes = 0, sealed_bytes = 0;
	for (int r = 0; r < ROUNDS; r++) {
		/* Baseline: encode the frames and decode them, no sealing. */
		double t0 = now_us();
		frames(&a, metas, blob);
		const char *why = NULL;
		for (size_t off = 0; off < a.len;) {
			struct ft_frame f;
			long n = ft_frame_decode((const uint8_t *)a.data + off, a.len - off,
						 1 << 20, &f, &why);
			ft_frame_release(&f);
			off += (size_t)n;
		}
		plain_us[r] = now_us() - t0;
		plain_bytes = a.len;
		ft_buf_consume(&a, a.len);
	}
	/* One open link per direction is enough: each frame is sealed once
	 * and opened once, as on its link. */
	struct ft_seal si, sr;
	{
		struct ft_buf to_r = { 0 }, to_i = { 0 };
		const char *why = NULL;
		ft_seal_begin(&si, true, &kr, &to_r);
		ft_seal_begin(&sr, false, &kr, &to_i);
		ft_seal_handshake(&sr, &kr, (const uint8_t *)to_r.data, to_r.len, &to_i, &why);
		ft_buf_consume(&to_r, to_r.len);
		ft_seal_handshake(&si, &kr, (const uint8_t *)to_i.data, to_i.len, &to_r, &why);
		ft_seal_handshake(&sr, &kr, (const uint8_t *)to_r.data, to_r.len, &to_i, &why);
		ft_buf_free(&to_r);
		ft_buf_free(&to_i);
	}
	for (int r = 0; r < ROUNDS; r++) {
		double t0 = now_us();
		/* As lib/conn.c does: each frame sealed as it is sent. */
		for (size_t i = 0; i < N_MSG; i++) {
			ft_frame_encode(&a, request[i].type, metas[i], blob, request[i].blob,
					1 << 20);
			ft_seal_write(&si, a.data, a.len, &b);
			ft_buf_consume(&a, a.len);
		}
		const char *why = NULL;
		for (size_t off = 0; off < b.len;) {
			long n = ft_seal_open_record(&sr, (const uint8_t *)b.data + off,
						     b.len - off, &c, &why);
			if (n <= 0) {
				fprintf(stderr, "seal-bench: a record did not open: %s\n", why);
				return 1;
			}
			off += (size_t)n;
		}
		for (size_t off = 0; off < c.len;) {
			struct ft_frame f;
			long n = ft_frame_decode((const uint8_t *)c.data + off, c.len - off,
						 1 << 20, &f, &why);
			ft_frame_release(&f);
			off += (size_t)n;
		}
		sealed_us[r] = now_us() - t0;
		sealed_bytes = b.len;
		ft_buf_consume(&a, a.len);
		ft_buf_consume(&b, b.len);
		ft_buf_consume(&c, c.len);
	}
	for (int r = 0; r < ROUNDS / 4; r++) {
		struct ft_seal i, s;
		struct ft_buf to_r = { 0 }, to_i = { 0 };
		const char *why = NULL;
		double t0 = now_us();
		ft_seal_begin(&i, true, &kr, &to_r);
		ft_seal_begin(&s, false, &kr, &to_i);
		ft_seal_handshake(&s, &kr, (const uint8_t *)to_r.data, to_r.len, &to_i, &why);
		ft_buf_consume(&to_r, to_r.len);
		ft_seal_handshake(&i, &kr, (const uint8_t *)to_i.data, to_i.len, &to_r, &why);
		ft_seal_handshake(&s, &kr, (const uint8_t *)to_r.data, to_r.len, &to_i, &why);
		shake_us[r] = now_us() - t0;
		ft_buf_free(&to_r);
		ft_buf_free(&to_i);
	}
	double p = median(plain_us, ROUNDS), s = median(sealed_us, ROUNDS);
	double h = median(shake_us, ROUNDS / 4);
	printf("## What sealing member links costs (bench/seal-bench, median of %d rounds)\n\n",
	       ROUNDS);
	printf("| per hello-world request (6 frames, both ends) | baseline: framed only | sealed "
	       "| added |\n|---|---|---|---|\n");
	printf("| CPU time | %.1f µs | %.1f µs | %.1f µs (%.2f×) |\n", p, s, s - p, s / p);
	printf("| bytes on the wire | %zu | %zu | %zu |\n", plain_bytes, sealed_bytes,
	       sealed_bytes - plain_bytes);
	printf("\nOne handshake (both ends, once per connection, not per request): %.0f µs.\n", h);
	printf("Goal (issue 13): under 1000 µs a request; measured %.1f µs added, %.3f of it.\n",
	       s - p, (s - p) / 1000.0);
	for (size_t i = 0; i < N_MSG; i++)
		json_object_put(metas[i]);
	ft_buf_free(&a);
	ft_buf_free(&b);
	ft_buf_free(&c);
	return 0;
}
