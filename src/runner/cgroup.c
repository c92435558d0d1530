/* Per-run control groups, v2 or v1 (see cgroup.h). */
#include "runner/cgroup.h"
#include "lib/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CG_PATH_MAX 4096

struct ft_cgroups {
	int version;
	/* v1: the runner's parent directory in each hierarchy (NULL where the
	 * controller is missing).  v2: dir[FT_CG_MEMORY] is the delegated
	 * cgroup the job cgroups are created in, the others are NULL. */
	char *dir[FT_CG_N];
	bool has[FT_CG_N];
	unsigned seq;
	char desc[3 * CG_PATH_MAX];
};

struct ft_cgroup_job {
	struct ft_cgroups *cg;
	char *path[FT_CG_N]; /* v2: only [FT_CG_MEMORY] */
	int procs_fd[FT_CG_N];
};

static const char *const v1_names[FT_CG_N] = { "memory", "pids", "cpuacct" };

/* ---- pure helpers ---- */

/* Copies one space-separated field, decoding \ooo escapes. */
static const char *take_field(const char *p, char *out, size_t outlen, bool *ok)
{
	size_t n = 0;
	while (*p == ' ')
		p++;
	if (!*p || *p == '\n') {
		*ok = false;
		return p;
	}
	while (*p && *p != ' ' && *p != '\n') {
		char c = *p++;
		if (c == '\\' && p[0] >= '0' && p[0] <= '7' && p[1] >= '0' && p[1] <= '7' &&
		    p[2] >= '0' && p[2] <= '7') {
			c = (char)((p[0] - '0') * 64 + (p[1] - '0') * 8 + (p[2] - '0'));
			p += 3;
		}
		if (n + 1 >= outlen) {
			*ok = false;
			return p;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	return p;
}

int ft_cgroup_parse_mountinfo(const char *line, struct ft_mountinfo *out)
{
	char skip[1024];
	bool ok = true;
	const char *p = line;
	/* id, parent id, major:minor */
	for (int i = 0; i < 3; i++)
		p = take_field(p, skip, sizeof(skip), &ok);
	p = take_field(p, out->root, sizeof(out->root), &ok);
	p = take_field(p, out->mountpoint, sizeof(out->mountpoint), &ok);
	p = take_field(p, skip, sizeof(skip), &ok); /* mount options */
	/* optional fields up to the "-" separator */
	for (;;) {
		p = take_field(p, skip, sizeof(skip), &ok);
		if (!ok)
			return -1;
		if (strcmp(skip, "-") == 0)
			break;
	}
	p = take_field(p, out->fstype, sizeof(out->fstype), &ok);
	p = take_field(p, skip, sizeof(skip), &ok); /* source */
	take_field(p, out->superopts, sizeof(out->superopts), &ok);
	return ok ? 0 : -1;
}

int ft_cgroup_parse_self(const char *line, int *id, char *ctrls, size_t ctrlslen, char *path,
			 size_t pathlen)
{
	char *end;
	errno = 0;
	long v = strtol(line, &end, 10);
	if (end == line || *end != ':' || errno || v < 0 || v > INT_MAX)
		return -1;
	const char *c = end + 1;
	const char *colon = strchr(c, ':');
	if (!colon || (size_t)(colon - c) >= ctrlslen)
		return -1;
	memcpy(ctrls, c, (size_t)(colon - c));
	ctrls[colon - c] = '\0';
	const char *p = colon + 1;
	size_t n = strcspn(p, "\n");
	if (n == 0 || n >= pathlen || p[0] != '/')
		return -1;
	memcpy(path, p, n);
	path[n] = '\0';
	*id = (int)v;
	return 0;
}

bool ft_cgroup_list_has(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *p = list;
	while (p && *p) {
		size_t n = strcspn(p, ",");
		if (n == len && strncmp(p, name, len) == 0)
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

int ft_cgroup_dir(const char *mountpoint, const char *root, const char *path, char *out,
		  size_t outlen)
{
	const char *rel = path;
	if (strcmp(root, "/") != 0) {
		size_t rl = strlen(root);
		if (strncmp(path, root, rl) != 0 || (path[rl] != '\0' && path[rl] != '/'))
			return -1;
		rel = path + rl;
	}
	if (strcmp(rel, "/") == 0)
		rel = "";
	int n = snprintf(out, outlen, "%s%s", mountpoint, rel);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int64_t ft_cgroup_keyed(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text;
	while (p && *p) {
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ') {
			char *end;
			errno = 0;
			long long v = strtoll(p + klen + 1, &end, 10);
			if (end != p + klen + 1 && !errno && v >= 0)
				return v;
			return -1;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

/* ---- file helpers ---- */

static int write_file(const char *dir, const char *name, const char *value)
{
	char path[CG_PATH_MAX];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = strlen(value);
	ssize_t w = write(fd, value, len);
	int saved = errno;
	close(fd);
	if (w != (ssize_t)len) {
		errno = w < 0 ? saved : EIO;
		return -1;
	}
	return 0;
}

/* Small file contents, NUL-terminated; NULL if unreadable. */
static char *read_small(const char *dir, const char *name, char *buf, size_t buflen)
{
	char path[CG_PATH_MAX];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t len = 0;
	while (len + 1 < buflen) {
		ssize_t n = read(fd, buf + len, buflen - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

static int64_t read_number(const char *dir, const char *name)
{
	char buf[64];
	if (!read_small(dir, name, buf, sizeof(buf)))
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(buf, &end, 10);
	if (end == buf || errno || v < 0)
		return -1;
	return v;
}

static int64_t read_keyed(const char *dir, const char *name, const char *key)
{
	char buf[2048];
	if (!read_small(dir, name, buf, sizeof(buf)))
		return -1;
	return ft_cgroup_keyed(buf, key);
}

static bool pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH);
}

/* Removes empty cgroup directories below dir (one level), then dir. */
static void remove_cgroup_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_type != DT_DIR || e->d_name[0] == '.')
				continue;
			char sub[CG_PATH_MAX];
			if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) <
			    sizeof(sub))
				(void)rmdir(sub);
		}
		closedir(d);
	}
	(void)rmdir(dir);
}

/* Directories "<prefix><pid>..." in dir whose pid no longer runs: what a
 * daemon that died left behind. */
static void remove_stale(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	size_t pl = strlen(prefix);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_type != DT_DIR || strncmp(e->d_name, prefix, pl) != 0)
			continue;
		char *end;
		long pid = strtol(e->d_name + pl, &end, 10);
		if (end == e->d_name + pl || (*end != '\0' && *end != '-'))
			continue;
		if (pid == (long)getpid() || pid_alive((pid_t)pid))
			continue;
		char sub[CG_PATH_MAX];
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) < sizeof(sub))
			remove_cgroup_tree(sub);
	}
	closedir(d);
}

