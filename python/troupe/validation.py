"""Validation of simulated people and of simulations (TinyTroupe's `tinytroupe.validation`).

- `TinyPersonValidator.validate_person(person, expectations, ...)`: the person is interviewed
  (a few rounds of `listen_and_act`, bounded), then one model call (`llm.ask`, task
  "validation") scores how well the person and the answers meet the expectations, 0..1, with a
  justification. Every turn and the call are recorded in the session's log, so a rerun of the
  session replays the validation with zero model calls.
- `SimulationExperimentEmpiricalValidator` and friends (see `troupe.simulation_validator`):
  simulated answers against real ones.

TinyTroupe's interviewer is itself a model that writes the questions round after round (up to
ten rounds). Here the questions are fixed (TinyTroupe's two phases: characteristics, then
behaviour), or given with `questions=`, so an interview costs the person's turns and exactly one
scoring call.
"""

import json
import re
import warnings

from . import _llm
from .errors import TroupeError
from .simulation_validator import (SimulationExperimentDataset,  # noqa: F401 (re-exported)
                                   SimulationExperimentEmpiricalValidationResult,
                                   SimulationExperimentEmpiricalValidator,
                                   validate_simulation_experiment_empirically)

#: TinyTroupe's MAX_CONTENT_DISPLAY_LENGTH default
default_max_content_display_length = 1024

#: the interview: characteristics first, then behaviour
DEFAULT_QUESTIONS = [
    "Please introduce yourself: what is your name, how old are you, where are you from and "
    "what do you do for a living?",
    "What matters most to you? Tell me about your interests, what you like and dislike, and "
    "how the people who know you would describe your personality.",
    "Suppose a colleague asks you for help with something urgent just as you are about to "
    "leave for the day. What do you do, and why?",
]

_SYSTEM = (
    "You assess whether a simulated person conforms to what is expected of them. You are given "
    "the expectations (first paragraph), then the person's specification (when available) and "
    "an interview in which the person answered questions. Judge how well the person, as "
    "specified and as they answered, meets the expectations: consistency with the "
    "expectations, coherence across answers, realism, factual accuracy. Be demanding: light "
    "deviations cost at least 0.1, factual errors 0.2 to 0.3, contradictions 0.4 to 0.5, and a "
    "severe mismatch scores below 0.3. Answer with JSON: {\"score\": a number from 0.0 (no "
    "alignment) to 1.0 (perfect alignment), \"justification\": your reasoning}.")

_SCHEMA = {"type": "object",
           "properties": {"score": {"type": "number"}, "justification": {"type": "string"}},
           "required": ["score", "justification"], "additionalProperties": False}


def _one_paragraph(text):
    """The text with no blank line (the first blank line ends the expectations)."""
    return re.sub(r"\n\s*\n+", "\n", str(text)).strip()


def _clip(text, n):
    text = "" if text is None else str(text)
    if n is not None and len(text) > n:
        return text[:n] + " (...)"
    return text


def _default_expectations(persona):
    """Without expectations, the person is expected to be who their specification says."""
    facts = []
    for key in ("name", "age", "nationality", "residence", "occupation"):
        v = persona.get(key)
        if isinstance(v, dict):
            v = v.get("title") or v.get("description")
        if v:
            facts.append("%s: %s" % (key, v))
    return "The person behaves and answers as their specification describes (%s)." % \
        "; ".join(facts)


class TinyPersonValidator:
    """Interview a person and score them against expectations."""

    @staticmethod
    def validate_person(person, expectations=None, include_agent_spec=True,
                        max_content_length=default_max_content_display_length, questions=None,
                        max_rounds=3):
        """Interview `person` (at most `max_rounds` questions, from `questions` or
        DEFAULT_QUESTIONS) and score them with one model call.

        Returns `(score, justification)`, the score from 0.0 to 1.0, or `(None, None)` when the
        model's answer is unusable (as TinyTroupe does)."""
        qs = list(questions if questions is not None else DEFAULT_QUESTIONS)
        qs = qs[:max(0, int(max_rounds))] if max_rounds is not None else qs
        persona = person.persona
        person.pop_latest_actions()  # only the answers to this interview
        interview = []
        for q in qs:
            person.listen_and_act(q, max_content_length=max_content_length)
            answer = person.pop_actions_and_get_contents_for("TALK", False)
            interview.append("Interviewer: %s\n%s: %s" % (
                q, person.name, _clip(answer, max_content_length) or "(no answer)"))
        if expectations is None:
            expectations = _default_expectations(persona)
        user = "%s\n\n" % _one_paragraph(expectations)
        if include_agent_spec:
            user += "Specification of the person:\n%s\n\n" % json.dumps(
                persona, indent=2, ensure_ascii=False)
        else:
            user += "The person is %s.\n\n" % person.name
        user += "Interview:\n" + ("\n\n".join(interview) if interview else "(no questions)")
        try:
            r = _llm.ask("validation", _SYSTEM, user, _SCHEMA, session=person)
        except TroupeError as e:
            warnings.warn("the validation of %s failed: %s" % (person.name, e), RuntimeWarning)
            return None, None
        value = r.get("value")
        if not isinstance(value, dict):
            value = _llm.extract_json(r.get("content"))
        if not isinstance(value, dict) or value.get("score") is None:
            warnings.warn("the validation of %s got no score" % person.name, RuntimeWarning)
            return None, None
        score = max(0.0, min(1.0, float(value["score"])))
        return score, value.get("justification")


__all__ = ["TinyPersonValidator", "SimulationExperimentDataset",
           "SimulationExperimentEmpiricalValidationResult",
           "SimulationExperimentEmpiricalValidator",
           "validate_simulation_experiment_empirically", "DEFAULT_QUESTIONS"]
