"""troupe.validation: TinyPersonValidator (an interview, then one `llm.ask` "validation" call,
replayed from the log) and the empirical validation of simulated answers against a CSV of real
ones."""

import csv
import os

import pytest

from conftest import LISA, log_stats

import troupe.control as control
from troupe import TinyPerson
from troupe.validation import (DEFAULT_QUESTIONS, SimulationExperimentDataset,
                               SimulationExperimentEmpiricalValidator, TinyPersonValidator,
                               validate_simulation_experiment_empirically)

MATCH = ("Lisa Carter is a Canadian data scientist in Toronto who builds demand forecasts "
         "with Python and SQL, likes bouldering and sourdough baking, and is sceptical of hype.")
MISMATCH = ("A retired Norwegian fisherman who hates computers, never uses spreadsheets, sails "
            "wooden boats every morning and grows potatoes on his farm.")


def _validate(path):
    control.begin(path)
    lisa = TinyPerson.load_specification(LISA)
    good = TinyPersonValidator.validate_person(lisa, expectations=MATCH)
    bad = TinyPersonValidator.validate_person(lisa, expectations=MISMATCH)
    no_spec = TinyPersonValidator.validate_person(lisa, expectations=MATCH,
                                                  include_agent_spec=False, max_rounds=1)
    default = TinyPersonValidator.validate_person(lisa, max_rounds=1)
    interviewed = sum(1 for e in lisa.memory if e["kind"] == "stimulus"
                      and e["content"] in DEFAULT_QUESTIONS)
    st = control.status()
    end = control.end()
    return (good, bad, no_spec, default, interviewed), st, end


def test_validation_mismatch_scores_lower_and_replays(backend, tmp_path):
    path = str(tmp_path / "validate")
    values, st, end = _validate(path)
    (good, bad, no_spec, default, interviewed) = values
    for score, justification in (good, bad, no_spec, default):
        assert isinstance(score, float) and 0.0 <= score <= 1.0
        assert isinstance(justification, str) and justification
    assert good[0] > bad[0]
    assert good[0] >= 0.5 and bad[0] < 0.3
    assert default[0] >= 0.5  # without expectations: the person's own specification
    assert interviewed == 3 + 3 + 1 + 1  # bounded rounds of listen_and_act
    assert st["llm_calls"] > 0
    fake_before = backend.fake_stats()
    again, st2, end2 = _validate(path)
    assert again == values
    assert st2["llm_calls"] == 0 and st2["replay"] is True
    assert log_stats(os.path.join(path, "sim.tlog"))["llm_calls"] == 0
    assert end2["final_hash"] == end["final_hash"]
    if fake_before is not None:
        assert backend.fake_stats() == fake_before


# ---------------------------------------------------------------------- empirical validation

REAL = [  # respondent, would_buy, reason, age
    ("r1", "yes", "I like saving energy and the price is fair", 34),
    ("r2", "yes", "Solar power is good for the planet", 29),
    ("r3", "no", "Too expensive for a kettle", 61),
    ("r4", "maybe", "I would need to see it boil water on a cloudy day", 45),
    ("r5", "yes", "Free energy from the sun, why not", 23),
    ("r6", "no", "My old kettle works fine", 70),
    ("r7", "yes", "Cheap to run and good for the planet", 38),
    ("r8", "maybe", "Depends on the price", 52),
    ("r9", "yes", "Saving energy matters to me", 31),
    ("r10", "no", "I do not trust solar gadgets", 66),
]


def _write_csv(path):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["respondent", "would_buy", "reason", "age"])
        w.writerows(REAL)


def _simulated(answers, reasons, name):
    return SimulationExperimentDataset(
        name=name, key_results={"would_buy": answers},
        agent_names=["Sim %d" % i for i in range(len(answers))],
        agent_justifications=[{"agent_index": i, "justification": r}
                              for i, r in enumerate(reasons)])


