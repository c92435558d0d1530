/* Job directories and their files (see jobdir.h). */
#include "runner/jobdir.h"
#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Depth beyond which a job directory is not cleaned (a program building
 * absurdly deep trees must not make the daemon recurse without bound). */
#define REMOVE_DEPTH_MAX 128

char *ft_jobdir_absolute(const char *path)
{
	if (path[0] == '/')
		return ft_xstrdup(path);
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	return ft_xasprintf("%s/%s", cwd, path);
}

int ft_jobdir_make(const char *parent, const char *prefix, bool shared, char **path, int *dirfd)
{
	char *tmpl = ft_xasprintf("%s/%sXXXXXX", parent, prefix);
	*path = NULL;
	*dirfd = -1;
	if (!mkdtemp(tmpl)) { /* mode 0700 */
		int saved = errno;
		free(tmpl);
		errno = saved;
		return -1;
	}
	*path = tmpl;
	*dirfd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (*dirfd < 0)
		return -1;
	if (shared && fchmod(*dirfd, 0755) < 0)
		return -1;
	return 0;
}

/* rm -rf of what the program may have left: it can create read-only or
 * unreadable directories, so permissions are restored on the way down. */
static void remove_tree_at(int parent, const char *name, int depth)
{
	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
		return;
	if (errno != EISDIR && errno != EPERM)
		return;
	if (depth > REMOVE_DEPTH_MAX)
		return;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES && fchmodat(parent, name, 0700, 0) == 0)
		fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	(void)fchmod(fd, 0700);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		remove_tree_at(dirfd(d), e->d_name, depth + 1);
	}
	closedir(d);
	(void)unlinkat(parent, name, AT_REMOVEDIR);
}

void ft_jobdir_remove(const char *path)
{
	remove_tree_at(AT_FDCWD, path, 0);
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

void ft_jobdir_remove_stale(const char *work_dir)
{
	DIR *d = opendir(work_dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		/* FT_JOBDIR_SPARE covers FT_JOBDIR_WARM_COMPILER. */
		if (!has_prefix(e->d_name, FT_JOBDIR_JOB) &&
		    !has_prefix(e->d_name, FT_JOBDIR_SELFTEST) &&
		    !has_prefix(e->d_name, FT_JOBDIR_SPARE))
			continue;
		remove_tree_at(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

int ft_jobdir_open_output(int dirfd, const char *name)
{
	return openat(dirfd, name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
}

int ft_jobdir_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int ft_jobdir_write_file(int dirfd, const char *name, const void *p, size_t n)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -1;
	int rc = ft_jobdir_write_all(fd, p, n);
	int saved = errno;
	if (close(fd) < 0 && rc == 0)
		return -1;
	errno = saved;
	return rc;
}

int ft_jobdir_write_run_inputs(int dirfd, const struct ft_run_inputs *in)
{
	if (in->entry &&
	    ft_jobdir_write_file(dirfd, FT_JOBDIR_RUN_ENTRY, in->entry, strlen(in->entry)) < 0)
		return -1;
	if (in->input &&
	    ft_jobdir_write_file(dirfd, FT_JOBDIR_RUN_INPUT, in->input, in->input_len) < 0)
		return -1;
	if (in->args && ft_jobdir_write_file(dirfd, FT_JOBDIR_RUN_ARGS, in->args, in->args_len) < 0)
		return -1;
	return 0;
}

/* One path element of a class file: what javac can produce from a valid
 * binary name; anything else is refused (the compiler is ours, but it
 * reads untrusted input). */
static bool good_element(const char *s, size_t n)
{
	if (n == 0 || n > NAME_MAX - 6)
		return false;
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == '\0')
			return false;
	return true;
}

/* One class file below the directory cls: pkg.Outer$Inner as
 * pkg/Outer$Inner.class.  0 or -1. */
static int write_class(int cls, const struct ft_class *c)
{
	const char *name = c->name;
	int rc = 0;
	int d = dup(cls);
	if (d < 0)
		return -1;
	for (;;) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);
		if (!good_element(name, n)) {
			errno = EINVAL;
			rc = -1;
			break;
		}
		char el[NAME_MAX + 1];
		memcpy(el, name, n);
		el[n] = '\0';
		if (!dot) {
			strcat(el, ".class");
			int fd = openat(d, el, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
					0644);
			/* Explicit modes: the daemon's umask must not hide the
			 * classes from the sandbox user. */
			if (fd < 0 || fchmod(fd, 0644) < 0 ||
			    ft_jobdir_write_all(fd, c->data, c->len) < 0)
				rc = -1;
			if (fd >= 0 && close(fd) < 0)
				rc = -1;
			break;
		}
		if (mkdirat(d, el, 0755) < 0 && errno != EEXIST) {
			rc = -1;
			break;
		}
		int nd = openat(d, el, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(d);
		d = nd;
		if (d < 0 || fchmod(d, 0755) < 0) {
			rc = -1;
			break;
		}
		name = dot + 1;
	}
	if (d >= 0)
		close(d);
	return rc;
}

int ft_jobdir_write_classes(int dirfd, const struct ft_compiled *cc)
{
	int cls = openat(dirfd, FT_JOBDIR_CLASSES, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cls < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < cc->n && rc == 0; i++)
		rc = write_class(cls, &cc->cls[i]);
	close(cls);
	return rc;
}

char *ft_jobdir_read_fd(int fd, size_t max, size_t *lenp)
{
	size_t cap = 4096, len = 0;
	char *buf = ft_xmalloc(cap + 1);
	while (len < max) {
		if (len == cap) {
			cap = cap * 2 > max ? max : cap * 2;
			buf = ft_xrealloc(buf, cap + 1);
		}
		size_t want = (cap < max ? cap : max) - len;
		ssize_t n = pread(fd, buf + len, want, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

char *ft_jobdir_read(int dirfd, const char *name, size_t max, size_t *lenp)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	char *buf = ft_jobdir_read_fd(fd, max, lenp);
	close(fd);
	return buf;
}

char *ft_jobdir_excerpt(int dirfd, const char *name)
{
	size_t len;
	char *s = ft_jobdir_read(dirfd, name, FT_JOBDIR_EXCERPT, &len);
	return s ? s : ft_xstrdup("");
}
