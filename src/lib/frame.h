/* Internal TCP wire format: length-framed, versioned, size-bounded.
 *
 *   0  2  magic "FT"
 *   2  1  version (FT_FRAME_VERSION)
 *   3  1  type (enum ft_frame_type)
 *   4  4  meta length M (big-endian)
 *   8  4  blob length B (big-endian)
 *  12  M  meta: a JSON object (ids, epoch, verdict, ...)
 *  12+M B blob: raw bytes (a Java source, a result body); may be empty
 *
 * Structured fields travel as JSON so messages can grow without a version
 * bump; bytes that need not be valid UTF-8 (sources, program output) travel
 * raw in the blob. */
#ifndef FT_FRAME_H
#define FT_FRAME_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FT_FRAME_VERSION 1
#define FT_FRAME_HEADER_BYTES 12

enum ft_frame_type {
	FT_FRAME_HELLO = 1, /* introduces a connection: role, id, incarnation, epoch */
	FT_FRAME_SUBMIT,    /* gateway -> leader: req, blob = source */
	FT_FRAME_RESULT,    /* worker -> leader -> gateway: req, epoch, verdict, ...; blob = body */
	FT_FRAME_ACK,	    /* gateway -> leader: result for req received */
	FT_FRAME_ASSIGN,    /* leader -> worker: req, epoch; blob = source */
	FT_FRAME_COLLECT,   /* leader -> worker: report what you hold (new epoch) */
	FT_FRAME_INVENTORY, /* worker -> leader: running [..], done [..] */
	FT_FRAME_RELEASE,   /* leader -> worker: result for req delivered, drop it */
	FT_FRAME_REJECT,    /* stale epoch, not the leader, overloaded: reason */
	FT_FRAME_STARTED,   /* leader -> gateway: req assigned to worker (attempt n) */
	FT_FRAME_CANCEL,    /* gateway -> leader -> worker: stop running req */
	FT_FRAME_PING,	    /* either way on an idle link: I am here (lib/conn.c only) */
	FT_FRAME_TYPE_MAX = FT_FRAME_PING,
};

const char *ft_frame_type_name(int type);

struct ft_frame {
	int type;
	struct json_object *meta; /* owned by the frame */
	const uint8_t *blob;	  /* points into the decode buffer */
	size_t blob_len;
};

/* Decode one frame from the start of buf.  Returns the bytes it occupies
 * (> 0), 0 if more bytes are needed, or -1 for a malformed or oversize frame
 * (*why says what).  On success the caller owns f->meta (ft_frame_release). */
long ft_frame_decode(const uint8_t *buf, size_t len, size_t max_frame, struct ft_frame *f,
		     const char **why);
void ft_frame_release(struct ft_frame *f);

/* Append an encoded frame to out (an ft_buf).  meta may be NULL ({}). */
struct ft_buf;
int ft_frame_encode(struct ft_buf *out, int type, struct json_object *meta, const void *blob,
		    size_t blob_len, size_t max_frame);

/* Typed accessors for meta fields; return def when absent or mistyped. */
int64_t ft_meta_int(const struct ft_frame *f, const char *key, int64_t def);
uint64_t ft_meta_u64(const struct ft_frame *f, const char *key, uint64_t def);
bool ft_meta_bool(const struct ft_frame *f, const char *key, bool def);
const char *ft_meta_str(const struct ft_frame *f, const char *key, const char *def);

#endif
