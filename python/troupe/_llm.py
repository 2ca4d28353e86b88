"""One model call for the package's own tools (validator, story, enricher, styler, normalizer):
the session's `llm.ask` command, recorded in the session's log and served from it when the
session is replayed. Also TinyTroupe's small text helpers (`extract_code_block`,
`extract_json`)."""

import json
import re

from .agent import _session_of


def session_for(*candidates):
    """The session of the first candidate that has one (a TinyPerson, a TinyWorld, a Session),
    else the current session."""
    for c in candidates:
        if c is None:
            continue
        if isinstance(c, (list, tuple)):
            for x in c:
                s = getattr(x, "_session", None)
                if s is not None:
                    return s
            continue
        s = getattr(c, "_session", None)
        if s is not None:
            return s
        if hasattr(c, "command"):
            return c
    return _session_of(None)


def ask(task, system, user, schema=None, session=None):
    """One `llm.ask` call; returns the result `{"content", "value"}`. `schema` (a JSON schema
    object) asks for a structured answer, `None` for plain text."""
    s = session_for(session)
    return s.command("llm.ask", task=task, system=system, user=user, schema=schema)


def ask_text(task, system, user, session=None):
    """The plain-text answer of one `llm.ask` call."""
    r = ask(task, system, user, None, session)
    content = r.get("content")
    if content is None and isinstance(r.get("value"), str):
        content = r["value"]
    return content or ""


def extract_code_block(text):
    """The content of the first fenced code block of `text` (without the fences); the whole
    text (stripped) when it has none."""
    if text is None:
        return None
    m = re.search(r"```[^\n`]*\n(.*?)```", text, flags=re.DOTALL)
    if m:
        return m.group(1).strip("\n")
    m = re.search(r"```(.*?)```", text, flags=re.DOTALL)
    if m:
        return m.group(1).strip()
    return text.strip()


def extract_json(text):
    """The first JSON object or array found in `text` (fenced or not); None when there is
    none."""
    if text is None:
        return None
    if not isinstance(text, str):
        return text
    candidates = [extract_code_block(text), text]
    decoder = json.JSONDecoder()
    for cand in candidates:
        if cand is None:
            continue
        cand = cand.strip()
        for i, ch in enumerate(cand):
            if ch in "[{":
                try:
                    value, _ = decoder.raw_decode(cand[i:])
                    return value
                except ValueError:
                    continue
    return None
