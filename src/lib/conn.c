#include "lib/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/keyring.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/ratelimit.h"
#include "lib/seal.h"
#include "lib/util.h"

struct ft_conn {
	sd_event *ev;
	sd_event_source *io;
	sd_event_source *defer; /* runs on_close + free outside any callback */
	int fd;
	bool connecting;
	bool closing;
	bool silent; /* closed for silence: ft_conn_went_silent */
	char why[128];
	char peer[64];
	struct ft_conn_limits lim;
	const struct ft_conn_ops *ops;
	void *ud;
	/* in: sealed bytes from the socket; out: sealed bytes for it.  Frames
	 * are decoded from plain_in; frames queued before the handshake ends
	 * wait in plain_out. */
	struct ft_buf in, out, plain_in, plain_out;
	struct ft_seal seal;
	bool handshake_failed;
	bool outgoing;
	/* Liveness: a timer every tick, and when bytes last came and went. */
	sd_event_source *live;
	int64_t born_ms, last_rx_ms, last_tx_ms;
};

/* Strangers may knock often: their failures are logged a few a second,
 * the rest summed up. */
static struct ft_ratelimit failure_log;
#define FAILURES_LOGGED_PER_SECOND 5

static int io_cb(sd_event_source *s, int fd, uint32_t revents, void *ud);

static void update_events(struct ft_conn *c)
{
	if (!c->io)
		return;
	uint32_t want = EPOLLIN;
	if (c->connecting || c->out.len)
		want |= EPOLLOUT;
	sd_event_source_set_io_events(c->io, want);
}

static int finish_close(sd_event_source *s, void *ud)
{
	struct ft_conn *c = ud;
	if (c->ops->on_close)
		c->ops->on_close(c, c->why, c->ud);
	sd_event_source_unref(c->defer);
	ft_buf_free(&c->in);
	ft_buf_free(&c->out);
	ft_buf_free(&c->plain_in);
	ft_buf_free(&c->plain_out);
	ft_seal_wipe(&c->seal);
	free(c);
	return 0;
}

void ft_conn_close(struct ft_conn *c, const char *why)
{
	if (!c || c->closing)
		return;
	c->closing = true;
	snprintf(c->why, sizeof(c->why), "%s", why);
	c->io = sd_event_source_disable_unref(c->io);
	c->live = sd_event_source_disable_unref(c->live);
	close(c->fd);
	c->fd = -1;
	if (sd_event_add_defer(c->ev, &c->defer, finish_close, c) < 0)
		finish_close(NULL, c);
}

/* The timer's period: often enough for each liveness rule to act within
 * a tenth of its time or a heartbeat. */
static int live_tick_ms(const struct ft_conn_limits *lim)
{
	int tick = 0;
	int rules[] = { lim->heartbeat_ms, lim->timeout_ms / 4, lim->connect_timeout_ms / 4 };
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i] > 0 && (tick == 0 || rules[i] < tick))
			tick = rules[i];
	return tick > 0 && tick < 10 ? 10 : tick;
}

static int live_cb(sd_event_source *s, uint64_t usec, void *ud)
{
	(void)usec;
	struct ft_conn *c = ud;
	int64_t now = ft_now_ms();
	char why[128];
	bool open = !c->connecting && ft_seal_is_open(&c->seal);
	if (!open && c->outgoing && c->lim.connect_timeout_ms > 0 &&
	    now - c->born_ms > c->lim.connect_timeout_ms) {
		snprintf(why, sizeof(why), "not connected within %d ms (limits.connect_timeout_ms)",
			 c->lim.connect_timeout_ms);
		ft_log_warn("giving up connecting to %s: %s", c->peer, why);
		ft_conn_close(c, why);
		return 0;
	}
	if (open && c->lim.timeout_ms > 0 && now - c->last_rx_ms > c->lim.timeout_ms) {
		snprintf(why, sizeof(why), "silent for %lld ms (limits.link_timeout_ms %d)",
			 (long long)(now - c->last_rx_ms), c->lim.timeout_ms);
		ft_log_warn("closing the link with %s: %s", c->peer, why);
		c->silent = true;
		ft_conn_close(c, why);
		return 0;
	}
	if (open && c->lim.heartbeat_ms > 0 && now - c->last_tx_ms >= c->lim.heartbeat_ms)
		ft_conn_send(c, FT_FRAME_PING, NULL, NULL, 0);
	if (!c->closing) {
		sd_event_source_set_time_relative(s, (uint64_t)live_tick_ms(&c->lim) * 1000);
		sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	}
	return 0;
}

