"""troupe.steering.TinyStory, troupe.enrichment (TinyEnricher, TinyStyler) and
troupe.normalizer.Normalizer: one `llm.ask` call each, recorded in the session's log and replayed
from it with zero model calls."""

import os

import pytest

from conftest import LISA, OSCAR, log_stats

import troupe.control as control
from troupe import TinyPerson, TinyWorld
from troupe.enrichment import TinyEnricher, TinyStyler
from troupe.normalizer import Normalizer
from troupe.steering import TinyStory


def _story_session(path):
    control.begin(path)
    lisa = TinyPerson.load_specification(LISA)
    oscar = TinyPerson.load_specification(OSCAR)
    world = TinyWorld("Office", [lisa, oscar])
    world.make_everyone_accessible()
    lisa.listen("Ask Oscar whether the quarterly forecast meeting can move to Friday")
    world.run(2)
    story = TinyStory(environment=world, purpose="A realistic week at a retail company.",
                      context="Two colleagues prepare a forecast review.")
    trace = story._current_story()
    start = story.start_story(number_of_words=80)
    first = story.continue_story(requirements="Something goes wrong with the data.")
    second = story.continue_story(include_plot_twist=True)
    agent_story = TinyStory(agent=lisa, first_n=2, last_n=3)
    solo = agent_story.start_story()
    calls = control.status()
    end = control.end()
    return (trace, start, first, second, story.current_story, solo), calls, end


def test_story_started_and_continued_twice_then_replayed(backend, tmp_path):
    path = str(tmp_path / "story")
    values, st, end = _story_session(path)
    trace, start, first, second, whole, solo = values
    # the prompt carries the simulation's recent interactions (the agents' memory)
    assert "quarterly forecast meeting" in trace and "Lisa Carter" in trace
    assert "Two colleagues prepare a forecast review." in trace
    for text in (start, first, second, solo):
        assert isinstance(text, str) and text.strip()
    assert whole.startswith("Two colleagues prepare a forecast review.")
    assert whole.count("## The story begins") == 1
    assert whole.count("## The story continues") == 2
    assert whole.index(start) < whole.index("## The story continues")
    assert st["llm_calls"] >= 4
    fake_before = backend.fake_stats()
    again, st2, end2 = _story_session(path)
    assert again == values
    assert st2["llm_calls"] == 0
    assert log_stats(os.path.join(path, "sim.tlog"))["llm_calls"] == 0
    assert end2["final_hash"] == end["final_hash"]
    if fake_before is not None:
        assert backend.fake_stats() == fake_before


def test_story_arguments():
    with pytest.raises(Exception):
        TinyStory()
    with pytest.raises(Exception):
        TinyStory(environment=object(), agent=object())


def _rewrite_session(path):
    control.begin(path)
    enricher = TinyEnricher(use_past_results_in_context=True)
    rich = enricher.enrich_content("Expand it into a one-page memo with concrete figures.",
                                   "Q3 forecast: sales up. Risks: weather.",
                                   content_type="Document", context_info="A grocery chain.")
    rich2 = enricher.enrich_content("Add a list of next steps.", rich, content_type="Document")
    styler = TinyStyler()
    styled = styler.apply_style("The forecast is a range, not a number.", "a pirate captain",
                                content_type="chat message")
    answers = ["I love it", "It is great", "Too expensive", "Costs too much", "Not sure",
               "I love it"]
    normalizer = Normalizer(answers, n=3)
    labels = normalizer.normalize(answers)
    single = normalizer.normalize("Costs too much")
    unseen = normalizer.normalize(["Maybe later", "Way too pricey"])
    st = control.status()
    end = control.end()
    return (rich, rich2, len(enricher.context_cache), styled, normalizer.normalized_mapping(),
            labels, single, unseen), st, end


def test_enrich_style_normalize_and_replay(offline, tmp_path):
    path = str(tmp_path / "rewrite")
    values, st, end = _rewrite_session(path)
    rich, rich2, cached, styled, mapping, labels, single, unseen = values
    # the offline model hands back the request, whose fenced block is the content: the
    # result is the answer's code block
    assert rich == "Q3 forecast: sales up. Risks: weather."
    assert rich2 == rich and cached == 2
    assert styled == "The forecast is a range, not a number."
    # at most n labels, every element mapped, duplicates collapsed deterministically
    assert 1 <= len(mapping) <= 3
    assert sum(len(v) for v in mapping.values()) == 5
    assert len(labels) == 6 and labels[0] == labels[5] and set(labels) <= set(mapping)
    assert single == labels[3]
    assert len(unseen) == 2 and set(unseen) <= set(mapping)
    assert st["llm_calls"] == 5  # enrich x2, style, normalize (group) + (apply the unseen)
    again, st2, end2 = _rewrite_session(path)
    assert again == values
    assert st2["llm_calls"] == 0
    assert log_stats(os.path.join(path, "sim.tlog"))["llm_calls"] == 0
    assert end2["final_hash"] == end["final_hash"]


def test_normalizer_parses_a_model_answer():
    class Fake:
        """A stand-in session answering `llm.ask` like a real model would."""
        def __init__(self):
            self.calls = []

        def command(self, name, **args):
            self.calls.append(args)
            if len(self.calls) == 1:
                return {"content": 'Here you go:\n```json\n{"Positive": ["I love it", '
                                   '"It is great"], "Price": ["Too expensive"]}\n```',
                        "value": None}
            return {"content": '["Price"]', "value": None}

    fake = Fake()
    n = Normalizer(["I love it", "It is great", "Too expensive"], n=2, session=fake)
    assert n.normalized_mapping() == {"Positive": ["I love it", "It is great"],
                                      "Price": ["Too expensive"]}
    assert n.normalize(["It is great", "Pricey"]) == ["Positive", "Price"]
    assert len(fake.calls) == 2 and all(c["task"] == "normalize" for c in fake.calls)
    assert "- Pricey" not in fake.calls[1]["user"] and "1. Pricey" in fake.calls[1]["user"]
