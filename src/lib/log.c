#include "lib/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

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
#define MID_REQUEST "2a4c6e8b0d1f4a3c5e7b9d1f3a5c7e89"
#define MID_ELECTION "3b5d7f9c1e2a4b4d6f8c0e2a4b6d8f9a"
#define MID_DAEMON "5d7f9b1e3a4c4d6f8b0a2c4e6d8f0b1c"

struct hb_file {
	char path[1024];
	FILE *f;
	size_t size;
};

static struct {
	char daemon[32];
	int self_id;
	int level;
	bool journal;
	size_t max_file_bytes;
	struct hb_file summary, verbose;
} L = { .daemon = "ft", .level = LOG_INFO };

static int open_hb_file(struct hb_file *h, const char *dir, const char *name)
{
	snprintf(h->path, sizeof(h->path), "%s/%s", dir, name);
	h->f = fopen(h->path, "a");
	if (!h->f)
		return -1;
	setvbuf(h->f, NULL, _IOLBF, 0);
	struct stat st;
	h->size = fstat(fileno(h->f), &st) == 0 ? (size_t)st.st_size : 0;
	return 0;
}

int ft_log_open(const char *daemon, int self_id, const char *hb_dir, size_t max_file_bytes)
{
	snprintf(L.daemon, sizeof(L.daemon), "%s", daemon);
	L.self_id = self_id;
	L.max_file_bytes = max_file_bytes ? max_file_bytes : 16u << 20;
	/* Under systemd stderr already reaches the journal; send structured
	 * entries instead of duplicating plain ones. */
	L.journal = getenv("JOURNAL_STREAM") != NULL;
	if (!hb_dir)
		return 0;
	if (ft_mkdir_p(hb_dir, 0755) < 0 || open_hb_file(&L.summary, hb_dir, "summary.log") < 0 ||
	    open_hb_file(&L.verbose, hb_dir, "verbose.log") < 0) {
		ft_log_err("cannot open heartbeat logs in %s: %s", hb_dir, strerror(errno));
		return -1;
	}
	return 0;
}

void ft_log_close(void)
{
	if (L.summary.f)
		fclose(L.summary.f);
	if (L.verbose.f)
		fclose(L.verbose.f);
	L.summary.f = L.verbose.f = NULL;
}

void ft_log_set_level(int prio)
{
	L.level = prio;
}

int ft_log_level_from_name(const char *name)
{
	static const struct {
		const char *name;
		int prio;
	} levels[] = {
		{ "error", LOG_ERR }, { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
		{ "info", LOG_INFO }, { "debug", LOG_DEBUG },
	};
	for (size_t i = 0; i < FT_ARRAY_SIZE(levels); i++)
		if (strcmp(levels[i].name, name) == 0)
			return levels[i].prio;
	return -1;
}

const char *ft_log_summary_path(void)
{
	return L.summary.f ? L.summary.path : "";
}

const char *ft_log_verbose_path(void)
{
	return L.verbose.f ? L.verbose.path : "";
}

static void rotate(struct hb_file *h)
{
	char old[1100];
	snprintf(old, sizeof(old), "%s.1", h->path);
	fclose(h->f);
	rename(h->path, old);
	h->f = fopen(h->path, "a");
	if (h->f)
		setvbuf(h->f, NULL, _IOLBF, 0);
	h->size = 0;
}

static void file_line(struct hb_file *h, const char *line)
{
	if (!h->f)
		return;
	size_t n = strlen(line) + 1;
	if (h->size + n > L.max_file_bytes)
		rotate(h);
	if (!h->f)
		return;
	fprintf(h->f, "%s\n", line);
	h->size += n;
}

static const char *prio_name(int prio)
{
	static const char *names[] = { "emerg",	  "alert",  "crit", "error",
				       "warning", "notice", "info", "debug" };
	return prio >= 0 && prio <= 7 ? names[prio] : "log";
}

static void to_stderr(int prio, const char *msg)
{
	if (L.journal)
		return;
	fprintf(stderr, "%s[%d] %s: %s\n", L.daemon, L.self_id, prio_name(prio), msg);
}

void ft_log(int prio, const char *fmt, ...)
{
	if (prio > L.level)
		return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	to_stderr(prio, msg);
	if (L.journal)
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio, "MESSAGE_ID=" MID_DAEMON,
				"FT_NODE=%d", L.self_id, "FT_EVENT=daemon", NULL);
}

void ft_log_request(int prio, uint64_t request_id, const char *step, const char *fmt, ...)
{
	if (prio > L.level)
		return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	to_stderr(prio, msg);
	if (L.journal)
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio, "MESSAGE_ID=" MID_REQUEST,
				"FT_NODE=%d", L.self_id, "FT_EVENT=request", "FT_REQUEST=%llu",
				(unsigned long long)request_id, "FT_STEP=%s", step, NULL);
}

void ft_log_election(int prio, uint64_t epoch, int leader, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (prio <= L.level)
		to_stderr(prio, msg);
	if (L.journal)
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio, "MESSAGE_ID=" MID_ELECTION,
				"FT_NODE=%d", L.self_id, "FT_EVENT=election", "FT_EPOCH=%llu",
				(unsigned long long)epoch, "FT_LEADER=%d", leader, NULL);
}

/* One heartbeat event: summary file, journald, and stdout where the
 * contract asks for it. */
