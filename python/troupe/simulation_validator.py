"""Empirical validation of a simulation (TinyTroupe's
`tinytroupe.validation.SimulationExperimentEmpiricalValidator`): the answers the simulated
people gave, compared with the answers real people gave (a CSV of a survey), metric by metric.

- `SimulationExperimentDataset`: the results of one side (per-agent values of each metric,
  numbers or categories; the agents' justifications).
- `SimulationExperimentEmpiricalValidator.read_empirical_data_from_csv(...)` reads real answers
  with the csv module (pandas is optional: `read_empirical_data_from_dataframe`).
- `validate(control, treatment, ...)`: statistical tests (StatisticalTester, on SciPy),
  distribution distances (total variation, Jensen-Shannon, Wasserstein, KS), a lexical
  proximity of the justifications, an overall score 0..1 and a summary, or a Markdown report.

Categories are compared through one shared coding of both sides (the given ordinal order, or
Likert-like orders recognised, or alphabetical), so "yes"/"no" in the CSV and in the simulation
mean the same numbers.
"""

import csv
import datetime as _dt
import math
import os
import re

from .statistical_tests import StatisticalTester, require_scipy

_VALUE_KEYWORDS = ("vote", "score", "rating", "value", "response", "answer")

#: orders recognised for categorical answers (lower case), least to most
KNOWN_ORDERS = [
    ["strongly disagree", "disagree", "neutral", "agree", "strongly agree"],
    ["strongly disagree", "disagree", "neither agree nor disagree", "agree", "strongly agree"],
    ["very unlikely", "unlikely", "neutral", "likely", "very likely"],
    ["never", "rarely", "sometimes", "often", "always"],
    ["very poor", "poor", "fair", "good", "excellent"],
    ["very low", "low", "medium", "high", "very high"],
    ["no", "maybe", "yes"],
    ["no", "yes"],
    ["false", "true"],
]


