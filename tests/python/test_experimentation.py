"""troupe's experimentation tools: ABRandomizer, StatisticalTester (on SciPy),
InPlaceExperimentRunner, Proposition across sessions, interventions, and a whole A/B experiment
over the offline model, replayed from its log with zero model calls."""

import json
import os
import re
import runpy
import subprocess
import sys

import pytest

from conftest import EXAMPLES, LISA, OSCAR, log_stats

import troupe.control as control
from troupe import TinyPerson, TinyWorld
from troupe.experimentation import Proposition
from troupe.in_place_experiment_runner import InPlaceExperimentRunner
from troupe.randomization import ABRandomizer
from troupe.statistical_tests import StatisticalTester, cohen_d


def _twice(path, fn):
    """fn() in a session at `path`, then again in a rerun of it (which replays the first
    run's log); both results, and the status and log stats of the rerun."""
    out = []
    for _ in range(2):
        control.begin(path)
        value = fn()
        st = control.status()
        end = control.end()
        out.append((value, st, end, log_stats(os.path.join(path, "sim.tlog"))))
    (v1, st1, end1, _l1), (v2, st2, end2, l2) = out
    assert v1 == v2
    assert st1["llm_calls"] > 0
    assert st2["llm_calls"] == 0 and st2["replay"] is True
    assert l2["llm_calls"] == 0, l2
    assert end1["final_hash"] == end2["final_hash"]
    return v1


# ---------------------------------------------------------------------- ABRandomizer

def test_ab_randomizer_round_trip_and_seed():
    r = ABRandomizer(passtrough_name=["neither"], random_seed=42)
    orders = [r.randomize(i, "control answer", "treatment answer") for i in range(40)]
    # unlike TinyTroupe's (always the same order), the order varies between items
    assert {o[0] for o in orders} == {"control answer", "treatment answer"}
    for i, (first, second) in enumerate(orders):
        assert r.derandomize(i, first, second) == ("control answer", "treatment answer")
        real_a = r.derandomize_name(i, "A")
        assert real_a == ("control" if first == "control answer" else "treatment")
        assert {real_a, r.derandomize_name(i, "B")} == {"control", "treatment"}
        assert r.derandomize_name(i, "neither") == "neither"
    with pytest.raises(Exception):
        r.derandomize_name(0, "C")
    with pytest.raises(Exception):
        r.derandomize(999, "a", "b")
    # the same seed gives the same choices, whatever the order of the items
    r2 = ABRandomizer(random_seed=42)
    for i in reversed(range(40)):
        r2.randomize(i, "control answer", "treatment answer")
    assert r2.choices == r.choices
    assert ABRandomizer(random_seed=7).assign(range(11)) == ABRandomizer(random_seed=7).assign(range(11))


def test_ab_randomizer_assignment_is_balanced_and_seeded():
    items = ["p%d" % i for i in range(15)]
    g = ABRandomizer(random_seed=3).assign(items)
    assert sorted(g["control"] + g["treatment"]) == sorted(items)
    assert abs(len(g["control"]) - len(g["treatment"])) <= 1
    assert g != ABRandomizer(random_seed=4).assign(items)
    loose = ABRandomizer(random_seed=3).assign(items, balanced=False, key=str)
    assert sorted(loose["control"] + loose["treatment"]) == sorted(items)


# ---------------------------------------------------------------------- StatisticalTester

def _samples(shift, seed, n=30):
    import random
    rng = random.Random(seed)
    return [rng.gauss(5.0, 1.0) for _ in range(n)], [rng.gauss(5.0 + shift, 1.5) for _ in range(n)]


def test_statistical_tester_matches_scipy_and_finds_a_planted_difference():
    from scipy import stats
    c, t = _samples(1.5, seed=1)
    tester = StatisticalTester({"control": {"m": c}}, {"treatment": {"m": t}})
    welch = tester.run_test("welch_t_test")["treatment"]["m"]
    assert welch["p_value"] == pytest.approx(stats.ttest_ind(c, t, equal_var=False).pvalue)
    assert welch["significant"] and welch["p_value"] < 0.05
    assert welch["effect_size"] == pytest.approx(cohen_d(c, t)) and welch["effect_size"] > 0.8
    lo, hi = welch["confidence_interval"]
    assert lo < welch["mean_difference"] < hi
    student = tester.run_test("t_test")["treatment"]["m"]
    assert student["p_value"] == pytest.approx(stats.ttest_ind(c, t).pvalue)
    mw = tester.run_test("mann_whitney")["treatment"]["m"]
    assert mw["p_value"] == pytest.approx(
        stats.mannwhitneyu(c, t, alternative="two-sided").pvalue)
    assert mw["significant"] and mw["effect_size"] > 0.7  # P(treatment > control)
    ks = tester.run_test("ks_test")["treatment"]["m"]
    assert ks["p_value"] == pytest.approx(stats.ks_2samp(c, t).pvalue) and ks["significant"]
    anova = tester.run_test("anova")["treatment"]["m"]
    assert anova["p_value"] == pytest.approx(stats.f_oneway(c, t).pvalue)
    json.dumps(tester.run_test("ks_test"))  # plain values only
    checks = tester.check_assumptions("m")["treatment"]
    assert checks["recommended_test"] in ("t_test", "welch_t_test", "mann_whitney")


