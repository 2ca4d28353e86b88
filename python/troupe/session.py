"""One `coordinator serve` session: starting or finding the server, and talking to it.

The server is described in docs/session-api.md: every request is `POST /v1/command` with a
JSON body naming the command, and the header `Authorization: Bearer TOKEN` where TOKEN is read
from the 0600 file the server writes next to `session.json`.
"""

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from .errors import (SessionClosedError, SessionStartError, TroupeError, error_for)

#: Commands that make agents act (or end the session): they reply when their steps have
#: committed, which may take as long as the model needs, so they are sent without a timeout.
LONG_COMMANDS = frozenset(["agent.act", "world.run", "end", "agent.create", "agent.minibio"])

#: Timeout (seconds) of the other commands.
SHORT_TIMEOUT = float(os.environ.get("TROUPE_REQUEST_TIMEOUT", "600"))

#: How long to wait for a started server to write session.json.
START_TIMEOUT = float(os.environ.get("TROUPE_START_TIMEOUT", "60"))

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

# Loopback requests must never go through a proxy named by http_proxy and friends.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

_TIMEOUTS = (TimeoutError, socket.timeout)


def find_coordinator(explicit=None):
    """The `coordinator` binary: `explicit`, else $TROUPE_COORDINATOR, else the repository
    checkout's build/bin/coordinator (../build/bin relative to python/), else PATH."""
    given = explicit or os.environ.get("TROUPE_COORDINATOR")
    if given:
        # a binary named by the caller is the one: never another found elsewhere
        path = given if os.sep in given else shutil.which(given)
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return os.path.abspath(path)
        raise SessionStartError("coordinator binary not found or not executable: %s" % given)
    repo_bin = os.path.normpath(os.path.join(_PACKAGE_DIR, "..", "..", "build", "bin", "coordinator"))
    if os.path.isfile(repo_bin) and os.access(repo_bin, os.X_OK):
        return repo_bin
    path = shutil.which("coordinator")
    if path:
        return path
    raise SessionStartError(
        "cannot find the `coordinator` binary: set TROUPE_COORDINATOR, build the repository "
        "(build/bin/coordinator), or put it on PATH")


def _load_prctl():
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes
        return ctypes.CDLL(None, use_errno=True).prctl
    except Exception:
        return None


# looked up once, here: the child of a fork must not import or load anything
_PRCTL = _load_prctl()
_PR_SET_PDEATHSIG = 1


