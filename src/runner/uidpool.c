/* Sandbox uids claimed by lock files (uidpool.h). */
#include "runner/uidpool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "lib/util.h"

struct ft_uidpool {
	char *dir;
	uid_t first;
	unsigned count;
	unsigned next; /* where the next claim starts looking */
	unsigned held;
	int *fds; /* per uid: the locked file, or -1 */
};

struct ft_uidpool *ft_uidpool_new(const char *lock_dir, uid_t first, unsigned count, char *err,
				  size_t errlen)
{
	if (count == 0 || (uint64_t)first + count - 1 > (uint64_t)UINT32_MAX - 2) {
		ft_set_err(err, errlen, "uid range %u+%u is empty or too large", (unsigned)first,
			   count);
		return NULL;
	}
	if (ft_mkdir_p(lock_dir, 0700) < 0) {
		ft_set_err(err, errlen, "cannot create %s: %s", lock_dir, strerror(errno));
		return NULL;
	}
	struct ft_uidpool *p = ft_xcalloc(1, sizeof(*p));
	p->dir = ft_xstrdup(lock_dir);
	p->first = first;
	p->count = count;
	p->fds = ft_xcalloc(count, sizeof(*p->fds));
	for (unsigned i = 0; i < count; i++)
		p->fds[i] = -1;
	/* Nodes of one host start their search at different places, so
	 * that they rarely contend for the same file. */
	p->next = (unsigned)getpid() % count;
	return p;
}

void ft_uidpool_free(struct ft_uidpool *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < p->count; i++)
		if (p->fds[i] >= 0)
			close(p->fds[i]);
	free(p->fds);
	free(p->dir);
	free(p);
}

/* The lock file of uid first+i, locked: its fd, or -1. */
static int try_lock(const struct ft_uidpool *p, unsigned i)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%u", p->dir, (unsigned)(p->first + i));
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int ft_uidpool_claim(struct ft_uidpool *p, uid_t *uid)
{
	for (unsigned k = 0; k < p->count; k++) {
		unsigned i = (p->next + k) % p->count;
		if (p->fds[i] >= 0)
			continue;
		int fd = try_lock(p, i);
		if (fd < 0)
			continue;
		p->fds[i] = fd;
		p->held++;
		p->next = (i + 1) % p->count;
		*uid = p->first + i;
		return 0;
	}
	errno = EAGAIN;
	return -1;
}

void ft_uidpool_release(struct ft_uidpool *p, uid_t uid)
{
	if (uid < p->first || uid - p->first >= p->count)
		return;
	unsigned i = uid - p->first;
	if (p->fds[i] < 0)
		return;
	close(p->fds[i]);
	p->fds[i] = -1;
	p->held--;
}

unsigned ft_uidpool_held(const struct ft_uidpool *p)
{
	return p->held;
}
