/* The sandbox users: a range of uids shared by every node of a host, each
 * uid held by at most one live sandbox at a time.
 *
 * Why one uid per sandbox: RLIMIT_NPROC, the process limit where no pids
 * cgroup exists, counts every task of the process's real uid on the whole
 * host.  With one shared sandbox user, the JVMs of every node of the host
 * use up one budget, and a run fails to start because of its neighbours.
 * With a uid of its own, the limit bounds that one sandbox.
 *
 * Claims are advisory locks (flock) on one file per uid in a directory
 * shared by the host's nodes, so nodes that know nothing of each other
 * never hand out the same uid, and a node that dies drops its claims with
 * its file descriptors.  Claims rotate through the range, so that a uid
 * just released (whose killed tasks may still be leaving) is reused last. */
#ifndef FT_UIDPOOL_H
#define FT_UIDPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ft_uidpool;

/* first..first+count-1 (count >= 1), locks in lock_dir (created, mode
 * 0700).  NULL with a message in err if lock_dir cannot be used. */
struct ft_uidpool *ft_uidpool_new(const char *lock_dir, uid_t first, unsigned count, char *err,
				  size_t errlen);
/* Releases every claim. */
void ft_uidpool_free(struct ft_uidpool *p);

/* Claims a uid nobody holds: 0 and *uid, or -1 with errno (EAGAIN: every
 * uid of the range is held, by this node or another). */
int ft_uidpool_claim(struct ft_uidpool *p, uid_t *uid);
/* Gives back a uid claimed from p; its sandbox must be gone. */
void ft_uidpool_release(struct ft_uidpool *p, uid_t uid);

/* How many uids this pool holds now. */
unsigned ft_uidpool_held(const struct ft_uidpool *p);

#endif
