"""TinyTroupe's API over a session: persona definitions, stimuli, worlds and clocks, social
networks, the reducer without pandas, HTML display."""

import datetime as dt
import os

import pytest

from conftest import AMARA, FRAGMENTS, LISA, OSCAR, log_stats

import troupe.control as control
import troupe.extraction as extraction
from troupe import (ResultsReducer, TinyPerson, TinySocialNetwork, TinyWorld)
from troupe.environment import iso_duration


def test_iso_durations_and_cache_paths():
    assert iso_duration(dt.timedelta(minutes=1)) == "PT1M"
    assert iso_duration(dt.timedelta(hours=1)) == "PT1H"
    assert iso_duration(dt.timedelta(days=1)) == "P1D"
    assert iso_duration(dt.timedelta(weeks=4)) == "P28D"
    assert iso_duration(dt.timedelta(days=365)) == "P365D"
    assert iso_duration(dt.timedelta(days=1, hours=2, seconds=5)) == "P1DT2H5S"
    assert iso_duration(dt.timedelta(0)) == "PT0S"
    assert iso_duration("PT10M") == "PT10M"
    assert control.cache_path_to_directory("my_sim.cache.json").endswith(os.sep + "my_sim.cache")
    assert control.cache_path_to_directory(None).endswith(os.sep + "troupe-default.cache")
    assert control.cache_path_to_directory("/x/run1") == "/x/run1"


def test_persona_definitions(offline, tmp_path):
    control.begin(str(tmp_path / "persona"))
    ida = TinyPerson("Ida Lindqvist")
    assert ida.name == "Ida Lindqvist" and TinyPerson.get_agent_by_name("Ida Lindqvist") is ida
    assert ida.get("name") == "Ida Lindqvist"
    ida.define("age", 70)
    ida.define("occupation", {"title": "Retired ferry captain", "organization": "none"})
    ida.define("occupation.description", """
        Spent forty years
        on the Baltic.""")
    assert ida.get("occupation.description") == "\nSpent forty years\non the Baltic."
    ida.define("preferences", {"likes": ["tea"]})
    ida.define("preferences", {"likes": ["the sea"], "dislikes": ["noise"]}, merge=True)
    prefs = ida.get("preferences")
    assert "the sea" in prefs["likes"] and prefs["dislikes"] == ["noise"]
    ida.include_persona_definitions({"nationality": "Swedish", "skills": ["navigation"]})
    ida["residence"] = "Visby, Sweden"
    assert ida["nationality"] == "Swedish" and ida.get("residence") == "Visby, Sweden"
    assert ida.get("no.such.key") is None
    ida + str(FRAGMENTS / "aggressive_debater.fragment.json")
    assert ida.get("behaviors.debate")
    bio = ida.minibio()
    assert "Ida Lindqvist" in bio
    spec = tmp_path / "ida.agent.json"
    ida.save_specification(str(spec))
    twin = TinyPerson.load_specification(str(spec), new_agent_name="Ida Twin")
    assert twin.get("occupation.title") == "Retired ferry captain" and twin.get("name") == "Ida Twin"
    clone = TinyPerson.load_specification({"type": "TinyPerson", "persona": {"name": "Bo", "age": 9}})
    assert clone.get("age") == 9
    with pytest.raises(FileNotFoundError):
        ida.import_fragment(str(tmp_path / "missing.fragment.json"))
    renamed = TinyPerson.load_specification(LISA)
    again = TinyPerson.load_specification(LISA, auto_rename_agent=True)
    assert renamed.name == "Lisa Carter" and again.name != "Lisa Carter"
    assert control.checkpoint()["step"] >= 0
    control.end()
    stats = log_stats(tmp_path / "persona" / "sim.tlog")
    assert stats["complete"] and stats["checkpoints"] == 1


