/* A ring of recent cluster events (a member failed or joined, a leader was
 * elected...), for a client that polls "what happened since the last time":
 * every event gets a sequence number, and the newest FT_EVENT_RING_SIZE are
 * kept.
 *
 * Pure: the caller stamps each event with its time.  A zeroed ring is an
 * empty one. */
#ifndef FT_EVENTS_H
#define FT_EVENTS_H

#include <json-c/json.h>
#include <stdint.h>

#define FT_EVENT_RING_SIZE 512

struct ft_event {
	uint64_t seq;	      /* set by ft_event_ring_push: 1, 2, ... */
	int64_t time_ms;      /* wall clock */
	const char *type;     /* a string that outlives the ring */
	int node;	      /* member concerned, or -1 */
	int src;	      /* who said so, or -1 */
	uint64_t incarnation; /* 0: none */
	int leader;	      /* -1: none */
	uint64_t epoch;	      /* 0: none */
};

struct ft_event_ring {
	struct ft_event ev[FT_EVENT_RING_SIZE];
	uint64_t pushed; /* events so far: the newest's seq */
};

/* Appends e with the next sequence number, overwriting the oldest event
 * once the ring is full. */
void ft_event_ring_push(struct ft_event_ring *r, struct ft_event e);

/* The events with seq > since, oldest first:
 * {"next": N, "dropped": bool, "events": [{"seq", "time_ms", "type", "node",
 * "source", "incarnation", "leader", "epoch"}]}, a field null when it has
 * none.  "next" is the since to pass next time; "dropped" tells that events
 * after since were already overwritten.  Caller owns the object. */
struct json_object *ft_event_ring_json(const struct ft_event_ring *r, uint64_t since);

#endif
