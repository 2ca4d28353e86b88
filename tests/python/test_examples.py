"""The four ported TinyTroupe notebooks (examples/python/*.py), end to end, against the offline
model and against fakellm."""

from conftest import AMARA, run_example

import troupe
import troupe.control as control
from troupe import TinyPerson


def _types(memory, kind):
    return [e["type"] for e in memory if e["kind"] == kind]


def test_simple_chat(backend, tmp_path, capsys):
    control.begin(str(tmp_path / "chat"))
    g = run_example("simple_chat.py")
    lisa, oscar, world = g["lisa"], g["oscar"], g["world"]
    assert world.name == "Chat Room"
    assert [a.name for a in world.agents] == ["Lisa Carter", "Oscar Ramos"]
    st = control.status()
    assert st["agents"] == ["Lisa Carter", "Oscar Ramos"]
    (w,) = st["worlds"]
    assert w["name"] == "Chat Room" and w["agents"] == ["Lisa Carter", "Oscar Ramos"]
    assert st["step"] == 4
    for agent in (lisa, oscar):
        mem = agent.memory
        assert "INTERNAL_GOAL_FORMULATION" in _types(mem, "stimulus")
        acts = _types(mem, "action")
        assert acts.count("DONE") >= 4, acts  # one turn per world step
        assert "TALK" in acts
    heard = [e for e in lisa.memory if e["kind"] == "stimulus" and e["type"] == "CONVERSATION"]
    assert any("Oscar" in (e["content"] or "") for e in heard)
    # the two talked to each other
    assert any(e["kind"] == "action" and e["type"] == "TALK" and e["target"] == "Oscar Ramos"
               for e in lisa.memory) or \
        any(e["kind"] == "stimulus" and e["source"] == "Lisa Carter" for e in oscar.memory)
    out = capsys.readouterr().out
    assert "Lisa Carter" in out and "Oscar Ramos" in out and "[TALK]" in out
    res = control.end()
    assert len(res["final_hash"]) == 64


def test_interview_with_customer(backend, tmp_path):
    control.begin(str(tmp_path / "interview"))
    bystander = TinyPerson.load_specification(AMARA)
    before = bystander.memory
    step_before = control.status()["step"]
    g = run_example("interview_with_customer.py")
    customer = g["customer"]
    assert customer.name in TinyPerson.all_agents and customer.name != "Amara Okafor"
    assert customer.get("occupation") is not None
    mem = customer.memory
    questions = [e for e in mem if e["kind"] == "stimulus" and e["type"] == "CONVERSATION"]
    assert len(questions) == 4
    assert "THOUGHT" in _types(mem, "stimulus")
    # every question was answered in a turn of the customer's own
    for q in questions:
        assert any(e["kind"] == "action" and e["step"] == q["step"] for e in mem), q
    assert _types(mem, "action").count("DONE") >= 4
    # only that agent acted: the other agent's memory did not grow
    assert bystander.memory == before
    st = control.status()
    assert st["step"] == step_before + 4
    assert st["worlds"] == []
    # the factory's folder is inside the session directory; it used the session's model
    import json
    manifest = json.loads((tmp_path / "interview" / "factories" / "0001" / "factory.json").read_text())
    assert manifest["provider"] == st["provider"] == ("offline" if backend.name == "offline" else "openai")
    assert manifest["llm"]["calls"] > 0
    control.end()


def test_product_brainstorming(backend, tmp_path):
    control.begin(str(tmp_path / "brainstorm"))
    g = run_example("product_brainstorming.py")
    world, rapporteur = g["world"], g["rapporteur"]
    assert rapporteur.name == "Lisa Carter"
    st = control.status()
    (w,) = st["worlds"]
    assert w["name"] == "Focus group"
    assert st["step"] == 8  # 7 world steps and the rapporteur's own turn
    for agent in world.agents:
        broadcasts = [e for e in agent.memory if e["kind"] == "stimulus"
                      and e["type"] == "CONVERSATION" and "word processor" in (e["content"] or "")]
        assert len(broadcasts) >= 2, agent.name
    # the rapporteur's last turn is its own, after the world's 7 steps
    last = rapporteur.memory[-1]
    assert last["kind"] == "action" and last["step"] > max(
        e["step"] for a in world.agents if a is not rapporteur for e in a.memory)
    # ResultsExtractor: a JSON object for the rapporteur
    results = g["results"]
    assert isinstance(results, dict) and results
    assert g["extractor"].agent_extraction["Lisa Carter"] == results
    import json
    extraction = json.loads((tmp_path / "brainstorm" / "extractions" / "0001" / "extraction.json").read_text())
    assert extraction["provider"] == st["provider"] and extraction["llm"]["calls"] > 0
    out = tmp_path / "extraction.json"
    g["extractor"].save_as_json(str(out))
    assert out.exists()
    # ResultsReducer with Python rules: one row per TALK action or CONVERSATION heard
    communications = g["communications"]
    for agent in world.agents:
        df = communications[agent.name]
        mem = agent.memory
        expected = [e for e in mem if (e["kind"], e["type"]) in
                    (("action", "TALK"), ("stimulus", "CONVERSATION"))]
        assert len(df) == len(expected) >= 3, agent.name  # at least the three broadcasts
        rows = df.to_dict("records") if hasattr(df, "to_dict") else df
        assert set(rows[0]) == {"event", "from", "to", "content"}
        assert [r["content"] for r in rows] == [e["content"] for e in expected]
        for r, e in zip(rows, expected):
            if e["kind"] == "action":
                assert r["event"] == "TALK" and r["from"] == agent.name
            else:
                assert r["event"] == "CONVERSATION" and r["to"] == agent.name
    control.end()


def test_political_compass(backend, tmp_path):
    control.begin(str(tmp_path / "compass"))
    g = run_example("political_compass.py")
    names = ["Oscar L.L.", "Friedrich R.L.", "Joseph L.A.", "Matias R.A."]
    agents = [g["oscar"], g["friedrich"], g["joseph"], g["matias"]]
    assert [a.name for a in agents] == names
    assert control.status()["agents"] == names
    left = "A decent home is a right, not a product."
    right = "Private property is the foundation of a free and prosperous society."
    libertarian = "The state should interfere as little as possible in private decisions."
    authoritarian = "A government must be strong enough to make everyone follow the rules."
    expect = {"Oscar L.L.": (left, libertarian), "Friedrich R.L.": (right, libertarian),
              "Joseph L.A.": (left, authoritarian), "Matias R.A.": (right, authoritarian)}
    for a in agents:
        p = a.persona
        assert p["name"] == a.name
        assert a.get("occupation.title") == "Architect"  # the same spec, four times
        beliefs = a.get("beliefs")
        for b in expect[a.name]:
            assert b in beliefs, (a.name, b)
        others = {left, right, libertarian, authoritarian} - set(expect[a.name])
        assert not others & set(beliefs), a.name
        # deep merge: the spec's own beliefs stay, the debater fragment adds a new key
        assert "Repairing is almost always better than replacing" in beliefs
        assert a.get("behaviors.debate")
        assert a.get("behaviors.general")
    st = control.status()
    assert st["worlds"][0]["name"] == "Chat Room"
    assert st["step"] == 6  # 5 world steps and Matias's own turn
    matias = g["matias"]
    assert matias.memory[-1]["kind"] == "action"
    control.end()
