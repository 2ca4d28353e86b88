"""Simulation control, after TinyTroupe's `tinytroupe.control`: `begin`, `checkpoint`, `end`.

TinyTroupe keeps global state: agents exist as soon as they are made. Here too: the first
agent or world made without `begin()` starts a default session in a fresh temporary directory.
`begin(path)` makes a session whose output directory is `path` (or derived from a TinyTroupe
cache-file name, "my_sim.cache.json" -> "my_sim.cache/"). When that directory already holds a
previous session's `sim.tlog` (the notebook is being rerun), the previous directory is moved
aside to `PATH.previous` and its log replayed (`serve --replay`): the rerun's commands get the
recorded model answers, so it costs zero model calls and ends with the same final hash, as
TinyTroupe's cache does. Factory and extraction runs of the rerun replay the previous
directory's folders of the same number.
"""

import os
import shutil
import tempfile

from .errors import SessionStartError
from .session import Session

#: Options used for sessions started by `begin()` without them and for the implicit default
#: session (llm, model, config, slots, seed, coordinator, env). Tests set them once.
default_options = {}

_state = {"session": None, "explicit": False, "checkpoints": 0}


def set_default_options(**options):
    """Options (llm, model, config, slots, seed, coordinator, env) for sessions started later."""
    default_options.update(options)


def _clear_registries():
    from .agent import TinyPerson
    from .environment import TinyWorld
    from .factory import TinyPersonFactory
    TinyPerson.clear_agents()
    TinyWorld.clear_environments()
    TinyPersonFactory.clear_factories()


def current_session(start=True):
    """The session in use; with `start`, the default session is started when there is none."""
    s = _state["session"]
    if s is not None and not s.closed:
        return s
    if not start:
        return None
    out = os.environ.get("TROUPE_OUT") or tempfile.mkdtemp(prefix="troupe-session-")
    if os.path.exists(os.path.join(out, "sim.tlog")):
        return _begin_at(out, dict(default_options), explicit=False)
    opts = dict(default_options)
    s = Session.start(out, **_start_kwargs(opts))
    _state.update(session=s, explicit=False, checkpoints=0)
    return s


def current_simulation():
    """TinyTroupe's name: the session begun with `begin()`, or None."""
    return _state["session"] if _state["explicit"] and _state["session"] is not None \
        and not _state["session"].closed else None


def cache_path_to_directory(cache_path, id="default"):
    """The output directory for a TinyTroupe-style cache path."""
    if cache_path is None:
        cache_path = "troupe-%s.cache" % id
    path = os.fspath(cache_path)
    if path.endswith(".json"):
        path = path[: -len(".json")]
    return os.path.abspath(path)


def _start_kwargs(opts):
    keys = ("llm", "model", "config", "slots", "seed", "coordinator", "env", "scenario",
            "replay", "resume", "timeout", "extra_args")
    return {k: opts[k] for k in keys if k in opts and opts[k] is not None}


def _pid_is_coordinator(pid):
    try:
        os.kill(pid, 0)
    except (OSError, TypeError, ValueError):
        return False
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return b"coordinator" in f.read()
    except OSError:
        return True


def _begin_at(out, opts, explicit=True):
    import json
    sj = os.path.join(out, "session.json")
    if os.path.exists(sj):
        try:
            with open(sj, "r", encoding="utf-8") as f:
                pid = json.load(f).get("pid")
        except (OSError, ValueError):
            pid = None
        if pid and _pid_is_coordinator(pid):
            raise ValueError("a session is already being served from %s (pid %d): end it, or "
                             "attach to it with troupe.control.connect(%r)" % (out, pid, out))
    previous = None
    if opts.get("resume") and not os.path.exists(os.path.join(out, "sim.tlog")):
        opts.pop("resume")  # nothing to resume: a new session
    if os.path.exists(os.path.join(out, "sim.tlog")) and not opts.get("resume"):
        # A rerun: move the previous session aside and replay its log.
        previous = out.rstrip(os.sep) + ".previous"
        if os.path.exists(previous):
            shutil.rmtree(previous)
        os.rename(out, previous)
        if not opts.get("replay"):
            opts["replay"] = os.path.join(previous, "sim.tlog")
    elif opts.get("resume") and os.path.isdir(out.rstrip(os.sep) + ".previous"):
        previous = out.rstrip(os.sep) + ".previous"
    if previous is None and opts.get("replay"):
        rp = os.path.abspath(opts["replay"])
        previous = os.path.dirname(rp) if rp.endswith(".tlog") else rp
        if not rp.endswith(".tlog"):
            opts["replay"] = os.path.join(rp, "sim.tlog")
    s = Session.start(out, previous=previous, **_start_kwargs(opts))
    _state.update(session=s, explicit=explicit, checkpoints=0)
    # the agents and worlds the session starts with (a scenario's, or a resumed session's):
    # TinyPerson.get_agent_by_name and TinyWorld.get_environment_by_name find them
    _adopt_existing(s)
    if opts.get("resume"):
        _skip_old_transcript(s)
        _restore_counters(s)
    return s