def _convert_cell(val):
    """A CSV cell as int, float, or stripped string; None when empty."""
    if val is None:
        return None
    if isinstance(val, float) and math.isnan(val):
        return None
    if isinstance(val, (int, float, bool)):
        return val
    s = str(val).strip()
    if s == "" or s.lower() in ("nan", "na", "n/a", "none", "null"):
        return None
    try:
        if re.fullmatch(r"[+-]?\d+", s):
            return int(s)
        f = float(s)
        return int(f) if f.is_integer() else f
    except ValueError:
        return s


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class SimulationExperimentDataset:
    """Results of a simulation experiment or of an empirical study.

    `key_results`: metric -> value, or list of per-agent values (numbers, booleans, strings);
    `result_types`: metric -> "per_agent" or "aggregate"; `data_types`: metric -> "numeric",
    "categorical", "ordinal", "binary", ...; `ordinal_mappings`: metric -> {category: rank}
    (an explicit order of categories); `agent_names`; `agent_justifications`: strings or
    `{"agent_name"/"agent_index", "justification"}`; `justification_summary`;
    `agent_attributes`: attribute -> per-agent values (kept for inspection only)."""

    FIELDS = ("name", "description", "key_results", "result_types", "data_types",
              "categorical_mappings", "ordinal_mappings", "ranking_info", "agent_names",
              "agent_justifications", "justification_summary", "agent_attributes")

    def __init__(self, name=None, description=None, key_results=None, result_types=None,
                 data_types=None, categorical_mappings=None, ordinal_mappings=None,
                 ranking_info=None, agent_names=None, agent_justifications=None,
                 justification_summary=None, agent_attributes=None):
        self.name = name
        self.description = description
        self.key_results = dict(key_results or {})
        self.result_types = dict(result_types or {})
        self.data_types = dict(data_types or {})
        self.categorical_mappings = dict(categorical_mappings or {})
        self.ordinal_mappings = dict(ordinal_mappings or {})
        self.ranking_info = dict(ranking_info or {})
        self.agent_names = list(agent_names) if agent_names is not None else None
        self.agent_justifications = list(agent_justifications or [])
        self.justification_summary = justification_summary
        self.agent_attributes = dict(agent_attributes or {})
        self._process_data_types()

    @classmethod
    def model_validate(cls, data):
        """A dataset from a dict of its fields (TinyTroupe's pydantic name)."""
        if isinstance(data, cls):
            return data
        unknown = set(data) - set(cls.FIELDS)
        if unknown:
            raise ValueError("unknown dataset fields: %s" % sorted(unknown))
        return cls(**data)

    def to_dict(self):
        return {f: getattr(self, f) for f in self.FIELDS}

    model_dump = to_dict

    def _process_data_types(self):
        for metric, value in self.key_results.items():
            values = value if isinstance(value, list) else [value]
            self.result_types.setdefault(metric, "per_agent" if isinstance(value, list)
                                         else "aggregate")
            present = [v for v in values if v is not None]
            if metric in self.data_types:
                pass
            elif present and all(isinstance(v, bool) for v in present):
                self.data_types[metric] = "binary"
            elif present and all(_is_num(v) for v in present):
                self.data_types[metric] = "numeric"
            elif present:
                self.data_types[metric] = "ordinal" if metric in self.ordinal_mappings \
                    else "categorical"
            else:
                self.data_types[metric] = "numeric"
            if self.data_types[metric] in ("categorical", "ordinal") and \
                    metric not in self.ordinal_mappings:
                cats = sorted({str(v) for v in present})
                self.categorical_mappings[metric] = {c: i for i, c in enumerate(cats)}

    def is_categorical_metric(self, metric_name):
        return self.data_types.get(metric_name) in ("categorical", "ordinal")

    def get_valid_agent_data(self, metric_name):
        v = self.key_results.get(metric_name)
        values = v if isinstance(v, list) else [v]
        return [x for x in values if x is not None]

    def get_agent_name(self, index):
        if self.agent_names and 0 <= index < len(self.agent_names):
            return self.agent_names[index]
        return None

    def get_justification_text(self, justification_item):
        if isinstance(justification_item, dict):
            return str(justification_item.get("justification", "") or "")
        return str(justification_item or "")

    def get_justification_agent_reference(self, justification_item):
        if isinstance(justification_item, dict):
            if justification_item.get("agent_name"):
                return justification_item["agent_name"]
            if justification_item.get("agent_index") is not None:
                return self.get_agent_name(int(justification_item["agent_index"])) or \
                    "Agent_%d" % int(justification_item["agent_index"])
        return None

    def get_metric_summary(self, metric_name):
        values = self.get_valid_agent_data(metric_name)
        out = {"metric": metric_name, "data_type": self.data_types.get(metric_name),
               "count": len(values)}
        if self.is_categorical_metric(metric_name):
            counts = {}
            for v in values:
                counts[str(v)] = counts.get(str(v), 0) + 1
            out["counts"] = counts
            out["proportions"] = {k: c / len(values) for k, c in counts.items()} if values else {}
        elif values:
            nums = [float(v) for v in values]
            m = sum(nums) / len(nums)
            out.update(mean=m, min=min(nums), max=max(nums),
                       std=(math.sqrt(sum((x - m) ** 2 for x in nums) / (len(nums) - 1))
                            if len(nums) > 1 else 0.0))
        return out

    def __repr__(self):
        return "SimulationExperimentDataset(name=%r, metrics=%r)" % (self.name,
                                                                    list(self.key_results))


class SimulationExperimentEmpiricalValidationResult:
    """The outcome of a validation: statistical and semantic results, an overall score 0..1
    (1: the simulation is indistinguishable from the empirical data) and a summary."""

    FIELDS = ("validation_type", "control_name", "treatment_name", "statistical_results",
              "semantic_results", "overall_score", "summary", "timestamp")

    def __init__(self, validation_type, control_name, treatment_name, statistical_results=None,
                 semantic_results=None, overall_score=None, summary="", timestamp=None):
        self.validation_type = validation_type
        self.control_name = control_name
        self.treatment_name = treatment_name
        self.statistical_results = statistical_results
        self.semantic_results = semantic_results
        self.overall_score = overall_score
        self.summary = summary
        self.timestamp = timestamp or _dt.datetime.now().isoformat()

    def to_dict(self):
        return {f: getattr(self, f) for f in self.FIELDS}

    model_dump = to_dict

    def __repr__(self):
        return "SimulationExperimentEmpiricalValidationResult(score=%r)" % (self.overall_score,)


