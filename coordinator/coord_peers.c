/*  coord_peers -- agentd connections: binding, local processes, hello and
 *  welcome, liveness, and turning inbound messages into agent events.
 *
 *  A peer is one agentd process (one DEALER). It is live while we hear from it;
 *  silence longer than LIVENESS_MS, a send the ROUTER cannot deliver, or (for
 *  our own children) its exit makes it dead: its agents are unplaced and go to
 *  other slots, rebuilt from the log. A dead peer's messages are answered with
 *  an error and otherwise ignored, and every agent message must carry the
 *  agent's current incarnation, so a stale process can never act again.
 */
#define TT_LOG_MODULE "peers"
#include "coord.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tt_cert.h"
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_time.h"
#include "tt_wire.h"

extern char **environ;

/* ------------------------------------------------------------------ binding */

static bool
s_is_loopback(const char *endpoint)
{
    return !strncmp(endpoint, "ipc://", 6) || !strncmp(endpoint, "inproc://", 9) ||
           !strncmp(endpoint, "tcp://127.", 10) || !strncmp(endpoint, "tcp://localhost:", 16) ||
           !strncmp(endpoint, "tcp://[::1]:", 12);
}

/* CURVE: load the server certificate and the authorised clients, start zauth. */
static tt_err_t s_secure(coord_t *c, char **errmsg);

/* Prove, before any agentd is trusted, that a client with an unknown key and a
 * plaintext client are both refused: each tries to send, and nothing may
 * arrive. libzmq lets everyone in when no ZAP handler answers, so this catches
 * a misconfigured authenticator instead of assuming it works. */
static tt_err_t
s_selftest(coord_t *c, char **errmsg)
{
    /* a token only the probes know: a real agentd may connect meanwhile, and its
     * messages (dropped here; it repeats its hello) must not count as a breach */
    zuuid_t *uuid = zuuid_new();
    char token[64];
    snprintf(token, sizeof token, "troupe self-test %s", zuuid_str(uuid));
    zuuid_destroy(&uuid);
    zcert_t *stranger = zcert_new();
    zsock_t *curve = zsock_new(ZMQ_DEALER);
    zsock_t *plain = zsock_new(ZMQ_DEALER);
    zcert_apply(stranger, curve);
    zsock_set_curve_serverkey(curve, c->server_public);
    zsock_t *socks[] = {curve, plain};
    for (int i = 0; i < 2; i++) {
        zsock_set_linger(socks[i], 0);
        zsock_set_sndtimeo(socks[i], 0);
        zsock_connect(socks[i], "%s", c->endpoint);
        zstr_send(socks[i], token);
    }
    zpoller_t *poller = zpoller_new(c->router, NULL);
    bool breached = false;
    int64_t deadline = tt_now_ms() + 500;
    while (!breached && tt_now_ms() < deadline) {
        if (!zpoller_wait(poller, (int)(deadline - tt_now_ms())))
            break;
        zmsg_t *msg = zmsg_recv(c->router);
        zframe_t *last = msg ? zmsg_last(msg) : NULL;
        breached = last && zframe_streq(last, token);
        zmsg_destroy(&msg);
    }
    zpoller_destroy(&poller);
    zsock_destroy(&curve);
    zsock_destroy(&plain);
    zcert_destroy(&stranger);
    if (breached) {
        *errmsg = tt_asprintf("CURVE self-test failed: a client with an unknown key or no key "
                              "got through on %s; refusing to start",
                              c->endpoint);
        return TT_ESECURITY;
    }
    TT_LOG_INFO("CURVE self-test passed: unknown and plaintext clients are refused");
    return TT_OK;
}

tt_err_t
coord_peers_bind(coord_t *c, char **errmsg)
{
    c->router = zsock_new(ZMQ_ROUTER);
    if (!c->router) {
        *errmsg = tt_asprintf("cannot create a ZeroMQ socket");
        return TT_EIO;
    }
    zsock_set_router_mandatory(c->router, 1);
    zsock_set_router_handover(c->router, 1);
    zsock_set_linger(c->router, 0);
    zsock_set_maxmsgsize(c->router, (int64_t)TT_WIRE_MAX_FRAME);
    zsock_set_sndhwm(c->router, 0);
    zsock_set_rcvhwm(c->router, 0);
    const char *listen = c->opts.listen ? c->opts.listen : "tcp://127.0.0.1:*";
    if (c->opts.keys_dir || (!s_is_loopback(listen) && !c->opts.insecure)) {
        tt_err_t err = s_secure(c, errmsg);
        if (err)
            return err;
    }
    /* Without CURVE, a finite queue per connection bounds what strangers can
     * make us hold (coord_gate.c); agentds only wait in TCP for a moment.
     * With CURVE strangers never get to send, and with a finite mark there no
     * agentd's hello got through (libzmq 4.3; it_server_key). */
    if (!c->server_public)
        zsock_set_rcvhwm(c->router, COORD_PEER_RCVHWM);
    if (zsock_bind(c->router, "%s", listen) < 0) {
        *errmsg = tt_asprintf("cannot listen on %s: %s", listen, zmq_strerror(zmq_errno()));
        return TT_EINVAL;
    }
    /* what agentds connect to: the bound endpoint, with a wildcard host made concrete */
    char *last = zsock_last_endpoint(c->router); /* czmq: caller owns it */
    c->endpoint = tt_strdup(last ? last : listen);
    if (!strncmp(c->endpoint, "tcp://0.0.0.0:", 14)) {
        char *local = tt_asprintf("tcp://127.0.0.1:%s", c->endpoint + 14);
        free(c->endpoint);
        c->endpoint = local;
    }
    TT_LOG_INFO("listening on %s%s", c->endpoint, c->server_public ? " (CURVE)" : "");
    zstr_free(&last);
    return c->server_public ? s_selftest(c, errmsg) : TT_OK;
}