def _preexec_die_with_parent():
    """In the child, before exec (Linux): SIGTERM when the parent dies, so that a killed
    Python never leaves a server behind."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


def _tail(path, limit=4000):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - limit))
            return f.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _read_json(path):
    with open(path, "r", encoding="utf-8") as f:
        return json.load(f)


_live_sessions = []
_live_lock = threading.Lock()


class Session:
    """A connection to one `coordinator serve` process.

    Use `Session.start(...)` to start a server, or `Session.connect(...)` to attach to one that
    is running. `command(name, **args)` sends one command and returns its result object, or
    raises the `TroupeError` subclass matching the server's error.
    """

    def __init__(self, url, token, process=None, out=None, info=None, options=None,
                 previous=None, log_path=None, cafile=None):
        if not url.endswith("/"):
            url += "/"
        self._opener = _OPENER
        if url.startswith("https://"):
            # a server beyond loopback (--tls-cert/--tls-key): verify it, against `cafile`
            # (e.g. its own self-signed certificate) when given
            import ssl
            ctx = ssl.create_default_context(cafile=cafile)
            self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                       urllib.request.HTTPSHandler(context=ctx))
        self.url = url
        self.token = token
        self.process = process
        self.out = out
        self.info = info or {}
        self.options = dict(options or {})
        #: the moved-aside directory of the previous run of this output directory (replayed)
        self.previous = previous
        self.log_path = log_path
        self.closed = False
        self.end_result = None
        self.transcript_offset = 0
        self._counters = {}
        self._lock = threading.RLock()
        with _live_lock:
            _live_sessions.append(self)

    # ------------------------------------------------------------------ starting and finding

    @classmethod
    def start(cls, out, scenario=None, llm=None, model=None, config=None, slots=None,
              replay=None, resume=False, seed=None, coordinator=None, env=None,
              extra_args=None, timeout=None, previous=None, cafile=None):
        """Start `coordinator serve --out OUT ...` and wait (with a deadline) for session.json."""
        binary = find_coordinator(coordinator)
        out = os.path.abspath(out)
        os.makedirs(out, exist_ok=True)
        args = [binary, "serve", "--out", out]
        if scenario:
            args.append(os.path.abspath(scenario))
        if replay:
            args += ["--replay", os.path.abspath(replay)]
        if resume:
            args.append("--resume")
        if seed is not None:
            args += ["--seed", str(seed)]
        if llm:
            args += ["--llm", str(llm)]
        if config:
            args += ["--config", os.path.abspath(config)]
        if model:
            # a flag: it beats TROUPE_MODEL and the config's MODEL
            args += ["--model", str(model)]
        if slots is not None:
            args += ["--slots", str(slots)]
        if not os.environ.get("TROUPE_SERVE_VERBOSE"):
            # the transcript is in DIR/transcript.txt (and shown by the package); serve.log
            # keeps the server's warnings and errors
            args.append("--quiet")
        args += list(extra_args or [])
        full_env = dict(os.environ)
        if env:
            for k, v in env.items():
                if v is None:
                    full_env.pop(k, None)
                else:
                    full_env[k] = str(v)
        log_path = os.path.join(out, "serve.log")
        log = open(log_path, "ab")
        session_json = os.path.join(out, "session.json")
        started = time.time()
        # A session of its own (Ctrl-C in a terminal does not reach the server; the client
        # ends it). The parent-death signal is tied to the thread that forks, so it is only
        # asked for from the main thread.
        preexec = _preexec_die_with_parent if (
            _PRCTL is not None and threading.current_thread() is threading.main_thread()) else None
        try:
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    env=full_env, cwd=os.getcwd(), start_new_session=True,
                                    preexec_fn=preexec, close_fds=True)
        except OSError as e:
            log.close()
            raise SessionStartError("cannot start %s: %s" % (binary, e))
        log.close()
        deadline = started + (timeout if timeout is not None else START_TIMEOUT)
        delay = 0.01
        info = None
        while True:
            rc = proc.poll()
            if rc is not None:
                raise SessionStartError(
                    "coordinator serve exited with status %d before the session was ready:\n%s"
                    % (rc, _tail(log_path)))
            try:
                candidate = _read_json(session_json)
                # a session.json left by an earlier server of this directory is not ours
                if candidate.get("pid") == proc.pid and candidate.get("url"):
                    token_file = candidate.get("token_file") or os.path.join(out, "session.token")
                    with open(token_file, "r", encoding="ascii") as f:
                        token = f.read().strip()
                    if token:
                        info = candidate
                        break
            except (OSError, ValueError):
                pass  # not written yet, or being written
            if time.time() > deadline:
                _stop_process(proc)
                raise SessionStartError(
                    "coordinator serve did not write %s within %.0f s:\n%s"
                    % (session_json, deadline - started, _tail(log_path)))
            time.sleep(delay)  # polling interval of the deadline loop, not a fixed wait
            delay = min(delay * 1.5, 0.2)
        options = {"llm": llm, "model": model, "config": config, "env": env, "seed": seed,
                   "coordinator": binary, "slots": slots}
        return cls(info["url"], token, process=proc, out=out, info=info, options=options,
                   previous=previous, log_path=log_path, cafile=cafile)

    @classmethod
    def connect(cls, endpoint, token=None, token_file=None, cafile=None, **options):
        """Attach to a running server: `endpoint` is its session.json, the directory holding it,
        or its URL (then `token` or `token_file` is required). `cafile`: the certificate(s)
        to verify an HTTPS server with."""
        info = {}
        if isinstance(endpoint, dict):
            info = dict(endpoint)
        elif endpoint.startswith("http://") or endpoint.startswith("https://"):
            info = {"url": endpoint}
        else:
            path = endpoint
            if os.path.isdir(path):
                path = os.path.join(path, "session.json")
            info = _read_json(path)
            if "out" not in info:
                info["out"] = os.path.dirname(os.path.abspath(path))
        if token is None:
            tf = token_file or info.get("token_file")
            if not tf:
                raise SessionStartError("no token: give token= or token_file=")
            with open(tf, "r", encoding="ascii") as f:
                token = f.read().strip()
        return cls(info["url"], token, process=None, out=info.get("out"), info=info,
                   options=options, cafile=cafile)

    # ------------------------------------------------------------------ requests

    @property
    def owned(self):
        """True when this client started the server process (and so ends it at exit)."""
        return self.process is not None

    def alive(self):
        if self.closed:
            return False
        if self.process is not None and self.process.poll() is not None:
            return False
        return True

    def raw_request(self, body, token=None, method="POST", path="v1/command", timeout=None,
                    headers=None):
        """Send raw bytes; return (HTTP status, parsed JSON body or None, raw text).
        Never raises for an HTTP error status (tests use it for malformed requests)."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        hdrs = {"Content-Type": "application/json"}
        tok = self.token if token is None else token
        if tok:
            hdrs["Authorization"] = "Bearer " + tok
        if headers:
            hdrs.update(headers)
        req = urllib.request.Request(self.url + path, data=body, headers=hdrs, method=method)
        try:
            with self._opener.open(req, timeout=timeout) as resp:
                status = resp.status
                raw = resp.read()
        except urllib.error.HTTPError as e:
            status = e.code
            try:
                raw = e.read()
            except Exception:
                raw = b""
        text = raw.decode("utf-8", "replace")
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = None
        return status, parsed, text

    def command(self, name, /, _timeout=None, **args):
        """Send one command; return its `result` object or raise a TroupeError subclass.
        `_timeout` (seconds) overrides the default: none for the long commands."""
        if self.closed:
            raise SessionClosedError("the session has ended (command %s)" % name, command=name)
        body = dict(args)
        body["command"] = name
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        timeout = _timeout if _timeout is not None else (
            None if name in LONG_COMMANDS else SHORT_TIMEOUT)
        with self._lock:
            try:
                status, parsed, text = self.raw_request(data, timeout=timeout)
            except (urllib.error.URLError, ConnectionError, OSError) as e:
                if name == "end" and self.process is not None:
                    raise
                if isinstance(e, _TIMEOUTS) or isinstance(getattr(e, "reason", None), _TIMEOUTS):
                    raise TroupeError("%s: no reply from the session server within %s s"
                                      % (name, timeout), command=name)
                msg = "cannot reach the session server at %s (%s)" % (self.url, getattr(e, "reason", e))
                if self.process is not None:
                    try:  # a server that dropped the connection is usually exiting
                        self.process.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        pass
                if self.process is not None and self.process.poll() is not None:
                    msg = ("the session server has exited (status %s)%s"
                           % (self.process.returncode,
                              (":\n" + _tail(self.log_path)) if self.log_path else ""))
                    self.closed = True
                raise SessionClosedError(msg, command=name)
        if isinstance(parsed, dict) and parsed.get("ok") is True and status == 200:
            result = parsed.get("result")
            return result if result is not None else {}
        if isinstance(parsed, dict) and "error" in parsed:
            raise error_for(parsed.get("code"), status, str(parsed.get("error")), command=name)
        raise error_for(None, status, "unexpected reply (HTTP %s): %s" % (status, text[:500]),
                        command=name)

    # ------------------------------------------------------------------ conveniences

    def status(self):
        return self.command("status")

    def next_index(self, kind):
        """A per-session counter (factory and extraction folders are numbered in call order, so
        that a rerun of the same notebook finds the previous run's folder of the same number)."""
        n = self._counters.get(kind, 0) + 1
        self._counters[kind] = n
        return n

    def new_transcript(self):
        """The transcript text written since the last call."""
        try:
            r = self.command("transcript", **{"from": self.transcript_offset})
        except TroupeError:
            return ""
        text = r.get("text") or ""
        nxt = r.get("next")
        if isinstance(nxt, int):
            self.transcript_offset = nxt
        else:
            self.transcript_offset += len(text.encode("utf-8"))
        return text

    def checkpoint(self, name):
        return self.command("checkpoint", name=name)

    # ------------------------------------------------------------------ ending

    def end(self, timeout=None):
        """Send `end`, wait for an owned server to exit; returns {"steps", "final_hash"}.
        `timeout`: at most this long for the reply and for the exit (default: no limit for
        the reply, which waits for a command in progress; 120 s for the exit)."""
        if self.closed:
            return self.end_result
        result = None
        try:
            if self.process is None or self.process.poll() is None:
                result = self.command("end", _timeout=timeout)
        except SessionClosedError:
            if self.process is None:
                raise
        except TroupeError:
            if self.process is None:
                raise
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        finally:
            self.closed = True
            if self.process is not None:
                try:
                    self.process.wait(timeout=timeout or 120.0)
                except subprocess.TimeoutExpired:
                    _stop_process(self.process)
            with _live_lock:
                if self in _live_sessions:
                    _live_sessions.remove(self)
        if result is None and self.process is not None and self.process.returncode == 0:
            # the server exited after `end` without a usable reply: the log has the answer
            result = self._end_from_log()
        self.end_result = result
        return result

    def _end_from_log(self):
        tlog = os.path.join(self.out or "", "sim.tlog")
        if not os.path.exists(tlog):
            return None
        try:
            p = subprocess.run([self.options.get("coordinator") or find_coordinator(), "log",
                                "stats", tlog], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            st = json.loads(p.stdout.decode("utf-8"))
            return {"steps": st.get("steps"), "final_hash": st.get("final_hash")}
        except (OSError, ValueError):
            return None

    def detach(self):
        """Forget a server this client did not start (it keeps running)."""
        self.closed = True
        with _live_lock:
            if self in _live_sessions:
                _live_sessions.remove(self)

    def __repr__(self):
        return "<troupe Session %s out=%r%s>" % (self.url, self.out, " ended" if self.closed else "")


def _stop_process(proc, grace=10.0):
    if proc.poll() is not None:
        return
    try:
        proc.terminate()
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    except OSError:
        pass


@atexit.register
def _end_all_sessions():
    """At interpreter exit, every server this process started is ended cleanly."""
    with _live_lock:
        sessions = list(_live_sessions)
    for s in sessions:
        if s.owned and not s.closed:
            try:
                s.end(timeout=60.0)
            except Exception:
                if s.process is not None:
                    _stop_process(s.process)
