#include "lib/events.h"

void ft_event_ring_push(struct ft_event_ring *r, struct ft_event e)
{
	e.seq = ++r->pushed;
	r->ev[e.seq % FT_EVENT_RING_SIZE] = e;
}

struct json_object *ft_event_ring_json(const struct ft_event_ring *r, uint64_t since)
{
	uint64_t next_seq = r->pushed + 1;
	uint64_t oldest = next_seq > FT_EVENT_RING_SIZE ? next_seq - FT_EVENT_RING_SIZE : 1;
	uint64_t from = since + 1 > oldest ? since + 1 : oldest;
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();
	for (uint64_t s = from; s < next_seq; s++) {
		const struct ft_event *e = &r->ev[s % FT_EVENT_RING_SIZE];
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "seq", json_object_new_uint64(e->seq));
		json_object_object_add(o, "time_ms", json_object_new_int64(e->time_ms));
		json_object_object_add(o, "type", json_object_new_string(e->type));
		json_object_object_add(o, "node",
				       e->node >= 0 ? json_object_new_int(e->node) : NULL);
		json_object_object_add(o, "source",
				       e->src >= 0 ? json_object_new_int(e->src) : NULL);
		json_object_object_add(o, "incarnation",
				       e->incarnation ? json_object_new_uint64(e->incarnation)
						      : NULL);
		json_object_object_add(o, "leader",
				       e->leader >= 0 ? json_object_new_int(e->leader) : NULL);
		json_object_object_add(o, "epoch",
				       e->epoch ? json_object_new_uint64(e->epoch) : NULL);
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "next",
			       json_object_new_uint64(next_seq - 1 > since ? next_seq - 1 : since));
	json_object_object_add(root, "dropped", json_object_new_boolean(since + 1 < oldest));
	json_object_object_add(root, "events", arr);
	return root;
}
