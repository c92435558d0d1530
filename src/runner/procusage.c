/* Resource use of a process tree, read from /proc (see procusage.h). */
#include "runner/procusage.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TREE_MAX 1024

static int64_t ticks_to_ms(unsigned long long ticks)
{
	static long hz;
	if (hz <= 0)
		hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0)
		hz = 100;
	return (int64_t)(ticks * 1000 / (unsigned long long)hz);
}

static ssize_t read_proc(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* utime + stime + cutime + cstime of one process, in ms; -1 if gone. */
static int64_t proc_cpu_ms(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_proc(path, buf, sizeof(buf)) <= 0)
		return -1;
	/* The command name may contain anything: fields start after the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	p++;
	unsigned long long v[4];
	int field = 2; /* the ')' ends field 2 */
	int got = 0;
	while (*p && got < 4) {
		while (*p == ' ')
			p++;
		field++;
		if (field >= 14 && field <= 17)
			v[got++] = strtoull(p, NULL, 10);
		while (*p && *p != ' ')
			p++;
	}
	if (got < 4)
		return -1;
	return ticks_to_ms(v[0] + v[1] + v[2] + v[3]);
}

static int64_t proc_hwm(pid_t pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_proc(path, buf, sizeof(buf)) <= 0)
		return -1;
	const char *p = strstr(buf, "\nVmHWM:");
	if (!p)
		return -1;
	return (int64_t)strtoll(p + 8, NULL, 10) * 1024;
}

/* Appends pid's children (of all its threads) to list. */
static void add_children(pid_t pid, pid_t *list, int *n)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && *n < TREE_MAX) {
		if (e->d_name[0] == '.')
			continue;
		char cpath[320], buf[4096];
		snprintf(cpath, sizeof(cpath), "/proc/%d/task/%s/children", (int)pid, e->d_name);
		if (read_proc(cpath, buf, sizeof(buf)) <= 0)
			continue;
		for (char *p = buf; *p && *n < TREE_MAX;) {
			char *end;
			long c = strtol(p, &end, 10);
			if (end == p)
				break;
			list[(*n)++] = (pid_t)c;
			p = end;
		}
	}
	closedir(d);
}

void ft_proc_tree_usage(pid_t root, struct ft_proc_usage *u)
{
	pid_t *list = malloc(TREE_MAX * sizeof(*list));
	u->cpu_ms = 0;
	u->peak_rss = 0;
	u->processes = 0;
	if (!list || root <= 0) {
		free(list);
		return;
	}
	int n = 0;
	list[n++] = root;
	for (int i = 0; i < n; i++) {
		int64_t cpu = proc_cpu_ms(list[i]);
		if (cpu < 0)
			continue;
		u->processes++;
		u->cpu_ms += cpu;
		int64_t hwm = proc_hwm(list[i]);
		if (hwm > u->peak_rss)
			u->peak_rss = hwm;
		add_children(list[i], list, &n);
	}
	free(list);
}