static struct ft_conn *conn_new(sd_event *ev, int fd, const struct ft_conn_limits *lim,
				const struct ft_conn_ops *ops, void *ud, bool connecting)
{
	struct ft_conn *c = ft_xcalloc(1, sizeof(*c));
	c->ev = ev;
	c->fd = fd;
	c->lim = *lim;
	c->ops = ops;
	c->ud = ud;
	c->connecting = connecting;
	/* The side that connects speaks first; its hello1 leaves once the
	 * connect completes. */
	ft_seal_begin(&c->seal, connecting, ft_keyring_active(), &c->out);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	if (getpeername(fd, (struct sockaddr *)&sa, &sl) == 0) {
		char ip[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip));
		snprintf(c->peer, sizeof(c->peer), "%s:%u", ip, ntohs(sa.sin_port));
	}
	if (sd_event_add_io(ev, &c->io, fd, EPOLLIN, io_cb, c) < 0) {
		close(fd);
		free(c);
		return NULL;
	}
	c->outgoing = connecting;
	c->born_ms = c->last_rx_ms = c->last_tx_ms = ft_now_ms();
	if (lim->timeout_ms > 0) {
		/* Data the peer does not acknowledge ends the link as surely as
		 * silence does. */
		unsigned int t = (unsigned int)lim->timeout_ms;
		setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &t, sizeof(t));
	}
	int tick = live_tick_ms(lim);
	if (tick > 0)
		sd_event_add_time_relative(ev, &c->live, CLOCK_MONOTONIC, (uint64_t)tick * 1000,
					   (uint64_t)tick * 100, live_cb, c);
	update_events(c);
	return c;
}

struct ft_conn *ft_conn_adopt(sd_event *ev, int fd, const struct ft_conn_limits *lim,
			      const struct ft_conn_ops *ops, void *ud)
{
	ft_set_nonblock(fd);
	return conn_new(ev, fd, lim, ops, ud, false);
}

struct ft_conn *ft_conn_connect(sd_event *ev, const struct sockaddr_in *to,
				const struct ft_conn_limits *lim, const struct ft_conn_ops *ops,
				void *ud)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	int r = connect(fd, (const struct sockaddr *)to, sizeof(*to));
	bool connecting = r < 0 && errno == EINPROGRESS;
	struct ft_conn *c = conn_new(ev, fd, lim, ops, ud, true);
	if (!c)
		return NULL;
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &to->sin_addr, ip, sizeof(ip));
	snprintf(c->peer, sizeof(c->peer), "%s:%u", ip, ntohs(to->sin_port));
	if (r < 0 && !connecting) {
		char why[128];
		snprintf(why, sizeof(why), "connect failed: %s", strerror(errno));
		ft_conn_close(c, why);
	}
	return c;
}

static void handshake_failed(struct ft_conn *c, const char *why)
{
	ft_metrics_handshake_failed();
	c->handshake_failed = true;
	int64_t now = ft_now_ms();
	uint64_t held = ft_ratelimit_roll(&failure_log, now);
	if (held)
		ft_log_warn("%llu more connections failed the cluster key handshake in the last "
			    "second",
			    (unsigned long long)held);
	if (ft_ratelimit_admit(&failure_log, FAILURES_LOGGED_PER_SECOND))
		ft_log_warn("closing connection with %s: %s", c->peer, why);
	ft_conn_close(c, why);
}

static void decode_frames(struct ft_conn *c)
{
	size_t off = 0;
	while (!c->closing) {
		struct ft_frame f;
		const char *why = NULL;
		long n = ft_frame_decode((const uint8_t *)c->plain_in.data + off,
					 c->plain_in.len - off, c->lim.max_frame_bytes, &f, &why);
		if (n == 0)
			break;
		if (n < 0) {
			ft_log_warn("closing connection from %s: %s", c->peer, why);
			ft_conn_close(c, why);
			return;
		}
		off += (size_t)n;
		if (f.type != FT_FRAME_PING && c->ops->on_frame)
			c->ops->on_frame(c, &f, c->ud);
		ft_frame_release(&f);
	}
	if (!c->closing)
		ft_buf_consume(&c->plain_in, off);
}

static void do_write(struct ft_conn *c);

/* The handshake just ended: frames queued meanwhile leave sealed, and an
 * outgoing connection is now connected (to a member). */
static void opened(struct ft_conn *c)
{
	if (c->plain_out.len) {
		ft_seal_write(&c->seal, c->plain_out.data, c->plain_out.len, &c->out);
		ft_buf_consume(&c->plain_out, c->plain_out.len);
	}
	do_write(c);
	if (!c->closing && c->seal.initiator && c->ops->on_connected)
		c->ops->on_connected(c, c->ud);
}

