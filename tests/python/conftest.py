"""Fixtures of the troupe package's tests: the offline model and fakellm as backends.

Tests run `coordinator serve` for real (build/bin/coordinator, or $TROUPE_COORDINATOR); they
fail, not skip, when it is missing or broken.
"""

import json
import os
import runpy
import selectors
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))

import troupe  # noqa: E402
import troupe.control as control  # noqa: E402

BIN = Path(os.environ["TT_BIN_DIR"]) if os.environ.get("TT_BIN_DIR") else REPO / "build" / "bin"
COORDINATOR = os.environ.get("TROUPE_COORDINATOR") or str(BIN / "coordinator")
FAKELLM = os.environ.get("TROUPE_FAKELLM") or str(BIN / "fakellm")
EXAMPLES = REPO / "examples" / "python"
AGENTS = REPO / "examples" / "agents"
FRAGMENTS = EXAMPLES / "data" / "fragments"
LISA = str(AGENTS / "lisa_carter.agent.json")
OSCAR = str(AGENTS / "oscar_ramos.agent.json")
AMARA = str(AGENTS / "amara_okafor.agent.json")
MARCOS = str(AGENTS / "marcos_oliveira.agent.json")

NO_MODEL_ENV = {"OPENAI_API_KEY": None, "OPENAI_BASE_URL": None, "AZURE_OPENAI_ENDPOINT": None,
                "AZURE_OPENAI_KEY": None, "AZURE_OPENAI_API_KEY": None, "TROUPE_MODEL": None}


class Backend:
    def __init__(self, name, options, port=None):
        self.name = name
        self.options = options
        self.port = port

    def fake_stats(self):
        """fakellm's /stats (None for the offline model)."""
        if self.port is None:
            return None
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open("http://127.0.0.1:%d/stats" % self.port, timeout=30) as r:
            return json.loads(r.read().decode("utf-8"))

    def __repr__(self):
        return self.name


def _read_port(proc, deadline_s=30.0):
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.time() + deadline_s
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.time()
        if left <= 0 or proc.poll() is not None:
            raise RuntimeError("fakellm did not print its port")
        if sel.select(timeout=left):
            chunk = os.read(proc.stdout.fileno(), 64)
            if not chunk:
                raise RuntimeError("fakellm exited before printing its port")
            buf += chunk
    return int(buf.split(b"\n", 1)[0].strip())


@pytest.fixture(scope="session")
def fakellm_port():
    proc = subprocess.Popen([FAKELLM, "--port", "0", "--quiet"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        port = _read_port(proc)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _options(name, port=None):
    if name == "offline":
        return {"llm": "offline", "env": dict(NO_MODEL_ENV), "coordinator": COORDINATOR}
    return {"llm": "openai", "coordinator": COORDINATOR,
            "env": {"OPENAI_BASE_URL": "http://127.0.0.1:%d/v1" % port, "OPENAI_API_KEY": "test",
                    "AZURE_OPENAI_ENDPOINT": None}}


def _use(name, port=None):
    control.reset()
    control.default_options.clear()
    opts = _options(name, port)
    control.set_default_options(**opts)
    return Backend(name, opts, port)


@pytest.fixture(params=["offline", "fakellm"])
def backend(request):
    port = request.getfixturevalue("fakellm_port") if request.param == "fakellm" else None
    b = _use(request.param, port)
    yield b
    control.reset()


@pytest.fixture
def offline():
    b = _use("offline")
    yield b
    control.reset()


def run_example(name):
    """Run a ported notebook (examples/python/NAME.py) in the current session; its globals."""
    return runpy.run_path(str(EXAMPLES / name), run_name="__main__")


def log_stats(tlog):
    out = subprocess.run([COORDINATOR, "log", "stats", str(tlog)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, check=True)
    return json.loads(out.stdout.decode("utf-8"))


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # a zombie is not alive
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True