static tt_err_t
s_secure(coord_t *c, char **errmsg)
{
    if (!zsys_has_curve()) {
        *errmsg = tt_asprintf("this libzmq has no CURVE support; use --insecure to bind %s "
                              "without encryption",
                              c->opts.listen);
        return TT_ESECURITY;
    }
    if (!c->opts.keys_dir) {
        *errmsg = tt_asprintf("binding %s beyond loopback needs CURVE keys: --keys DIR (made by "
                              "`coordinator keygen DIR`), or --insecure",
                              c->opts.listen);
        return TT_ESECURITY;
    }
    char *server_path = tt_asprintf("%s/server.cert", c->opts.keys_dir);
    char *why = NULL;
    zcert_t *cert = tt_cert_load(server_path, true, &why);
    free(server_path);
    if (!cert) {
        *errmsg = tt_asprintf("%s (the server certificate; make one with `coordinator keygen "
                              "%s`)",
                              why, c->opts.keys_dir);
        free(why);
        return TT_ESECURITY;
    }
    char *clients = tt_asprintf("%s/clients", c->opts.keys_dir);
    c->auth = zactor_new(zauth, NULL);
    zstr_sendx(c->auth, "CURVE", clients, NULL);
    zsock_wait(c->auth);
    zcert_apply(cert, c->router);
    zsock_set_curve_server(c->router, 1);
    zsock_set_zap_domain(c->router, "troupe");
    c->server_public = tt_strdup(zcert_public_txt(cert));
    zcert_destroy(&cert);
    free(clients);
    return TT_OK;
}

/* ------------------------------------------------------------------ local agentds */

static char *
s_agentd_path(void)
{
    const char *env = getenv("TROUPE_AGENTD");
    if (env && *env)
        return tt_strdup(env);
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return tt_strdup("agentd");
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    return tt_asprintf("%s/agentd", self);
}

/* The run's secret for its children: 32 random bytes as hex, made once. */
static tt_err_t
s_make_token(coord_t *c, char **errmsg)
{
    if (c->spawn_token)
        return TT_OK;
    uint8_t bytes[32];
    if (getrandom(bytes, sizeof bytes, 0) != (ssize_t)sizeof bytes) {
        *errmsg = tt_asprintf("cannot make a secret for the agentds: %s", strerror(errno));
        return TT_EIO;
    }
    char hex[2 * sizeof bytes + 1];
    c->spawn_token = tt_strdup(tt_hex(bytes, sizeof bytes, hex));
    tt_log_add_secret(c->spawn_token);
    return TT_OK;
}

/* Our environment plus the secret (replacing any inherited one). Caller frees
 * the array and *entry, the secret's own entry. */
static char **
s_child_environ(const coord_t *c, char **entry)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **envp = tt_calloc(n + 2, sizeof *envp);
    size_t k = 0;
    size_t prefix = strlen(TT_SPAWN_TOKEN_ENV "=");
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], TT_SPAWN_TOKEN_ENV "=", prefix))
            envp[k++] = environ[i];
    envp[k] = *entry = tt_asprintf("%s=%s", TT_SPAWN_TOKEN_ENV, c->spawn_token);
    return envp;
}

/* Is this hello's token the run's secret? In constant time: the comparison
 * must not tell a guesser how much of it was right. */
static bool
s_token_ok(const coord_t *c, const Tt__Hello *h)
{
    if (!c->spawn_token || !h->token || strlen(h->token) != strlen(c->spawn_token))
        return false;
    unsigned char diff = 0;
    for (size_t i = 0; c->spawn_token[i]; i++)
        diff |= (unsigned char)(c->spawn_token[i] ^ h->token[i]);
    return diff == 0;
}

/* Each local agentd holds a connection (a descriptor) in this process: say
 * so before starting more than `ulimit -n` allows, rather than fail later
 * inside the socket layer. */
