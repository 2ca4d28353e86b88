/*  coord_gate -- a bound on the memory strangers can make the coordinator hold.
 *
 *  Anyone who can reach the ROUTER can send before saying hello, and libzmq
 *  allocates a whole message as soon as its header announces the size (up to
 *  MAXMSGSIZE, TT_WIRE_MAX_FRAME = 32 MiB, which legitimate Actions and
 *  Assigns need), then queues it for us. Four things bound what that costs:
 *
 *   - a finite receive high-water mark per connection (COORD_PEER_RCVHWM;
 *     not with CURVE, which refuses strangers at the handshake, and where
 *     with a finite mark libzmq 4.3 delivered no agentd's hello):
 *     when a connection's queue is full libzmq stops reading its socket, so
 *     it holds at most RCVHWM queued messages plus the one being decoded.
 *     Agentds lose nothing by it: their DEALERs have no send limit and the
 *     coordinator never stops reading, so a busy agentd waits in TCP (its
 *     own buffers) for a moment, and nobody waits for the other;
 *   - a cap on concurrent connections: the agentds this run can use plus
 *     COORD_GATE_MARGIN (respawned agentds, probes, `coordinator status`),
 *     never more than MAX_CONNECTIONS. libzmq has no such option, so a socket
 *     monitor tells us of each accepted connection (with its descriptor) and
 *     one past the cap is shut down; libzmq owns the descriptor and closes it.
 *     (The event comes after the accept: a refused stranger may have sent a
 *     frame by then, which is dropped with its connection.);
 *   - a frame from a peer that is not registered is decoded only if it could
 *     be a hello (COORD_GATE_HELLO_MAX): unpacking 31 MB of hostile protobuf
 *     took the loop long enough that a run under the flood crawled;
 *   - and large blocks go back to the system when freed: glibc serves blocks
 *     below a threshold it raises (up to 32 MiB) from its heaps, where frames
 *     allocated by libzmq's thread and freed by ours piled up into more than
 *     the queues ever held at once; COORD_GATE_MMAP_FROM fixes it lower.
 *
 *  Together: at most cap x (RCVHWM + 1) x 32 MiB in the accepted connections'
 *  queues, about three frames in the ROUTER and in our hands, and what the
 *  refused ones send before their shutdown. With RCVHWM 1 a 4-agent local run
 *  (cap 4 + 8 = 12) holds at most 768 MiB in queues however many strangers
 *  knock: under 64 connections sending 31 MB frames its peak RSS stayed near
 *  460 MB, where it grew by 60 MB a second without end before
 *  (tests/chaos/chaos_bloat.sh). A run using 1,000 agentds accepts 1,008
 *  connections, and its bound grows with them.
 *
 *  Limits. The cap cannot tell an agentd from a stranger (the secret is in
 *  the hello, which comes after the bytes): a local process that holds every
 *  spare connection keeps a respawned agentd out (its run then fails with a
 *  message; the coordinator does not grow). And the high-water mark counts
 *  whole messages while MAXMSGSIZE bounds each part: libzmq 4.3 queues the
 *  parts of an unfinished many-part message without limit, and has no option
 *  against it. Only authentication at the handshake closes that (CURVE mode
 *  does: zauth refuses strangers before any message is read; local mode
 *  could hand its children the secret as PLAIN credentials the same way).
 */
#define TT_LOG_MODULE "gate"
#include "coord.h"

#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <sys/socket.h>

#include "tt_log.h"
#include "tt_mem.h"
#include "tt_wire.h"

typedef enum {
    S_FD_NONE = 0,
    S_FD_OPEN = 1,    /* counted against the cap */
    S_FD_REFUSED = 2, /* shut down on arrival, never counted */
} s_fd_state_t;

/* The actor's own state: nobody else reads it. */
typedef struct {
    size_t cap;       /* connections at most */
    size_t open;      /* connections counted now */
    uint64_t refused; /* connections shut down on arrival */
    uint8_t *fds;     /* per descriptor: an s_fd_state_t */
    size_t n_fds;
} s_gate_t;