static void handle_input(struct ft_conn *c)
{
	size_t off = 0;
	while (!c->closing && off < c->in.len) {
		const uint8_t *at = (const uint8_t *)c->in.data + off;
		size_t left = c->in.len - off;
		const char *why = NULL;
		long n;
		if (!ft_seal_is_open(&c->seal)) {
			n = ft_seal_handshake(&c->seal, ft_keyring_active(), at, left, &c->out,
					      &why);
			if (n < 0) {
				handshake_failed(c, why);
				return;
			}
			if (n == 0)
				break;
			off += (size_t)n;
			if (ft_seal_is_open(&c->seal))
				opened(c);
			else
				do_write(c);
			continue;
		}
		n = ft_seal_open_record(&c->seal, at, left, &c->plain_in, &why);
		if (n < 0) {
			ft_log_warn("closing connection with %s: %s", c->peer, why);
			ft_conn_close(c, why);
			return;
		}
		if (n == 0)
			break;
		off += (size_t)n;
		decode_frames(c);
	}
	if (!c->closing)
		ft_buf_consume(&c->in, off);
}

static void do_read(struct ft_conn *c)
{
	char tmp[65536];
	for (;;) {
		ssize_t n = read(c->fd, tmp, sizeof(tmp));
		if (n > 0) {
			c->last_rx_ms = ft_now_ms();
			ft_buf_append(&c->in, tmp, (size_t)n);
			handle_input(c);
			if (c->closing)
				return;
			continue;
		}
		if (n == 0) {
			ft_conn_close(c, "peer closed the connection");
		} else if (errno != EAGAIN && errno != EINTR) {
			char why[128];
			snprintf(why, sizeof(why), "read error: %s", strerror(errno));
			c->silent = errno == ETIMEDOUT; /* TCP_USER_TIMEOUT, keepalive */
			ft_conn_close(c, why);
		}
		return;
	}
}

static void do_write(struct ft_conn *c)
{
	while (c->out.len) {
		ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL);
		if (n > 0) {
			ft_buf_consume(&c->out, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		char why[128];
		snprintf(why, sizeof(why), "write error: %s", strerror(errno));
		ft_conn_close(c, why);
		return;
	}
	update_events(c);
}

static int io_cb(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct ft_conn *c = ud;
	if (c->connecting) {
		if (!(revents & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return 0;
		int err = 0;
		socklen_t el = sizeof(err);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			char why[128];
			snprintf(why, sizeof(why), "connect failed: %s", strerror(err));
			ft_conn_close(c, why);
			return 0;
		}
		c->connecting = false;
		/* on_connected waits for the handshake (opened()). */
		do_write(c);
		if (c->closing)
			return 0;
	}
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
		do_read(c);
	if (!c->closing && (revents & EPOLLOUT))
		do_write(c);
	return 0;
}

int ft_conn_send(struct ft_conn *c, int type, struct json_object *meta, const void *blob,
		 size_t blob_len)
{
	if (!c || c->closing)
		return -1;
	if (c->out.len + c->plain_out.len + FT_FRAME_HEADER_BYTES + blob_len >
	    c->lim.max_out_bytes) {
		ft_log_warn("closing connection to %s: output backlog over %zu bytes", c->peer,
			    c->lim.max_out_bytes);
		ft_conn_close(c, "output backlog limit");
		return -1;
	}
	if (ft_frame_encode(&c->plain_out, type, meta, blob, blob_len, c->lim.max_frame_bytes) < 0)
		return -1;
	if (!ft_seal_is_open(&c->seal))
		return 0;
	ft_seal_write(&c->seal, c->plain_out.data, c->plain_out.len, &c->out);
	ft_buf_consume(&c->plain_out, c->plain_out.len);
	do_write(c);
	return c->closing ? -1 : 0;
}

bool ft_conn_went_silent(const struct ft_conn *c)
{
	return c->silent;
}

int64_t ft_conn_last_heard_ms(const struct ft_conn *c)
{
	return c->last_rx_ms;
}

bool ft_conn_is_open(const struct ft_conn *c)
{
	return c && !c->closing;
}

bool ft_conn_is_connected(const struct ft_conn *c)
{
	return c && !c->closing && !c->connecting && ft_seal_is_open(&c->seal);
}

bool ft_conn_handshake_failed(const struct ft_conn *c)
{
	return c->handshake_failed;
}

void ft_conn_set_userdata(struct ft_conn *c, void *ud)
{
	c->ud = ud;
}

void ft_sockaddr_ip(const struct sockaddr *sa, char *buf, size_t len)
{
	snprintf(buf, len, "?");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
			  (socklen_t)len);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  buf, (socklen_t)len);
}

const char *ft_conn_peer(const struct ft_conn *c)
{
	return c->peer;
}

int ft_tcp_listen(const struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}