/* ---- discovery ---- */

struct hier {
	char dir[CG_PATH_MAX]; /* the daemon's cgroup directory in it */
	bool found;
};

struct discovery {
	struct hier v2;
	struct hier v1[FT_CG_N];
};

/* The daemon's cgroup paths: v2 ("0::") and v1 per controller. */
static void discover(struct discovery *dv)
{
	char v2path[CG_PATH_MAX] = "";
	char v1path[FT_CG_N][CG_PATH_MAX] = { { 0 } };
	char line[8192];

	memset(dv, 0, sizeof(*dv));
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		int id;
		char ctrls[256], path[CG_PATH_MAX];
		if (ft_cgroup_parse_self(line, &id, ctrls, sizeof(ctrls), path, sizeof(path)) < 0)
			continue;
		if (id == 0 && ctrls[0] == '\0') {
			snprintf(v2path, sizeof(v2path), "%s", path);
			continue;
		}
		for (int c = 0; c < FT_CG_N; c++)
			if (ft_cgroup_list_has(ctrls, v1_names[c]))
				snprintf(v1path[c], sizeof(v1path[c]), "%s", path);
	}
	fclose(f);

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return;
	struct ft_mountinfo *mi = malloc(sizeof(*mi));
	while (mi && fgets(line, sizeof(line), f)) {
		if (ft_cgroup_parse_mountinfo(line, mi) < 0)
			continue;
		if (strcmp(mi->fstype, "cgroup2") == 0 && v2path[0] && !dv->v2.found) {
			if (ft_cgroup_dir(mi->mountpoint, mi->root, v2path, dv->v2.dir,
					  sizeof(dv->v2.dir)) == 0)
				dv->v2.found = true;
		} else if (strcmp(mi->fstype, "cgroup") == 0) {
			for (int c = 0; c < FT_CG_N; c++) {
				if (dv->v1[c].found || !v1path[c][0] ||
				    !ft_cgroup_list_has(mi->superopts, v1_names[c]))
					continue;
				if (ft_cgroup_dir(mi->mountpoint, mi->root, v1path[c],
						  dv->v1[c].dir, sizeof(dv->v1[c].dir)) == 0)
					dv->v1[c].found = true;
			}
		}
	}
	free(mi);
	fclose(f);
}