# ---------------------------------------------------------------------- helpers

def _cat(value):
    """A category as compared: case and spacing do not matter ("Yes " is "yes")."""
    return " ".join(str(value).split()).lower()


def _shared_order(metric, control, treatment):
    """One category -> rank coding for both sides (categories as `_cat` gives them)."""
    cats = {_cat(v) for d in (control, treatment) for v in d.get_valid_agent_data(metric)}
    for ds in (control, treatment):
        if metric in ds.ordinal_mappings and ds.ordinal_mappings[metric]:
            given = sorted(ds.ordinal_mappings[metric].items(), key=lambda kv: kv[1])
            mapping = {}
            for k, _rank in given:
                mapping.setdefault(_cat(k), len(mapping))
            for c in sorted(cats - set(mapping)):
                mapping[c] = len(mapping)
            return mapping
    for order in KNOWN_ORDERS:
        if cats <= set(order):
            return {c: i for i, c in enumerate(o for o in order if o in cats)}
    return {c: i for i, c in enumerate(sorted(cats))}


def _lexical_proximity(a, b):
    """Cosine similarity of the word counts of two texts (0..1)."""
    def counts(t):
        c = {}
        for w in re.findall(r"[a-zA-Z\u00C0-\uFFFF]{3,}", t.lower()):
            c[w] = c.get(w, 0) + 1
        return c
    ca, cb = counts(a), counts(b)
    if not ca or not cb:
        return 0.0
    dot = sum(v * cb.get(k, 0) for k, v in ca.items())
    na = math.sqrt(sum(v * v for v in ca.values()))
    nb = math.sqrt(sum(v * v for v in cb.values()))
    return dot / (na * nb) if na and nb else 0.0


def compute_lexical_proximity(text_1, text_2):
    """The lexical stand-in for TinyTroupe's semantic proximity (no model call)."""
    return _lexical_proximity(text_1 or "", text_2 or "")