def test_stimuli_worlds_and_clocks(offline, tmp_path):
    control.begin(str(tmp_path / "worlds"))
    lisa = TinyPerson.load_specification(LISA)
    oscar = TinyPerson.load_specification(OSCAR)
    amara = TinyPerson.load_specification(AMARA)
    world = TinyWorld("Street", [lisa, oscar], initial_datetime=dt.datetime(2026, 5, 1, 8, 0))
    assert world.current_datetime == dt.datetime(2026, 5, 1, 8, 0)
    with pytest.raises(ValueError):
        TinyWorld("Street")
    world.make_everyone_accessible()
    lisa.see("A bicycle chained to a lamp post", source=oscar)
    lisa.socialize("Oscar waves from across the street", source=oscar)
    lisa.think("I should ask Oscar about the bicycle")
    lisa.internalize_goal("Find out whose bicycle it is")
    lisa.move_to("Corner of Elm Street", context=["morning", "sunny"])
    lisa.change_context(["morning", "windy"])
    # stimuli are delivered (and remembered) at the agent's next turn
    steps = world.run(2, timedelta_per_step=dt.timedelta(minutes=10), return_actions=True)
    types = [(e["type"], e["source"]) for e in lisa.memory if e["kind"] == "stimulus"]
    assert ("VISUAL", "Oscar Ramos") in types and ("SOCIAL", "Oscar Ramos") in types
    assert "THOUGHT" in [t for t, _ in types] and "INTERNAL_GOAL_FORMULATION" in [t for t, _ in types]
    assert len(steps) == 2 and set(steps[0]) == {"Lisa Carter", "Oscar Ramos"}
    first = steps[0]["Lisa Carter"]
    assert first and all(set(x) == {"action", "cognitive_state"} for x in first)
    assert first[-1]["action"]["type"] == "DONE"
    assert world.current_datetime == dt.datetime(2026, 5, 1, 8, 20)
    world.skip(3, dt.timedelta(hours=1))
    assert world.current_datetime == dt.datetime(2026, 5, 1, 11, 20)
    world.skip_days(1)
    world.skip_weeks(1)
    world.skip_months(1)   # 4 weeks
    world.skip_years(1)    # 365 days
    expected = dt.datetime(2026, 5, 1, 11, 20) + dt.timedelta(days=1 + 7 + 28 + 365)
    assert world.current_datetime == expected
    world.run_hours(1)
    assert world.current_datetime == expected + dt.timedelta(hours=1)
    world.run_minutes(2)
    assert world.current_datetime == expected + dt.timedelta(hours=1, minutes=2)
    assert lisa.pop_latest_actions()  # the world's steps fill the agent's action buffer
    assert lisa.pop_latest_actions() == []

    # broadcasts reach everyone in the world (but not the source), and nobody outside it
    amara_before = amara.memory
    world.broadcast("The market opens in five minutes", source=oscar)
    world.broadcast_thought("It smells of fresh bread")
    world.broadcast_internal_goal("Buy something for lunch")
    world.broadcast_context_change(["market day"])
    world.run(1)
    last = lambda a, t: [e for e in a.memory if e["kind"] == "stimulus" and e["type"] == t]
    assert last(lisa, "CONVERSATION")[-1]["content"] == "The market opens in five minutes"
    assert not any(e["content"] == "The market opens in five minutes" for e in last(oscar, "CONVERSATION"))
    assert last(oscar, "THOUGHT")[-1]["content"] == "It smells of fresh bread"
    assert amara.memory == amara_before

    world.add_agent(amara)
    assert world.get_agent_by_name("Amara Okafor") is amara
    world.remove_agent(amara)
    assert world.get_agent_by_name("Amara Okafor") is None
    state = lisa.cognitive_state
    assert set(state) >= {"goals", "context", "attention", "emotions"}
    control.end()