/* name is a word of the space-separated list (cgroup.controllers). */
static bool word_in(const char *list, const char *name)
{
	size_t len = strlen(name);
	for (const char *p = list; *p;) {
		while (*p == ' ' || *p == '\n')
			p++;
		size_t n = strcspn(p, " \n");
		if (n == len && strncmp(p, name, len) == 0)
			return true;
		p += n;
	}
	return false;
}

/* cgroup.procs of dir lists no process but this one. */
static bool only_us_in(const char *dir)
{
	char buf[4096];
	if (!read_small(dir, "cgroup.procs", buf, sizeof(buf)))
		return false;
	pid_t self = getpid();
	for (char *p = buf; *p;) {
		char *end;
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid != self)
			return false;
		p = end;
		while (*p == '\n')
			p++;
	}
	return true;
}

static int enable_v2_controllers(const char *dir)
{
	char buf[512];
	if (!read_small(dir, "cgroup.controllers", buf, sizeof(buf)))
		return -1;
	char want[64] = "+memory +pids";
	if (word_in(buf, "cpu"))
		strcat(want, " +cpu");
	return write_file(dir, "cgroup.subtree_control", want);
}

static int open_v2(struct ft_cgroups *cg, const struct discovery *dv, char *why, size_t whylen)
{
	const char *dir = dv->v2.dir;
	char buf[512];
	if (!dv->v2.found) {
		ft_set_err(why, whylen, "no cgroup v2 hierarchy");
		return -1;
	}
	if (!read_small(dir, "cgroup.controllers", buf, sizeof(buf)) || !word_in(buf, "memory") ||
	    !word_in(buf, "pids")) {
		ft_set_err(why, whylen, "cgroup v2 %s offers no memory/pids controller", dir);
		return -1;
	}
	if (access(dir, W_OK) < 0) {
		ft_set_err(why, whylen, "cgroup v2 %s is not writable (not delegated)", dir);
		return -1;
	}
	remove_stale(dir, "ftjob-");
	if (enable_v2_controllers(dir) < 0 && errno == EBUSY) {
		/* Processes may not sit in a cgroup that hands controllers to
		 * children: move the daemon into a leaf of its own, if it is
		 * alone (a delegated service cgroup). */
		if (!only_us_in(dir)) {
			ft_set_err(why, whylen,
				   "cgroup v2 %s holds other processes (give the node a delegated "
				   "cgroup of its own: systemd Delegate=yes)",
				   dir);
			return -1;
		}
		remove_stale(dir, "ftnode-");
		char leaf[CG_PATH_MAX], pid[32];
		snprintf(pid, sizeof(pid), "%ld", (long)getpid());
		if ((size_t)snprintf(leaf, sizeof(leaf), "%s/ftnode-%ld", dir, (long)getpid()) >=
		    sizeof(leaf)) {
			ft_set_err(why, whylen, "cgroup path too long");
			return -1;
		}
		if ((mkdir(leaf, 0755) < 0 && errno != EEXIST) ||
		    write_file(leaf, "cgroup.procs", pid) < 0) {
			ft_set_err(why, whylen, "cannot move the daemon into %s: %s", leaf,
				   strerror(errno));
			(void)rmdir(leaf);
			return -1;
		}
		if (enable_v2_controllers(dir) < 0) {
			int e = errno;
			(void)write_file(dir, "cgroup.procs", pid);
			(void)rmdir(leaf);
			ft_set_err(why, whylen, "cannot enable memory/pids in %s: %s", dir,
				   strerror(e));
			return -1;
		}
	} else if (!read_small(dir, "cgroup.subtree_control", buf, sizeof(buf)) ||
		   !word_in(buf, "memory") || !word_in(buf, "pids")) {
		ft_set_err(why, whylen, "cannot enable memory/pids in %s/cgroup.subtree_control",
			   dir);
		return -1;
	}
	cg->version = 2;
	cg->dir[FT_CG_MEMORY] = strdup(dir);
	cg->has[FT_CG_MEMORY] = cg->has[FT_CG_PIDS] = true;
	cg->has[FT_CG_CPU] =
		read_small(dir, "cgroup.subtree_control", buf, sizeof(buf)) && word_in(buf, "cpu");
	snprintf(cg->desc, sizeof(cg->desc), "cgroup v2 (%s/ftjob-%ld-*: memory.max, pids.max%s)",
		 dir, (long)getpid(), cg->has[FT_CG_CPU] ? ", cpu.stat" : "");
	return cg->dir[FT_CG_MEMORY] ? 0 : -1;
}

