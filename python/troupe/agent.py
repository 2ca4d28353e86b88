"""TinyPerson: an agent of the session, with TinyTroupe's names.

A TinyPerson here is a handle: the persona, the memory and the cognitive state live in the
session (the coordinator and the agent's agentd), and every method is a command to the session
server. Names are unique in a session, as TinyTroupe requires them to be globally unique.
"""

import json
import os
import textwrap
import warnings

from . import display
from .errors import NameConflictError, TroupeError

_DEFAULT_RELATION = "An agent I can currently interact with."
_MISSING = object()


def _session_of(session=None):
    if session is not None:
        return session
    from . import control
    return control.current_session()


def show_new_transcript(session, flag=None):
    """Print what the session's transcript gained since last time (TinyTroupe prints every
    communication as it happens)."""
    on = TinyPerson.communication_display if flag is None else flag
    if not on:
        # keep the offset current so that a later display does not replay old text
        try:
            session.new_transcript()
        except TroupeError:
            pass
        return
    text = session.new_transcript()
    if text:
        display.show_text(text.rstrip("\n"))


def _name_or_empty(x):
    if x is None:
        return ""
    if isinstance(x, str):
        return x
    return getattr(x, "name", "") or ""


def _dot_get(obj, key):
    value = obj
    for k in key.split("."):
        if isinstance(value, dict):
            value = value.get(k, None)
        else:
            return None
    return value


class EpisodicMemoryView:
    """Read-only view of an agent's episodic memory in TinyTroupe's item format
    (`{"role", "content", "type", "simulation_timestamp"}`), built from the session's log."""

    def __init__(self, agent):
        self._agent = agent

    @staticmethod
    def to_item(ep):
        if ep.get("kind") == "stimulus":
            return {"role": "user",
                    "content": {"stimuli": [{"type": ep.get("type"), "content": ep.get("content"),
                                             "source": ep.get("source") or ""}]},
                    "type": "stimulus", "simulation_timestamp": ep.get("datetime")}
        return {"role": "assistant",
                "content": {"action": {"type": ep.get("type"), "content": ep.get("content"),
                                       "target": ep.get("target") or ""}},
                "type": "action", "simulation_timestamp": ep.get("datetime")}

    def retrieve_all(self, item_type=None):
        items = [self.to_item(ep) for ep in self._agent.memory]
        if item_type is not None:
            items = [i for i in items if i["type"] == item_type]
        return items

    def retrieve_first(self, n, include_omission_info=True, item_type=None):
        return self.retrieve_all(item_type)[:n]

    def retrieve_last(self, n, include_omission_info=True, item_type=None):
        return self.retrieve_all(item_type)[-n:] if n else []

    def retrieve_recent(self, include_omission_info=True, item_type=None):
        items = self.retrieve_all(item_type)
        return items[:10] + items[10:][-20:]

    def count(self):
        return len(self._agent.memory)


