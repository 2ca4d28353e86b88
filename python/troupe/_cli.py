"""Running the coordinator's model-calling subcommands (`factory`, `extract`) for a session:
same binary, provider, model, config and environment as the session's server."""

import os
import subprocess

from .errors import TroupeError
from .session import find_coordinator


def _config_for(session, workdir):
    """The --config to pass: the session's."""
    return session.options.get("config")


def run_subcommand(session, args, workdir, what):
    """Run `coordinator ARGS --llm ... --config ...`; returns (exit status, stderr text).
    Raises TroupeError for a bad usage (exit 2) or a binary that cannot start."""
    opts = session.options
    binary = find_coordinator(opts.get("coordinator"))
    cmd = [binary] + list(args)
    if opts.get("llm"):
        cmd += ["--llm", str(opts["llm"])]
    cfg = _config_for(session, workdir)
    if cfg:
        cmd += ["--config", os.path.abspath(cfg)]
    if opts.get("model"):
        cmd += ["--model", str(opts["model"])]  # beats TROUPE_MODEL and the config's MODEL
    cmd.append("--quiet")
    env = dict(os.environ)
    for k, v in (opts.get("env") or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env)
    except OSError as e:
        raise TroupeError("cannot run %s: %s" % (binary, e))
    err = (p.stderr or b"").decode("utf-8", "replace").strip()
    if p.returncode == 2:
        raise TroupeError("coordinator %s: %s" % (what, err or "bad usage"), code="bad_request")
    return p.returncode, err