def test_social_network(offline, tmp_path):
    control.begin(str(tmp_path / "network"))
    lisa = TinyPerson.load_specification(LISA)
    oscar = TinyPerson.load_specification(OSCAR)
    amara = TinyPerson.load_specification(AMARA)
    net = TinySocialNetwork("Neighbourhood")
    net.add_relation(lisa, oscar, "neighbours")
    net.add_relation(oscar, amara, "school")
    assert [a.name for a in net.agents] == ["Lisa Carter", "Oscar Ramos", "Amara Okafor"]
    assert net.is_in_relation_with(lisa, oscar) and not net.is_in_relation_with(lisa, amara)
    lisa.listen("Say hello to your neighbour")
    steps = net.run(1, return_actions=True)
    assert set(steps[0]) == {"Lisa Carter", "Oscar Ramos", "Amara Okafor"}
    st = control.status()
    assert st["worlds"][0]["name"] == "Neighbourhood"
    control.end()


def test_reducer_without_pandas_and_html(offline, tmp_path, monkeypatch):
    control.begin(str(tmp_path / "reduce"))
    lisa = TinyPerson.load_specification(LISA)
    oscar = TinyPerson.load_specification(OSCAR)
    lisa.make_agent_accessible(oscar)
    evil = "<script>alert('x')</script> & <b>bold</b>"
    lisa.listen_and_act(evil)
    reducer = ResultsReducer()
    seen = []

    def on_talk(focus_agent, source_agent, target_agent, kind, event, content, timestamp):
        seen.append((kind, event))
        return {"who": focus_agent.name, "what": content}

    def on_conversation(**kw):
        assert kw["kind"] == "stimulus" and kw["target_agent"] is lisa
        return (kw["event"], kw["content"])

    reducer.add_reduction_rule("TALK", on_talk)
    reducer.add_reduction_rule("CONVERSATION", on_conversation)
    with pytest.raises(Exception):
        reducer.add_reduction_rule("TALK", on_talk)
    rows = reducer.reduce_agent(lisa)
    assert ("CONVERSATION", evil) in rows
    monkeypatch.setattr(extraction, "_pd", None)
    table = reducer.reduce_agent_to_dataframe(lisa, column_names=["a", "b"])
    assert isinstance(table, list) and {"a": "CONVERSATION", "b": evil} in table
    view = lisa.episodic_memory.retrieve_all()
    assert view[0]["role"] == "user" and view[0]["content"]["stimuli"][0]["content"] == evil
    assert any(i["type"] == "action" for i in view)

    page = lisa._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page and "<b>bold</b>" not in page
    world = TinyWorld("Room <1>", [lisa, oscar])
    wpage = world._repr_html_()
    assert "Room &lt;1&gt;" in wpage and "<script>" not in wpage
    from troupe.display import conversation_html
    assert "<script>" not in conversation_html(evil) and "&lt;script&gt;" in conversation_html(evil)
    text = lisa.pretty_current_interactions()
    assert "USER --> Lisa Carter: [CONVERSATION]" in text and "Lisa Carter" in text
    assert lisa.pretty_current_interactions(first_n=1, last_n=1).count("Event #") == 2
    control.end()


def test_extraction_factory_and_combined_stimuli(backend, tmp_path):
    from troupe import ResultsExtractor, TinyPersonFactory
    control.begin(str(tmp_path / "extract"))
    factory = TinyPersonFactory(context="Night-shift nurses in Lyon, France")
    people = factory.generate_people(2)
    assert len(people) == 2 and len({p.name for p in people}) == 2
    for p in people:
        assert TinyPerson.get_agent_by_name(p.name) is p and p.get("occupation")
    one = factory.generate_person("Recently moved from Marseille")
    assert one.name not in {p.name for p in people}
    a, b = people
    world = TinyWorld("Break room", [a, b, one])
    world.make_everyone_accessible()
    world.broadcast("The coffee machine is broken again. What should we do?")
    world.run(2)
    acts = a.think_and_act("I could fix the machine myself", return_actions=True)
    assert acts and acts[-1]["action"]["type"] == "DONE"
    acts = b.see_and_act("A technician walks in with a toolbox", return_actions=True)
    assert acts and acts[-1]["action"]["type"] == "DONE"
    kinds = [(e["kind"], e["type"]) for e in b.memory]
    assert ("stimulus", "VISUAL") in kinds

    extractor = ResultsExtractor()
    res = extractor.extract_results_from_agents([a, b], extraction_objective="Their opinion of the broken machine",
                                                fields=["opinion", "would_fix"])
    assert len(res) == 2
    for r in res:
        assert isinstance(r, dict) and set(r) >= {"opinion", "would_fix"}
    assert set(extractor.agent_extraction) == {a.name, b.name}  # only the agents asked for
    w = extractor.extract_results_from_world(world, extraction_objective="What the group agreed on")
    assert isinstance(w, dict) and w
    assert extractor.world_extraction["Break room"] == w
    out = tmp_path / "results.json"
    extractor.save_as_json(str(out))
    import json
    saved = json.loads(out.read_text())
    assert set(saved) == {"agent_extractions", "world_extraction"}
    assert (tmp_path / "extract" / "extractions" / "0001" / "extraction.json").exists()
    assert (tmp_path / "extract" / "extractions" / "0002" / "world-extraction.json").exists()
    control.end()