class TinyPerson:
    """An agent (TinyTroupe's TinyPerson) living in a troupe session."""

    MAX_ACTIONS_BEFORE_DONE = 15
    PP_TEXT_WIDTH = 100
    #: print every communication as it happens (TinyTroupe's default)
    communication_display = True
    #: name -> TinyPerson of the current session
    all_agents = {}

    def __init__(self, name=None, action_generator=None, episodic_memory=None,
                 semantic_memory=None, mental_faculties=None,
                 enable_basic_action_repetition_prevention=True, persona=None, session=None):
        """Make a new agent named `name` (optionally with a whole `persona` dict)."""
        if name is None and not (persona and persona.get("name")):
            raise ValueError("a TinyPerson needs a name")
        p = dict(persona or {})
        if name is not None:
            p["name"] = name
        self._init_handle(_session_of(session), p["name"])
        self._create(persona=p)

    # ------------------------------------------------------------------ construction

    def _init_handle(self, session, name):
        self._session = session
        self.name = name
        self.environment = None
        self._actions_buffer = []

    @classmethod
    def _bind(cls, session, name):
        """The handle of an agent that already exists in the session."""
        existing = TinyPerson.all_agents.get(name)
        if existing is not None and existing._session is session:
            return existing
        self = cls.__new__(cls)
        self._init_handle(session, name)
        TinyPerson.all_agents[name] = self
        return self

    def _create(self, spec=None, persona=None, new_name=None, fragments=None,
                auto_rename=False):
        if new_name is not None:
            self.name = new_name
        base = self.name
        attempt = 1
        while True:
            if self.name in TinyPerson.all_agents:
                err = NameConflictError("Agent name %s is already in use." % self.name,
                                        code="conflict")
            else:
                args = {}
                if spec is not None:
                    args["spec"] = spec
                if persona is not None:
                    p = dict(persona)
                    if new_name is not None or attempt > 1:
                        p["name"] = self.name
                    args["persona"] = p
                if spec is not None and (new_name is not None or attempt > 1):
                    args["name"] = self.name
                if fragments:
                    args["fragments"] = [os.path.abspath(f) for f in fragments]
                try:
                    r = self._session.command("agent.create", **args)
                    self.name = r.get("name", self.name)
                    break
                except NameConflictError as e:
                    err = e
            if not auto_rename:
                raise err
            attempt += 1
            self.name = "%s %d" % (base, attempt)
        TinyPerson.all_agents[self.name] = self
        return self

    @staticmethod
    def load_specification(path_or_dict, suppress_mental_faculties=False, suppress_memory=False,
                           suppress_mental_state=False, auto_rename_agent=False,
                           new_agent_name=None, session=None, fragments=None):
        """Make an agent from a `.agent.json` file (read by the coordinator) or a dict (a whole
        `{"type": "TinyPerson", "persona": {...}}` spec or just the persona), optionally under
        a new name and with fragments applied in order."""
        s = _session_of(session)
        self = TinyPerson.__new__(TinyPerson)
        if isinstance(path_or_dict, dict):
            persona = path_or_dict.get("persona", path_or_dict)
            if not isinstance(persona, dict) or not (new_agent_name or persona.get("name")):
                raise ValueError("the specification has no persona with a name")
            self._init_handle(s, new_agent_name or persona.get("name"))
            return self._create(persona=persona, new_name=new_agent_name, fragments=fragments,
                                auto_rename=auto_rename_agent)
        path = os.path.abspath(os.fspath(path_or_dict))
        if not os.path.isfile(path):
            raise FileNotFoundError(path)
        name = new_agent_name
        if name is None:
            try:
                with open(path, "r", encoding="utf-8") as f:
                    name = json.load(f).get("persona", {}).get("name")
            except (OSError, ValueError, AttributeError):
                name = None
        self._init_handle(s, name or os.path.basename(path))
        return self._create(spec=path, new_name=new_agent_name, fragments=fragments,
                            auto_rename=auto_rename_agent)

    @staticmethod
    def load_specifications_from_folder(folder_path, file_suffix=".agent.json", **kwargs):
        agents = []
        for f in sorted(os.listdir(folder_path)):
            if f.endswith(file_suffix):
                agents.append(TinyPerson.load_specification(os.path.join(folder_path, f), **kwargs))
        return agents

    def save_specification(self, path, include_mental_faculties=True, include_memory=False,
                           include_mental_state=False):
        spec = {"type": "TinyPerson", "persona": self.persona}
        if include_mental_state:
            spec["mental_state"] = self.cognitive_state
        if include_memory:
            spec["episodic_memory"] = self.episodic_memory.retrieve_all()
        with open(path, "w", encoding="utf-8") as f:
            json.dump(spec, f, indent=4, ensure_ascii=False)

    def create_new_agent_from_current_spec(self, new_name):
        return TinyPerson.load_specification({"persona": self.persona}, new_agent_name=new_name,
                                             session=self._session)

    # ------------------------------------------------------------------ registry

    @staticmethod
    def add_agent(agent):
        if agent.name in TinyPerson.all_agents and TinyPerson.all_agents[agent.name] is not agent:
            raise ValueError("Agent name %s is already in use." % agent.name)
        TinyPerson.all_agents[agent.name] = agent

    @staticmethod
    def has_agent(agent_name):
        return agent_name in TinyPerson.all_agents

    @staticmethod
    def get_agent_by_name(name):
        return TinyPerson.all_agents.get(name)

    @staticmethod
    def all_agents_names():
        return list(TinyPerson.all_agents.keys())

    @staticmethod
    def clear_agents():
        """Forget every agent handle (the session itself keeps its agents: their names stay
        taken until a new session is begun)."""
        TinyPerson.all_agents = {}

    # ------------------------------------------------------------------ persona

    @property
    def persona(self):
        """The whole persona (a copy, from the session)."""
        return self._session.command("agent.persona", agent=self.name).get("persona", {})

    @property
    def _persona(self):
        return self.persona

    def get(self, key):
        """A persona value by dot path ("occupation.title"); None when absent."""
        return _dot_get(self.persona, key)

    def __getitem__(self, key):
        return self.get(key)

    def __setitem__(self, key, value):
        self.define(key, value)

    def __add__(self, other):
        if isinstance(other, dict):
            self.include_persona_definitions(other)
        elif isinstance(other, (str, os.PathLike)):
            self.import_fragment(other)
        else:
            raise TypeError("a TinyPerson can be added a dict of definitions or a fragment path")
        return self

    def define(self, key, value, merge=False, overwrite_scalars=True):
        """Set a persona value (dot path). Strings are dedented; dicts and lists replace the old
        value, or are deep-merged with `merge=True`; an existing scalar is kept (ValueError)
        when `overwrite_scalars=False`."""
        if isinstance(value, str):
            value = textwrap.dedent(value)
        is_container = isinstance(value, (dict, list))
        if not is_container and not overwrite_scalars and key is not None:
            cur = self.persona
            node = cur
            parts = key.split(".")
            present = True
            for k in parts:
                if isinstance(node, dict) and k in node:
                    node = node[k]
                else:
                    present = False
                    break
            if present:
                raise ValueError("The key '%s' already exists in the persona configuration and "
                                 "overwrite_scalars is set to False." % key)
        # the coordinator merges as TinyTroupe's merge_dicts does (objects key by key, lists
        # joined without repeats, a conflicting value refused with a ValueError)
        self._session.command("agent.define", agent=self.name, key=key, value=value,
                              merge=bool(merge and is_container))
        return self

    def include_persona_definitions(self, additional_definitions):
        """Deep-merge a dict of definitions into the persona (TinyTroupe's merge_dicts: lists
        are joined without duplicates, a conflicting value raises ValueError)."""
        if not isinstance(additional_definitions, dict):
            raise TypeError("include_persona_definitions takes a dict")
        if "name" in additional_definitions:
            raise ValueError("an agent's name cannot be redefined")
        if additional_definitions:
            self._session.command("agent.define", agent=self.name, key=None,
                                  value=additional_definitions, merge=True)
        return self

    def import_fragment(self, path):
        """Deep-merge a `.fragment.json` (`{"type": "Fragment", "persona": {...}}`); the
        coordinator reads the file and merges it as TinyTroupe does."""
        path = os.path.abspath(os.fspath(path))
        if not os.path.isfile(path):
            raise FileNotFoundError(path)
        self._session.command("agent.import_fragment", agent=self.name, path=path)
        return self

    def minibio(self, extended=True, requirements=None):
        return self._session.command("agent.minibio", agent=self.name).get("minibio", "")

    # ------------------------------------------------------------------ stimuli

    def _stimulus(self, type_, content, source):
        args = {"agent": self.name, "type": type_, "content": content}
        src = _name_or_empty(source)
        if src:
            args["source"] = src
        self._session.command("agent.stimulus", **args)
        return self

    def listen(self, speech, source=None, max_content_length=None, communication_display=None):
        return self._stimulus("CONVERSATION", speech, source)

    def socialize(self, social_description, source=None, max_content_length=None):
        return self._stimulus("SOCIAL", social_description, source)

    def see(self, visual_description, source=None, max_content_length=None):
        return self._stimulus("VISUAL", visual_description, source)

    def think(self, thought, max_content_length=None):
        return self._stimulus("THOUGHT", thought, self.name)

    def internalize_goal(self, goal, max_content_length=None):
        return self._stimulus("INTERNAL_GOAL_FORMULATION", goal, self.name)

    # ------------------------------------------------------------------ acting

    def _turn(self, stimulus=None, communication_display=None):
        args = {"agent": self.name}
        if stimulus is not None:
            args["stimulus"] = stimulus
        r = self._session.command("agent.act", **args)
        if r.get("status") not in (None, "ok", "done") and r.get("error"):
            warnings.warn("%s could not act: %s" % (self.name, r.get("error")), RuntimeWarning)
        cs = r.get("cognitive_state") or {}
        contents = [{"action": a, "cognitive_state": cs} for a in (r.get("actions") or [])]
        self._actions_buffer.extend(a for a in (r.get("actions") or []))
        show_new_transcript(self._session, communication_display)
        return contents

    def act(self, until_done=True, n=None, return_actions=False, max_content_length=None,
            communication_display=None):
        """One turn of this agent alone (one step of its own in the log; the world clock does
        not move). With `n`, turns are taken until at least n actions were committed."""
        if until_done and n is not None:
            raise ValueError("act(): give either until_done or n, not both")
        contents = []
        if n is not None:
            if n >= TinyPerson.MAX_ACTIONS_BEFORE_DONE:
                raise ValueError("n must be below %d" % TinyPerson.MAX_ACTIONS_BEFORE_DONE)
            while len(contents) < n:
                got = self._turn(communication_display=communication_display)
                if not got:
                    break
                contents.extend(got)
        else:
            contents = self._turn(communication_display=communication_display)
        if return_actions:
            return contents
        return None

    def listen_and_act(self, speech, return_actions=False, max_content_length=None,
                       communication_display=None):
        """Hear `speech` and take one turn (a single command: the turn gets the stimulus)."""
        c = self._turn({"type": "CONVERSATION", "content": speech}, communication_display)
        return c if return_actions else None

    def see_and_act(self, visual_description, return_actions=False, max_content_length=None):
        c = self._turn({"type": "VISUAL", "content": visual_description})
        return c if return_actions else None

    def think_and_act(self, thought, return_actions=False, max_content_length=None):
        c = self._turn({"type": "THOUGHT", "content": thought, "source": self.name})
        return c if return_actions else None

    def pop_latest_actions(self):
        """The actions of this agent's turns since the last pop (its own and world steps)."""
        out, self._actions_buffer = self._actions_buffer, []
        return out

    def pop_actions_and_get_contents_for(self, action_type, only_last_action=True):
        actions = [a for a in self.pop_latest_actions() if a.get("type") == action_type]
        if only_last_action:
            return actions[-1].get("content", "") if actions else ""
        return "\n".join(a.get("content", "") for a in actions)

    # ------------------------------------------------------------------ context

    def move_to(self, location, context=None):
        self._session.command("agent.move_to", agent=self.name, location=location,
                              context=list(context or []))
        return self

    def change_context(self, context):
        self._session.command("agent.change_context", agent=self.name, context=list(context))
        return self

    def make_agent_accessible(self, agent, relation_description=_DEFAULT_RELATION):
        """Make `agent` accessible (in the session both become accessible to each other)."""
        self._session.command("agent.make_accessible", agent=self.name,
                              other=_name_or_empty(agent))
        return self

    def make_agents_accessible(self, agents, relation_description=_DEFAULT_RELATION):
        for a in agents:
            self.make_agent_accessible(a, relation_description)
        return self

    # ------------------------------------------------------------------ memory and state

    @property
    def memory(self):
        """The agent's episodes, oldest first: `{"step", "datetime", "kind": "stimulus" |
        "action", "type", "content", "source", "target"}`."""
        return self._session.command("agent.memory", agent=self.name).get("episodes", [])

    def last_memories(self, n):
        return self._session.command("agent.memory", agent=self.name, last=int(n)).get("episodes", [])

    @property
    def episodic_memory(self):
        return EpisodicMemoryView(self)

    @property
    def cognitive_state(self):
        return self._session.command("agent.cognitive_state", agent=self.name)

    @property
    def _mental_state(self):
        return self.cognitive_state

    def last_remembered_action(self, ignore_done=True):
        for ep in reversed(self.memory):
            if ep.get("kind") == "action" and not (ignore_done and ep.get("type") == "DONE"):
                return {"type": ep.get("type"), "content": ep.get("content"),
                        "target": ep.get("target") or ""}
        return None

    # ------------------------------------------------------------------ display

    def pretty_current_interactions(self, simplified=True, skip_system=True,
                                    max_content_length=None, first_n=None, last_n=None,
                                    include_omission_info=True):
        eps = display.select(self.memory, first_n, last_n, include_omission_info)
        return display.trajectory_text(self.name, eps, max_content_length)

    def pp_current_interactions(self, simplified=True, skip_system=True, max_content_length=None,
                                first_n=None, last_n=None, include_omission_info=True):
        print(self.pretty_current_interactions(simplified, skip_system, max_content_length,
                                               first_n, last_n, include_omission_info))

    def pp_last_interactions(self, n=3, simplified=True, skip_system=True,
                             max_content_length=None, include_omission_info=True):
        print(self.pretty_current_interactions(simplified, skip_system, max_content_length,
                                               None, n, include_omission_info))

    def _repr_html_(self):
        import html
        try:
            bio = self.minibio()
            eps = self.memory
        except TroupeError as e:
            return "<b>%s</b>: <i>%s</i>" % (html.escape(self.name), html.escape(str(e)))
        return ("<div class='troupe-agent'><b>%s</b><p>%s</p>%s</div>"
                % (html.escape(self.name), html.escape(bio or ""),
                   display.episodes_html(self.name, eps)))

    def __repr__(self):
        return "TinyPerson(name=%r)" % self.name
