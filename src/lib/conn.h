/* A framed TCP connection between members on the sd-event loop: sealed with
 * the cluster key (lib/seal.h: nothing passes before both sides proved
 * they hold it), non-blocking, buffered both ways, bounded both ways, and
 * closed when it goes silent (a peer paused or cut off, which TCP alone
 * would not notice for minutes).  A malformed or oversize frame, or an output
 * backlog past max_out_bytes, closes the connection with a log line; nothing
 * a peer sends can crash the daemon or grow memory without bound. */
#ifndef FT_CONN_H
#define FT_CONN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "lib/frame.h"

struct ft_conn;

struct ft_conn_ops {
	/* A complete frame arrived.  The frame is valid during the call only. */
	void (*on_frame)(struct ft_conn *c, const struct ft_frame *f, void *ud);
	/* Outgoing connect finished and the peer proved it holds the cluster
	 * key (only for ft_conn_connect). */
	void (*on_connected)(struct ft_conn *c, void *ud);
	/* The connection is gone (peer closed, error, protocol violation or
	 * ft_conn_close).  Called once; the conn is freed after it returns. */
	void (*on_close)(struct ft_conn *c, const char *why, void *ud);
};

struct ft_conn_limits {
	size_t max_frame_bytes;
	size_t max_out_bytes;
	/* Liveness (0: off).  An open link that sent nothing for heartbeat_ms
	 * sends a PING (never passed to on_frame); one that received nothing
	 * for timeout_ms is closed, as is an outgoing one not open (connected
	 * and the handshake done) within connect_timeout_ms.  timeout_ms is
	 * also the socket's TCP_USER_TIMEOUT. */
	int heartbeat_ms;
	int timeout_ms;
	int connect_timeout_ms;
};

/* Wrap an accepted socket. */
struct ft_conn *ft_conn_adopt(sd_event *ev, int fd, const struct ft_conn_limits *lim,
			      const struct ft_conn_ops *ops, void *ud);
/* Start a non-blocking connect. NULL only if no socket could be made. */
struct ft_conn *ft_conn_connect(sd_event *ev, const struct sockaddr_in *to,
				const struct ft_conn_limits *lim, const struct ft_conn_ops *ops,
				void *ud);

/* Queue a frame (held until the handshake ends, then sealed).  -1 if the
 * connection is closing or the frame too big. */
int ft_conn_send(struct ft_conn *c, int type, struct json_object *meta, const void *blob,
		 size_t blob_len);

/* Close: on_close runs (later, from the loop, never re-entrantly). */
void ft_conn_close(struct ft_conn *c, const char *why);

bool ft_conn_is_open(const struct ft_conn *c);
/* Closed because the peer fell silent (limits.link_timeout_ms, or TCP
 * giving up), not because it closed or reset the connection. */
bool ft_conn_went_silent(const struct ft_conn *c);
/* Monotonic ms of the last byte received (or of the connection's start). */
int64_t ft_conn_last_heard_ms(const struct ft_conn *c);
/* Connected, and the handshake done. */
bool ft_conn_is_connected(const struct ft_conn *c);
/* Closed because the peer failed the cluster key handshake. */
bool ft_conn_handshake_failed(const struct ft_conn *c);
void ft_conn_set_userdata(struct ft_conn *c, void *ud);
const char *ft_conn_peer(const struct ft_conn *c); /* "ip:port" */

struct sockaddr;
/* The IPv4 or IPv6 address of sa (NULL or another family: "?") as text. */
void ft_sockaddr_ip(const struct sockaddr *sa, char *buf, size_t len);

/* Listening TCP socket (SO_REUSEADDR, non-blocking); fd or -1. */
int ft_tcp_listen(const struct sockaddr_in *addr);

#endif