static tt_err_t
s_check_descriptors(const coord_t *c, size_t more, char **errmsg)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return TT_OK;
    size_t need = c->n_peers + more + COORD_SPARE_FDS;
    if (need <= rl.rlim_cur)
        return TT_OK;
    *errmsg = tt_asprintf("%zu agentds need about %zu file descriptors but the limit is %llu: "
                          "raise it (`ulimit -n %zu`) or host more agents per agentd "
                          "(--slots N)",
                          c->n_peers + more, need, (unsigned long long)rl.rlim_cur, need);
    return TT_ENOMEM;
}

/* Are agentds forked (by the fork server, started with the first ones)? */
static bool
s_forking(const coord_t *c)
{
    const char *other = getenv("TROUPE_AGENTD");
    return c->forkserver || (!c->forkserver_tried && !(other && *other));
}

/* How many more local agentds may be started now: a batch at most, and no
 * more starting at once than so many a core (forked ones cost less). */
static size_t
s_spawn_room(const coord_t *c, size_t wanted)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    bool forking = s_forking(c);
    size_t per_core = forking ? COORD_FORKED_PER_CORE : COORD_STARTING_PER_CORE;
    size_t batch = forking ? COORD_FORK_BATCH : COORD_SPAWN_BATCH;
    size_t cap = (size_t)(cores > 0 ? cores : 1) * per_core, starting = 0;
    for (size_t i = 0; i < c->n_peers; i++)
        if (c->peers[i].pid > 0 && !c->peers[i].routing_id && !c->peers[i].lost &&
            c->peers[i].state == COORD_PEER_LIVE)
            starting++;
    size_t room = cap > starting ? cap - starting : 0;
    if (room > batch)
        room = batch;
    return wanted < room ? wanted : room;
}

tt_err_t
coord_peers_start(coord_t *c, size_t n_processes, char **errmsg)
{
    if (s_check_descriptors(c, n_processes, errmsg))
        return TT_ENOMEM;
    size_t now = s_spawn_room(c, n_processes);
    c->respawns += n_processes - now;
    return coord_peers_spawn(c, now, c->opts.slots, errmsg);
}

/* The run's fork server, started with its first agentds: unless TROUPE_AGENTD
 * names another program (a wrapper must see every start), or it failed once. */
static void
s_start_forkserver(coord_t *c, const char *agentd, char **envp, char *const *argv)
{
    if (c->forkserver || !s_forking(c))
        return;
    c->forkserver_tried = true;
    size_t title_len = 32; /* --slots may be longer than now */
    for (size_t i = 0; argv[i]; i++)
        title_len += strlen(argv[i]) + 1;
    c->forkserver = coord_forkserver_start(agentd, envp, title_len);
}

/* Agentds from the fork server, as many of N as it started (their pids in
 * PIDS); *rc says why not all: ENOTCONN if there is no server (any more). */
static size_t
s_fork_agentds(coord_t *c, char *const *argv, size_t n, pid_t *pids, int *rc)
{
    if (!c->forkserver) {
        *rc = ENOTCONN;
        return 0;
    }
    size_t started = coord_forkserver_spawn(c->forkserver, argv, n,
                                            (int)c->config.register_timeout_s * 1000, pids, rc);
    if (*rc == ENOTCONN) {
        TT_LOG_WARN("the fork server stopped answering: agentds are started by exec from now on");
        coord_forkserver_stop(&c->forkserver);
    }
    return started;
}

/* Remember a child; its peer entry is filled in at Hello, matched by pid. */
static void
s_add_child(coord_t *c, pid_t pid)
{
    c->peers = tt_realloc(c->peers, (c->n_peers + 1) * sizeof *c->peers);
    coord_peer_t *p = &c->peers[c->n_peers++];
    memset(p, 0, sizeof *p);
    p->pid = pid;
    p->state = COORD_PEER_LIVE;
    p->last_seen_ms = tt_now_ms();
    snprintf(p->key, sizeof p->key, "pending:%d", (int)pid);
}

