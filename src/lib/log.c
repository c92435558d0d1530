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

/* MESSAGE_IDs of the core's own entries (made with systemd-id128 new; the
 * heartbeat events' are in gossip/hblog.c); the catalog in
 * systemd/ftcluster.catalog explains each. */
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
	bool stdout_journal; /* stdout is the journal stream itself */
	size_t max_file_bytes;
	int rejected_per_second;
	struct hb_file summary, verbose;
} L = { .daemon = "ft", .level = LOG_INFO, .rejected_per_second = 10 };

/* Is fd the stream systemd named in $JOURNAL_STREAM ("device:inode")? */
static bool is_journal_stream(int fd)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(fd, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

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
	L.stdout_journal = is_journal_stream(STDOUT_FILENO);
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

void ft_log_file_line(enum ft_log_file file, const char *line)
{
	file_line(file == FT_LOG_SUMMARY ? &L.summary : &L.verbose, line);
}

bool ft_log_journal(void)
{
	return L.journal;
}

bool ft_log_stdout_is_journal(void)
{
	return L.stdout_journal;
}

int ft_log_self_id(void)
{
	return L.self_id;
}

void ft_log_stderr(int prio, const char *msg)
{
	to_stderr(prio, msg);
}

void ft_log_set_rejected_rate(int per_second)
{
	L.rejected_per_second = per_second < 0 ? 0 : per_second;
}

int ft_log_rejected_rate(void)
{
	return L.rejected_per_second;
}