def test_statistical_tester_null_experiment_finds_nothing():
    c, t = _samples(0.0, seed=11)
    tester = StatisticalTester({"m": c}, {"m": t})  # the flat form works too
    for kind in ("welch_t_test", "mann_whitney", "ks_test"):
        r = tester.run_test(kind)["treatment"]["m"]
        assert r["p_value"] > 0.05 and not r["significant"], (kind, r["p_value"])
    # constant groups: no NaN
    same = StatisticalTester({"m": [3, 3, 3]}, {"m": [3, 3, 3]}).run_test()["treatment"]["m"]
    assert same["p_value"] == 1.0 and not same["significant"]


def test_chi_square_on_counts_and_on_labels():
    from scipy import stats
    counts = StatisticalTester({"c": {"votes": [30, 10]}},
                               {"t": {"votes": [12, 28]}}).run_test("chi_square")["t"]["votes"]
    assert counts["p_value"] == pytest.approx(
        stats.chi2_contingency([[30, 10], [12, 28]])[1])
    assert counts["significant"] and 0 < counts["effect_size"] <= 1
    labels = StatisticalTester({"c": {"a": ["yes"] * 30 + ["no"] * 10}},
                               {"t": {"a": ["yes"] * 12 + ["no"] * 28}}).run_test(
        "chi_square")["t"]["a"]
    assert labels["p_value"] == pytest.approx(counts["p_value"])
    assert labels["categories"] == ["no", "yes"]


def test_statistical_tester_input_errors():
    with pytest.raises(ValueError):
        StatisticalTester({"a": {"m": [1]}, "b": {"m": [2]}}, {"t": {"m": [1]}})
    with pytest.raises(ValueError):
        StatisticalTester({"c": {"m": [1, 2]}}, {"t": {"m": [1, 2]}}).run_test("magic")
    with pytest.raises(TypeError):
        StatisticalTester({"c": {"m": 1}}, {"t": {"m": [1]}})


def test_missing_scipy_is_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.stats", None)
    with pytest.raises(ImportError) as e:
        StatisticalTester({"m": [1, 2, 3]}, {"m": [2, 3, 4]})
    assert "scipy" in str(e.value).lower() and "install" in str(e.value)


# ---------------------------------------------------------------------- InPlaceExperimentRunner

def test_in_place_experiment_runner(tmp_path):
    cfg = str(tmp_path / "experiment_config.json")
    c, t = _samples(2.0, seed=5, n=20)
    data = {"control": c, "treatment": t}
    runs = 0
    while True:  # one "notebook run" per iteration, as TinyTroupe's users do
        runner = InPlaceExperimentRunner(cfg)
        runner.add_experiment("control")
        runner.add_experiment("treatment")
        if runner.has_finished_all_experiments():
            break
        runner.activate_next_experiment()
        active = runner.get_active_experiment()
        runner.add_experiment_results({"score": data[active][:10]})
        runner.add_experiment_results({"score": data[active][10:]})  # merged: lists extended
        runner.finish_active_experiment()
        runs += 1
        assert runs <= 2
    assert runs == 2
    assert runner.get_experiment_results("treatment")["score"] == t
    res = runner.run_statistical_tests("control")
    assert res["treatment"]["score"]["significant"]
    with open(cfg, encoding="utf-8") as f:
        saved = json.load(f)
    assert saved["experiments"]["control"]["statistical_test_results_vs_others"] == \
        json.loads(json.dumps(res))
    assert saved["finished_all_experiments"] is True
    runner.fix_active_experiment("control")
    assert runner.get_active_experiment() == "control"
    with pytest.raises(ValueError):
        runner.fix_active_experiment("nope")


# ---------------------------------------------------------------------- propositions

def _told(topic):
    def fn():
        lisa = TinyPerson.load_specification(LISA)
        lisa.listen_and_act(topic)
        p = Proposition("Lisa Carter heard that the kettle is solar powered and boils water "
                        "with sunshine", target=lisa)
        return p.check(), p.score(), bool(p.justification)
    return fn


def test_a_proposition_true_of_one_session_and_false_of_another(offline, tmp_path):
    yes = _twice(str(tmp_path / "told"), _told(
        "The new kettle is solar powered: sunshine boils the water for free."))
    no = _twice(str(tmp_path / "not_told"), _told("It is going to rain in Toronto tomorrow."))
    assert yes[0] is True and no[0] is False
    assert yes[1] > no[1]
    assert yes[2] and no[2]


# ---------------------------------------------------------------------- interventions