tt_err_t
coord_peers_spawn(coord_t *c, size_t n_processes, uint32_t slots, char **errmsg)
{
    tt_err_t err = s_make_token(c, errmsg);
    if (err)
        return err;
    char *agentd = s_agentd_path();
    if (s_check_descriptors(c, n_processes, errmsg)) {
        free(agentd);
        return TT_ENOMEM;
    }
    char slots_text[16], parent[16], welcome[24];
    snprintf(slots_text, sizeof slots_text, "%u", slots);
    snprintf(parent, sizeof parent, "%d", (int)getpid());
    /* the child waits for its Welcome as long as we wait for its Hello */
    snprintf(welcome, sizeof welcome, "%lld", (long long)c->config.register_timeout_s * 1000);
    const char *level = tt_log_level >= TT_LOG_LEVEL_DEBUG  ? "debug"
                        : tt_log_level >= TT_LOG_LEVEL_INFO ? "info"
                                                            : "warn";
    char *const argv[] = {agentd,        "--connect",    c->endpoint,    "--slots", slots_text,
                          "--data-dir",  c->out_dir,     "--parent-pid", parent,    "--log-level",
                          (char *)level, "--welcome-ms", welcome,        NULL};
    char *token_entry;
    char **envp = s_child_environ(c, &token_entry);
    s_start_forkserver(c, agentd, envp, argv);
    pid_t *pids = tt_calloc(n_processes ? n_processes : 1, sizeof *pids);
    int rc = 0;
    size_t started = s_fork_agentds(c, argv, n_processes, pids, &rc);
    for (size_t i = 0; i < started; i++)
        s_add_child(c, pids[i]);
    free(pids);
    bool exec = rc == ENOTCONN; /* no fork server (any more) */
    for (; exec && started < n_processes; started++) {
        pid_t pid;
        if ((rc = coord_exec_agentd(agentd, argv, envp, &pid)) != 0)
            break;
        s_add_child(c, pid);
    }
    if (started < n_processes) {
        if (rc == EMFILE || rc == ENFILE || rc == EAGAIN)
            *errmsg = tt_asprintf("cannot start %s: %s (%zu agentds running: raise the limit "
                                  "with `ulimit -n` / `ulimit -u`, or host more agents per "
                                  "agentd with --slots N)",
                                  agentd, strerror(rc), c->n_peers);
        else
            *errmsg = tt_asprintf("cannot start %s: %s", agentd, strerror(rc));
        err = TT_EIO;
    }
    free(token_entry);
    free(envp);
    free(agentd);
    return err;
}

/* ------------------------------------------------------------------ sending */

tt_err_t
coord_send(coord_t *c, coord_peer_t *p, uint32_t agent, uint32_t incarnation, Tt__Envelope *env)
{
    if (p->state != COORD_PEER_LIVE || !p->routing_id)
        return TT_EPEER;
    coord_batch_flush_peer(c, p); /* what was queued for it goes first */
    if (p->state != COORD_PEER_LIVE)
        return TT_EPEER;
    env->seq = ++c->seq;
    if (agent) {
        env->has_agent = env->has_incarnation = true;
        env->agent = agent;
        env->incarnation = incarnation;
    }
    tt_err_t err = tt_wire_send(c->router, p->routing_id, env);
    if (err == TT_EPEER)
        coord_peer_unreachable(c, p);
    return err;
}

static void
s_send_raw(coord_t *c, zframe_t *routing_id, Tt__Envelope *env)
{
    env->seq = ++c->seq;
    tt_wire_send(c->router, routing_id, env);
}

/* ------------------------------------------------------------------ peers */

static coord_peer_t *
s_find(coord_t *c, const char *key)
{
    uintptr_t idx = (uintptr_t)zhash_lookup(c->peer_index, key);
    return idx ? &c->peers[idx - 1] : NULL;
}

void
coord_peer_key(zframe_t *id, char *key, size_t cap)
{
    size_t n = zframe_size(id);
    if (n * 2 + 1 > cap)
        n = (cap - 1) / 2;
    tt_hex(zframe_data(id), n, key);
}

/* Its agents go back to be placed again. */
static void
s_unplace_all(coord_t *c, coord_peer_t *p)
{
    for (uint32_t s = 0; p->slot_agent && s < p->slots; s++) {
        if (!p->slot_agent[s])
            continue;
        coord_agent_t *a = &c->agents[p->slot_agent[s] - 1];
        p->slot_agent[s] = 0;
        coord_place_unplace(c, a);
    }
}

/* Forget the connection p registered on (and what waited to go out on it). */
static void
s_drop_route(coord_t *c, coord_peer_t *p)
{
    zhash_delete(c->peer_index, p->key);
    p->key[0] = '\0';
    zframe_destroy(&p->routing_id);
    if (p->outbox)
        tt_wire_batch_clear(p->outbox);
}

/* The connection a local child registered on is gone; the process may not be.
 * Its route is dropped and nothing is waited for: what the process does next
 * decides. An exit is reaped with its status (s_reap), which is how an agentd
 * that stops on a fault (socket closed first, then a sanitizer's exit checks)
 * is reported; a hello on a new connection takes the entry back (s_on_hello);
 * silence for LIVENESS_MS is death. Its agents stay with it until then.
 * Waiting here for the exit instead (as this once did, up to 3 s a peer)
 * stalled the loop whenever the process was alive and reconnecting: a thousand
 * agentds starting on a loaded host once kept the coordinator asleep for
 * minutes, killing agentds that had registered again on new connections. */
