"""InPlaceExperimentRunner (TinyTroupe's `tinytroupe.experimentation.InPlaceExperimentRunner`):
run the same notebook or script once per experiment (control, treatments), the active one kept
in a JSON file between runs, then compare their results with StatisticalTester.

    runner = InPlaceExperimentRunner("experiment_config.json")
    runner.add_experiment("control"); runner.add_experiment("treatment")
    runner.activate_next_experiment()
    if runner.get_active_experiment() == "treatment":
        ...                                # the treatment's change
    ...                                    # the simulation
    runner.add_experiment_results({"score": [...]})
    runner.finish_active_experiment()
    if runner.has_finished_all_experiments():
        print(runner.run_statistical_tests(control_experiment_name="control"))

A troupe session of each run can be begun at a directory named after the active experiment
(`control.begin("sim-" + runner.get_active_experiment())`), so that rerunning the whole study
replays every run with zero model calls.
"""

import json
import logging
import os

logger = logging.getLogger("troupe")


def _merge(current, additions):
    """TinyTroupe's merge of results (merge_dicts without removing duplicates): dicts merge
    recursively, lists are concatenated, a None takes the new value, different types raise
    TypeError, different scalars raise ValueError."""
    merged = dict(current)
    for key, value in additions.items():
        if key not in merged or merged[key] is None:
            merged[key] = value
        elif isinstance(merged[key], dict) and isinstance(value, dict):
            merged[key] = _merge(merged[key], value)
        elif isinstance(merged[key], list) and isinstance(value, list):
            merged[key] = list(merged[key]) + list(value)
        elif type(merged[key]) != type(value):
            raise TypeError("Cannot merge different types: %s and %s for key '%s'"
                            % (type(merged[key]).__name__, type(value).__name__, key))
        elif merged[key] != value:
            raise ValueError("Conflict at key '%s': the values are different" % key)
    return merged


class InPlaceExperimentRunner:
    """Experiments run "in place": one notebook, one active experiment per run."""

    def __init__(self, config_file_path="experiment_config.json"):
        self.config_file_path = config_file_path
        self.experiment_config = self._load_or_create_config(config_file_path)
        self._save_config()

    def add_experiment(self, experiment_name):
        if experiment_name in self.experiment_config["experiments"]:
            logger.info("Experiment '%s' already exists, nothing to add.", experiment_name)
        else:
            self.experiment_config["experiments"][experiment_name] = {}
            self._save_config()

    def activate_next_experiment(self):
        """Finish the active experiment (if any) and activate the next unfinished one; when
        none is left, all experiments are finished."""
        cfg = self.experiment_config
        if cfg.get("finished_all_experiments"):
            logger.info("All experiments have been finished. No more experiments to activate.")
            return
        experiments = list(cfg["experiments"].keys())
        if not experiments:
            raise ValueError("No experiments available to activate.")
        finished = cfg.setdefault("finished_experiments", [])
        current = cfg.get("active_experiment")
        start = 0
        if current:
            if current not in finished:
                finished.append(current)
            start = experiments.index(current) + 1 if current in experiments else 0
        nxt = next((e for e in experiments[start:] if e not in finished), None)
        if nxt is None and not current:
            nxt = next((e for e in experiments if e not in finished), None)
        cfg["active_experiment"] = nxt
        if nxt is None:
            cfg["finished_all_experiments"] = True
        self._save_config()

    def fix_active_experiment(self, experiment_name):
        if experiment_name not in self.experiment_config["experiments"]:
            raise ValueError("Experiment '%s' does not exist." % experiment_name)
        self.experiment_config["active_experiment"] = experiment_name
        self.experiment_config["finished_all_experiments"] = False
        self._save_config()

    def get_active_experiment(self):
        return self.experiment_config.get("active_experiment")

    def get_unfinished_experiments(self):
        finished = set(self.experiment_config.get("finished_experiments", []))
        return [e for e in self.experiment_config["experiments"] if e not in finished]

    def has_finished_all_experiments(self):
        return bool(self.experiment_config.get("finished_all_experiments", False))

    def add_experiment_results(self, results, experiment_name=None, merge=True):
        """Add results (`{metric: [values]}`) to an experiment (default: the active one);
        with `merge`, lists are extended, otherwise keys are replaced."""
        if experiment_name is None:
            experiment_name = self.get_active_experiment()
            if experiment_name is None:
                raise ValueError("No active experiment exists to add results to.")
        if experiment_name not in self.experiment_config["experiments"]:
            raise ValueError("Experiment '%s' does not exist." % experiment_name)
        exp = self.experiment_config["experiments"][experiment_name]
        exp.setdefault("results", {})
        if merge:
            exp["results"] = _merge(exp["results"], results)
        else:
            exp["results"].update(results)
        self._save_config()

    def get_experiment_results(self, experiment_name=None):
        if experiment_name is None:
            return {name: data.get("results", {})
                    for name, data in self.experiment_config["experiments"].items()}
        if experiment_name not in self.experiment_config["experiments"]:
            raise ValueError("Experiment '%s' does not exist." % experiment_name)
        return self.experiment_config["experiments"][experiment_name].get("results", {})

    def run_statistical_tests(self, control_experiment_name, test_type="welch_t_test",
                              alpha=0.05):
        """Compare every other experiment with the control (StatisticalTester); the results
        are also kept in the configuration file, under the control."""
        from .statistical_tests import StatisticalTester
        exps = self.experiment_config["experiments"]
        if not exps:
            raise ValueError("No experiments available to run statistical tests.")
        if control_experiment_name not in exps:
            raise ValueError("Experiment '%s' does not exist." % control_experiment_name)
        control = {control_experiment_name: exps[control_experiment_name].get("results", {})}
        treatments = {name: data.get("results", {}) for name, data in exps.items()
                      if name != control_experiment_name}
        tester = StatisticalTester(control_experiment_data=control,
                                   treatments_experiment_data=treatments)
        results = tester.run_test(test_type=test_type, alpha=alpha)
        exps[control_experiment_name]["statistical_test_results_vs_others"] = results
        self._save_config()
        return results

    def finish_active_experiment(self):
        """Mark the active experiment finished (without activating the next). False when no
        experiment is active."""
        cfg = self.experiment_config
        current = self.get_active_experiment()
        if not current:
            logger.info("No active experiment to finish.")
            return False
        finished = cfg.setdefault("finished_experiments", [])
        if current in finished:
            return False
        finished.append(current)
        cfg["active_experiment"] = None
        if set(cfg["experiments"]).issubset(set(finished)):
            cfg["finished_all_experiments"] = True
        self._save_config()
        return True

    # ------------------------------------------------------------------ the file

    def _load_or_create_config(self, config_file_path):
        try:
            with open(config_file_path, "r", encoding="utf-8", errors="replace") as f:
                config = json.load(f)
            logger.warning("Configuration file '%s' exists and was loaded. To rerun all the "
                           "experiments, delete it first.", config_file_path)
            return config
        except FileNotFoundError:
            return {"experiments": {}, "active_experiment": None,
                    "finished_all_experiments": False, "finished_experiments": []}

    def _save_config(self):
        d = os.path.dirname(os.path.abspath(self.config_file_path))
        os.makedirs(d, exist_ok=True)
        tmp = self.config_file_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.experiment_config, f, indent=4, ensure_ascii=False)
        os.replace(tmp, self.config_file_path)