def test_merge_definitions_follow_tinytroupe(offline):
    """include_persona_definitions and define(merge=True) merge as TinyTroupe's merge_dicts
    (done by the coordinator): lists joined without repeats, objects key by key, a None taking
    the new value, a conflicting value refused and nothing changed."""
    a = TinyPerson("Merge Probe")
    a.define("age", None)
    a.define("beliefs", ["x", "y"])
    a.define("preferences", {"likes": ["tea"], "dislikes": ["noise"]})
    a.include_persona_definitions({"age": 30, "beliefs": ["y", "z"],
                                   "preferences": {"likes": ["the sea"], "interests": ["maps"]}})
    assert a.get("age") == 30 and a.get("beliefs") == ["x", "y", "z"]
    assert a.get("preferences") == {"likes": ["tea", "the sea"], "dislikes": ["noise"],
                                    "interests": ["maps"]}
    a.define("preferences", {"likes": ["maps"]}, merge=True)
    assert a.get("preferences.likes") == ["tea", "the sea", "maps"]
    with pytest.raises(ValueError):
        a.include_persona_definitions({"age": 31})
    with pytest.raises(ValueError):
        a.include_persona_definitions({"beliefs": "x"})
    assert a.get("age") == 30 and a.get("beliefs") == ["x", "y", "z"]  # nothing changed


def _proposition_session(path):
    from troupe.experimentation import Proposition, check_proposition, compute_score
    control.begin(path)
    lisa = TinyPerson.load_specification(LISA)
    oscar = TinyPerson.load_specification(OSCAR)
    world = TinyWorld("Lobby", [lisa, oscar])
    world.make_everyone_accessible()
    lisa.listen("Tell Oscar what you do with data")
    world.run(2)
    p = Proposition("{{who}} talks about data", target=lisa, last_n=10)
    full = p.check(claim_variables={"who": "Lisa Carter"}, return_full_response=True)
    values = {
        "check": full["value"],
        "justification": full["justification"],
        "score": p.score(),
        "world": Proposition("The conversation is friendly", target=world).score(),
        "everyone": check_proposition(None, "Someone mentions their work"),
        "both": compute_score([lisa, oscar], "They talk to each other"),
        "pre": Proposition("Anything", target=lisa,
                           precondition_function=lambda target, additional_context,
                           claim_variables: False).check(),
    }
    st = control.status()
    end = control.end()
    return values, st, end


def test_propositions_and_their_replay(backend, tmp_path):
    path = str(tmp_path / "props")
    values, st, end = _proposition_session(path)
    assert isinstance(values["check"], bool) and values["justification"]
    for k in ("score", "world", "both"):
        assert isinstance(values[k], int) and 0 <= values[k] <= 9, (k, values[k])
    assert isinstance(values["everyone"], bool)
    assert values["pre"] is True  # a precondition that fails makes the proposition hold
    assert st["llm_calls"] > 0
    again, st2, end2 = _proposition_session(path)
    assert again == values
    assert st2["llm_calls"] == 0 and end2["final_hash"] == end["final_hash"]