void
coord_peer_unreachable(coord_t *c, coord_peer_t *p)
{
    if (p->pid <= 0) { /* a remote agentd's death is all we can know */
        coord_peer_dead(c, p, "unreachable");
        return;
    }
    if (p->state != COORD_PEER_LIVE || !p->routing_id)
        return;
    TT_LOG_WARN("lost the connection to agentd pid %d: waiting for it to exit or reconnect",
                (int)p->pid);
    s_drop_route(c, p);
    p->lost = true;
}

void
coord_peer_dead(coord_t *c, coord_peer_t *p, const char *why)
{
    if (p->state == COORD_PEER_DEAD)
        return;
    p->state = COORD_PEER_DEAD;
    snprintf(c->last_death, sizeof c->last_death, "%s", why);
    TT_LOG_WARN("agentd on %s (pid %d) is dead (%s): moving its agents", p->host ? p->host : "?",
                p->pid > 0 ? (int)p->pid : (int)-p->pid, why);
    if (p->pid > 0) {
        /* our child: make sure it is gone, so it releases its agents' memory */
        kill(p->pid, SIGKILL);
    }
    if (p->outbox)
        tt_wire_batch_clear(p->outbox);
    s_unplace_all(c, p);
    free(p->slot_agent); /* a dead peer holds no slots (see COORD_MAX_SLOTS) */
    p->slot_agent = NULL;
    p->slots = 0;
    if (!p->routing_id && !p->lost && p->pid != 0) {
        c->unborn_deaths++;
        free(c->unborn_why);
        c->unborn_why = tt_strdup(why);
    }
    /* a replacement is started on the next tick: the peers table may move then */
    if (p->pid != 0 && c->state != COORD_RUN_DONE && !c->opts.external)
        c->respawns++;
}

static void s_reject(coord_t *c, zframe_t *id, const char *why);

/* Slots of all live peers but p. */
static uint64_t
s_live_slots(const coord_t *c, const coord_peer_t *p)
{
    uint64_t n = 0;
    for (size_t i = 0; i < c->n_peers; i++)
        if (&c->peers[i] != p && c->peers[i].state == COORD_PEER_LIVE)
            n += c->peers[i].slots;
    return n;
}

/* May this hello register? Local mode admits only our children (they know
 * the secret); everyone must stay within the slot budget. */
static bool
s_admit(coord_t *c, zframe_t *id, const coord_peer_t *p, const Tt__Hello *h, uint32_t slots)
{
    const char *why = NULL;
    if (!c->opts.external && !s_token_ok(c, h))
        why = "not an agentd this coordinator started";
    else if (slots == 0)
        why = "a hello with no slots";
    else if (s_live_slots(c, p) + slots > (COORD_MAX_SLOTS > 4 * (uint64_t)c->n_agents
                                               ? COORD_MAX_SLOTS
                                               : 4 * (uint64_t)c->n_agents))
        why = "too many slots offered already";
    if (!why)
        return true;
    if (++c->ignored_messages % 100 == 1)
        TT_LOG_WARN("refused a hello (%s; %llu messages ignored so far)", why,
                    (unsigned long long)c->ignored_messages);
    s_reject(c, id, why);
    return false;
}

static void
s_on_hello(coord_t *c, zframe_t *id, const char *key, const Tt__Envelope *env)
{
    const Tt__Hello *h = env->hello;
    coord_peer_t *p = s_find(c, key);
    if (p && p->state == COORD_PEER_LIVE && p->instance && !strcmp(p->instance, h->instance))
        return; /* a repeated hello */
    /* never more slots than agents: the rest could never be used */
    uint32_t slots = h->slots < c->n_agents ? h->slots : (uint32_t)c->n_agents;
    if (!s_admit(c, id, p, h, slots))
        return;
    if (p && p->state == COORD_PEER_LIVE && p->routing_id)
        /* another instance on a live connection: the one we knew is gone */
        coord_peer_dead(c, p, "said hello again as a new instance");
    if (!p) {
        /* a child we started announces itself by pid: first, or again on a new
         * connection (which says the one it registered on is gone) */
        for (size_t i = 0; i < c->n_peers && !p; i++) {
            coord_peer_t *q = &c->peers[i];
            if (q->pid > 0 && h->has_pid && q->pid == (pid_t)h->pid &&
                q->state == COORD_PEER_LIVE &&
                (!q->routing_id || (q->instance && !strcmp(q->instance, h->instance))))
                p = q;
        }
        if (p && (p->routing_id || p->lost)) {
            if (p->routing_id)
                s_drop_route(c, p);
            TT_LOG_WARN("agentd pid %d is back on a new connection: its agents are placed again",
                        (int)p->pid);
            s_unplace_all(c, p); /* it forgot them when it registered again */
            p->lost = false;
        }
        if (!p) {
            if (c->n_peers >= COORD_MAX_PEERS)
                return;
            c->peers = tt_realloc(c->peers, (c->n_peers + 1) * sizeof *c->peers);
            p = &c->peers[c->n_peers++];
            memset(p, 0, sizeof *p);
        }
    }
    c->unborn_deaths = 0;
    if (!c->opts.external) /* the wait for local agentds runs from the last to register */
        c->placing_since_ms = tt_now_ms();
    zframe_destroy(&p->routing_id);
    p->routing_id = zframe_dup(id);
    snprintf(p->key, sizeof p->key, "%s", key);
    zhash_update(c->peer_index, key, (void *)(uintptr_t)(p - c->peers + 1));
    free(p->instance);
    free(p->host);
    p->instance = tt_strdup(h->instance);
    p->host = tt_strdup(h->host ? h->host : "");
    p->remote_pid = h->has_pid ? h->pid : 0;
    free(p->slot_agent);
    p->slots = slots;
    p->slot_agent = tt_calloc(slots, sizeof *p->slot_agent);
    p->state = COORD_PEER_LIVE;
    p->last_seen_ms = tt_now_ms();
    p->last_seq = env->seq;
    TT_LOG_INFO("agentd on %s (pid %u) registered with %u slots", p->host, h->has_pid ? h->pid : 0,
                slots);
    Tt__Welcome w = TT__WELCOME__INIT;
    w.heartbeat_ms = (uint32_t)c->config.heartbeat_ms;
    w.liveness_ms = (uint32_t)c->config.liveness_ms;
    Tt__Envelope reply = TT__ENVELOPE__INIT;
    reply.body_case = TT__ENVELOPE__BODY_WELCOME;
    reply.welcome = &w;
    coord_send(c, p, 0, 0, &reply);
    coord_place_unplaced(c);
}

