/* The gateway's link to the leader: a framed TCP connection to the node
 * the election names, introduced by the gateway's HELLO; the leader's
 * frames (HELLO, RESULT, STARTED, REJECT) are fed into the core, and the
 * core's SUBMITs and ACKs go out on it.  When the leader changes it
 * connects to the new one at once; when the named leader does not answer
 * it retries with a growing back-off. */
#ifndef FT_GATEWAY_LINK_H
#define FT_GATEWAY_LINK_H

#include <systemd/sd-event.h>

#include "conf/config.h"
#include "gateway/core.h"

struct ft_election;
struct gw_link;

/* What the core calls to send; its ud is the struct gw_link. */
extern const struct gw_link_ops gw_link_core_ops;

/* ev and cfg are not owned.  Nothing connects before gw_link_follow. */
struct gw_link *gw_link_new(sd_event *ev, const struct ft_config *cfg);
/* The core the leader's frames go to (once, before gw_link_follow). */
void gw_link_set_core(struct gw_link *l, struct gw_core *core);
/* Point the link at the leader el names now (call on every change of the
 * election); retries ask el again. */
void gw_link_follow(struct gw_link *l, const struct ft_election *el);
void gw_link_free(struct gw_link *l);

#endif
