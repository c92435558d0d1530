/* The heartbeat log's wording, MESSAGE_IDs and journal fields.  See
 * hblog.h; tests/check-docs.sh checks that ftnode(8) has every line's
 * words and every field, and the catalog every MESSAGE_ID. */
#include "gossip/hblog.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-journal.h>

#include "lib/log.h"
#include "lib/ratelimit.h"
#include "lib/util.h"

/* MESSAGE_IDs, one per event type (made with systemd-id128 new); the
 * catalog in systemd/ftcluster.catalog explains each. */
#define MID_FAILED "4c1b5f3e8a2d4d6f9b0e7a1c3d5f7e90"
#define MID_HEARD_FAILED "8e2a6c4b1d3f4a5c9e7b0d2f4a6c8e11"
#define MID_UPDATED "1f3e5d7c9b0a4e2d8c6b4a2f0e1d3c52"
#define MID_JOINED "a7c9e1b3d5f74a6c8e0b2d4f6a8c0e23"
#define MID_REJOINED "b3d5f7a9c1e34b5d7f9a1c3e5b7d9f34"
#define MID_CLEANUP "c5e7a9b1d3f54c6e8a0b2d4f6c8e0a45"
#define MID_SWITCH "d7f9b1c3e5a74d8f0b2c4e6a8d0f2b56"
#define MID_RECEIVED "e9b1d3f5a7c94e0b2d4f6a8c0e2b4d67"
#define MID_REJECTED "f1c3e5a7b9d14f2c4e6a8b0d2f4c6e78"

/* One heartbeat event: summary file, journald, and stdout where the
 * contract asks for it (when stdout is the journal, the structured entry is
 * that line).  Heartbeat updates, some 35 a second per member, go to the
 * journal at debug priority: kept, but out of `journalctl -p info`. */
static void hb_event(const char *mid, const char *event, int peer, int src, uint64_t inc,
		     uint64_t hb, bool on_stdout, const char *msg)
{
	ft_log_file_line(FT_LOG_SUMMARY, msg);
	if (on_stdout && !ft_log_stdout_is_journal()) {
		fprintf(stdout, "%s\n", msg);
		fflush(stdout);
	}
	int prio = on_stdout ? LOG_NOTICE : strcmp(event, "heartbeat") == 0 ? LOG_DEBUG : LOG_INFO;
	if (ft_log_journal())
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio, "MESSAGE_ID=%s", mid,
				"FT_NODE=%d", ft_log_self_id(), "FT_EVENT=%s", event, "FT_PEER=%d",
				peer, "FT_SOURCE=%d", src, "FT_INCARNATION=%llu",
				(unsigned long long)inc, "FT_HEARTBEAT=%llu",
				(unsigned long long)hb, NULL);
}

void ft_hb_failed(int peer, uint64_t incarnation)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "%d: no heartbeat from server %d - SERVER FAILED",
		 ft_log_self_id(), peer);
	hb_event(MID_FAILED, "failed", peer, ft_log_self_id(), incarnation, 0, true, msg);
}

void ft_hb_heard_failed(int peer, uint64_t incarnation, int src)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "%d: heard from server %d that server %d failed",
		 ft_log_self_id(), src, peer);
	hb_event(MID_HEARD_FAILED, "heard_failed", peer, src, incarnation, 0, false, msg);
	/* The contract's line too: scripts count it per node, whoever noticed
	 * first. */
	ft_hb_failed(peer, incarnation);
}

void ft_hb_updated(int peer, uint64_t heartbeat, int src, int64_t node_time_ms)
{
	char msg[256];
	snprintf(
		msg, sizeof(msg),
		"%d: updated %d's heartbeat sequence to %llu based on message from %d at node time %lld",
		ft_log_self_id(), peer, (unsigned long long)heartbeat, src,
		(long long)node_time_ms);
	hb_event(MID_UPDATED, "heartbeat", peer, src, 0, heartbeat, false, msg);
}

void ft_hb_joined(int peer, uint64_t incarnation, int src)
{
	char msg[256];
	snprintf(msg, sizeof(msg),
		 "%d: server %d joined with incarnation %llu based on message from %d",
		 ft_log_self_id(), peer, (unsigned long long)incarnation, src);
	hb_event(MID_JOINED, "joined", peer, src, incarnation, 0, false, msg);
}