static void hb_event(const char *mid, const char *event, int peer, int src, uint64_t inc,
		     uint64_t hb, bool on_stdout, const char *msg)
{
	file_line(&L.summary, msg);
	if (on_stdout) {
		fprintf(stdout, "%s\n", msg);
		fflush(stdout);
	}
	if (L.journal)
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", on_stdout ? LOG_NOTICE : LOG_INFO,
				"MESSAGE_ID=%s", mid, "FT_NODE=%d", L.self_id, "FT_EVENT=%s", event,
				"FT_PEER=%d", peer, "FT_SOURCE=%d", src, "FT_INCARNATION=%llu",
				(unsigned long long)inc, "FT_HEARTBEAT=%llu",
				(unsigned long long)hb, NULL);
}

void ft_hb_failed(int peer, uint64_t incarnation)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "%d: no heartbeat from server %d - SERVER FAILED", L.self_id,
		 peer);
	hb_event(MID_FAILED, "failed", peer, L.self_id, incarnation, 0, true, msg);
}

void ft_hb_heard_failed(int peer, uint64_t incarnation, int src)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "%d: heard from server %d that server %d failed", L.self_id, src,
		 peer);
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
		L.self_id, peer, (unsigned long long)heartbeat, src, (long long)node_time_ms);
	hb_event(MID_UPDATED, "heartbeat", peer, src, 0, heartbeat, false, msg);
}

void ft_hb_joined(int peer, uint64_t incarnation, int src)
{
	char msg[256];
	snprintf(msg, sizeof(msg),
		 "%d: server %d joined with incarnation %llu based on message from %d", L.self_id,
		 peer, (unsigned long long)incarnation, src);
	hb_event(MID_JOINED, "joined", peer, src, incarnation, 0, false, msg);
}

void ft_hb_rejoined(int peer, uint64_t incarnation, int src)
{
	char msg[256];
	snprintf(msg, sizeof(msg),
		 "%d: server %d rejoined with new incarnation %llu based on message from %d",
		 L.self_id, peer, (unsigned long long)incarnation, src);
	hb_event(MID_REJOINED, "rejoined", peer, src, incarnation, 0, false, msg);
}

void ft_hb_self_rejoin(uint64_t incarnation)
{
	char msg[256];
	snprintf(msg, sizeof(msg),
		 "%d: was declared failed by the cluster; rejoining with new incarnation %llu",
		 L.self_id, (unsigned long long)incarnation);
	hb_event(MID_REJOINED, "self_rejoin", L.self_id, L.self_id, incarnation, 0, false, msg);
}

void ft_hb_cleanup(int peer)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "%d: removed failed server %d from the membership table",
		 L.self_id, peer);
	hb_event(MID_CLEANUP, "cleanup", peer, L.self_id, 0, 0, false, msg);
}

void ft_hb_switch(const char *old_state, const char *new_state)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "%d: switching from %s to %s", L.self_id, old_state, new_state);
	file_line(&L.summary, msg);
	fprintf(stdout, "%s\n", msg);
	fflush(stdout);
	if (L.journal)
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", LOG_NOTICE,
				"MESSAGE_ID=" MID_SWITCH, "FT_NODE=%d", L.self_id, "FT_EVENT=state",
				"FT_STATE=%s", new_state, "FT_OLD_STATE=%s", old_state, NULL);
}

void ft_hb_received(int src, const char *contents, int64_t node_time_ms)
{
	char msg[8192];
	snprintf(msg, sizeof(msg), "%d: received gossip from %d at node time %lld: %s", L.self_id,
		 src, (long long)node_time_ms, contents);
	file_line(&L.verbose, msg);
}

static struct {
	int per_second;
	int64_t window_ms; /* start of the current second */
	int logged;	   /* in it */
	uint64_t suppressed;
} R = { .per_second = 10 };

void ft_log_set_rejected_rate(int per_second)
{
	R.per_second = per_second < 0 ? 0 : per_second;
}

/* One rejection line (or, with suppressed > 0, the line standing for that
 * many) to the verbose log and to the journal or stderr. */
static void rejected_line(const char *msg, uint64_t suppressed)
{
	file_line(&L.verbose, msg);
	if (!L.journal)
		to_stderr(LOG_WARNING, msg);
	else if (suppressed)
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", LOG_WARNING,
				"MESSAGE_ID=" MID_REJECTED, "FT_NODE=%d", L.self_id,
				"FT_EVENT=rejected", "FT_SUPPRESSED=%llu",
				(unsigned long long)suppressed, NULL);
	else
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", LOG_WARNING,
				"MESSAGE_ID=" MID_REJECTED, "FT_NODE=%d", L.self_id,
				"FT_EVENT=rejected", NULL);
}

void ft_hb_rejected_flush(void)
{
	int64_t now = ft_now_ms();
	if (now - R.window_ms < 1000)
		return;
	if (R.suppressed) {
		char msg[256];
		snprintf(msg, sizeof(msg),
			 "%d: %llu more rejected gossip datagram(s) not logged one by one "
			 "(logging.rejected_per_second is %d)",
			 L.self_id, (unsigned long long)R.suppressed, R.per_second);
		rejected_line(msg, R.suppressed);
	}
	R.window_ms = now;
	R.logged = 0;
	R.suppressed = 0;
}

void ft_hb_rejected(const char *from, const char *why, int64_t node_time_ms)
{
	ft_hb_rejected_flush();
	if (R.logged >= R.per_second) {
		R.suppressed++;
		return;
	}
	R.logged++;
	char msg[512];
	snprintf(msg, sizeof(msg), "%d: rejected gossip datagram from %s at node time %lld: %s",
		 L.self_id, from, (long long)node_time_ms, why);
	rejected_line(msg, 0);
}