static void
s_reject(coord_t *c, zframe_t *id, const char *why)
{
    Tt__Error e = TT__ERROR__INIT;
    e.code = TT_EPEER;
    e.message = (char *)why;
    Tt__Envelope env = TT__ENVELOPE__INIT;
    env.body_case = TT__ENVELOPE__BODY_ERROR;
    env.error = &e;
    s_send_raw(c, id, &env);
}

coord_agent_t *
coord_agent(coord_t *c, uint32_t envelope_agent)
{
    if (envelope_agent == 0 || envelope_agent > c->n_agents)
        return NULL;
    return &c->agents[envelope_agent - 1];
}

/* A message about one agent: only from its peer and its current incarnation. */
coord_agent_t *
coord_peers_agent_of(coord_t *c, const coord_peer_t *p, uint32_t agent, uint32_t incarnation,
                     const char *what)
{
    coord_agent_t *a = coord_agent(c, agent);
    if (!a || a->peer != (long)(p - c->peers) || a->incarnation != incarnation) {
        TT_LOG_DEBUG("stale %s for agent %u incarnation %u: dropped", what, agent, incarnation);
        return NULL;
    }
    return a;
}

static void
s_on_agent_message(coord_t *c, coord_peer_t *p, Tt__Envelope *env)
{
    if (env->body_case == TT__ENVELOPE__BODY_ACTIONS_BATCH) {
        coord_batch_on_answers(c, p, env->actions_batch);
        return;
    }
    coord_agent_t *a =
        coord_peers_agent_of(c, p, env->agent, env->incarnation, tt_wire_body_name(env));
    if (!a)
        return;
    switch (env->body_case) {
    case TT__ENVELOPE__BODY_ASSIGNED:
        if (a->state == COORD_AGENT_ASSIGNING)
            coord_place_on_assigned(c, a, env->assigned);
        break;
    case TT__ENVELOPE__BODY_ERROR:
        TT_LOG_ERROR("%s: %s", a->name, env->error->message ? env->error->message : "error");
        if (a->state == COORD_AGENT_ASSIGNING)
            coord_fail(c, "agent %s could not start: %s", a->name,
                       env->error->message ? env->error->message : "error");
        break;
    default:
        break;
    }
}

