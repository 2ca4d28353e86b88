"""StatisticalTester (TinyTroupe's `tinytroupe.experimentation.statistical_tests`): one control
compared with one or more treatments, metric by metric, with Student's and Welch's t-tests,
Mann-Whitney U, one-way ANOVA, chi-square and Kolmogorov-Smirnov, each with its p-value and an
effect size.

The distributions come from SciPy (`scipy.stats`); when SciPy is not installed the tester raises
ImportError saying what to install. Nothing here re-implements a distribution.

Data, as in TinyTroupe:

    control    = {"control": {"metric1": [...], "metric2": [...]}}
    treatments = {"treatment_a": {"metric1": [...]}, "treatment_b": {...}}

A flat `{"metric1": [...]}` is also accepted (named "control" / "treatment").
"""

import logging
import math
import warnings

logger = logging.getLogger("troupe")

_INSTALL_HINT = ("troupe's statistical tests need SciPy (and NumPy): install them with "
                 "`pip install scipy`, or on Debian/Ubuntu `apt install python3-scipy`")


def require_scipy():
    """(numpy, scipy.stats), or ImportError naming what to install."""
    try:
        import numpy as np
        import scipy.stats as stats
    except ImportError as e:
        raise ImportError("%s (%s)" % (_INSTALL_HINT, e)) from e
    return np, stats


def _is_number(v):
    if isinstance(v, bool):
        return True
    if isinstance(v, (int, float)):
        return True
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False


def _floats(values):
    return [float(v) for v in values if v is not None]


def _nan_to_none(x):
    if isinstance(x, float) and math.isnan(x):
        return None
    return x