class SimulationExperimentEmpiricalValidator:
    """Compare simulated results with empirical ones (see the module's documentation)."""

    def __init__(self):
        pass

    def validate(self, control, treatment, validation_types=("statistical", "semantic"),
                 statistical_test_type="welch_t_test", significance_level=0.05,
                 output_format="values"):
        """Validate `treatment` (the simulation) against `control` (the empirical data).
        Returns a SimulationExperimentEmpiricalValidationResult, or with
        `output_format="report"` a Markdown report."""
        control = SimulationExperimentDataset.model_validate(control)
        treatment = SimulationExperimentDataset.model_validate(treatment)
        validation_types = list(validation_types)
        result = SimulationExperimentEmpiricalValidationResult(
            validation_type=", ".join(validation_types),
            control_name=control.name or "Control", treatment_name=treatment.name or "Treatment")
        if "statistical" in validation_types:
            result.statistical_results = self._perform_statistical_validation(
                control, treatment, significance_level, statistical_test_type)
        if "semantic" in validation_types:
            result.semantic_results = self._perform_semantic_validation(control, treatment)
        result.overall_score = self._calculate_overall_score(result)
        result.summary = self._generate_summary(result)
        if output_format == "report":
            return self._generate_markdown_report(result, control, treatment)
        return result

    # ------------------------------------------------------------------ statistics

    def _perform_statistical_validation(self, control, treatment, significance_level,
                                        test_type="welch_t_test"):
        if not control.key_results or not treatment.key_results:
            return {"error": "No key results available for statistical testing"}
        common = [m for m in control.key_results if m in treatment.key_results]
        if not common:
            return {"error": "No common metrics found between control and treatment"}
        control_data, treatment_data, distances, codings = {}, {}, {}, {}
        for metric in common:
            cv = control.get_valid_agent_data(metric)
            tv = treatment.get_valid_agent_data(metric)
            if not cv or not tv:
                continue
            categorical = control.is_categorical_metric(metric) or \
                treatment.is_categorical_metric(metric)
            if categorical:
                coding = _shared_order(metric, control, treatment)
                codings[metric] = coding
                if test_type == "chi_square":
                    cn, tn = [_cat(v) for v in cv], [_cat(v) for v in tv]
                else:
                    cn = [coding[_cat(v)] for v in cv]
                    tn = [coding[_cat(v)] for v in tv]
                distances[metric] = self._categorical_distances(
                    [_cat(v) for v in cv], [_cat(v) for v in tv], coding, significance_level)
            else:
                cn = [float(v) for v in cv]
                tn = [float(v) for v in tv]
                distances[metric] = self._numeric_distances(cn, tn, significance_level)
            control_data[metric] = cn
            treatment_data[metric] = tn
        if not control_data:
            return {"error": "No common metrics with values in both datasets"}
        tester = StatisticalTester({"control": control_data}, {"treatment": treatment_data})
        test_results = tester.run_test(test_type=test_type, alpha=significance_level)
        return {"common_metrics": list(control_data), "test_results": test_results,
                "test_type": test_type, "significance_level": significance_level,
                "distribution_distances": distances, "category_codings": codings}

    @staticmethod
    def _categorical_distances(cv, tv, coding, alpha):
        np, stats = require_scipy()
        from scipy.spatial.distance import jensenshannon
        cats = sorted(coding, key=lambda c: coding[c])
        cc = [sum(1 for v in cv if v == c) for c in cats]
        tc = [sum(1 for v in tv if v == c) for c in cats]
        cp = [x / len(cv) for x in cc]
        tp = [x / len(tv) for x in tc]
        tvd = 0.5 * sum(abs(a - b) for a, b in zip(cp, tp))
        js = float(jensenshannon(cp, tp, base=2)) if len(cats) > 1 else 0.0
        table = np.array([cc, tc], dtype=float)
        table = table[:, table.sum(axis=0) > 0]
        if table.shape[1] >= 2:
            chi2, p, dof, _ = stats.chi2_contingency(table)
            chi2, p, dof = float(chi2), float(p), int(dof)
        else:
            chi2, p, dof = 0.0, 1.0, 0
        return {"kind": "categorical", "categories": cats,
                "control_proportions": dict(zip(cats, cp)),
                "treatment_proportions": dict(zip(cats, tp)),
                "total_variation_distance": tvd, "jensen_shannon_distance": js,
                "chi_square": {"statistic": chi2, "p_value": p, "degrees_of_freedom": dof,
                               "significant": bool(p < alpha)}}

    @staticmethod
    def _numeric_distances(cv, tv, alpha):
        np, stats = require_scipy()
        ks, p = stats.ks_2samp(np.array(cv), np.array(tv))
        return {"kind": "numeric", "control_mean": sum(cv) / len(cv),
                "treatment_mean": sum(tv) / len(tv),
                "wasserstein_distance": float(stats.wasserstein_distance(cv, tv)),
                "ks": {"statistic": float(ks), "p_value": float(p),
                       "significant": bool(p < alpha)}}

    # ------------------------------------------------------------------ semantics

    def _perform_semantic_validation(self, control, treatment):
        """Proximity of the justifications: a lexical measure (cosine of word counts, no model
        call), labelled as such. TinyTroupe asks a model for each pair."""
        results = {"method": "lexical", "individual_comparisons": [],
                   "summary_comparison": None, "average_proximity": None}
        if control.agent_justifications and treatment.agent_justifications:
            prox = []
            for i, cj in enumerate(control.agent_justifications):
                for j, tj in enumerate(treatment.agent_justifications):
                    ct = control.get_justification_text(cj)
                    tt = treatment.get_justification_text(tj)
                    if ct and tt:
                        s = compute_lexical_proximity(ct, tt)
                        results["individual_comparisons"].append({
                            "control_agent": control.get_justification_agent_reference(cj)
                            or "Agent_%d" % i,
                            "treatment_agent": treatment.get_justification_agent_reference(tj)
                            or "Agent_%d" % j,
                            "proximity_score": s})
                        prox.append(s)
            if prox:
                results["average_proximity"] = sum(prox) / len(prox)
        if control.justification_summary and treatment.justification_summary:
            s = compute_lexical_proximity(control.justification_summary,
                                          treatment.justification_summary)
            results["summary_comparison"] = {"proximity_score": s}
        return results

    # ------------------------------------------------------------------ scoring

    def _extract_effect_size(self, metric_result):
        """A standardised effect size (0: no difference) from a test result."""
        test_type = str(metric_result.get("test_type", "")).lower()
        es = metric_result.get("effect_size")
        if es is None:
            return None
        if "mann-whitney" in test_type:
            return 2 * (es - 0.5)
        if "anova" in test_type:
            return 2 * math.sqrt(es / (1 - es)) if 0 < es < 1 else 0.0
        if "chi-square" in test_type:
            return 2 * es
        return es

    def _calculate_overall_score(self, result):
        scores = []
        sr = result.statistical_results
        if sr and "test_results" in sr:
            sims = []
            for per_metric in sr["test_results"].values():
                for mr in per_metric.values():
                    es = self._extract_effect_size(mr)
                    if es is None or (isinstance(es, float) and math.isnan(es)):
                        continue
                    a = abs(es)
                    sims.append(0.95 + 0.05 / (1.0 + a) if a < 0.1 else 1.0 / (1.0 + a))
            if sims:
                scores.append(sum(sims) / len(sims))
        sem = result.semantic_results
        if sem:
            parts = []
            if sem.get("average_proximity") is not None:
                parts.append(sem["average_proximity"])
            if sem.get("summary_comparison"):
                parts.append(sem["summary_comparison"]["proximity_score"])
            if parts:
                scores.append(sum(parts) / len(parts))
        if len(scores) == 2 and sr and "test_results" in sr and scores[0] > 0.9:
            return 0.7 * scores[0] + 0.3 * scores[1]
        return sum(scores) / len(scores) if scores else 0.0

    @staticmethod
    def _interpret_effect_size(effect_size, test_type=""):
        t = test_type.lower()
        e = abs(effect_size)
        if "kolmogorov" in t or "ks" in t:
            return ("negligible difference" if e < 0.1 else "small difference" if e < 0.25
                    else "medium difference" if e < 0.5 else "large difference")
        return "negligible" if e < 0.2 else "small" if e < 0.5 else "medium" if e < 0.8 \
            else "large"

    def _generate_summary(self, result):
        parts = []
        sr = result.statistical_results
        if sr:
            if "error" in sr:
                parts.append("Statistical validation: %s" % sr["error"])
            else:
                total = sig = 0
                for per_metric in sr["test_results"].values():
                    for mr in per_metric.values():
                        total += 1
                        sig += 1 if mr.get("significant") else 0
                parts.append("Statistical validation: %d of %d metric(s) differ significantly "
                             "(%s, alpha %s)." % (sig, total, sr["test_type"],
                                                  sr["significance_level"]))
        sem = result.semantic_results
        if sem and sem.get("average_proximity") is not None:
            parts.append("Justifications: average lexical proximity %.3f."
                         % sem["average_proximity"])
        if result.overall_score is not None:
            parts.append("Overall validation score: %.3f." % result.overall_score)
        return " ".join(parts)

    def _generate_markdown_report(self, result, control=None, treatment=None):
        lines = ["# Empirical validation: %s vs %s" % (result.treatment_name,
                                                       result.control_name), "",
                 "*%s*" % result.timestamp, "",
                 "**Overall score:** %.3f" % (result.overall_score or 0.0), "",
                 result.summary, ""]
        sr = result.statistical_results
        if sr and "test_results" in sr:
            lines += ["## Statistical tests (%s)" % sr["test_type"], "",
                      "| metric | p-value | significant | effect size | interpretation |",
                      "|---|---|---|---|---|"]
            for per_metric in sr["test_results"].values():
                for metric, mr in per_metric.items():
                    es = mr.get("effect_size")
                    p = mr.get("p_value")
                    lines.append("| %s | %s | %s | %s | %s |" % (
                        metric, "n/a" if p is None else "%.4g" % p,
                        "yes" if mr.get("significant") else "no",
                        "n/a" if es is None else "%.3f" % es,
                        "n/a" if es is None else self._interpret_effect_size(
                            self._extract_effect_size(mr) or 0.0, mr.get("test_type", ""))))
            lines += ["", "## Distribution distances", ""]
            for metric, d in sr.get("distribution_distances", {}).items():
                if d["kind"] == "categorical":
                    lines.append("- **%s** (categorical): total variation %.3f, Jensen-Shannon "
                                 "%.3f, chi-square p %.4g" % (
                                     metric, d["total_variation_distance"],
                                     d["jensen_shannon_distance"], d["chi_square"]["p_value"]))
                    for c in d["categories"]:
                        lines.append("  - %s: empirical %.2f, simulated %.2f" % (
                            c, d["control_proportions"][c], d["treatment_proportions"][c]))
                else:
                    lines.append("- **%s** (numeric): means %.3f vs %.3f, Wasserstein %.3f, KS "
                                 "p %.4g" % (metric, d["control_mean"], d["treatment_mean"],
                                             d["wasserstein_distance"], d["ks"]["p_value"]))
            lines.append("")
        elif sr:
            lines += ["## Statistical tests", "", sr.get("error", ""), ""]
        sem = result.semantic_results
        if sem:
            lines += ["## Justifications (lexical proximity)", ""]
            if sem.get("average_proximity") is not None:
                lines.append("- average proximity: %.3f" % sem["average_proximity"])
            if sem.get("summary_comparison"):
                lines.append("- summaries: %.3f" % sem["summary_comparison"]["proximity_score"])
            lines.append("")
        return "\n".join(lines)

    # ------------------------------------------------------------------ reading data

    @classmethod
    def read_empirical_data_from_csv(cls, file_path, experimental_data_type="single_value_per_agent",
                                     agent_id_column=None, agent_comments_column=None,
                                     agent_attributes_columns=None, value_column=None,
                                     ranking_columns=None, ordinal_ranking_column=None,
                                     ordinal_ranking_separator="-", ordinal_ranking_options=None,
                                     dataset_name=None, dataset_description=None,
                                     encoding="utf-8"):
        """Real answers from a CSV file (csv module), one row per respondent.

        `experimental_data_type`: "single_value_per_agent" (one answer per row, in
        `value_column`, found by name when not given), "ranking_per_agent" (one column per
        ranked item), or "ordinal_ranking_per_agent" (one column "A-B-C", best first)."""
        path = os.fspath(file_path)
        if not os.path.exists(path):
            raise FileNotFoundError("CSV file not found: %s" % path)
        with open(path, "r", encoding=encoding, errors="replace", newline="") as f:
            reader = csv.DictReader(f)
            rows = [dict(r) for r in reader]
            columns = list(reader.fieldnames or [])
        if not rows:
            raise ValueError("CSV file contains no data: %s" % path)
        stem = os.path.splitext(os.path.basename(path))[0]
        return cls._from_rows(rows, columns, experimental_data_type, agent_id_column,
                              agent_comments_column, agent_attributes_columns, value_column,
                              ranking_columns, ordinal_ranking_column, ordinal_ranking_separator,
                              ordinal_ranking_options,
                              dataset_name or "Empirical_Data_%s" % stem,
                              dataset_description or "Empirical data loaded from %s"
                              % os.path.basename(path))

    @classmethod
    def read_empirical_data_from_dataframe(cls, df, experimental_data_type="single_value_per_agent",
                                           agent_id_column=None, agent_comments_column=None,
                                           agent_attributes_columns=None, value_column=None,
                                           ranking_columns=None, ordinal_ranking_column=None,
                                           ordinal_ranking_separator="-",
                                           ordinal_ranking_options=None, dataset_name=None,
                                           dataset_description=None):
        """The same from a pandas DataFrame."""
        if len(df) == 0:
            raise ValueError("DataFrame contains no data")
        rows = df.to_dict("records")
        return cls._from_rows(rows, [str(c) for c in df.columns], experimental_data_type,
                              agent_id_column, agent_comments_column, agent_attributes_columns,
                              value_column, ranking_columns, ordinal_ranking_column,
                              ordinal_ranking_separator, ordinal_ranking_options,
                              dataset_name or "Empirical_Data",
                              dataset_description or "Empirical data from a DataFrame")

    @classmethod
    def _from_rows(cls, rows, columns, kind, agent_id_column, agent_comments_column,
                   agent_attributes_columns, value_column, ranking_columns,
                   ordinal_ranking_column, separator, options, name, description):
        ds = SimulationExperimentDataset(name=name, description=description)
        if agent_id_column and agent_id_column in columns:
            ds.agent_names = [None if _convert_cell(r.get(agent_id_column)) is None
                              else str(r.get(agent_id_column)).strip() for r in rows]
        else:
            ds.agent_names = ["Agent_%d" % (i + 1) for i in range(len(rows))]
        if kind == "single_value_per_agent":
            if value_column is None:
                cands = [c for c in columns if any(k in c.lower() for k in _VALUE_KEYWORDS)]
                if cands:
                    value_column = min(cands, key=len)
                else:
                    numeric = [c for c in columns
                               if all(_is_num(_convert_cell(r.get(c))) for r in rows
                                      if _convert_cell(r.get(c)) is not None)
                               and c not in (agent_id_column,)]
                    if not numeric:
                        raise ValueError("No suitable value column found. Please specify "
                                         "value_column.")
                    value_column = numeric[0]
            if value_column not in columns:
                raise ValueError("Value column '%s' not found. Available columns: %s"
                                 % (value_column, columns))
            ds.key_results[value_column] = [_convert_cell(r.get(value_column)) for r in rows]
            ds.result_types[value_column] = "per_agent"
        elif kind == "ranking_per_agent":
            if not ranking_columns:
                ranking_columns = [c for c in columns if "rank" in c.lower()]
            if not ranking_columns:
                raise ValueError("ranking_per_agent needs ranking_columns")
            for c in ranking_columns:
                if c not in columns:
                    raise ValueError("Ranking column '%s' not found" % c)
                ds.key_results[c] = [_convert_cell(r.get(c)) for r in rows]
                ds.result_types[c] = "per_agent"
                ds.data_types[c] = "ranking"
            ds.ranking_info["items"] = list(ranking_columns)
        elif kind == "ordinal_ranking_per_agent":
            col = ordinal_ranking_column
            if not col or col not in columns:
                raise ValueError("ordinal_ranking_per_agent needs ordinal_ranking_column")
            parsed = []
            for r in rows:
                v = r.get(col)
                items = [] if _convert_cell(v) is None else \
                    [x.strip() for x in str(v).split(separator) if x.strip()]
                parsed.append(items)
            if not options:
                options = sorted({x for items in parsed for x in items})
            for opt in options:
                key = "%s_%s" % (col, opt)
                ds.key_results[key] = [items.index(opt) + 1 if opt in items else None
                                       for items in parsed]
                ds.result_types[key] = "per_agent"
                ds.data_types[key] = "ranking"
            ds.ranking_info[col] = {"items": list(options), "direction": "ascending"}
        else:
            raise ValueError("Unknown experimental_data_type: %s" % kind)
        if agent_comments_column and agent_comments_column in columns:
            ds.agent_justifications = [
                {"agent_name": ds.agent_names[i], "agent_index": i,
                 "justification": "" if _convert_cell(r.get(agent_comments_column)) is None
                 else str(r.get(agent_comments_column)).strip()}
                for i, r in enumerate(rows)]
        for c in agent_attributes_columns or []:
            if c in columns:
                ds.agent_attributes[c] = [None if _convert_cell(r.get(c)) is None
                                          else str(r.get(c)).strip() for r in rows]
        ds._process_data_types()
        return ds

    @classmethod
    def create_from_csv(cls, file_path, **kwargs):
        """(a validator, the dataset read from the CSV)."""
        return cls(), cls.read_empirical_data_from_csv(file_path, **kwargs)

    @classmethod
    def create_from_dataframe(cls, df, **kwargs):
        return cls(), cls.read_empirical_data_from_dataframe(df, **kwargs)


def validate_simulation_experiment_empirically(control_data, treatment_data,
                                               validation_types=("statistical", "semantic"),
                                               statistical_test_type="welch_t_test",
                                               significance_level=0.05, output_format="values"):
    """Validate simulated results (a dict or dataset) against empirical ones."""
    return SimulationExperimentEmpiricalValidator().validate(
        SimulationExperimentDataset.model_validate(control_data),
        SimulationExperimentDataset.model_validate(treatment_data),
        validation_types=validation_types, statistical_test_type=statistical_test_type,
        significance_level=significance_level, output_format=output_format)
