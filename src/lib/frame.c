#include "lib/frame.h"
#include "lib/bytes.h"

#include <string.h>

#include "lib/util.h"

static const char *const type_names[] = {
	[FT_FRAME_HELLO] = "HELLO",	    [FT_FRAME_SUBMIT] = "SUBMIT",
	[FT_FRAME_RESULT] = "RESULT",	    [FT_FRAME_ACK] = "ACK",
	[FT_FRAME_ASSIGN] = "ASSIGN",	    [FT_FRAME_COLLECT] = "COLLECT",
	[FT_FRAME_INVENTORY] = "INVENTORY", [FT_FRAME_RELEASE] = "RELEASE",
	[FT_FRAME_REJECT] = "REJECT",	    [FT_FRAME_STARTED] = "STARTED",
	[FT_FRAME_CANCEL] = "CANCEL",	    [FT_FRAME_PING] = "PING",
};

const char *ft_frame_type_name(int type)
{
	if (type < 1 || type > FT_FRAME_TYPE_MAX)
		return "UNKNOWN";
	return type_names[type];
}

long ft_frame_decode(const uint8_t *buf, size_t len, size_t max_frame, struct ft_frame *f,
		     const char **why)
{
	memset(f, 0, sizeof(*f));
	/* Check the magic as soon as it is there, so garbage is refused early
	 * rather than waited on. */
	if ((len >= 1 && buf[0] != 'F') || (len >= 2 && buf[1] != 'T')) {
		*why = "bad magic";
		return -1;
	}
	if (len >= 3 && buf[2] != FT_FRAME_VERSION) {
		*why = "unsupported frame version";
		return -1;
	}
	if (len >= 4 && (buf[3] < 1 || buf[3] > FT_FRAME_TYPE_MAX)) {
		*why = "unknown frame type";
		return -1;
	}
	if (len < FT_FRAME_HEADER_BYTES)
		return 0;
	uint64_t meta_len = ft_get_be32(buf + 4), blob_len = ft_get_be32(buf + 8);
	uint64_t total = FT_FRAME_HEADER_BYTES + meta_len + blob_len;
	if (total > max_frame) {
		*why = "frame exceeds the maximum frame size";
		return -1;
	}
	if (len < total)
		return 0;
	if (meta_len == 0) {
		f->meta = json_object_new_object();
	} else {
		struct json_tokener *tok = json_tokener_new();
		f->meta = json_tokener_parse_ex(tok, (const char *)buf + FT_FRAME_HEADER_BYTES,
						(int)meta_len);
		bool complete = json_tokener_get_error(tok) == json_tokener_success &&
				json_tokener_get_parse_end(tok) == meta_len;
		json_tokener_free(tok);
		if (!f->meta || !complete || !json_object_is_type(f->meta, json_type_object)) {
			json_object_put(f->meta);
			f->meta = NULL;
			*why = "frame meta is not a JSON object";
			return -1;
		}
	}
	f->type = buf[3];
	f->blob = buf + FT_FRAME_HEADER_BYTES + meta_len;
	f->blob_len = blob_len;
	return (long)total;
}

void ft_frame_release(struct ft_frame *f)
{
	json_object_put(f->meta);
	f->meta = NULL;
}

int ft_frame_encode(struct ft_buf *out, int type, struct json_object *meta, const void *blob,
		    size_t blob_len, size_t max_frame)
{
	const char *js = meta ? json_object_to_json_string_ext(meta, JSON_C_TO_STRING_PLAIN) : "";
	size_t meta_len = strlen(js);
	if (FT_FRAME_HEADER_BYTES + meta_len + blob_len > max_frame)
		return -1;
	uint8_t hdr[FT_FRAME_HEADER_BYTES] = { 'F', 'T', FT_FRAME_VERSION, (uint8_t)type };
	ft_put_be32(hdr + 4, (uint32_t)meta_len);
	ft_put_be32(hdr + 8, (uint32_t)blob_len);
	ft_buf_append(out, hdr, sizeof(hdr));
	ft_buf_append(out, js, meta_len);
	ft_buf_append(out, blob, blob_len);
	return 0;
}

static struct json_object *field(const struct ft_frame *f, const char *key)
{
	struct json_object *v = NULL;
	if (!f->meta || !json_object_object_get_ex(f->meta, key, &v))
		return NULL;
	return v;
}

int64_t ft_meta_int(const struct ft_frame *f, const char *key, int64_t def)
{
	struct json_object *v = field(f, key);
	return v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : def;
}

uint64_t ft_meta_u64(const struct ft_frame *f, const char *key, uint64_t def)
{
	struct json_object *v = field(f, key);
	return v && json_object_is_type(v, json_type_int) ? json_object_get_uint64(v) : def;
}

bool ft_meta_bool(const struct ft_frame *f, const char *key, bool def)
{
	struct json_object *v = field(f, key);
	return v && json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : def;
}

const char *ft_meta_str(const struct ft_frame *f, const char *key, const char *def)
{
	struct json_object *v = field(f, key);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : def;
}