def _skip_old_transcript(s):
    try:
        while s.new_transcript():
            pass
    except Exception:
        pass


def _restore_counters(s):
    """A resumed session numbers its next factory and extraction folders after the existing
    ones."""
    for kind, folder in (("factory", "factories"), ("extraction", "extractions")):
        root = os.path.join(s.out, folder)
        if os.path.isdir(root):
            nums = [int(n) for n in os.listdir(root) if n.isdigit()]
            if nums:
                s._counters[kind] = max(nums)


def begin(cache_path=None, id="default", auto_checkpoint=False, **options):
    """Begin a session writing to a directory (TinyTroupe: `begin(cache_path)`).

    `cache_path` is a directory, or a TinyTroupe cache file name whose directory is derived from
    it (default `./troupe-default.cache/`). Options: `llm`, `model`, `config`, `slots`, `seed`,
    `scenario`, `replay` (an earlier sim.tlog or its directory), `resume` (continue the log in
    the directory after a crash), `coordinator` (the binary), `env` (extra environment
    variables for the server), `timeout` (seconds to wait for it to start).

    Raises ValueError if a session begun with `begin()` is still open, as TinyTroupe does.
    """
    s = _state["session"]
    if s is not None and not s.closed:
        if _state["explicit"]:
            raise ValueError("a simulation is already begun (%s); end it first" % s.out)
        # the implicit default session is replaced, as TinyTroupe's begin() clears registries
        s.end()
    _clear_registries()
    opts = dict(default_options)
    opts.update({k: v for k, v in options.items() if v is not None})
    out = cache_path_to_directory(cache_path, id)
    return _begin_at(out, opts, explicit=True)


def connect(endpoint, token=None, token_file=None, cafile=None):
    """Use a running `coordinator serve` (its session.json, the directory holding it, or its
    URL with `token`/`token_file`) as the current session. Ending the client does not end the
    server unless `end()` is called."""
    s = _state["session"]
    if s is not None and not s.closed:
        if _state["explicit"]:
            raise ValueError("a simulation is already begun (%s); end it first" % s.out)
        s.end()
    _clear_registries()
    s = Session.connect(endpoint, token=token, token_file=token_file, cafile=cafile,
                        **default_options)
    _state.update(session=s, explicit=True, checkpoints=0)
    _adopt_existing(s)
    return s


def _adopt_existing(s):
    """Register the agents and worlds a connected session already has."""
    from .agent import TinyPerson
    from .environment import TinyWorld
    st = s.command("status")
    for name in st.get("agents", []):
        TinyPerson._bind(s, name)
    for w in st.get("worlds", []):
        TinyWorld._bind(s, w.get("name"), w.get("agents", []))


def checkpoint(name=None, id="default"):
    """Record a Checkpoint in the session's log; returns {"step"}."""
    s = current_session(start=False)
    if s is None:
        raise ValueError("no simulation to checkpoint: call control.begin() first")
    _state["checkpoints"] += 1
    return s.checkpoint(name or "checkpoint-%d" % _state["checkpoints"])


def end(id="default"):
    """End the session: the SimEnd record is written and the server exits. Returns
    {"steps", "final_hash"}. Agents and worlds of the session can no longer be used."""
    s = _state["session"]
    if s is None or s.closed:
        raise ValueError("no simulation to end")
    try:
        result = s.end()
    finally:
        _state.update(session=None, explicit=False)
    return result


def reset(id="default"):
    """End the current session, if any, and forget every agent, world and factory."""
    s = _state["session"]
    if s is not None and not s.closed:
        try:
            s.end()
        except Exception:
            pass
    _state.update(session=None, explicit=False, checkpoints=0)
    _clear_registries()


def status():
    """The session's `status` result (step, agents, worlds, provider, model, llm_calls, replay)."""
    return current_session().command("status")


def llm_calls():
    """How many model calls the session has made (0 for a fully replayed rerun)."""
    return status().get("llm_calls")


__all__ = ["begin", "checkpoint", "end", "reset", "connect", "current_session",
           "current_simulation", "status", "llm_calls", "set_default_options",
           "cache_path_to_directory", "SessionStartError"]
