"""TinyWorld and TinySocialNetwork: worlds of the session, with TinyTroupe's names.

Each world has its own clock in the session (the server's default start is
2026-03-01T09:00:00 unless `initial_datetime` is given). `run` makes the world's agents act
together, `steps` times, and replies when the steps have committed to the log.
"""

import datetime as _dt
import html
import warnings

from . import display
from .agent import TinyPerson, _session_of, show_new_transcript


def iso_duration(td):
    """An ISO-8601 duration for a timedelta (or a duration string passed through)."""
    if td is None:
        return None
    if isinstance(td, str):
        return td
    if isinstance(td, (int, float)):
        td = _dt.timedelta(seconds=td)
    total = int(round(td.total_seconds()))
    if total < 0:
        raise ValueError("a step cannot go back in time: %r" % (td,))
    days, rem = divmod(total, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, seconds = divmod(rem, 60)
    out = "P"
    if days:
        out += "%dD" % days
    if hours or minutes or seconds or not days:
        out += "T"
        if hours:
            out += "%dH" % hours
        if minutes:
            out += "%dM" % minutes
        if seconds or not (hours or minutes):
            out += "%dS" % seconds
    return out


def _iso_datetime(value):
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, _dt.datetime):
        return value.replace(microsecond=0, tzinfo=None).isoformat()
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day).isoformat()
    raise TypeError("initial_datetime must be a datetime or an ISO string")


