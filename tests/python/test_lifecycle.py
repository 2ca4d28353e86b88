"""The server process: started by the package, found through session.json, ended at
control.end() or at interpreter exit, never left behind."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import COORDINATOR, LISA, NO_MODEL_ENV, REPO, log_stats, pid_alive

import troupe.control as control
from troupe import SessionClosedError, SessionStartError, TinyPerson
from troupe.session import Session


def _clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in NO_MODEL_ENV}
    env["TROUPE_COORDINATOR"] = COORDINATOR
    env.update(extra)
    return env


def test_end_stops_the_server(offline, tmp_path):
    s = control.begin(str(tmp_path / "end"))
    info = json.loads((tmp_path / "end" / "session.json").read_text())
    assert info["pid"] == s.process.pid and info["url"].startswith("http://127.0.0.1:")
    assert oct(os.stat(tmp_path / "end" / "session.token").st_mode & 0o777) == "0o600"
    assert oct(os.stat(tmp_path / "end" / "session.json").st_mode & 0o777) == "0o600"
    TinyPerson.load_specification(LISA)
    with pytest.raises(ValueError):
        control.begin(str(tmp_path / "other"))  # one simulation at a time, as in TinyTroupe
    res = control.end()
    assert s.process.returncode == 0
    assert not pid_alive(info["pid"])
    assert log_stats(tmp_path / "end" / "sim.tlog")["final_hash"] == res["final_hash"]
    with pytest.raises(SessionClosedError):
        s.command("status")


def test_interpreter_exit_ends_the_implicit_session(tmp_path):
    out = tmp_path / "implicit"
    script = textwrap.dedent("""
        import sys
        sys.path.insert(0, %r)
        from troupe import TinyPerson, TinyWorld
        lisa = TinyPerson.load_specification(%r)
        lisa.listen_and_act("Good morning!")
        print("PID", lisa._session.process.pid)
        # no control.end(): the atexit handler ends the server
    """ % (str(REPO / "python"), LISA))
    p = subprocess.run([sys.executable, "-c", script], env=_clean_env(TROUPE_OUT=str(out)),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    assert p.returncode == 0, p.stderr.decode()
    pid = int(p.stdout.decode().split("PID")[1].split()[0])
    assert not pid_alive(pid)
    stats = log_stats(out / "sim.tlog")
    assert stats["complete"] is True, stats


def test_killed_client_does_not_leave_the_server(tmp_path):
    out = tmp_path / "killed"
    script = textwrap.dedent("""
        import os, signal, sys
        sys.path.insert(0, %r)
        from troupe import TinyPerson
        lisa = TinyPerson.load_specification(%r)
        print("PID", lisa._session.process.pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """ % (str(REPO / "python"), LISA))
    p = subprocess.run([sys.executable, "-c", script], env=_clean_env(TROUPE_OUT=str(out)),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    assert p.returncode == -9
    pid = int(p.stdout.decode().split("PID")[1].split()[0])
    # the server got SIGTERM when its parent died; wait for it with a deadline
    import time
    deadline = time.time() + 30
    while pid_alive(pid) and time.time() < deadline:
        time.sleep(0.05)
    assert not pid_alive(pid)


def test_connect_to_a_running_server(offline, tmp_path):
    out = tmp_path / "shared"
    owner = Session.start(str(out), llm="offline", env=dict(NO_MODEL_ENV), coordinator=COORDINATOR)
    try:
        owner.command("agent.create", spec=LISA)
        s = control.connect(str(out))
        assert not s.owned
        lisa = TinyPerson.get_agent_by_name("Lisa Carter")
        assert lisa is not None and lisa.get("age") == 31
        lisa.think("Someone else started this session")
        s.detach()
        assert owner.command("status")["agents"] == ["Lisa Carter"]
    finally:
        control.reset()
        owner.end()
    assert owner.process.returncode == 0


def test_bad_options_fail_fast(tmp_path):
    with pytest.raises(SessionStartError) as ei:
        Session.start(str(tmp_path / "bad"), llm="no-such-provider", coordinator=COORDINATOR,
                      env=dict(NO_MODEL_ENV))
    assert "exited with status 2" in str(ei.value) and "no-such-provider" in str(ei.value)
    with pytest.raises(SessionStartError):
        Session.start(str(tmp_path / "bad2"), coordinator=str(tmp_path / "missing-binary"))


def test_resume_after_a_crash(offline, tmp_path):
    import signal
    from troupe import TinyWorld
    path = str(tmp_path / "crash")
    s = control.begin(path)
    lisa = TinyPerson.load_specification(LISA)
    oscar = TinyPerson.load_specification(str(REPO / "examples" / "agents" / "oscar_ramos.agent.json"))
    world = TinyWorld("Room", [lisa, oscar])
    world.make_everyone_accessible()
    lisa.listen("Tell Oscar about your week")
    world.run(2)
    memory = lisa.memory
    os.kill(s.process.pid, signal.SIGKILL)
    s.process.wait()
    with pytest.raises(SessionClosedError):
        lisa.think("Is anyone there?")
    control.reset()
    control.begin(path, resume=True)
    lisa = TinyPerson.get_agent_by_name("Lisa Carter")
    assert lisa is not None and lisa.memory == memory
    world = TinyWorld.get_environment_by_name("Room")
    assert [a.name for a in world.agents] == ["Lisa Carter", "Oscar Ramos"]
    world.run(1)
    assert control.status()["step"] == 3
    assert len(lisa.memory) > len(memory)
    control.end()
    assert log_stats(os.path.join(path, "sim.tlog"))["complete"] is True


def test_scenario_agents_and_world_are_adopted(offline, tmp_path):
    from troupe import TinyWorld
    control.begin(str(tmp_path / "scenario"),
                  scenario=str(REPO / "examples" / "scenarios" / "focus_group.json"))
    assert set(TinyPerson.all_agents) == {"Lisa Carter", "Oscar Ramos", "Marcos Oliveira",
                                          "Amara Okafor"}
    (world,) = TinyWorld.all_environments.values()
    assert [a.name for a in world.agents] == control.status()["worlds"][0]["agents"]
    steps = world.run(1, return_actions=True)
    assert set(steps[0]) == set(TinyPerson.all_agents)
    control.end()


def test_options_reach_the_server(fakellm_port, tmp_path):
    from conftest import _use
    _use("fakellm", fakellm_port)
    try:
        cfg = tmp_path / "config.ini"
        cfg.write_text("[OpenAI]\nMAX_ATTEMPTS=3\n")
        control.begin(str(tmp_path / "opts"), model="gpt-4.1-mini", config=str(cfg), seed=7,
                      slots=2)
        st = control.status()
        assert st["provider"] == "openai" and st["model"] == "gpt-4.1-mini"
        lisa = TinyPerson.load_specification(LISA)
        assert lisa.listen_and_act("Hello", return_actions=True)
        assert control.status()["llm_calls"] >= 1
        control.end()
        stats = log_stats(tmp_path / "opts" / "sim.tlog")
        assert stats["seed"] == 7 and stats["model"] == "gpt-4.1-mini"
    finally:
        control.reset()


def test_https_session_is_verified(tmp_path):
    import shutil as _sh
    if not _sh.which("openssl"):
        pytest.skip("openssl is needed to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    s = Session.start(str(tmp_path / "tls"), llm="offline", env=dict(NO_MODEL_ENV),
                      coordinator=COORDINATOR, cafile=str(cert),
                      extra_args=["--tls-cert", str(cert), "--tls-key", str(key)])
    try:
        assert s.url.startswith("https://127.0.0.1:")
        s.command("agent.create", spec=LISA)
        # a client that does not trust the certificate is refused by its own TLS check
        other = Session.connect(str(tmp_path / "tls"))
        with pytest.raises(SessionClosedError) as ei:
            other.command("status")
        assert "CERTIFICATE" in str(ei.value).upper()
        other.detach()
        trusted = Session.connect(str(tmp_path / "tls"), cafile=str(cert))
        assert trusted.command("status")["agents"] == ["Lisa Carter"]
        trusted.detach()
    finally:
        s.end()
    assert s.process.returncode == 0
