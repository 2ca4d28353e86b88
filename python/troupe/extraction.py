"""ResultsExtractor (over `coordinator extract`) and ResultsReducer (in Python, over the
agents' memory), with TinyTroupe's names and callback signature."""

import json
import os
import shutil
import textwrap
import warnings

from ._cli import run_subcommand
from .agent import TinyPerson, _session_of
from .errors import TroupeError

try:  # pandas is optional
    import pandas as _pd
except Exception:  # pragma: no cover - depends on the environment
    _pd = None


def _base(scope):
    """The files `coordinator extract` writes for a scope: a world extraction goes to
    world-extraction.*, beside (never over) the per-agent extraction.*."""
    return "world-extraction" if scope == "world" else "extraction"


def _made_calls(folder, base):
    """Whether an earlier extraction recorded model answers (`--replay` refuses a log
    without any)."""
    try:
        with open(os.path.join(folder, base + ".json"), "r", encoding="utf-8") as f:
            llm = json.load(f).get("llm") or {}
        return bool(llm.get("calls") or llm.get("replayed"))
    except (OSError, ValueError, AttributeError):
        return True


class ResultsExtractor:
    """Extracts structured results from agents' (or a world's) interaction histories.

    Each extraction runs `coordinator extract SCRATCH --objective ... [--fields a,b]
    --per-agent|--world` on a scratch directory (SESSION/extractions/NNNN) holding a copy of
    the session's sim.tlog, and reads the `extraction.json` (or `world-extraction.json`) it
    writes. A rerun of the session
    replays the previous run's extraction of the same number (`--replay`).
    """

    def __init__(self, extraction_prompt_template_path=None,
                 extraction_objective="The main points present in the agents' interactions history.",
                 situation="", fields=None, fields_hints=None, verbose=False, session=None):
        self.default_extraction_objective = extraction_objective
        self.default_situation = situation
        self.default_fields = fields
        self.default_fields_hints = fields_hints
        self.default_verbose = verbose
        self._session = session
        self.agent_extraction = {}
        self.world_extraction = {}
        self.last_extraction = None

    def _defaults(self, objective, situation, fields, fields_hints, verbose):
        return (self.default_extraction_objective if objective is None else objective,
                self.default_situation if situation is None else situation,
                self.default_fields if fields is None else fields,
                self.default_fields_hints if fields_hints is None else fields_hints,
                self.default_verbose if verbose is None else verbose)

    def _run(self, session, scope, objective, situation, fields, fields_hints, verbose):
        s = session
        if not s.out or not os.path.exists(os.path.join(s.out, "sim.tlog")):
            raise TroupeError("the session has no sim.tlog to extract from (out=%r)" % s.out)
        idx = s.next_index("extraction")
        folder_name = "%04d" % idx
        root = os.path.join(s.out, "extractions")
        scratch = os.path.join(root, folder_name)
        os.makedirs(scratch, exist_ok=True)
        shutil.copyfile(os.path.join(s.out, "sim.tlog"), os.path.join(scratch, "sim.tlog"))
        text = textwrap.dedent(objective or "").strip()
        if situation:
            text += "\n\nSituation: " + textwrap.dedent(situation).strip()
        if fields_hints:
            text += "\n\nHints on the fields:\n" + "\n".join(
                "- %s: %s" % (k, v) for k, v in dict(fields_hints).items())
        args = ["extract", scratch, "--objective", text or "The main points."]
        if fields:
            args += ["--fields", ",".join(str(f) for f in fields)]
        args.append("--world" if scope == "world" else "--per-agent")
        replay = None
        if s.previous:
            old = os.path.join(s.previous, "extractions", folder_name)
            if (os.path.exists(os.path.join(old, _base(scope) + ".tlog"))
                    and _made_calls(old, _base(scope))):
                replay = old
        if replay:
            args += ["--replay", replay]
        rc, err = run_subcommand(s, args, root, "extract")
        path = os.path.join(scratch, _base(scope) + ".json")
        if not os.path.exists(path):
            raise TroupeError("coordinator extract failed (exit %d): %s" % (rc, err))
        with open(path, "r", encoding="utf-8") as f:
            result = json.load(f)
        if rc != 0:
            warnings.warn("some extractions failed: %s" % (err or result.get("failures")),
                          RuntimeWarning)
        if verbose:
            print("Extraction written to %s" % path)
        self.last_extraction = result
        return result

    def extract_results_from_agents(self, agents, extraction_objective=None, situation=None,
                                    fields=None, fields_hints=None, verbose=None):
        """One result per agent, in the order given (one `coordinator extract` run)."""
        agents = list(agents)
        if not agents:
            return []
        objective, situation, fields, fields_hints, verbose = self._defaults(
            extraction_objective, situation, fields, fields_hints, verbose)
        s = _session_of(self._session or agents[0]._session)
        r = self._run(s, "agent", objective, situation, fields, fields_hints, verbose)
        per_agent = r.get("agent_extractions") or {}
        out = []
        for a in agents:
            name = a if isinstance(a, str) else a.name
            value = per_agent.get(name)
            if name not in per_agent:
                warnings.warn("coordinator extract gave no result for %s (it read %d agent(s) "
                              "from the session's log: %s)" % (name, len(per_agent),
                                                               ", ".join(sorted(per_agent))),
                              RuntimeWarning)
            self.agent_extraction[name] = value
            out.append(value)
        return out

    def extract_results_from_agent(self, tinyperson, extraction_objective=None, situation=None,
                                   fields=None, fields_hints=None, verbose=None):
        """The result for one agent (a dict, or None when nothing could be extracted)."""
        return self.extract_results_from_agents([tinyperson], extraction_objective, situation,
                                                fields, fields_hints, verbose)[0]

    def extract_results_from_world(self, tinyworld,
                                   extraction_objective="The main points that can be derived from the agents conversations and actions.",
                                   situation="", fields=None, fields_hints=None, verbose=None):
        """One result for everyone (the whole session's log)."""
        objective, situation, fields, fields_hints, verbose = self._defaults(
            extraction_objective, situation, fields, fields_hints, verbose)
        s = _session_of(self._session or tinyworld._session)
        r = self._run(s, "world", objective, situation, fields, fields_hints, verbose)
        value = r.get("world_extraction")
        self.world_extraction[tinyworld.name] = value
        return value

    def save_as_json(self, filename, verbose=False):
        with open(filename, "w", encoding="utf-8") as f:
            json.dump({"agent_extractions": self.agent_extraction,
                       "world_extraction": self.world_extraction}, f, indent=4,
                      ensure_ascii=False)
        if verbose:
            print("Saved extraction results to %s" % filename)


