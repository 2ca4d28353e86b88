"""Proposition (TinyTroupe's `tinytroupe.experimentation.Proposition`) over the session's
`proposition.check` command: a claim about an agent, a world or everyone, judged by the model
as true/false or scored 0-9. Each check is one model call recorded in the session's log, so a
rerun replays it.
"""

import re

from .agent import TinyPerson, _session_of
from .environment import TinyWorld

_DEFAULT_CONTEXT = "No additional context available."


def _render(claim, variables):
    """`{{name}}` placeholders of the claim replaced by `variables[name]`."""
    if not variables:
        return claim
    return re.sub(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}",
                  lambda m: str(variables.get(m.group(1), m.group(0))), claim)


def _as_list(target):
    if target is None:
        return []
    if isinstance(target, (list, tuple, set)):
        return list(target)
    return [target]


class Proposition:
    """A claim about a target (a TinyPerson, a TinyWorld, several of them, or everyone when no
    target is given), checked as a boolean or scored from MIN_SCORE to MAX_SCORE.

    `include_personas`, `double_check` and `use_reasoning_model` are accepted for TinyTroupe's
    sake; the session decides what the model is shown. With several targets, each is judged on
    its own: `check` holds when it holds for all, `score` is the lowest.
    """

    MIN_SCORE = 0
    MAX_SCORE = 9

    def __init__(self, claim, target=None, include_personas=False, first_n=None, last_n=None,
                 double_check=False, use_reasoning_model=False, precondition_function=None,
                 session=None):
        self.claim = claim
        self.targets = _as_list(target)
        self.include_personas = include_personas
        self.first_n = first_n
        self.last_n = last_n
        self.double_check = double_check
        self.use_reasoning_model = use_reasoning_model
        self.precondition_function = precondition_function
        self._session = session
        self.value = None
        self.justification = None
        self.confidence = None
        self.recommendations = None

    def copy(self):
        return Proposition(self.claim, self.targets, self.include_personas, self.first_n,
                           self.last_n, self.double_check, self.use_reasoning_model,
                           self.precondition_function, self._session)

    __copy__ = copy

    def __call__(self, target=None, additional_context=None, claim_variables=None,
                 return_full_response=False):
        return self.check(target, additional_context, claim_variables, return_full_response)

    # ------------------------------------------------------------------

    def _targets(self, target):
        targets = _as_list(target) if target is not None else self.targets
        for t in targets:
            if not isinstance(t, (TinyPerson, TinyWorld)):
                raise TypeError("a proposition's target is a TinyPerson or a TinyWorld, not %r" % (t,))
        return targets

    def _text(self, additional_context, claim_variables):
        text = _render(self.claim, claim_variables or {})
        if additional_context and additional_context != _DEFAULT_CONTEXT:
            text += "\n\nAdditional context: " + str(additional_context)
        return text

    def _ask(self, target, text, score):
        args = {"proposition": text, "score": bool(score)}
        if isinstance(target, TinyPerson):
            args["agent"] = target.name
            s = target._session
        elif isinstance(target, TinyWorld):
            args["world"] = target.name
            s = target._session
        else:
            s = _session_of(self._session)
        if self.first_n is not None:
            args["first_n"] = int(self.first_n)
        if self.last_n is not None:
            args["last_n"] = int(self.last_n)
        return s.command("proposition.check", **args)

    def _evaluate(self, target, additional_context, claim_variables, return_full_response,
                  score):
        targets = self._targets(target)
        if self.precondition_function is not None and not self.precondition_function(
                target=targets, additional_context=additional_context,
                claim_variables=claim_variables or {}):
            self.value = self.MAX_SCORE if score else True
            self.justification = "The precondition does not hold, so the proposition holds trivially."
            self.confidence = 1.0
        else:
            text = self._text(additional_context, claim_variables)
            answers = [self._ask(t, text, score) for t in (targets or [None])]
            values = [a.get("value") for a in answers]
            if score:
                self.value = min(int(v) for v in values)
            else:
                self.value = all(bool(v) for v in values)
            self.justification = "\n\n".join(str(a.get("justification") or "") for a in answers)
            self.confidence = answers[0].get("confidence") if len(answers) == 1 else None
        if return_full_response:
            return {"value": self.value, "justification": self.justification,
                    "confidence": self.confidence}
        return self.value

    def check(self, target=None, additional_context=_DEFAULT_CONTEXT, claim_variables=None,
              return_full_response=False):
        """Whether the claim holds (a bool)."""
        return self._evaluate(target, additional_context, claim_variables,
                              return_full_response, score=False)

    def score(self, target=None, additional_context=_DEFAULT_CONTEXT, claim_variables=None,
              return_full_response=False):
        """How far the claim holds, from MIN_SCORE (not at all) to MAX_SCORE (fully)."""
        return self._evaluate(target, additional_context, claim_variables,
                              return_full_response, score=True)

    def __repr__(self):
        return "Proposition(%r)" % self.claim


def check_proposition(target, claim, additional_context=_DEFAULT_CONTEXT, first_n=None,
                      last_n=None, return_full_response=False):
    """Check a claim about a target without keeping a Proposition."""
    return Proposition(claim, target, first_n=first_n, last_n=last_n).check(
        additional_context=additional_context, return_full_response=return_full_response)


def compute_score(target, claim, additional_context=_DEFAULT_CONTEXT, first_n=None,
                  last_n=None, return_full_response=False):
    """Score a claim about a target without keeping a Proposition."""
    return Proposition(claim, target, first_n=first_n, last_n=last_n).score(
        additional_context=additional_context, return_full_response=return_full_response)