def test_a_check_while_agents_start_runs_no_step(tmp_path):
    """An intervention's precondition is checked as soon as a world is made, while its agents'
    agentds are still starting. When they were placed during that model call, the session
    started a step of its own: the next world.run found its agents busy and waited for
    them for good (and a rerun could not replay the run). The call takes 2 s here (fakellm),
    so the placing always ends inside it."""
    from conftest import FAKELLM, _read_port, _use
    fake = subprocess.Popen([FAKELLM, "--port", "0", "--latency-ms", "2000", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    try:
        _use("fakellm", _read_port(fake))
        out = tmp_path / "checked"
        control.begin(str(out))
        lisa = TinyPerson.load_specification(LISA)
        oscar = TinyPerson.load_specification(OSCAR)
        world = TinyWorld("Cafe", [lisa, oscar])
        assert Proposition("Lisa Carter is at the cafe", target=world).check() in (True, False)
        assert control.status()["step"] == 0  # a check runs no step
        world.run(1)
        assert control.status()["step"] == 1
        control.end()
        assert log_stats(out / "sim.tlog")["steps"] == 1
    finally:
        control.reset()
        fake.terminate()
        fake.wait()

def test_interventions_between_single_steps(offline, tmp_path):
    from troupe.steering import Intervention

    def fn():
        lisa = TinyPerson.load_specification(LISA)
        oscar = TinyPerson.load_specification(OSCAR)
        world = TinyWorld("Cafe", [lisa, oscar])
        world.make_everyone_accessible()
        lisa.listen("Tell Oscar about your weekend plans")
        applied = []
        nudge = Intervention(world, name="nudge") \
            .set_textual_precondition("Lisa Carter talks about weekend plans") \
            .set_functional_precondition(lambda targets: not applied) \
            .set_effect(lambda targets: (applied.append(True),
                                         targets.broadcast("The cafe is closing in ten minutes.")))
        never = Intervention.create_for_each([lisa, oscar]) \
            .set_propositional_precondition(Proposition("Someone mentions a volcano"), threshold=0) \
            .set_effect(lambda targets: applied.append("never"))
        # as a TinyTroupe world runs them: checked before each of its steps
        world.add_intervention(nudge)
        world.add_intervention(never)
        world.run(3)
        heard = [e["content"] for e in oscar.memory if e["kind"] == "stimulus"]
        return applied, "The cafe is closing in ten minutes." in heard, \
            nudge.precondition_justification() != ""

    applied, heard, justified = _twice(str(tmp_path / "steered"), fn)
    assert applied == [True] and heard and justified


# ---------------------------------------------------------------------- the A/B experiment

def _experiment_module():
    return runpy.run_path(str(EXAMPLES / "ab_experiment.py"), run_name="ab_experiment")


def test_ab_experiment_finds_the_planted_difference_and_replays(offline, tmp_path):
    ab = _experiment_module()
    result = _twice(str(tmp_path / "planted"), lambda: ab["run_experiment"](planted=True))
    assert result["welch"]["p_value"] < 0.05 and result["welch"]["significant"]
    assert result["mann_whitney"]["p_value"] < 0.05
    assert result["welch"]["treatment_mean"] > result["welch"]["control_mean"]
    assert "differs" in ab["verdict"](result)
    assert len(result["groups"]["control"]) == len(result["groups"]["treatment"]) == 8


def test_null_ab_experiment_finds_nothing(offline, tmp_path):
    ab = _experiment_module()
    control.begin(str(tmp_path / "null"))
    result = ab["run_experiment"](planted=False)
    control.end()
    assert result["welch"]["p_value"] > 0.05 and not result["welch"]["significant"]
    assert result["mann_whitney"]["p_value"] > 0.05
    assert "No significant difference" in ab["verdict"](result)


def test_ab_experiment_script_runs_end_to_end(offline, tmp_path):
    """The example as a script (the offline model: no key, no base URL), run twice: the second
    run replays the first with zero model calls."""
    import subprocess
    env = dict(os.environ)
    env["TROUPE_COORDINATOR"] = control.default_options["coordinator"]
    for k in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_KEY",
              "AZURE_OPENAI_API_KEY"):
        env.pop(k, None)
    out = tmp_path / "script"
    texts = []
    for _ in range(2):
        p = subprocess.run([sys.executable, str(EXAMPLES / "ab_experiment.py"), str(out)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=600)
        assert p.returncode == 0, p.stderr.decode("utf-8", "replace")[-2000:]
        texts.append(p.stdout.decode("utf-8", "replace"))
    assert "The treatment differs from the control" in texts[0]
    assert "model calls this run: 0" in texts[1]
    calls = re.compile(r"model calls this run: \d+")
    assert "model calls this run: 0" not in texts[0]
    assert calls.sub("", texts[0]) == calls.sub("", texts[1])
    assert log_stats(out / "sim.tlog")["llm_calls"] == 0