class ResultsReducer:
    """Reduces an agent's memory with Python rules, one per stimulus or action type.

    A rule is `func(focus_agent, source_agent, target_agent, kind, event, content, timestamp)`
    (keyword arguments, TinyTroupe's signature); non-None results are collected in order.
    """

    def __init__(self):
        self.results = {}
        self.rules = {}

    def add_reduction_rule(self, trigger, func):
        if trigger in self.rules:
            raise Exception("Rule for %s already exists." % trigger)
        self.rules[trigger] = func

    def reduce_agent(self, agent):
        reduction = []
        for ep in agent.memory:
            event = ep.get("type")
            rule = self.rules.get(event)
            if rule is None:
                continue
            if ep.get("kind") == "stimulus":
                extracted = rule(focus_agent=agent,
                                 source_agent=TinyPerson.get_agent_by_name(ep.get("source") or ""),
                                 target_agent=agent, kind="stimulus", event=event,
                                 content=ep.get("content"), timestamp=ep.get("datetime"))
            elif ep.get("kind") == "action":
                extracted = rule(focus_agent=agent, source_agent=agent,
                                 target_agent=TinyPerson.get_agent_by_name(ep.get("target") or ""),
                                 kind="action", event=event, content=ep.get("content"),
                                 timestamp=ep.get("datetime"))
            else:
                continue
            if extracted is not None:
                reduction.append(extracted)
        self.results[agent.name] = reduction
        return reduction

    def reduce_agent_to_dataframe(self, agent, column_names=None):
        """A pandas DataFrame when pandas is installed, else a list of dicts (one per row)."""
        reduction = self.reduce_agent(agent)
        if _pd is not None:
            return _pd.DataFrame(reduction, columns=column_names)
        rows = []
        for item in reduction:
            if isinstance(item, dict):
                row = dict(item)
                if column_names is not None:
                    row = {c: row.get(c) for c in column_names}
            elif isinstance(item, (list, tuple)):
                keys = list(column_names) if column_names is not None else list(range(len(item)))
                row = dict(zip(keys, item))
            else:
                key = column_names[0] if column_names else 0
                row = {key: item}
            rows.append(row)
        return rows


# TinyTroupe keeps these in tinytroupe.extraction too
from .normalizer import Normalizer  # noqa: E402
from .export import ArtifactExporter  # noqa: E402