static int open_v1(struct ft_cgroups *cg, const struct discovery *dv, char *why, size_t whylen)
{
	if (!dv->v1[FT_CG_MEMORY].found) {
		ft_set_err(why, whylen, "no cgroup v1 memory hierarchy");
		return -1;
	}
	for (int c = 0; c < FT_CG_N; c++) {
		if (!dv->v1[c].found)
			continue;
		const char *own = dv->v1[c].dir;
		if (access(own, W_OK) < 0) {
			if (c == FT_CG_MEMORY) {
				ft_set_err(why, whylen, "cgroup v1 %s is not writable", own);
				return -1;
			}
			continue;
		}
		remove_stale(own, "ftcluster-");
		char dir[CG_PATH_MAX];
		if ((size_t)snprintf(dir, sizeof(dir), "%s/ftcluster-%ld", own, (long)getpid()) >=
		    sizeof(dir))
			continue;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			if (c == FT_CG_MEMORY) {
				ft_set_err(why, whylen, "cannot create %s: %s", dir,
					   strerror(errno));
				return -1;
			}
			continue;
		}
		cg->dir[c] = strdup(dir);
		cg->has[c] = cg->dir[c] != NULL;
	}
	if (!cg->has[FT_CG_MEMORY])
		return -1;
	cg->version = 1;
	int n = snprintf(cg->desc, sizeof(cg->desc), "cgroup v1 (memory %s/job-*",
			 cg->dir[FT_CG_MEMORY]);
	for (int c = FT_CG_PIDS; c < FT_CG_N && n > 0 && (size_t)n < sizeof(cg->desc); c++)
		if (cg->has[c])
			n += snprintf(cg->desc + n, sizeof(cg->desc) - (size_t)n, ", %s %s",
				      v1_names[c], cg->dir[c]);
	if (n > 0 && (size_t)n < sizeof(cg->desc))
		snprintf(cg->desc + n, sizeof(cg->desc) - (size_t)n, ")");
	return 0;
}

struct ft_cgroups *ft_cgroups_open(enum ft_cgroup_want want, char *why, size_t whylen)
{
	struct discovery *dv;
	char why2[512] = "", why1[512] = "";

	ft_set_err(why, whylen, "disabled");
	if (want == FT_CGROUP_OFF)
		return NULL;
	struct ft_cgroups *cg = calloc(1, sizeof(*cg));
	dv = malloc(sizeof(*dv));
	if (!cg || !dv) {
		free(cg);
		free(dv);
		ft_set_err(why, whylen, "out of memory");
		return NULL;
	}
	discover(dv);
	int rc = -1;
	if (want == FT_CGROUP_AUTO || want == FT_CGROUP_V2_ONLY)
		rc = open_v2(cg, dv, why2, sizeof(why2));
	if (rc < 0 && (want == FT_CGROUP_AUTO || want == FT_CGROUP_V1_ONLY))
		rc = open_v1(cg, dv, why1, sizeof(why1));
	free(dv);
	if (rc < 0) {
		ft_set_err(why, whylen, "%s%s%s", why2, why2[0] && why1[0] ? "; " : "", why1);
		ft_cgroups_close(cg);
		return NULL;
	}
	return cg;
}