/* The most connections this run can use: one per agentd (a local run starts
 * ceil(agents / slots); external agentds offer at least one slot each, and
 * slots beyond the population are never used), plus the margin. A session's
 * population grows as agents are created: only the ceiling holds there. */
static size_t
s_cap(const coord_t *c)
{
    if (c->opts.serve)
        return (size_t)c->config.max_connections;
    size_t slots = c->opts.slots ? c->opts.slots : 1;
    size_t agentds = c->opts.external ? c->n_agents : (c->n_agents + slots - 1) / slots;
    size_t cap = agentds + COORD_GATE_MARGIN;
    size_t ceiling = (size_t)c->config.max_connections;
    return cap < ceiling ? cap : ceiling;
}

static void
s_set_fd(s_gate_t *g, int fd, s_fd_state_t state)
{
    if ((size_t)fd >= g->n_fds) {
        size_t n = (size_t)fd + 64;
        g->fds = tt_realloc(g->fds, n);
        memset(g->fds + g->n_fds, S_FD_NONE, n - g->n_fds);
        g->n_fds = n;
    }
    g->fds[fd] = (uint8_t)state;
}

static s_fd_state_t
s_fd(const s_gate_t *g, int fd)
{
    return (size_t)fd < g->n_fds ? (s_fd_state_t)g->fds[fd] : S_FD_NONE;
}

static void
s_on_accepted(s_gate_t *g, int fd)
{
    if (g->open < g->cap) {
        g->open++;
        s_set_fd(g, fd, S_FD_OPEN);
        return;
    }
    /* shutdown, never close: the descriptor is libzmq's, which sees the end
     * of the stream and closes it (a DISCONNECTED event follows) */
    if (shutdown(fd, SHUT_RDWR) != 0 && errno != ENOTCONN)
        TT_LOG_DEBUG("shutdown of connection %d: %s", fd, strerror(errno));
    s_set_fd(g, fd, S_FD_REFUSED);
    if (g->refused++ % 1000 == 0)
        TT_LOG_WARN("refused a connection: %zu are open, the most this run can use (%llu "
                    "refused so far)",
                    g->open, (unsigned long long)g->refused + 1);
}

static void
s_on_gone(s_gate_t *g, int fd)
{
    if (s_fd(g, fd) == S_FD_OPEN)
        g->open--;
    if (s_fd(g, fd) != S_FD_NONE)
        s_set_fd(g, fd, S_FD_NONE);
}

/* One monitor event: [uint16 event, uint32 value (the descriptor)][endpoint]. */
static void
s_on_event(s_gate_t *g, zsock_t *monitor)
{
    zmsg_t *msg = zmsg_recv(monitor);
    zframe_t *head = msg ? zmsg_first(msg) : NULL;
    if (head && zframe_size(head) == 6) {
        uint16_t event;
        uint32_t value;
        memcpy(&event, zframe_data(head), sizeof event);
        memcpy(&value, zframe_data(head) + 2, sizeof value);
        if (event == ZMQ_EVENT_ACCEPTED)
            s_on_accepted(g, (int)value);
        else if (event == ZMQ_EVENT_DISCONNECTED || event == ZMQ_EVENT_CLOSED)
            s_on_gone(g, (int)value);
    }
    zmsg_destroy(&msg);
}

/* The gate's thread: events are handled the moment libzmq posts them, not
 * when the coordinator's loop gets round to them (a busy loop would leave a
 * refused stranger time to send). args: the monitor endpoint, then the cap. */
