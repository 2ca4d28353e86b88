"""Steering a simulation (TinyTroupe's `tinytroupe.steering`): stories and interventions.

`TinyStory` tells the story of an agent or a world from its recent interactions, one model call
(`llm.ask`, task "story", plain text) per `start_story` / `continue_story`, recorded in the
session's log and replayed from it.

`Intervention` checks a precondition (a textual one judged by the model through a Proposition,
a Python function, a Proposition with an optional score threshold) and, when it holds, applies
an effect (a Python function of the targets). In TinyTroupe a world checks its interventions at
the start of every step; a troupe world's `run` has no such hook, so run the world one step at
a time and execute the interventions before each step:

    for _ in range(steps):
        for intervention in interventions:
            intervention.execute()
        world.run(1)

which is what `run_with_interventions(world, steps, interventions)` does. Every check is a
`proposition.check` command and every effect is commands of its own, all recorded in the log,
so a rerun of the session replays the whole steered run with zero model calls.
"""

import itertools

from . import _llm
from .agent import TinyPerson
from .environment import TinyWorld
from .experimentation import Proposition

DEFAULT_FIRST_N = 10
DEFAULT_LAST_N = 100

_STORY_START_SYSTEM = (
    "You are a storyteller for a computer simulation in which people (agents) act and talk in "
    "an environment. Given the simulation's purpose, requirements and what has happened so far, "
    "you begin a story that will guide the next events of the simulation. Write plain, "
    "readable English prose of about {words} words (never more), in one or more paragraphs. "
    "The story must serve the purpose, be plausible given the context, and set up an issue, "
    "a goal or a tension the agents will want to act on, while leaving them free to choose "
    "what they do. Use what happened only as background to stay consistent with: begin a new "
    "story rather than retelling it. Treat dates and times realistically.")

_STORY_CONTINUE_SYSTEM = (
    "You are a storyteller for a computer simulation in which people (agents) act and talk in "
    "an environment. Given the simulation's purpose, requirements, the story so far and the "
    "latest interactions, you write what happens next. Write plain, readable English prose of "
    "about {words} words (never more). The continuation must serve the purpose, follow "
    "plausibly from the story, bring some conflict or tension for the agents to resolve, "
    "leave them free to act, never repeat an earlier continuation, and obey the given "
    "requirements above all else. Treat dates and times realistically.{twist}")

_TWIST = " The continuation must also be an unexpected plot twist."


class TinyStory:
    """The story of a simulation (an agent's or a world's), told and continued by the model."""

    def __init__(self, environment=None, agent=None, purpose="Be a realistic simulation.",
                 context="", first_n=10, last_n=20, include_omission_info=True):
        if environment is not None and agent is not None:
            raise Exception("Either 'environment' or 'agent' should be provided, not both")
        if environment is None and agent is None:
            raise Exception("At least one of the parameters should be provided")
        if environment is not None and not isinstance(environment, TinyWorld):
            raise TypeError("environment: a TinyWorld")
        if agent is not None and not isinstance(agent, TinyPerson):
            raise TypeError("agent: a TinyPerson")
        self.environment = environment
        self.agent = agent
        self.purpose = purpose
        self.current_story = context or ""
        self.first_n = first_n
        self.last_n = last_n
        self.include_omission_info = include_omission_info

    def _interactions(self):
        who = self.agent if self.agent is not None else self.environment
        return who.pretty_current_interactions(first_n=self.first_n, last_n=self.last_n,
                                               include_omission_info=self.include_omission_info)

    def _current_story(self):
        """The story so far followed by the simulation's recent interactions."""
        return "%s\n\n## New simulation interactions to consider\n\n%s\n" % (
            self.current_story, self._interactions())

    def _user(self, kind, requirements):
        return ("Simulation purpose: \"%s\"\nStory %s requirements: \"%s\"\n\n"
                "The simulation so far:\n\n%s" % (self.purpose, kind, requirements,
                                                  self._current_story()))

    def _ask(self, system, user):
        return _llm.ask_text("story", system, user,
                             session=self.agent if self.agent is not None else self.environment)

    def start_story(self, requirements="Start some interesting story about the agents.",
                    number_of_words=100, include_plot_twist=False):
        """Begin the story (one model call); returns the new text, also appended to
        `current_story`."""
        system = _STORY_START_SYSTEM.format(words=int(number_of_words))
        if include_plot_twist:
            system += _TWIST
        start = self._ask(system, self._user("start", requirements))
        self.current_story += "\n\n## The story begins\n\n%s\n" % start
        return start

    def continue_story(self, requirements="Continue the story in an interesting way.",
                       number_of_words=100, include_plot_twist=False):
        """Continue the story (one model call); returns the continuation, also appended to
        `current_story`."""
        system = _STORY_CONTINUE_SYSTEM.format(words=int(number_of_words),
                                               twist=_TWIST if include_plot_twist else "")
        more = self._ask(system, self._user("continuation", requirements))
        self.current_story += "\n\n## The story continues\n\n%s\n" % more
        return more


# ---------------------------------------------------------------------- interventions

_ids = itertools.count(1)