void ft_cgroups_close(struct ft_cgroups *cg)
{
	if (!cg)
		return;
	for (int c = 0; c < FT_CG_N; c++) {
		if (cg->dir[c] && cg->version == 1)
			remove_cgroup_tree(cg->dir[c]);
		free(cg->dir[c]);
	}
	free(cg);
}

int ft_cgroups_version(const struct ft_cgroups *cg)
{
	return cg->version;
}

bool ft_cgroups_has(const struct ft_cgroups *cg, enum ft_cgroup_ctrl c)
{
	return cg && c < FT_CG_N && cg->has[c];
}

const char *ft_cgroups_describe(const struct ft_cgroups *cg)
{
	return cg->desc;
}

/* ---- jobs ---- */

static void job_free(struct ft_cgroup_job *j)
{
	for (int c = 0; c < FT_CG_N; c++) {
		if (j->procs_fd[c] >= 0)
			close(j->procs_fd[c]);
		free(j->path[c]);
	}
	free(j);
}

static int set_limits_v2(const char *dir, uint64_t mem, int tasks)
{
	char v[32];
	snprintf(v, sizeof(v), "%" PRIu64, mem);
	if (write_file(dir, "memory.max", v) < 0)
		return -1;
	/* No swap to hide in (absent without swap accounting: fine). */
	if (write_file(dir, "memory.swap.max", "0") < 0 && errno != ENOENT)
		return -1;
	/* An OOM kill takes the whole run, not just one of its processes. */
	(void)write_file(dir, "memory.oom.group", "1");
	snprintf(v, sizeof(v), "%d", tasks);
	if (tasks > 0 && write_file(dir, "pids.max", v) < 0)
		return -1;
	return 0;
}

static int set_limits_v1(int c, const char *dir, uint64_t mem, int tasks)
{
	char v[32];
	if (c == FT_CG_MEMORY) {
		snprintf(v, sizeof(v), "%" PRIu64, mem);
		if (write_file(dir, "memory.limit_in_bytes", v) < 0)
			return -1;
		/* memory+swap: only there with swap accounting. */
		if (write_file(dir, "memory.memsw.limit_in_bytes", v) < 0 && errno != ENOENT)
			return -1;
		(void)write_file(dir, "memory.swappiness", "0");
	} else if (c == FT_CG_PIDS && tasks > 0) {
		snprintf(v, sizeof(v), "%d", tasks);
		if (write_file(dir, "pids.max", v) < 0)
			return -1;
	}
	return 0;
}

struct ft_cgroup_job *ft_cgroup_job_new(struct ft_cgroups *cg, uint64_t memory_bytes, int max_tasks,
					char *err, size_t errlen)
{
	struct ft_cgroup_job *j = calloc(1, sizeof(*j));
	if (!j) {
		ft_set_err(err, errlen, "out of memory");
		return NULL;
	}
	j->cg = cg;
	for (int c = 0; c < FT_CG_N; c++)
		j->procs_fd[c] = -1;
	unsigned seq = ++cg->seq;
	int n = cg->version == 2 ? 1 : FT_CG_N;
	for (int c = 0; c < n; c++) {
		if (!cg->dir[c])
			continue;
		char path[CG_PATH_MAX];
		int pn = cg->version == 2
				 ? snprintf(path, sizeof(path), "%s/ftjob-%ld-%u", cg->dir[c],
					    (long)getpid(), seq)
				 : snprintf(path, sizeof(path), "%s/job-%u", cg->dir[c], seq);
		if (pn < 0 || (size_t)pn >= sizeof(path)) {
			ft_set_err(err, errlen, "cgroup path too long");
			goto fail;
		}
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			ft_set_err(err, errlen, "mkdir %s: %s", path, strerror(errno));
			goto fail;
		}
		j->path[c] = strdup(path);
		if (!j->path[c]) {
			(void)rmdir(path);
			ft_set_err(err, errlen, "out of memory");
			goto fail;
		}
		int rc = cg->version == 2 ? set_limits_v2(path, memory_bytes, max_tasks)
					  : set_limits_v1(c, path, memory_bytes, max_tasks);
		if (rc < 0) {
			ft_set_err(err, errlen, "setting limits in %s: %s", path, strerror(errno));
			goto fail;
		}
		char procs[CG_PATH_MAX];
		if ((size_t)snprintf(procs, sizeof(procs), "%s/cgroup.procs", path) >=
		    sizeof(procs)) {
			ft_set_err(err, errlen, "cgroup path too long");
			goto fail;
		}
		j->procs_fd[c] = open(procs, O_WRONLY | O_CLOEXEC);
		if (j->procs_fd[c] < 0) {
			ft_set_err(err, errlen, "open %s: %s", procs, strerror(errno));
			goto fail;
		}
	}
	return j;