class TinyWorld:
    """A world (TinyTroupe's TinyWorld) of the session."""

    #: print every communication as it happens
    communication_display = True
    #: name -> TinyWorld of the current session
    all_environments = {}
    _network = False
    _counter = 0

    def __init__(self, name=None, agents=None, initial_datetime=None, interventions=None,
                 broadcast_if_no_target=True, max_additional_targets_to_display=3,
                 session=None):
        if interventions:
            raise NotImplementedError("interventions are not available in a troupe session; "
                                      "use a scenario's `interventions` with `coordinator run`")
        agents = list(agents or [])
        if session is None and agents:
            session = agents[0]._session
        self._session = _session_of(session)
        if name is None:
            TinyWorld._counter += 1
            name = "TinyWorld %d" % TinyWorld._counter
        if name in TinyWorld.all_environments:
            raise ValueError("Environment name %s is already in use." % name)
        self.name = name
        self.broadcast_if_no_target = broadcast_if_no_target
        self.agents = []
        self.name_to_agent = {}
        args = {"name": name, "agents": [], "network": bool(self._network),
                "broadcast_if_no_target": bool(broadcast_if_no_target)}
        start = _iso_datetime(initial_datetime)
        if start:
            args["start"] = start
        self._session.command("world.create", **args)
        TinyWorld.all_environments[name] = self
        self.add_agents(agents)

    @classmethod
    def _bind(cls, session, name, agent_names=()):
        self = cls.__new__(cls)
        self._session = session
        self.name = name
        self.broadcast_if_no_target = True
        self.agents = []
        self.name_to_agent = {}
        for n in agent_names:
            a = TinyPerson._bind(session, n)
            a.environment = self
            self.agents.append(a)
            self.name_to_agent[n] = a
        TinyWorld.all_environments[name] = self
        return self

    # ------------------------------------------------------------------ registry

    @staticmethod
    def add_environment(environment):
        if environment.name in TinyWorld.all_environments and \
                TinyWorld.all_environments[environment.name] is not environment:
            raise ValueError("Environment name %s is already in use." % environment.name)
        TinyWorld.all_environments[environment.name] = environment

    @staticmethod
    def get_environment_by_name(name):
        return TinyWorld.all_environments.get(name)

    @staticmethod
    def clear_environments():
        TinyWorld.all_environments = {}

    # ------------------------------------------------------------------ agents

    def _check(self, agent):
        if not isinstance(agent, TinyPerson):
            raise TypeError("expected a TinyPerson, got %r" % (agent,))
        if agent._session is not self._session:
            raise ValueError("%s belongs to another session" % agent.name)

    def add_agents(self, agents):
        new = []
        for a in agents:
            self._check(a)
            if a in self.agents or a in new:
                warnings.warn("Agent %s is already in the environment." % a.name)
                continue
            if a.name in self.name_to_agent:
                raise ValueError("Agent names must be unique, but '%s' is already in the "
                                 "environment." % a.name)
            new.append(a)
        if new:
            self._session.command("world.add_agents", world=self.name,
                                  agents=[a.name for a in new])
            for a in new:
                a.environment = self
                self.agents.append(a)
                self.name_to_agent[a.name] = a
        return self

    def add_agent(self, agent):
        return self.add_agents([agent])

    def remove_agent(self, agent):
        self._check(agent)
        self._session.command("world.remove_agent", world=self.name, agent=agent.name)
        if agent in self.agents:
            self.agents.remove(agent)
        self.name_to_agent.pop(agent.name, None)
        if agent.environment is self:
            agent.environment = None
        return self

    def remove_all_agents(self):
        for a in list(self.agents):
            self.remove_agent(a)
        return self

    def get_agent_by_name(self, name):
        return self.name_to_agent.get(name)

    def make_everyone_accessible(self):
        self._session.command("world.make_everyone_accessible", world=self.name)
        return self

    # ------------------------------------------------------------------ stimuli

    def _broadcast(self, content, type_, source=None):
        args = {"world": self.name, "content": content, "type": type_}
        src = source if isinstance(source, str) else getattr(source, "name", None)
        if src:
            args["source"] = src
        r = self._session.command("world.broadcast", **args)
        return r

    def broadcast(self, speech, source=None):
        self._broadcast(speech, "CONVERSATION", source)
        return self

    def broadcast_thought(self, thought, source=None):
        self._broadcast(thought, "THOUGHT", source)
        return self

    def broadcast_internal_goal(self, internal_goal):
        self._broadcast(internal_goal, "INTERNAL_GOAL_FORMULATION")
        return self

    def broadcast_context_change(self, context):
        self._session.command("world.change_context", world=self.name, context=list(context))
        return self

    # ------------------------------------------------------------------ time

    def run(self, steps, timedelta_per_step=None, return_actions=False,
            randomize_agents_order=True, parallelize=None):
        """The world's agents act together, `steps` times. With `return_actions`, a list with
        one `{agent_name: [{"action", "cognitive_state"}, ...]}` per step."""
        args = {"world": self.name, "steps": int(steps)}
        d = iso_duration(timedelta_per_step)
        if d:
            args["step"] = d
        r = self._session.command("world.run", **args)
        over_time = []
        for st in r.get("steps", []):
            per_agent = {}
            for name, info in (st.get("agents") or {}).items():
                acts = (info or {}).get("actions") or []
                per_agent[name] = [{"action": a, "cognitive_state": {}} for a in acts]
                ag = self.name_to_agent.get(name) or TinyPerson.all_agents.get(name)
                if ag is not None:
                    ag._actions_buffer.extend(acts)
                if (info or {}).get("status") not in (None, "ok", "done") and info.get("error"):
                    warnings.warn("%s could not act at step %s: %s"
                                  % (name, st.get("step"), info.get("error")), RuntimeWarning)
            over_time.append(per_agent)
        show_new_transcript(self._session, TinyWorld.communication_display)
        if return_actions:
            return over_time
        return None

    def skip(self, steps, timedelta_per_step=None):
        args = {"world": self.name, "steps": int(steps)}
        d = iso_duration(timedelta_per_step)
        if d:
            args["step"] = d
        self._session.command("world.skip", **args)
        return self

    def run_minutes(self, minutes, randomize_agents_order=True, parallelize=None):
        return self.run(minutes, _dt.timedelta(minutes=1))

    def run_hours(self, hours, randomize_agents_order=True, parallelize=None):
        return self.run(hours, _dt.timedelta(hours=1))

    def run_days(self, days, randomize_agents_order=True, parallelize=None):
        return self.run(days, _dt.timedelta(days=1))

    def run_weeks(self, weeks, randomize_agents_order=True, parallelize=None):
        return self.run(weeks, _dt.timedelta(weeks=1))

    def run_months(self, months, randomize_agents_order=True, parallelize=None):
        return self.run(months, _dt.timedelta(weeks=4))  # TinyTroupe: a month is 4 weeks

    def run_years(self, years, randomize_agents_order=True, parallelize=None):
        return self.run(years, _dt.timedelta(days=365))  # TinyTroupe: a year is 365 days

    def skip_minutes(self, minutes):
        return self.skip(minutes, _dt.timedelta(minutes=1))

    def skip_hours(self, hours):
        return self.skip(hours, _dt.timedelta(hours=1))

    def skip_days(self, days):
        return self.skip(days, _dt.timedelta(days=1))

    def skip_weeks(self, weeks):
        return self.skip(weeks, _dt.timedelta(weeks=1))

    def skip_months(self, months):
        return self.skip(months, _dt.timedelta(weeks=4))

    def skip_years(self, years):
        return self.skip(years, _dt.timedelta(days=365))

    def _world_status(self):
        for w in self._session.command("status").get("worlds", []):
            if w.get("name") == self.name:
                return w
        return {}

    @property
    def current_datetime(self):
        """The world's clock (a datetime)."""
        v = self._world_status().get("datetime")
        try:
            return _dt.datetime.fromisoformat(v) if v else None
        except ValueError:
            return v

    # ------------------------------------------------------------------ display

    def pretty_current_interactions(self, simplified=True, skip_system=True,
                                    max_content_length=None, first_n=None, last_n=None,
                                    include_omission_info=True):
        parts = []
        for a in self.agents:
            parts.append("#### Interactions of %s:\n%s" % (a.name, a.pretty_current_interactions(
                simplified, skip_system, max_content_length, first_n, last_n,
                include_omission_info)))
        return "\n".join(parts)

    def pp_current_interactions(self, simplified=True, skip_system=True):
        print(self.pretty_current_interactions(simplified, skip_system))

    def _repr_html_(self):
        e = html.escape
        try:
            st = self._world_status()
        except Exception as ex:
            return "<b>%s</b>: <i>%s</i>" % (e(self.name), e(str(ex)))
        parts = ["<div class='troupe-world'><b>%s</b> (%s, step %s)<ul>" % (
            e(self.name), e(str(st.get("datetime", ""))), e(str(st.get("step", ""))))]
        for a in self.agents:
            parts.append("<li><details><summary>%s</summary>%s</details></li>"
                         % (e(a.name), display.episodes_html(a.name, a.memory)))
        parts.append("</ul></div>")
        return "".join(parts)

    def __repr__(self):
        return "%s(name=%r)" % (type(self).__name__, self.name)


class TinySocialNetwork(TinyWorld):
    """A world whose accessibility follows named relations (TinyTroupe's TinySocialNetwork)."""

    _network = True

    def __init__(self, name, broadcast_if_no_target=True, session=None, initial_datetime=None):
        self.relations = {}
        super().__init__(name, [], initial_datetime=initial_datetime,
                         broadcast_if_no_target=broadcast_if_no_target, session=session)

    def add_relation(self, agent_1, agent_2, name="default"):
        """Relate two agents (added to the network when missing); both become accessible."""
        missing = [a for a in (agent_1, agent_2) if a not in self.agents]
        if missing:
            self.add_agents(missing)
        self._session.command("world.relate", world=self.name, relation=name,
                              agents=[agent_1.name, agent_2.name])
        self.relations.setdefault(name, []).append((agent_1, agent_2))
        return self

    def is_in_relation_with(self, agent_1, agent_2, relation_name=None):
        names = [relation_name] if relation_name else list(self.relations)
        for n in names:
            for a, b in self.relations.get(n, []):
                if (a is agent_1 and b is agent_2) or (a is agent_2 and b is agent_1):
                    return True
        return False