class StatisticalTester:
    """Compare a control with treatments, metric by metric."""

    SUPPORTED_TESTS = ("t_test", "welch_t_test", "mann_whitney", "anova", "chi_square", "ks_test")

    def __init__(self, control_experiment_data, treatments_experiment_data, results_key=None):
        require_scipy()
        if results_key:
            control_experiment_data = {k: v[results_key] for k, v in control_experiment_data.items()}
            treatments_experiment_data = {k: v[results_key]
                                          for k, v in treatments_experiment_data.items()}
        self.control_experiment_data = self._nest(control_experiment_data, "control")
        self.treatments_experiment_data = self._nest(treatments_experiment_data, "treatment")
        self._validate_input_data()

    @staticmethod
    def _nest(data, default_name):
        if isinstance(data, dict) and data and all(isinstance(v, (list, tuple))
                                                   for v in data.values()):
            return {default_name: {k: list(v) for k, v in data.items()}}
        return data

    def _validate_input_data(self):
        if not isinstance(self.control_experiment_data, dict):
            raise TypeError("Control experiment data must be a dictionary")
        if not isinstance(self.treatments_experiment_data, dict):
            raise TypeError("Treatments experiment data must be a dictionary")
        if not self.control_experiment_data:
            raise ValueError("Control experiment data cannot be empty")
        if len(self.control_experiment_data) > 1:
            raise ValueError("Only one control experiment is allowed")
        for cid, metrics in self.control_experiment_data.items():
            if not isinstance(metrics, dict):
                raise TypeError("Metrics for control experiment '%s' must be a dictionary" % cid)
            if not metrics:
                raise ValueError("Control experiment '%s' has no metrics" % cid)
            for m, values in metrics.items():
                if not isinstance(values, list):
                    raise TypeError("Values for metric '%s' in control experiment '%s' must be a "
                                    "list" % (m, cid))
        if not self.treatments_experiment_data:
            raise ValueError("Treatments experiment data cannot be empty")
        control_metrics = set()
        for metrics in self.control_experiment_data.values():
            control_metrics.update(metrics.keys())
        for tid, data in self.treatments_experiment_data.items():
            if not isinstance(data, dict):
                raise TypeError("Data for treatment '%s' must be a dictionary" % tid)
            if not data:
                raise ValueError("Treatment '%s' has no metrics" % tid)
            if not control_metrics & set(data.keys()):
                logger.warning("Treatment '%s' has no metrics in common with the control", tid)
            for m, values in data.items():
                if not isinstance(values, list):
                    raise TypeError("Values for metric '%s' in treatment '%s' must be a list"
                                    % (m, tid))

    # ------------------------------------------------------------------ running

    def run_test(self, test_type="welch_t_test", alpha=0.05, **kwargs):
        """Run `test_type` (t_test, welch_t_test, mann_whitney, anova, chi_square, ks_test) for
        every metric the control shares with each treatment. Returns
        `{treatment_id: {metric: {"test_type", "p_value", "significant", "effect_size", ...}}}`
        (plain Python values, JSON-serialisable)."""
        tests = {"t_test": self._run_t_test, "welch_t_test": self._run_welch_t_test,
                 "mann_whitney": self._run_mann_whitney, "anova": self._run_anova,
                 "chi_square": self._run_chi_square, "ks_test": self._run_ks_test}
        if test_type not in tests:
            raise ValueError("Unsupported test type: %s. Supported types: %s"
                             % (test_type, list(tests)))
        results = {}
        for _cid, control_data in self.control_experiment_data.items():
            for tid, treatment_data in self.treatments_experiment_data.items():
                results[tid] = {}
                for metric in control_data:  # the control's order
                    if metric not in treatment_data:
                        logger.warning("Metric '%s' not found in treatment '%s'", metric, tid)
                        continue
                    cv = [v for v in control_data[metric] if v is not None]
                    tv = [v for v in treatment_data[metric] if v is not None]
                    if not cv or not tv:
                        logger.warning("Skipping metric '%s' for treatment '%s': no values",
                                       metric, tid)
                        continue
                    results[tid][metric] = convert_to_serializable(
                        tests[test_type](cv, tv, alpha, **kwargs))
        return results

    # ------------------------------------------------------------------ the tests

    @staticmethod
    def _degenerate_t(control, treatment):
        """(t, p) when both samples are constant (SciPy's answer is NaN): equal constants
        show no difference (p = 1), different ones a certain difference (p = 0)."""
        if len(set(control)) <= 1 and len(set(treatment)) <= 1:
            if control[0] == treatment[0]:
                return 0.0, 1.0
            return (math.copysign(math.inf, control[0] - treatment[0]), 0.0)
        return None

    def _t_common(self, control_values, treatment_values, alpha, equal_var):
        np, stats = require_scipy()
        control = np.array(_floats(control_values), dtype=float)
        treatment = np.array(_floats(treatment_values), dtype=float)
        nc, nt = len(control), len(treatment)
        cm, tm = float(np.mean(control)), float(np.mean(treatment))
        diff = tm - cm
        deg = self._degenerate_t(list(control), list(treatment))
        if deg is not None:
            t_stat, p_value = deg
        else:
            with warnings.catch_warnings():
                # a constant group makes SciPy warn about precision; the result stands
                warnings.simplefilter("ignore", RuntimeWarning)
                t_stat, p_value = stats.ttest_ind(control, treatment, equal_var=equal_var)
            t_stat, p_value = float(t_stat), float(p_value)
        cs = float(np.std(control, ddof=1)) if nc > 1 else float("nan")
        ts = float(np.std(treatment, ddof=1)) if nt > 1 else float("nan")
        df = float("nan")
        se = float("nan")
        if nc > 1 and nt > 1:
            if equal_var:
                df = nc + nt - 2
                pooled = math.sqrt(((nc - 1) * cs ** 2 + (nt - 1) * ts ** 2) / df)
                se = pooled * math.sqrt(1.0 / nc + 1.0 / nt)
            else:
                vc, vt = cs ** 2 / nc, ts ** 2 / nt
                denom = vc ** 2 / (nc - 1) + vt ** 2 / (nt - 1)
                df = (vc + vt) ** 2 / denom if denom > 0 else float("inf")
                se = math.sqrt(vc + vt)
        if se == se and df == df and se > 0:
            margin = float(stats.t.ppf(1 - alpha / 2, df)) * se
            ci = (diff - margin, diff + margin)
        else:
            ci = (diff, diff) if se == 0 else (None, None)
        out = {
            "test_type": "Student t-test (equal variance)" if equal_var
            else "Welch t-test (unequal variance)",
            "control_mean": cm, "treatment_mean": tm, "mean_difference": diff,
            "percent_change": (diff / cm * 100) if cm != 0 else float("inf"),
            "t_statistic": t_stat, "p_value": _nan_to_none(p_value),
            "confidence_interval": ci, "confidence_level": 1 - alpha,
            "significant": bool(p_value == p_value and p_value < alpha),
            "control_sample_size": nc, "treatment_sample_size": nt,
            "control_std": _nan_to_none(cs), "treatment_std": _nan_to_none(ts),
            "effect_size": cohen_d(control, treatment), "effect_size_type": "cohen_d",
        }
        if not equal_var:
            out["degrees_of_freedom"] = _nan_to_none(df)
        return out

    def _run_t_test(self, control_values, treatment_values, alpha, **kwargs):
        """Student's t-test (equal variances)."""
        return self._t_common(control_values, treatment_values, alpha, True)

    def _run_welch_t_test(self, control_values, treatment_values, alpha, **kwargs):
        """Welch's t-test (unequal variances)."""
        return self._t_common(control_values, treatment_values, alpha, False)

    def _run_mann_whitney(self, control_values, treatment_values, alpha, **kwargs):
        """Mann-Whitney U (two-sided); effect size: the common-language effect size, the
        probability that a treatment value exceeds a control value (ties count half)."""
        np, stats = require_scipy()
        control = np.array(_floats(control_values), dtype=float)
        treatment = np.array(_floats(treatment_values), dtype=float)
        cmed, tmed = float(np.median(control)), float(np.median(treatment))
        if len(set(control.tolist()) | set(treatment.tolist())) <= 1:
            u_stat, p_value = len(control) * len(treatment) / 2.0, 1.0
        else:
            u_stat, p_value = stats.mannwhitneyu(control, treatment, alternative="two-sided")
            u_stat, p_value = float(u_stat), float(p_value)
        greater = sum(1.0 if t > c else (0.5 if t == c else 0.0)
                      for t in treatment for c in control)
        cles = greater / (len(treatment) * len(control))
        ci = None
        n_resamples = int(kwargs.get("n_resamples", 1000))
        if n_resamples > 0 and len(control) > 1 and len(treatment) > 1:
            try:
                res = stats.bootstrap((treatment, control),
                                      lambda x, y, axis=-1: np.median(x, axis=axis)
                                      - np.median(y, axis=axis),
                                      confidence_level=1 - alpha, n_resamples=n_resamples,
                                      method="percentile", random_state=42, vectorized=True)
                ci = (float(res.confidence_interval.low), float(res.confidence_interval.high))
            except Exception as e:  # pragma: no cover - depends on SciPy's version
                logger.warning("no bootstrap confidence interval: %s", e)
        return {
            "test_type": "Mann-Whitney U test",
            "control_median": cmed, "treatment_median": tmed, "median_difference": tmed - cmed,
            "percent_change": ((tmed - cmed) / cmed * 100) if cmed != 0 else float("inf"),
            "u_statistic": u_stat, "p_value": _nan_to_none(p_value),
            "confidence_interval": ci, "confidence_level": 1 - alpha,
            "significant": bool(p_value == p_value and p_value < alpha),
            "control_sample_size": len(control), "treatment_sample_size": len(treatment),
            "effect_size": cles, "effect_size_type": "common_language_effect_size",
        }

    def _run_anova(self, control_values, treatment_values, alpha, **kwargs):
        """One-way ANOVA of the two groups; effect size eta squared."""
        np, stats = require_scipy()
        control = np.array(_floats(control_values), dtype=float)
        treatment = np.array(_floats(treatment_values), dtype=float)
        allv = np.concatenate([control, treatment])
        grand = float(np.mean(allv))
        ss_total = float(np.sum((allv - grand) ** 2))
        ss_between = (len(control) * (float(np.mean(control)) - grand) ** 2
                      + len(treatment) * (float(np.mean(treatment)) - grand) ** 2)
        if ss_total == 0:
            f_stat, p_value = 0.0, 1.0
        else:
            f_stat, p_value = stats.f_oneway(control, treatment)
            f_stat, p_value = float(f_stat), float(p_value)
        return {
            "test_type": "One-way ANOVA", "f_statistic": _nan_to_none(f_stat),
            "p_value": _nan_to_none(p_value),
            "significant": bool(p_value == p_value and p_value < alpha),
            "control_sample_size": len(control), "treatment_sample_size": len(treatment),
            "effect_size": ss_between / ss_total if ss_total > 0 else 0.0,
            "effect_size_type": "eta_squared",
        }

    def _run_chi_square(self, control_values, treatment_values, alpha, **kwargs):
        """Chi-square test of independence; effect size Cramér's V.

        As in TinyTroupe, numeric values are counts per category (the two lists the same
        length). Lists of labels (strings) are counted here, over the union of the labels."""
        np, stats = require_scipy()
        labels = None
        if not all(_is_number(v) for v in list(control_values) + list(treatment_values)):
            labels = sorted(set(map(str, control_values)) | set(map(str, treatment_values)))
            control = [sum(1 for v in control_values if str(v) == lab) for lab in labels]
            treatment = [sum(1 for v in treatment_values if str(v) == lab) for lab in labels]
        else:
            control, treatment = _floats(control_values), _floats(treatment_values)
            if len(control) != len(treatment):
                raise ValueError("Control and treatment must have the same number of categories "
                                 "for chi-square test")
        table = np.vstack([np.array(control, dtype=float), np.array(treatment, dtype=float)])
        keep = table.sum(axis=0) > 0
        table = table[:, keep]
        n = float(table.sum())
        if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
            chi2, p_value, dof = 0.0, 1.0, max(0, table.shape[1] - 1)
        else:
            chi2, p_value, dof, _exp = stats.chi2_contingency(table)
            chi2, p_value, dof = float(chi2), float(p_value), int(dof)
        min_dim = min(table.shape) - 1
        out = {
            "test_type": "Chi-square test", "chi2_statistic": chi2, "p_value": p_value,
            "degrees_of_freedom": dof,
            "significant": bool(p_value < alpha),
            "effect_size": math.sqrt(chi2 / (n * min_dim)) if n * min_dim > 0 else 0.0,
            "effect_size_type": "cramers_v",
        }
        if labels is not None:
            out["categories"] = labels
            out["control_counts"] = control
            out["treatment_counts"] = treatment
        return out

    def _run_ks_test(self, control_values, treatment_values, alpha, **kwargs):
        """Two-sample Kolmogorov-Smirnov test; effect size the KS statistic (0..1)."""
        np, stats = require_scipy()
        control = np.array(_floats(control_values), dtype=float)
        treatment = np.array(_floats(treatment_values), dtype=float)
        ks_stat, p_value = stats.ks_2samp(control, treatment)
        ks_stat, p_value = float(ks_stat), float(p_value)
        lo = min(float(np.min(control)), float(np.min(treatment)))
        hi = max(float(np.max(control)), float(np.max(treatment)))
        overlap = None
        if hi > lo:
            edges = np.linspace(lo, hi, 50)
            ch, _ = np.histogram(control, bins=edges, density=True)
            th, _ = np.histogram(treatment, bins=edges, density=True)
            denom = float(np.sum(np.maximum(ch, th)))
            overlap = float(np.sum(np.minimum(ch, th))) / denom if denom > 0 else 0.0
        else:
            overlap = 1.0
        significant = bool(p_value < alpha)
        return {
            "test_type": "Kolmogorov-Smirnov test",
            "control_mean": float(np.mean(control)), "treatment_mean": float(np.mean(treatment)),
            "control_median": float(np.median(control)),
            "treatment_median": float(np.median(treatment)),
            "control_std": _nan_to_none(float(np.std(control, ddof=1)) if len(control) > 1
                                        else float("nan")),
            "treatment_std": _nan_to_none(float(np.std(treatment, ddof=1)) if len(treatment) > 1
                                          else float("nan")),
            "ks_statistic": ks_stat, "p_value": p_value, "significant": significant,
            "control_sample_size": len(control), "treatment_sample_size": len(treatment),
            "effect_size": ks_stat, "effect_size_type": "ks_statistic",
            "overlap_coefficient": overlap,
            "percentile_differences": {
                "p%d_diff" % p: float(np.percentile(treatment, p) - np.percentile(control, p))
                for p in (25, 50, 75, 90, 95)},
            "interpretation": self._interpret_ks_result(ks_stat, significant),
            "confidence_level": 1 - alpha,
        }

    @staticmethod
    def _interpret_ks_result(ks_stat, significant):
        if not significant:
            return "No significant difference between distributions"
        if ks_stat < 0.1:
            return "Very small difference between distributions"
        if ks_stat < 0.25:
            return "Small difference between distributions"
        if ks_stat < 0.5:
            return "Moderate difference between distributions"
        return "Large difference between distributions"

    # ------------------------------------------------------------------ assumptions

    def check_assumptions(self, metric):
        """Shapiro-Wilk normality of each group and Levene's equality of variances, with the
        test they recommend, per treatment."""
        np, stats = require_scipy()
        control_data = next(iter(self.control_experiment_data.values()))
        if metric not in control_data:
            raise ValueError("Metric '%s' not found in control data" % metric)
        control = np.array(_floats(control_data[metric]), dtype=float)

        def normality(x):
            if len(x) < 3 or len(set(x.tolist())) <= 1:
                return {"test": "Shapiro-Wilk", "statistic": None, "p_value": None,
                        "normal": len(set(x.tolist())) <= 1}
            s = stats.shapiro(x)
            return {"test": "Shapiro-Wilk", "statistic": float(s[0]), "p_value": float(s[1]),
                    "normal": bool(s[1] >= 0.05)}

        cn = normality(control)
        results = {}
        for tid, tdata in self.treatments_experiment_data.items():
            if metric not in tdata:
                logger.warning("Metric '%s' not found in treatment '%s'", metric, tid)
                continue
            treatment = np.array(_floats(tdata[metric]), dtype=float)
            tn = normality(treatment)
            lev = stats.levene(control, treatment)
            lp = _nan_to_none(float(lev[1]))
            eq = {"test": "Levene", "statistic": _nan_to_none(float(lev[0])), "p_value": lp,
                  "equal_variance": bool(lp is None or lp >= 0.05)}
            results[tid] = convert_to_serializable({
                "control_normality": cn, "treatment_normality": tn,
                "variance_homogeneity": eq,
                "recommended_test": self._recommend_test(cn["normal"], tn["normal"],
                                                         eq["equal_variance"])})
        return results

    @staticmethod
    def _recommend_test(control_normal, treatment_normal, equal_variance):
        if control_normal and treatment_normal:
            return "t_test" if equal_variance else "welch_t_test"
        return "mann_whitney"


def cohen_d(x, y):
    """Cohen's d of y against x: (mean(y) - mean(x)) / pooled standard deviation (0 when the
    pooled deviation is 0)."""
    x = _floats(list(x))
    y = _floats(list(y))
    nx, ny = len(x), len(y)
    if nx == 0 or ny == 0:
        return 0.0
    mx, my = sum(x) / nx, sum(y) / ny
    if nx + ny - 2 <= 0:
        return 0.0
    sx2 = sum((v - mx) ** 2 for v in x) / (nx - 1) if nx > 1 else 0.0
    sy2 = sum((v - my) ** 2 for v in y) / (ny - 1) if ny > 1 else 0.0
    pooled = math.sqrt(((nx - 1) * sx2 + (ny - 1) * sy2) / (nx + ny - 2))
    return (my - mx) / pooled if pooled > 0 else 0.0


def convert_to_serializable(obj):
    """NumPy scalars and arrays turned into plain Python values, recursively."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        np = None
    if np is not None:
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        if isinstance(obj, (np.number, np.bool_)):
            return obj.item()
    if isinstance(obj, dict):
        return {k: convert_to_serializable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [convert_to_serializable(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(convert_to_serializable(v) for v in obj)
    return obj