fail:
	for (int c = 0; c < FT_CG_N; c++)
		if (j->path[c])
			(void)rmdir(j->path[c]);
	job_free(j);
	return NULL;
}

int ft_cgroup_job_procs_fds(const struct ft_cgroup_job *j, int fds[FT_CG_N])
{
	int n = 0;
	for (int c = 0; c < FT_CG_N; c++)
		if (j->procs_fd[c] >= 0)
			fds[n++] = j->procs_fd[c];
	return n;
}

int64_t ft_cgroup_job_cpu_ns(const struct ft_cgroup_job *j)
{
	if (j->cg->version == 2) {
		int64_t us = read_keyed(j->path[FT_CG_MEMORY], "cpu.stat", "usage_usec");
		return us < 0 ? -1 : us * 1000;
	}
	if (!j->path[FT_CG_CPU])
		return -1;
	return read_number(j->path[FT_CG_CPU], "cpuacct.usage");
}

void ft_cgroup_job_stats(const struct ft_cgroup_job *j, struct ft_cgroup_stats *st)
{
	st->cpu_ns = ft_cgroup_job_cpu_ns(j);
	if (j->cg->version == 2) {
		const char *d = j->path[FT_CG_MEMORY];
		st->memory_peak = read_number(d, "memory.peak"); /* Linux >= 5.19 */
		st->oom_killed = read_keyed(d, "memory.events", "oom_kill") > 0;
		st->tasks_refused = read_keyed(d, "pids.events", "max") > 0;
		return;
	}
	const char *m = j->path[FT_CG_MEMORY];
	st->memory_peak = m ? read_number(m, "memory.max_usage_in_bytes") : -1;
	/* "oom_kill" is there since Linux 4.13; before, a failed charge at
	 * the limit is the best sign. */
	int64_t kills = m ? read_keyed(m, "memory.oom_control", "oom_kill") : -1;
	st->oom_killed = kills > 0;
	st->tasks_refused =
		j->path[FT_CG_PIDS] && read_keyed(j->path[FT_CG_PIDS], "pids.events", "max") > 0;
}

int ft_cgroup_job_kill(struct ft_cgroup_job *j)
{
	if (j->cg->version != 2)
		return -1;
	return write_file(j->path[FT_CG_MEMORY], "cgroup.kill", "1");
}

int ft_cgroup_job_destroy(struct ft_cgroup_job *j)
{
	int busy = 0;
	for (int c = 0; c < FT_CG_N; c++) {
		if (j->procs_fd[c] >= 0) {
			close(j->procs_fd[c]);
			j->procs_fd[c] = -1;
		}
		if (!j->path[c])
			continue;
		if (rmdir(j->path[c]) == 0 || errno == ENOENT) {
			free(j->path[c]);
			j->path[c] = NULL;
		} else {
			busy = 1;
		}
	}
	if (busy)
		return -1;
	job_free(j);
	return 0;
}

void ft_cgroup_job_abandon(struct ft_cgroup_job *j)
{
	job_free(j);
}
