"""A session rerun on the same directory (control.begin twice on the same path) replays the
previous log: zero model calls, the same values, the same final hash — factory and extraction
included."""

import json
import os

import pytest

from conftest import log_stats, run_example

import troupe.control as control
from troupe import TinyPerson


def _run(path, script):
    control.begin(path)
    g = run_example(script)
    snapshot = {name: a.memory for name, a in sorted(TinyPerson.all_agents.items())}
    personas = {name: a.persona for name, a in sorted(TinyPerson.all_agents.items())}
    extra = g.get("results")
    st = control.status()
    end = control.end()
    return snapshot, personas, extra, st, end


@pytest.mark.parametrize("script", ["product_brainstorming.py", "interview_with_customer.py"])
def test_rerun_replays_with_zero_model_calls(backend, tmp_path, script):
    path = str(tmp_path / "sim.cache.json")  # TinyTroupe's cache-file style
    out = str(tmp_path / "sim.cache")
    first = _run(path, script)
    assert os.path.isdir(out) and os.path.exists(os.path.join(out, "sim.tlog"))
    stats1 = log_stats(os.path.join(out, "sim.tlog"))
    assert stats1["llm_calls"] > 0 and stats1["complete"]
    assert first[3]["llm_calls"] > 0 and first[3]["replay"] is False
    fake_before = backend.fake_stats()

    second = _run(path, script)
    # the previous run was moved aside and replayed
    assert os.path.exists(os.path.join(out + ".previous", "sim.tlog"))
    stats2 = log_stats(os.path.join(out, "sim.tlog"))
    assert stats2["llm_calls"] == 0, stats2
    assert second[3]["llm_calls"] == 0 and second[3]["replay"] is True
    # the same values and the same final hash
    assert second[0] == first[0]          # every agent's memory
    assert second[1] == first[1]          # every persona (factory people included)
    assert second[2] == first[2]          # the extraction's result
    assert second[4]["final_hash"] == first[4]["final_hash"] == stats1["final_hash"] \
        == stats2["final_hash"]
    assert second[4]["steps"] == first[4]["steps"]
    if fake_before is not None:           # nothing reached the model server
        assert backend.fake_stats() == fake_before
    # the factory's and the extractor's model answers came from the previous run's folders
    for folder, manifests in (("factories", ("factory.json",)),
                              ("extractions", ("extraction.json", "world-extraction.json"))):
        root = os.path.join(out, folder)
        if not os.path.isdir(root):
            continue
        for n in sorted(os.listdir(root)):
            if not n.isdigit():
                continue
            manifest = next(m for m in manifests if os.path.exists(os.path.join(root, n, m)))
            with open(os.path.join(root, n, manifest), encoding="utf-8") as f:
                llm = json.load(f)["llm"]
            with open(os.path.join(out + ".previous", folder, n, manifest), encoding="utf-8") as f:
                old = json.load(f)["llm"]
            assert llm["calls"] == 0 and llm["replayed"] == old["calls"] > 0, (folder, n, llm)
    expected = {"product_brainstorming.py": "extractions", "interview_with_customer.py": "factories"}
    assert os.path.isdir(os.path.join(out, expected[script], "0001"))


def test_replay_of_explicit_log(offline, tmp_path):
    first = _run(str(tmp_path / "a"), "simple_chat.py")
    control.begin(str(tmp_path / "b"), replay=str(tmp_path / "a" / "sim.tlog"))
    run_example("simple_chat.py")
    assert control.status()["llm_calls"] == 0
    end = control.end()
    assert end["final_hash"] == first[4]["final_hash"]


def test_third_run_replays_the_replayed_log(offline, tmp_path):
    path = str(tmp_path / "chat")
    runs = [_run(path, "simple_chat.py") for _ in range(3)]
    assert runs[0][3]["llm_calls"] > 0
    assert runs[1][3]["llm_calls"] == 0 and runs[2][3]["llm_calls"] == 0
    assert runs[0][0] == runs[1][0] == runs[2][0]
    assert runs[0][4]["final_hash"] == runs[1][4]["final_hash"] == runs[2][4]["final_hash"]
    assert sorted(os.listdir(tmp_path)) == ["chat", "chat.previous"]  # one previous run kept
