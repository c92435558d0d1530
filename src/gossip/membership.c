#include "gossip/membership.h"

#include <stdlib.h>
#include <string.h>

#define MAX_MEMBER_ID 65535

/* One per allowed ID other than ourselves, sorted by ID, so the table never
 * grows after construction and lookups are a binary search. */
struct slot {
	struct ft_member m;
	bool present;	   /* in the table (alive, or failed and not cleaned up) */
	bool ever_present; /* decides JOINED versus REJOINED */
	bool tomb;	   /* tomb_inc is meaningful */
	uint64_t tomb_inc; /* highest incarnation declared failed */
};

struct ft_membership {
	int self_id;
	int fail_ms;
	int cleanup_ms;
	ft_member_event_fn fn;
	void *ud;

	struct ft_member self;
	bool self_tomb;
	uint64_t self_tomb_inc;

	struct slot *slots;
	size_t n_slots;
	size_t n_present;
};

static bool valid_id(long id)
{
	return id >= 0 && id <= MAX_MEMBER_ID;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static struct slot *find_slot(const struct ft_membership *m, long id)
{
	size_t lo = 0, hi = m->n_slots;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->slots[mid].m.id == id)
			return &m->slots[mid];
		if (m->slots[mid].m.id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool conf_ok(const struct ft_membership_conf *c)
{
	if (!c || !valid_id(c->self_id) || c->fail_ms <= 0 || c->cleanup_ms < 0)
		return false;
	if (c->n_allowed && !c->allowed_ids)
		return false;
	for (size_t i = 0; i < c->n_allowed; i++)
		if (!valid_id(c->allowed_ids[i]))
			return false;
	return true;
}

/* Sorted, duplicate-free copy of the allowed IDs without ourselves. */
static int *peer_ids(const struct ft_membership_conf *c, int self_id, size_t *n_out)
{
	int *ids = malloc((c->n_allowed ? c->n_allowed : 1) * sizeof *ids);
	if (!ids)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < c->n_allowed; i++)
		if (c->allowed_ids[i] != self_id)
			ids[n++] = c->allowed_ids[i];
	qsort(ids, n, sizeof *ids, cmp_int);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (u == 0 || ids[u - 1] != ids[i])
			ids[u++] = ids[i];
	*n_out = u;
	return ids;
}

struct ft_membership *ft_membership_new(const struct ft_membership_conf *conf,
					ft_member_event_fn fn, void *ud)
{
	if (!conf_ok(conf))
		return NULL;
	struct ft_membership *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	size_t n = 0;
	int *ids = peer_ids(conf, conf->self_id, &n);
	m->slots = calloc(n ? n : 1, sizeof *m->slots);
	if (!ids || !m->slots) {
		free(ids);
		free(m->slots);
		free(m);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		m->slots[i].m.id = ids[i];
	free(ids);
	m->n_slots = n;
	m->self_id = conf->self_id;
	m->fail_ms = conf->fail_ms;
	m->cleanup_ms = conf->cleanup_ms;
	m->fn = fn;
	m->ud = ud;
	m->self.id = conf->self_id;
	m->self.incarnation = conf->self_incarnation;
	m->self.state = FT_MEMBER_ALIVE;
	return m;
}

void ft_membership_free(struct ft_membership *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

static void emit(struct ft_membership *m, enum ft_member_event type, const struct ft_member *x,
		 int src, int64_t now_ms)
{
	if (!m->fn)
		return;
	struct ft_member_event_info ev = {
		.type = type,
		.peer = x->id,
		.src = src,
		.incarnation = x->incarnation,
		.heartbeat = x->heartbeat,
		.now_ms = now_ms,
	};
	m->fn(m->ud, &ev);
}

/* How long since `then`, without signed overflow whatever the fake clock does;
 * a clock that went backwards counts as no time at all. */
static uint64_t elapsed(int64_t now_ms, int64_t then)
{
	return now_ms > then ? (uint64_t)now_ms - (uint64_t)then : 0;
}

static void bury(struct slot *s, uint64_t inc)
{
	if (!s->tomb || inc > s->tomb_inc)
		s->tomb_inc = inc;
	s->tomb = true;
}

/* Table entry becomes FAILED; the state is final before the listener runs. */
static void mark_failed(struct ft_membership *m, struct slot *s, int src, int64_t now_ms)
{
	s->m.state = FT_MEMBER_FAILED;
	s->m.failed_at_ms = now_ms;
	bury(s, s->m.incarnation);
	emit(m, FT_EV_FAILED, &s->m, src, now_ms);
}

static void check_one(struct ft_membership *m, struct slot *s, int64_t now_ms)
{
	if (!s->present)
		return;
	if (s->m.state == FT_MEMBER_ALIVE &&
	    elapsed(now_ms, s->m.last_rise_ms) >= (uint64_t)m->fail_ms)
		mark_failed(m, s, m->self_id, now_ms);
	if (s->m.state == FT_MEMBER_FAILED &&
	    elapsed(now_ms, s->m.failed_at_ms) >= (uint64_t)m->cleanup_ms) {
		s->present = false;
		m->n_present--;
		/* The tombstone stays, so the dead life is still refused. */
		emit(m, FT_EV_CLEANUP, &s->m, m->self_id, now_ms);
	}
}

void ft_membership_check(struct ft_membership *m, int64_t now_ms)
{
	for (size_t i = 0; i < m->n_slots; i++)
		check_one(m, &m->slots[i], now_ms);
}

void ft_membership_stalled(struct ft_membership *m, int64_t stall_ms, int64_t now_ms)
{
	if (stall_ms <= 0)
		return;
	for (size_t i = 0; i < m->n_slots; i++) {
		struct slot *s = &m->slots[i];
		if (!s->present || s->m.state != FT_MEMBER_ALIVE || s->m.last_rise_ms >= now_ms)
			continue;
		/* last + stall stays below now_ms when it is taken: no overflow. */
		if ((uint64_t)stall_ms < elapsed(now_ms, s->m.last_rise_ms))
			s->m.last_rise_ms += stall_ms;
		else
			s->m.last_rise_ms = now_ms;
	}
}

void ft_membership_tick(struct ft_membership *m, int64_t now_ms)
{
	m->self.heartbeat++;
	m->self.last_rise_ms = now_ms;
	ft_membership_check(m, now_ms);
}

static bool slot_life_failed(const struct slot *s, uint64_t inc)
{
	/* Only the highest failed incarnation is kept; anything at or below it is
	 * that life or an older one it superseded, and both are dead. */
	return s->tomb && inc <= s->tomb_inc;
}

bool ft_membership_life_failed(const struct ft_membership *m, int id, uint64_t incarnation)
{
	if (id == m->self_id)
		return m->self_tomb && incarnation <= m->self_tomb_inc;
	const struct slot *s = find_slot(m, id);
	return s && slot_life_failed(s, incarnation);
}

/* Someone says this life of ours failed: peers now refuse it, so the only
 * way back is a new one.  Incarnations are ms-since-epoch-like in production,
 * so "now" normally wins and stays above anything we used before. */
static void self_rejoin(struct ft_membership *m, uint64_t failed_inc, int src, int64_t now_ms)
{
	if (failed_inc == UINT64_MAX)
		return; /* no higher incarnation exists */
	uint64_t next = failed_inc + 1;
	if (now_ms > 0 && (uint64_t)now_ms > next)
		next = (uint64_t)now_ms;
	if (!m->self_tomb || failed_inc > m->self_tomb_inc)
		m->self_tomb_inc = failed_inc;
	m->self_tomb = true;
	m->self.incarnation = next;
	emit(m, FT_EV_SELF_REJOIN, &m->self, src, now_ms);
}

/* Entry about ourselves.  Besides the documented case (our current life
 * failed), a FAILED entry for a *higher* incarnation also forces a new life:
 * peers would otherwise refuse our current, lower one forever (e.g. after a
 * restart with a clock that went backwards). */
static void merge_self(struct ft_membership *m, const struct ft_gossip_entry *e, int src,
		       int64_t now_ms)
{
	if (e->state == FT_MEMBER_FAILED && e->incarnation >= m->self.incarnation)
		self_rejoin(m, e->incarnation, src, now_ms);
}

static void install(struct ft_membership *m, struct slot *s, const struct ft_gossip_entry *e,
		    int src, int64_t now_ms)
{
	enum ft_member_event type = s->ever_present ? FT_EV_REJOINED : FT_EV_JOINED;
	if (!s->present)
		m->n_present++;
	s->present = true;
	s->ever_present = true;
	s->m.incarnation = e->incarnation;
	s->m.heartbeat = e->heartbeat;
	s->m.last_rise_ms = now_ms;
	s->m.failed_at_ms = 0;
	s->m.state = FT_MEMBER_ALIVE;
	emit(m, type, &s->m, src, now_ms);
}

static void merge_alive(struct ft_membership *m, struct slot *s, const struct ft_gossip_entry *e,
			int src, int64_t now_ms)
{
	if (!s->present || e->incarnation > s->m.incarnation) {
		install(m, s, e, src, now_ms);
		return;
	}
	/* Same life: only a rise counts, and a failed life stays failed (the
	 * tombstone already filtered it; the state check is belt and braces). */
	if (e->incarnation == s->m.incarnation && s->m.state == FT_MEMBER_ALIVE &&
	    e->heartbeat > s->m.heartbeat) {
		s->m.heartbeat = e->heartbeat;
		s->m.last_rise_ms = now_ms;
		emit(m, FT_EV_UPDATED, &s->m, src, now_ms);
	}
}

static void merge_failed(struct ft_membership *m, struct slot *s, const struct ft_gossip_entry *e,
			 int src, int64_t now_ms)
{
	bury(s, e->incarnation);
	if (!s->present || e->incarnation < s->m.incarnation)
		return; /* nothing we hold is that life: the tombstone is enough */
	if (s->m.state == FT_MEMBER_FAILED) {
		/* A newer life than the failed one we hold died too (we never saw
		 * it alive): gossip the newest news, keep the cleanup schedule. */
		if (e->incarnation > s->m.incarnation) {
			s->m.incarnation = e->incarnation;
			s->m.heartbeat = e->heartbeat;
		}
		return;
	}
	/* Alive at this incarnation or an older one superseded by the failed one. */
	if (e->incarnation > s->m.incarnation) {
		s->m.incarnation = e->incarnation;
		s->m.heartbeat = e->heartbeat;
	} else if (e->heartbeat > s->m.heartbeat) {
		s->m.heartbeat = e->heartbeat;
	}
	mark_failed(m, s, src, now_ms);
}

static void merge_entry(struct ft_membership *m, const struct ft_gossip_entry *e, int src,
			int64_t now_ms)
{
	if (e->id == (uint32_t)m->self_id) {
		merge_self(m, e, src, now_ms);
		return;
	}
	struct slot *s = e->id <= MAX_MEMBER_ID ? find_slot(m, (long)e->id) : NULL;
	if (!s)
		return; /* not a configured member: foreign or spoofed */
	if (slot_life_failed(s, e->incarnation))
		return; /* never believed again, whatever it says */
	if (e->state == FT_MEMBER_ALIVE)
		merge_alive(m, s, e, src, now_ms);
	else if (e->state == FT_MEMBER_FAILED)
		merge_failed(m, s, e, src, now_ms);
}

static size_t entry_count(const struct ft_gossip_msg *msg)
{
	return msg->n <= FT_GOSSIP_MAX_ENTRIES ? msg->n : FT_GOSSIP_MAX_ENTRIES;
}

enum ft_merge_result ft_membership_merge(struct ft_membership *m, const struct ft_gossip_msg *msg,
					 int64_t now_ms)
{
	if (msg->sender == (uint32_t)m->self_id)
		return FT_MERGE_REJECT_SELF;
	const struct slot *from =
		msg->sender <= MAX_MEMBER_ID ? find_slot(m, (long)msg->sender) : NULL;
	if (!from)
		return FT_MERGE_REJECT_UNKNOWN_SENDER;
	int src = (int)msg->sender;
	size_t n = entry_count(msg);

	if (slot_life_failed(from, msg->sender_incarnation)) {
		/* Nothing from a dead life is believed, except the news that our own
		 * life was declared failed.  After a symmetric partition both sides
		 * have failed each other and refuse each other's datagrams; without
		 * this exception neither could ever learn it must rejoin. */
		for (size_t i = 0; i < n; i++)
			if (msg->e[i].id == (uint32_t)m->self_id)
				merge_self(m, &msg->e[i], src, now_ms);
		return FT_MERGE_REJECT_FAILED_SENDER;
	}

	/* Message order: deterministic, and the sender's own entry (first in a
	 * snapshot) is applied before what it says about others. */
	for (size_t i = 0; i < n; i++)
		merge_entry(m, &msg->e[i], src, now_ms);
	return FT_MERGE_OK;
}

static void put_entry(struct ft_gossip_msg *msg, const struct ft_member *x)
{
	struct ft_gossip_entry *e = &msg->e[msg->n++];
	e->id = (uint32_t)x->id;
	e->incarnation = x->incarnation;
	e->heartbeat = x->heartbeat;
	e->state = (uint8_t)x->state;
}

void ft_membership_snapshot(const struct ft_membership *m, struct ft_gossip_msg *msg,
			    int64_t now_ms)
{
	msg->sender = (uint32_t)m->self_id;
	msg->sender_incarnation = m->self.incarnation;
	msg->sent_ms = (uint64_t)now_ms;
	msg->n = 0;
	put_entry(msg, &m->self);

	/* With more members than a datagram holds (256 nodes plus the gateway),
	 * rotate the window with the clock so every entry still gets out. */
	size_t room = FT_GOSSIP_MAX_ENTRIES - 1;
	size_t skip = 0;
	if (m->n_present > room)
		skip = (size_t)((uint64_t)now_ms % m->n_present);
	size_t taken = 0, seen = 0;
	for (size_t pass = 0; pass < 2 && taken < room; pass++) {
		seen = 0;
		for (size_t i = 0; i < m->n_slots && taken < room; i++) {
			if (!m->slots[i].present)
				continue;
			bool in_window = pass == 0 ? seen >= skip : seen < skip;
			seen++;
			if (!in_window)
				continue;
			put_entry(msg, &m->slots[i].m);
			taken++;
		}
	}
}

void ft_membership_snapshot_for(const struct ft_membership *m, struct ft_gossip_msg *msg,
				int64_t now_ms, int target)
{
	ft_membership_snapshot(m, msg, now_ms);
	const struct slot *s = find_slot(m, target);
	if (!s || !s->tomb || s->present)
		return; /* in the table (or rotated out for now), or nothing to tell */
	struct ft_member dead = {
		.id = target,
		.incarnation = s->tomb_inc,
		.state = FT_MEMBER_FAILED,
	};
	if (msg->n == FT_GOSSIP_MAX_ENTRIES)
		msg->n--; /* the target's own news matters more to it than any other */
	put_entry(msg, &dead);
}

const struct ft_member *ft_membership_get(const struct ft_membership *m, int id)
{
	if (id == m->self_id)
		return &m->self;
	const struct slot *s = find_slot(m, id);
	return s && s->present ? &s->m : NULL;
}

bool ft_membership_alive(const struct ft_membership *m, int id)
{
	if (id == m->self_id)
		return true;
	const struct ft_member *x = ft_membership_get(m, id);
	return x && x->state == FT_MEMBER_ALIVE;
}

uint64_t ft_membership_self_incarnation(const struct ft_membership *m)
{
	return m->self.incarnation;
}

uint64_t ft_membership_self_heartbeat(const struct ft_membership *m)
{
	return m->self.heartbeat;
}

size_t ft_membership_count(const struct ft_membership *m)
{
	return m->n_present;
}

const struct ft_member *ft_membership_at(const struct ft_membership *m, size_t i)
{
	for (size_t k = 0; k < m->n_slots; k++) {
		if (!m->slots[k].present)
			continue;
		if (i-- == 0)
			return &m->slots[k].m;
	}
	return NULL;
}

/* --- target selection --- */

/* Members picked as readily as the live ones ("regular"): those we know
 * alive; those whose failed entry was already cleaned up (if one of them is
 * in fact alive, only a datagram from us tells it that it must rejoin); and,
 * while we know nobody alive, those never heard of (how first contact
 * happens).  The others - failed and not yet cleaned up, and, once we know
 * some live members, those never heard of (most likely not started yet) -
 * get a slot now and then.  With most configured members not running yet
 * (a large cluster starting one by one), picking them like the live ones
 * would send most datagrams into the void and starve the live members of
 * heartbeats: false alarms during start-up. */
static bool slot_is_regular(const struct slot *s, bool know_alive)
{
	if (s->present)
		return s->m.state == FT_MEMBER_ALIVE;
	return s->tomb || !know_alive;
}

static bool slot_known_alive(const struct slot *s)
{
	return s->present && s->m.state == FT_MEMBER_ALIVE;
}

/* The idx-th slot (in ID order) whose regular-ness equals `regular`. */
static int nth_id(const struct ft_membership *m, bool know_alive, bool regular, size_t idx)
{
	for (size_t i = 0; i < m->n_slots; i++)
		if (slot_is_regular(&m->slots[i], know_alive) == regular && idx-- == 0)
			return m->slots[i].m.id;
	return -1;
}

static bool contains(const int *v, size_t n, int x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* Appends `want` distinct random IDs out of the `pool` slots of one class
 * (Floyd's sampling: no scratch memory, one rnd call per pick). */
static size_t sample(const struct ft_membership *m, bool know_alive, bool regular, size_t pool,
		     size_t want, int *out, size_t n_out, uint32_t (*rnd)(void *), void *rnd_ud)
{
	if (want > pool)
		want = pool;
	for (size_t j = pool - want; j < pool; j++) {
		int id = nth_id(m, know_alive, regular, rnd(rnd_ud) % (j + 1));
		if (contains(out, n_out, id))
			id = nth_id(m, know_alive, regular, j);
		out[n_out++] = id;
	}
	return n_out;
}

size_t ft_membership_pick_targets(const struct ft_membership *m, int *out, size_t k,
				  uint32_t (*rnd)(void *), void *rnd_ud)
{
	if (k == 0 || m->n_slots == 0)
		return 0;
	bool know_alive = false;
	for (size_t i = 0; i < m->n_slots && !know_alive; i++)
		know_alive = slot_known_alive(&m->slots[i]);
	size_t n_regular = 0;
	for (size_t i = 0; i < m->n_slots; i++)
		n_regular += slot_is_regular(&m->slots[i], know_alive);
	size_t n_other = m->n_slots - n_regular;

	/* Now and then spend a slot on one of the others: a failed member that
	 * is in fact alive learns from our table that it must rejoin, and a
	 * member that has just started is found. */
	size_t extra = n_other > 0 && n_regular > 0 && rnd(rnd_ud) % 4 == 0;
	size_t take_regular = n_regular < k - extra ? n_regular : k - extra;
	/* Too few regular candidates: the others are better than silence. */
	size_t take_other = n_other < k - take_regular ? n_other : k - take_regular;

	/* Each class is sampled once, so Floyd's duplicate check holds. */
	size_t n = sample(m, know_alive, true, n_regular, take_regular, out, 0, rnd, rnd_ud);
	return sample(m, know_alive, false, n_other, take_other, out, n, rnd, rnd_ud);
}