/* One message from a peer. */
static void
s_on_message(coord_t *c)
{
    zframe_t *id = NULL;
    Tt__Envelope *env = NULL;
    tt_err_t err = coord_gate_recv(c, c->router, &id, &env);
    if (err == TT_EVERSION) {
        if (++c->other_versions % 1000 == 1)
            TT_LOG_WARN("dropped a message of another protocol version (this coordinator "
                        "speaks %d; %llu so far): run agentds of the same Troupe release",
                        TT_PROTOCOL_VERSION, (unsigned long long)c->other_versions);
        zframe_destroy(&id);
        return;
    }
    if (err) {
        if (++c->dropped_frames % 1000 == 1)
            TT_LOG_WARN("dropped a malformed message (%s); %llu so far", tt_strerror(err),
                        (unsigned long long)c->dropped_frames);
        zframe_destroy(&id);
        return;
    }
    char key[64];
    coord_peer_key(id, key, sizeof key);
    coord_peer_t *p = s_find(c, key);
    if (env->body_case == TT__ENVELOPE__BODY_HELLO) {
        s_on_hello(c, id, key, env);
    } else if (!p || p->state != COORD_PEER_LIVE) {
        /* a stale process (declared dead, then woken) or a stranger: never acted on */
        if (++c->ignored_messages % 100 == 1)
            TT_LOG_WARN("ignored a %s from %s agentd (%llu so far)", tt_wire_body_name(env),
                        p ? "a dead" : "an unknown", (unsigned long long)c->ignored_messages);
        s_reject(c, id, p ? "you were declared dead" : "unknown peer: send hello first");
    } else if (env->seq <= p->last_seq) {
        TT_LOG_DEBUG("duplicate message %llu from %s: dropped", (unsigned long long)env->seq,
                     p->host);
    } else {
        p->last_seq = env->seq;
        p->last_seen_ms = tt_now_ms();
        if (env->body_case != TT__ENVELOPE__BODY_HEARTBEAT)
            s_on_agent_message(c, p, env);
    }
    tt_wire_free(&env);
    zframe_destroy(&id);
    coord_batch_flush(c);
}

/* The messages waiting, up to max or until the run is done; how many. */
static size_t
s_read_waiting(coord_t *c, size_t max)
{
    size_t n = 0;
    while (n < max && c->state != COORD_RUN_DONE && (zsock_events(c->router) & ZMQ_POLLIN)) {
        s_on_message(c);
        n++;
    }
    return n;
}

int
coord_peers_on_message(zloop_t *loop, zsock_t *sock, void *arg)
{
    (void)loop;
    (void)sock;
    coord_t *c = arg;
    /* a slice of what is waiting, not one message a turn of the loop: a
     * thousand agentds' heartbeats and answers must not wait behind a poll
     * each (the loop's timers still run between slices) */
    s_read_waiting(c, COORD_READ_SLICE);
    return c->state == COORD_RUN_DONE ? -1 : 0;
}

/* ------------------------------------------------------------------ ticks */

static void
s_reap(coord_t *c)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        coord_forkserver_reaped(c->forkserver, pid);
        for (size_t i = 0; i < c->n_peers; i++) {
            coord_peer_t *p = &c->peers[i];
            if (p->pid != pid)
                continue;
            p->pid = -pid; /* reaped: never signal it again */
            if (p->state == COORD_PEER_LIVE && c->state != COORD_RUN_DONE) {
                char why[64];
                snprintf(why, sizeof why, "exited with status %d",
                         WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
                coord_peer_dead(c, p, why);
            }
        }
    }
}

/* Time the coordinator itself did not run (SIGSTOP, a long step's work, a
 * swapped-out host) counts against no one: every silence and deadline clock
 * is moved on by the gap, so a stalled coordinator never takes its agentds
 * for dead, nor their agents for hung, when it runs again. */
static void
s_forgive_stall(coord_t *c, int64_t now)
{
    int64_t gap = c->last_tick_ms ? now - c->last_tick_ms - COORD_TICK_MS : 0;
    c->last_tick_ms = now;
    if (gap < COORD_STALL_MS)
        return;
    /* a busy machine (agentds starting) delays ticks by a second or two: worth
     * a warning only when it would have cost an agentd its life */
    if (gap >= c->config.liveness_ms)
        TT_LOG_WARN("the coordinator did not run for %lld ms: deadlines moved on by as much",
                    (long long)gap);
    else
        TT_LOG_INFO("the coordinator did not run for %lld ms: deadlines moved on by as much",
                    (long long)gap);
    c->stalls++;
    for (size_t i = 0; i < c->n_peers; i++) {
        c->peers[i].last_seen_ms += gap;
        c->peers[i].progress_ms += gap;
    }
    for (size_t i = 0; i < c->n_agents; i++) {
        c->agents[i].dispatched_ms += gap;
        c->agents[i].placed_ms += gap;
    }
}