def test_empirical_validation_against_a_csv(tmp_path):
    csv_path = str(tmp_path / "survey.csv")
    _write_csv(csv_path)
    validator, real = SimulationExperimentEmpiricalValidator.create_from_csv(
        csv_path, value_column="would_buy", agent_id_column="respondent",
        agent_comments_column="reason", agent_attributes_columns=["age"])
    assert real.key_results["would_buy"][:3] == ["yes", "yes", "no"]
    assert real.agent_names[0] == "r1" and real.agent_attributes["age"][0] == "34"
    assert real.is_categorical_metric("would_buy")

    close = _simulated(["Yes", "yes", "no", "Maybe ", "yes", "no", "yes", "maybe", "yes", "no"],
                       ["Saving energy is good for the planet", "The sun is free energy",
                        "Too expensive", "Depends on the price", "Cheap to run",
                        "My kettle works fine", "Good for the planet", "Need to see it",
                        "Saving energy matters", "I do not trust it"], "close simulation")
    far = _simulated(["no"] * 9 + ["maybe"],
                     ["I never drink tea"] * 10, "far simulation")
    r_close = validator.validate(real, close, statistical_test_type="welch_t_test")
    r_far = validator.validate(real, far, statistical_test_type="welch_t_test")
    d_close = r_close.statistical_results["distribution_distances"]["would_buy"]
    d_far = r_far.statistical_results["distribution_distances"]["would_buy"]
    # one coding for both sides, in the answers' natural order
    assert r_close.statistical_results["category_codings"]["would_buy"] == \
        {"no": 0, "maybe": 1, "yes": 2}
    assert d_close["total_variation_distance"] == pytest.approx(0.0)
    assert d_far["total_variation_distance"] > 0.5
    assert d_far["jensen_shannon_distance"] > d_close["jensen_shannon_distance"]
    assert not d_close["chi_square"]["significant"] and d_far["chi_square"]["significant"]
    welch_far = r_far.statistical_results["test_results"]["treatment"]["would_buy"]
    assert welch_far["p_value"] < 0.05
    assert 0.0 <= r_far.overall_score < r_close.overall_score <= 1.0
    assert r_close.semantic_results["method"] == "lexical"
    assert r_close.semantic_results["average_proximity"] > r_far.semantic_results["average_proximity"]
    assert "Overall validation score" in r_close.summary

    report = validator.validate(real, far, statistical_test_type="chi_square",
                                output_format="report")
    assert report.startswith("# Empirical validation") and "would_buy" in report
    assert "Jensen-Shannon" in report

    # numbers, through the convenience function and a dict
    num = validate_simulation_experiment_empirically(
        {"name": "real", "key_results": {"score": [5, 6, 7, 6, 5, 7, 6, 5]}},
        {"name": "sim", "key_results": {"score": [6, 5, 7, 6, 6, 5, 7, 6]}},
        validation_types=["statistical"], statistical_test_type="ks_test")
    d = num.statistical_results["distribution_distances"]["score"]
    assert d["kind"] == "numeric" and d["wasserstein_distance"] < 1.0
    assert not num.statistical_results["test_results"]["treatment"]["score"]["significant"]


def test_empirical_data_from_a_dataframe_and_rankings(tmp_path):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"id": ["a", "b", "c"], "rating": [4, 5, 3],
                       "order": ["tea-coffee-water", "coffee-tea-water", "tea-water-coffee"]})
    _v, ds = SimulationExperimentEmpiricalValidator.create_from_dataframe(df, agent_id_column="id")
    assert ds.key_results["rating"] == [4, 5, 3] and ds.data_types["rating"] == "numeric"
    csv_path = str(tmp_path / "ranks.csv")
    df.to_csv(csv_path, index=False)
    ranks = SimulationExperimentEmpiricalValidator.read_empirical_data_from_csv(
        csv_path, experimental_data_type="ordinal_ranking_per_agent",
        ordinal_ranking_column="order")
    assert ranks.key_results["order_tea"] == [1, 2, 1]
    assert ranks.key_results["order_water"] == [3, 3, 2]
    with pytest.raises(FileNotFoundError):
        SimulationExperimentEmpiricalValidator.read_empirical_data_from_csv(
            str(tmp_path / "missing.csv"))