class InterventionBatch:
    """Several interventions configured together (`Intervention.create_for_each`)."""

    def __init__(self, interventions):
        self.interventions = list(interventions)

    def __iter__(self):
        return iter(self.interventions)

    def __len__(self):
        return len(self.interventions)

    def set_textual_precondition(self, text):
        for i in self.interventions:
            i.set_textual_precondition(text)
        return self

    def set_functional_precondition(self, func):
        for i in self.interventions:
            i.set_functional_precondition(func)
        return self

    def set_effect(self, effect_func):
        for i in self.interventions:
            i.set_effect(effect_func)
        return self

    def set_propositional_precondition(self, proposition, threshold=None):
        for i in self.interventions:
            i.set_propositional_precondition(proposition, threshold)
        return self

    def execute(self):
        """Execute each intervention; the list of which were applied."""
        return [i.execute() for i in self.interventions]

    def as_list(self):
        return list(self.interventions)


class Intervention:
    """A precondition on targets (agents or worlds) and the effect to apply when it holds."""

    def __init__(self, targets, first_n=DEFAULT_FIRST_N, last_n=DEFAULT_LAST_N, name=None):
        self.targets = targets
        self.text_precondition = None
        self.precondition_func = None
        self.effect_func = None
        self.first_n = first_n
        self.last_n = last_n
        self.name = name if name is not None else "Intervention %d" % next(_ids)
        self._last_text_precondition_proposition = None
        self._last_functional_precondition_check = None
        self.propositional_precondition = None
        self.propositional_precondition_threshold = None
        self._last_propositional_precondition_check = None

    @classmethod
    def create_for_each(cls, targets, first_n=DEFAULT_FIRST_N, last_n=DEFAULT_LAST_N, name=None):
        """One intervention per target, configured together (an InterventionBatch)."""
        if not isinstance(targets, list):
            targets = [targets]
        return InterventionBatch(
            cls(t, first_n=first_n, last_n=last_n, name="%s_%d" % (name, i) if name else None)
            for i, t in enumerate(targets))

    def __call__(self):
        return self.execute()

    def execute(self):
        """Apply the effect if the precondition holds; whether it was applied."""
        if self.check_precondition():
            self.apply_effect()
            return True
        return False

    def check_precondition(self):
        """The textual precondition (a model call), the functional one and the propositional
        one, all of which must hold (each holds when not set). With a threshold, the
        propositional precondition holds when the proposition's score is below it."""
        if self.text_precondition is not None:
            self._last_text_precondition_proposition = Proposition(
                claim=self.text_precondition, target=self.targets, first_n=self.first_n,
                last_n=self.last_n)
            text_ok = bool(self._last_text_precondition_proposition.check())
        else:
            text_ok = True
        if self.precondition_func is not None:
            self._last_functional_precondition_check = bool(self.precondition_func(self.targets))
        else:
            self._last_functional_precondition_check = True
        self._last_propositional_precondition_check = True
        if self.propositional_precondition is not None:
            if self.propositional_precondition_threshold is not None:
                score = self.propositional_precondition.score(target=self.targets)
                if score >= self.propositional_precondition_threshold:
                    self._last_propositional_precondition_check = False
            elif not self.propositional_precondition.check(target=self.targets):
                self._last_propositional_precondition_check = False
        return text_ok and self._last_functional_precondition_check and \
            self._last_propositional_precondition_check

    def apply_effect(self):
        """Apply the effect (without checking the precondition)."""
        if self.effect_func is None:
            raise ValueError("%s has no effect: call set_effect first" % self.name)
        self.effect_func(self.targets)

    def set_textual_precondition(self, text):
        self.text_precondition = text
        return self

    def set_functional_precondition(self, func):
        self.precondition_func = func
        return self

    def set_effect(self, effect_func):
        self.effect_func = effect_func
        return self

    def set_propositional_precondition(self, proposition, threshold=None):
        self.propositional_precondition = proposition
        self.propositional_precondition_threshold = threshold
        return self

    def precondition_justification(self):
        """Why the last check came out as it did."""
        out = ""
        p = self._last_text_precondition_proposition
        if p is not None:
            out += "%s (confidence = %s)\n\n" % (p.justification, p.confidence)
        if self.precondition_func is not None:
            out += ("Functional precondition was met.\n\n"
                    if self._last_functional_precondition_check
                    else "Preconditions do not appear to be met.\n\n")
        if self.propositional_precondition is not None:
            out += ("Propositional precondition was met.\n\n"
                    if self._last_propositional_precondition_check
                    else "Propositional precondition was not met.\n\n")
        return out

    def __repr__(self):
        return "Intervention(%r)" % self.name


def run_with_interventions(world, steps, interventions, timedelta_per_step=None,
                           return_actions=False):
    """Run `world` for `steps` steps, one at a time, executing every intervention (an
    Intervention, an InterventionBatch, or a list of them) before each step, as a TinyTroupe
    world does. Returns the actions per step with `return_actions`."""
    flat = []
    for i in (interventions if isinstance(interventions, (list, tuple)) else [interventions]):
        flat.extend(i if isinstance(i, InterventionBatch) else [i])
    over_time = []
    for _ in range(int(steps)):
        for i in flat:
            i.execute()
        r = world.run(1, timedelta_per_step=timedelta_per_step, return_actions=return_actions)
        if return_actions and r:
            over_time.extend(r)
    return over_time if return_actions else None


__all__ = ["TinyStory", "Intervention", "InterventionBatch", "run_with_interventions"]