void ft_hb_rejoined(int peer, uint64_t incarnation, int src)
{
	char msg[256];
	snprintf(msg, sizeof(msg),
		 "%d: server %d rejoined with new incarnation %llu based on message from %d",
		 ft_log_self_id(), peer, (unsigned long long)incarnation, src);
	hb_event(MID_REJOINED, "rejoined", peer, src, incarnation, 0, false, msg);
}

void ft_hb_self_rejoin(uint64_t incarnation)
{
	int self = ft_log_self_id();
	char msg[256];
	snprintf(msg, sizeof(msg),
		 "%d: was declared failed by the cluster; rejoining with new incarnation %llu",
		 self, (unsigned long long)incarnation);
	hb_event(MID_REJOINED, "self_rejoin", self, self, incarnation, 0, false, msg);
}

void ft_hb_cleanup(int peer)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "%d: removed failed server %d from the membership table",
		 ft_log_self_id(), peer);
	hb_event(MID_CLEANUP, "cleanup", peer, ft_log_self_id(), 0, 0, false, msg);
}

void ft_hb_switch(const char *old_state, const char *new_state)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "%d: switching from %s to %s", ft_log_self_id(), old_state,
		 new_state);
	ft_log_file_line(FT_LOG_SUMMARY, msg);
	if (!ft_log_stdout_is_journal()) {
		fprintf(stdout, "%s\n", msg);
		fflush(stdout);
	}
	if (ft_log_journal())
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", LOG_NOTICE,
				"MESSAGE_ID=" MID_SWITCH, "FT_NODE=%d", ft_log_self_id(),
				"FT_EVENT=state", "FT_STATE=%s", new_state, "FT_OLD_STATE=%s",
				old_state, NULL);
}

void ft_hb_received(int src, const char *contents, int64_t node_time_ms)
{
	char msg[8192];
	snprintf(msg, sizeof(msg), "%d: received gossip from %d at node time %lld: %s",
		 ft_log_self_id(), src, (long long)node_time_ms, contents);
	ft_log_file_line(FT_LOG_VERBOSE, msg);
}

static struct ft_ratelimit rejections;

/* One rejection line (or, with suppressed > 0, the line standing for that
 * many) to the verbose log and to the journal or stderr. */
static void rejected_line(const char *msg, uint64_t suppressed)
{
	ft_log_file_line(FT_LOG_VERBOSE, msg);
	if (!ft_log_journal())
		ft_log_stderr(LOG_WARNING, msg);
	else if (suppressed)
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", LOG_WARNING,
				"MESSAGE_ID=" MID_REJECTED, "FT_NODE=%d", ft_log_self_id(),
				"FT_EVENT=rejected", "FT_SUPPRESSED=%llu",
				(unsigned long long)suppressed, NULL);
	else
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", LOG_WARNING,
				"MESSAGE_ID=" MID_REJECTED, "FT_NODE=%d", ft_log_self_id(),
				"FT_EVENT=rejected", NULL);
}

void ft_hb_rejected_flush(void)
{
	uint64_t suppressed = ft_ratelimit_roll(&rejections, ft_now_ms());
	if (suppressed) {
		char msg[256];
		snprintf(msg, sizeof(msg),
			 "%d: %llu more rejected gossip datagram(s) not logged one by one "
			 "(logging.rejected_per_second is %d)",
			 ft_log_self_id(), (unsigned long long)suppressed, ft_log_rejected_rate());
		rejected_line(msg, suppressed);
	}
}

void ft_hb_rejected(const char *from, const char *why, int64_t node_time_ms)
{
	ft_hb_rejected_flush();
	if (!ft_ratelimit_admit(&rejections, ft_log_rejected_rate()))
		return;
	char msg[512];
	snprintf(msg, sizeof(msg), "%d: rejected gossip datagram from %s at node time %lld: %s",
		 ft_log_self_id(), from, (long long)node_time_ms, why);
	rejected_line(msg, 0);
}

void ft_hb_ignored_entries(const char *from, size_t n, const char *why, int64_t node_time_ms)
{
	ft_hb_rejected_flush();
	if (!ft_ratelimit_admit(&rejections, ft_log_rejected_rate()))
		return;
	char msg[512];
	snprintf(msg, sizeof(msg),
		 "%d: ignored %zu entries of a gossip datagram from %s at node time %lld: %s",
		 ft_log_self_id(), n, from, (long long)node_time_ms, why);
	rejected_line(msg, 0);
}