static void
s_actor(zsock_t *pipe, void *args)
{
    s_gate_t g = {0};
    /* the cap follows the endpoint's NUL, unaligned */
    memcpy(&g.cap, (char *)args + strlen(args) + 1, sizeof g.cap);
    zsock_t *monitor = zsock_new(ZMQ_PAIR);
    int rc = monitor ? zsock_connect(monitor, "%s", (char *)args) : -1;
    if (rc != 0) /* an inproc endpoint of our own: does not happen */
        TT_LOG_ERROR("cannot watch the connections: %s; none is refused",
                     zmq_strerror(zmq_errno()));
    zsock_signal(pipe, 0); /* zactor_new waits for it */
    /* zmq_poll, not zpoller: czmq's pollers return at once, forever, once
     * SIGINT set zsys_interrupted, and $TERM would never be read */
    zmq_pollitem_t items[] = {{zsock_resolve(pipe), 0, ZMQ_POLLIN, 0},
                              {rc == 0 ? zsock_resolve(monitor) : NULL, 0, ZMQ_POLLIN, 0}};
    while (rc == 0) {
        if (zmq_poll(items, 2, -1) < 0) {
            if (zmq_errno() == ETERM)
                break;
            continue; /* a signal: the coordinator's loop handles it */
        }
        if (items[1].revents & ZMQ_POLLIN)
            s_on_event(&g, monitor);
        if (!(items[0].revents & ZMQ_POLLIN))
            continue;
        char *command = zstr_recv(pipe);
        bool term = !command || !strcmp(command, "$TERM");
        zstr_free(&command);
        if (term)
            break;
    }
    if (g.refused)
        TT_LOG_INFO("refused %llu connections in all", (unsigned long long)g.refused);
    zsock_destroy(&monitor);
    free(g.fds);
}

tt_err_t
coord_gate_start(coord_t *c, char **errmsg)
{
    size_t cap = s_cap(c);
#ifdef M_MMAP_THRESHOLD
    mallopt(M_MMAP_THRESHOLD, COORD_GATE_MMAP_FROM);
#endif
    char endpoint[64];
    int n = snprintf(endpoint, sizeof endpoint, "inproc://troupe-gate-%p", (void *)c);
    /* the actor's arguments: the endpoint, its NUL, the cap */
    char args[sizeof endpoint + sizeof cap];
    memcpy(args, endpoint, (size_t)n + 1);
    memcpy(args + n + 1, &cap, sizeof cap);
    int rc = zmq_socket_monitor(zsock_resolve(c->router), endpoint,
                                ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CLOSED);
    if (rc == 0) {
        c->gate = zactor_new(s_actor, args); /* returns once the actor is listening */
        rc = c->gate ? 0 : -1;
    }
    if (rc != 0) {
        *errmsg = tt_asprintf("cannot watch the coordinator's connections: %s",
                              zmq_strerror(zmq_errno()));
        return TT_EIO;
    }
    TT_LOG_INFO("accepting at most %zu connections", cap);
    return TT_OK;
}

void
coord_gate_stop(coord_t *c)
{
    if (c->router)
        zmq_socket_monitor(zsock_resolve(c->router), NULL, 0);
    zactor_destroy(&c->gate);
}

tt_err_t
coord_gate_recv(coord_t *c, zsock_t *sock, zframe_t **id, Tt__Envelope **env)
{
    *env = NULL;
    *id = NULL;
    zmsg_t *msg = zmsg_recv(sock);
    if (!msg)
        return TT_EINTR;
    *id = zmsg_pop(msg);
    zframe_t *frame = zmsg_first(msg);
    tt_err_t err = TT_EPROTO;
    if (*id && frame && zmsg_size(msg) == 1) {
        char key[64];
        coord_peer_key(*id, key, sizeof key);
        uintptr_t idx = (uintptr_t)zhash_lookup(c->peer_index, key);
        bool live = idx && c->peers[idx - 1].state == COORD_PEER_LIVE;
        /* decoding 31 MB of hostile protobuf takes the loop a good part of a
         * second: a stranger must not make every agentd wait that long */
        if (!live && zframe_size(frame) > COORD_GATE_HELLO_MAX)
            err = TT_ETOOBIG;
        else
            err = tt_wire_decode(zframe_data(frame), zframe_size(frame), env);
    }
    zmsg_destroy(&msg);
    return err;
}
