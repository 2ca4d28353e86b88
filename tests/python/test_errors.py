"""Bad commands get a clear error (a Python exception carrying the server's message) and the
session goes on."""

import json

import pytest

from conftest import LISA, OSCAR

import troupe.control as control
from troupe import (BadRequestError, NameConflictError, TinyPerson, TinyWorld,
                    UnauthorisedError, UnknownAgentError, UnknownWorldError)


def test_bad_commands_and_the_session_goes_on(offline, tmp_path):
    s = control.begin(str(tmp_path / "errors"))
    lisa = TinyPerson.load_specification(LISA)

    # unknown agent: a KeyError/ValueError-like exception naming the agent
    with pytest.raises(UnknownAgentError) as ei:
        s.command("agent.act", agent="Nobody Here")
    assert isinstance(ei.value, KeyError) and isinstance(ei.value, ValueError)
    assert "Nobody Here" in str(ei.value) and ei.value.status == 404
    with pytest.raises(KeyError):
        s.command("agent.persona", agent="lisa carter")  # names are exact
    with pytest.raises(UnknownWorldError):
        s.command("world.run", world="Nowhere", steps=1)

    # bad key paths
    with pytest.raises(BadRequestError) as ei:
        lisa.define("occupation..title", "Chef")
    assert isinstance(ei.value, ValueError) and "occupation..title" in str(ei.value)
    with pytest.raises(ValueError) as ei:
        lisa.define("age.years", 3)  # age holds a number, not an object
    assert "age" in str(ei.value)
    with pytest.raises(ValueError):
        lisa.define("name", "Someone Else")
    # overwrite_scalars=False keeps an existing value (TinyTroupe's ValueError)
    with pytest.raises(ValueError):
        lisa.define("age", 40, overwrite_scalars=False)
    assert lisa.get("age") == 31

    # missing or ill-typed arguments
    with pytest.raises(BadRequestError):
        s.command("agent.stimulus", agent="Lisa Carter")
    with pytest.raises(BadRequestError):
        s.command("world.create", name=42)
    with pytest.raises(BadRequestError):
        s.command("agent.fly", agent="Lisa Carter")

    # a name already taken: 409 from the server, ValueError for a TinyTroupe user
    with pytest.raises(NameConflictError) as ei:
        s.command("agent.create", spec=LISA)
    assert isinstance(ei.value, ValueError) and ei.value.status == 409
    with pytest.raises(ValueError):
        TinyPerson.load_specification(LISA)

    # malformed messages sent raw
    status, body, text = s.raw_request(b'{"command": "status"')
    assert status == 400, text
    assert body["ok"] is False and body["code"] == "bad_request" and body["error"]
    status, body, _ = s.raw_request(b'["status"]')
    assert status == 400 and body["code"] == "bad_request"
    status, body, _ = s.raw_request(b"\xff\xfe not json at all")
    assert status == 400 and body["code"] == "bad_request"
    status, body, _ = s.raw_request(json.dumps({"command": "agent.act"}))
    assert status == 400 and "agent" in body["error"]

    # wrong token, no token: 401, and the command is not run
    status, body, _ = s.raw_request(json.dumps({"command": "agent.stimulus", "agent": "Lisa Carter",
                                                "type": "THOUGHT", "content": "intruder"}),
                                    token="0" * 64)
    assert status == 401 and body["code"] == "unauthorised"
    status, body, _ = s.raw_request(json.dumps({"command": "status"}), token="")
    assert status == 401
    assert not any("intruder" in (e["content"] or "") for e in lisa.memory)
    from troupe.session import Session
    intruder = Session(s.url, "f" * 64)
    with pytest.raises(UnauthorisedError):
        intruder.command("status")
    intruder.detach()

    # a wrong method
    status, body, _ = s.raw_request(None, method="GET")
    assert status == 405 and body["ok"] is False and body["code"] == "method"
    # a body over 16 MiB
    status, body, _ = s.raw_request(b'{"command": "status", "pad": "' + b"x" * (16 * 1024 * 1024)
                                    + b'"}')
    assert status == 413 and body["code"] == "too_large"
    from troupe import TooLargeError
    with pytest.raises(TooLargeError):
        lisa.think("y" * (16 * 1024 * 1024 + 1))

    # the session goes on
    oscar = TinyPerson.load_specification(OSCAR)
    world = TinyWorld("Kitchen", [lisa, oscar])
    world.make_everyone_accessible()
    actions = lisa.listen_and_act("Are you still with us?", return_actions=True)
    assert actions and actions[-1]["action"]["type"] == "DONE"
    steps = world.run(1, return_actions=True)
    assert set(steps[0]) == {"Lisa Carter", "Oscar Ramos"}
    st = control.status()
    assert st["agents"] == ["Lisa Carter", "Oscar Ramos"]
    assert lisa.get("age") == 31
    end = control.end()
    assert len(end["final_hash"]) == 64