void
coord_peers_tick(coord_t *c)
{
    s_forgive_stall(c, tt_now_ms());
    s_reap(c);
    /* agents whose agentd died go to free slots; a death may be noticed deep in
     * a send, so placement is retried here rather than there */
    for (size_t i = 0; i < c->n_agents; i++)
        if (c->agents[i].state == COORD_AGENT_UNPLACED) {
            coord_place_unplaced(c);
            break;
        }
    /* agentds that keep dying before they say hello will not do better when
     * started again: stop, and say how they died */
    size_t spawned = (c->n_agents + c->opts.slots - 1) / c->opts.slots;
    if (c->respawns && c->unborn_deaths >= (spawned > 3 ? spawned : 3)) {
        coord_fail(c,
                   "%zu agentds in a row died before registering (the last: %s); their "
                   "errors are above",
                   c->unborn_deaths, c->unborn_why);
        c->respawns = 0;
    }
    size_t n = c->respawns ? s_spawn_room(c, c->respawns) : 0;
    if (n) {
        /* Hellos of the ones started are answered meanwhile */
        char *err = NULL;
        c->respawns -= n;
        if (coord_peers_spawn(c, n, c->opts.slots, &err))
            coord_fail(c, "%s", err);
        free(err);
    }
    coord_place_tick(c);
    /* Silence is judged on what has been read: messages still waiting may
     * be the very heartbeats of the peers about to be found silent (a loop
     * behind its input, not agentds gone quiet, made a thousand one-slot
     * agentds "dead" by the hundred). A backlog larger than this is read
     * slice by slice by the loop, and judged at a later tick. */
    if (s_read_waiting(c, COORD_READ_BEFORE_JUDGING) == COORD_READ_BEFORE_JUDGING ||
        c->state == COORD_RUN_DONE)
        return;
    int64_t now = tt_now_ms();
    /* An agentd judges our silence in multiples of LIVENESS_MS (it waits and
     * says so after 3, a remote one gives up after 24), so a heartbeat every
     * half of it is enough; every HEARTBEAT_MS (as theirs come) woke each
     * waiting agentd's two threads twice a second more, for nothing. */
    int64_t every = c->config.liveness_ms / 2;
    if (every < c->config.heartbeat_ms)
        every = c->config.heartbeat_ms;
    Tt__Heartbeat hb = TT__HEARTBEAT__INIT;
    for (size_t i = 0; i < c->n_peers; i++) {
        coord_peer_t *p = &c->peers[i];
        if (p->state != COORD_PEER_LIVE)
            continue;
        /* a child still starting up has the registration timeout: a thousand
         * of them starting on two cores take longer than LIVENESS_MS */
        bool known = p->routing_id || p->lost;
        int64_t limit =
            known ? c->config.liveness_ms : (int64_t)c->config.register_timeout_s * 1000;
        if (now - p->last_seen_ms > limit) {
            const char *unrouted = p->lost ? "unreachable" : "never registered";
            coord_peer_dead(c, p, p->routing_id ? "silent" : unrouted);
            continue;
        }
        if (!p->routing_id || now - p->heartbeat_ms < every)
            continue;
        p->heartbeat_ms = now;
        Tt__Envelope env = TT__ENVELOPE__INIT;
        env.body_case = TT__ENVELOPE__BODY_HEARTBEAT;
        env.heartbeat = &hb;
        coord_send(c, p, 0, 0, &env);
    }
}

void
coord_peers_shutdown(coord_t *c, const char *reason)
{
    Tt__Shutdown s = TT__SHUTDOWN__INIT;
    s.reason = (char *)reason;
    for (size_t i = 0; i < c->n_peers; i++) {
        coord_peer_t *p = &c->peers[i];
        if (p->state != COORD_PEER_LIVE || !p->routing_id)
            continue;
        Tt__Envelope env = TT__ENVELOPE__INIT;
        env.body_case = TT__ENVELOPE__BODY_SHUTDOWN;
        env.shutdown = &s;
        coord_send(c, p, 0, 0, &env);
    }
    /* give our children a moment to leave, then make sure */
    int64_t deadline = tt_now_ms() + 3000;
    for (;;) {
        bool alive = false;
        for (size_t i = 0; i < c->n_peers; i++) {
            coord_peer_t *p = &c->peers[i];
            if (p->pid > 0) {
                if (waitpid(p->pid, NULL, WNOHANG) == p->pid)
                    p->pid = -p->pid;
                else
                    alive = true;
            }
        }
        if (!alive)
            break;
        if (tt_now_ms() > deadline) {
            for (size_t i = 0; i < c->n_peers; i++)
                if (c->peers[i].pid > 0) {
                    kill(c->peers[i].pid, SIGKILL);
                    waitpid(c->peers[i].pid, NULL, 0);
                    c->peers[i].pid = -c->peers[i].pid;
                }
            break;
        }
        zclock_sleep(10);
    }
}

void
coord_peers_destroy(coord_t *c)
{
    coord_batch_fini(c);
    coord_forkserver_stop(&c->forkserver);
    for (size_t i = 0; i < c->n_peers; i++) {
        coord_peer_t *p = &c->peers[i];
        if (p->pid > 0) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, NULL, 0);
        }
        zframe_destroy(&p->routing_id);
        free(p->instance);
        free(p->host);
        free(p->slot_agent);
    }
    free(c->peers);
    c->peers = NULL;
    c->n_peers = 0;
    zhash_destroy(&c->peer_index);
    coord_gate_stop(c);
    zsock_destroy(&c->router);
    zactor_destroy(&c->auth);
    free(c->endpoint);
    free(c->server_public);
    free(c->spawn_token);
}
