"""Rendering of interactions as text (TinyTroupe's `SOURCE --> TARGET: [TYPE] > content` shape)
and as HTML for Jupyter (every piece of simulation text escaped)."""

import html
import sys
import textwrap


def _in_jupyter():
    ip = sys.modules.get("IPython")
    if ip is None:
        return False
    try:
        shell = ip.get_ipython()
    except Exception:
        return False
    return shell is not None and hasattr(shell, "kernel")


def conversation_html(text):
    """Transcript text as an HTML block (escaped)."""
    return ("<pre class='troupe-transcript' style='white-space:pre-wrap'>%s</pre>"
            % html.escape(text))


def show_text(text):
    """Print transcript text; in a Jupyter kernel, display it as (escaped) HTML."""
    if _in_jupyter():
        try:
            from IPython.display import HTML, display as ipy_display
            ipy_display(HTML(conversation_html(text)))
            return
        except Exception:
            pass
    print(text)

TEXT_WIDTH = 100


def _wrap(content, actor, max_content_length=None):
    text = "" if content is None else str(content)
    if max_content_length is not None and len(text) > max_content_length:
        text = text[:max_content_length] + " (...)"
    indent = " " * len(actor) + "      > "
    lines = []
    for para in text.splitlines() or [""]:
        lines.append(textwrap.fill(para, width=TEXT_WIDTH, initial_indent=indent,
                                   subsequent_indent=indent) or indent.rstrip())
    return "\n".join(lines)


def episode_line(agent_name, ep, max_content_length=None):
    """One episode of `agent.memory` as TinyTroupe-style text."""
    kind = ep.get("kind")
    typ = ep.get("type") or ""
    content = ep.get("content")
    if kind == "stimulus":
        actor = ep.get("source") or "USER"
        head = "%s --> %s: [%s]" % (actor, agent_name, typ)
    else:
        actor = agent_name
        target = ep.get("target") or ""
        if target and typ in ("TALK", "REACH_OUT"):
            head = "%s --> %s: [%s]" % (actor, target, typ)
        else:
            head = "%s acts: [%s]" % (actor, typ)
    return head + "\n" + _wrap(content, actor, max_content_length)


def select(episodes, first_n=None, last_n=None, include_omission_info=True):
    """The first_n and last_n episodes (all when neither is given), with an omission marker."""
    eps = list(episodes)
    if first_n is None and last_n is None:
        return eps
    first = eps[: first_n or 0]
    rest = eps[len(first):]
    last = rest[-last_n:] if last_n else []
    out = list(first)
    if include_omission_info and len(first) + len(last) < len(eps):
        out.append({"kind": "omission"})
    out.extend(last)
    return out


def trajectory_text(agent_name, episodes, max_content_length=None):
    lines = ["**** SIMULATION TRAJECTORY OF %s: BEGIN ****" % agent_name]
    last_dt = object()
    n = 0
    for ep in episodes:
        if ep.get("kind") == "omission":
            lines.append("(... earlier events left out ...)")
            continue
        dt = ep.get("datetime")
        if dt != last_dt:
            lines.append(">>>>>>>>> Date and time of events: %s" % dt)
            last_dt = dt
        lines.append("Event #%d:" % n)
        lines.append(episode_line(agent_name, ep, max_content_length))
        n += 1
    lines.append("(%d events)" % n)
    lines.append("**** SIMULATION TRAJECTORY OF %s: END ****\n" % agent_name)
    return "\n".join(lines)


_STYLE = (
    "<style>.troupe-i{font-family:monospace;font-size:90%;border-collapse:collapse}"
    ".troupe-i td{padding:2px 6px;vertical-align:top;text-align:left}"
    ".troupe-act{color:#1a7f37}.troupe-stim{color:#0969da}.troupe-think{color:#57606a;"
    "font-style:italic}</style>")


def episodes_html(agent_name, episodes, limit=200):
    e = html.escape
    eps = list(episodes)
    omitted = max(0, len(eps) - limit)
    eps = eps[-limit:]
    rows = []
    if omitted:
        rows.append("<tr><td colspan='3'>(%d earlier events not shown)</td></tr>" % omitted)
    for ep in eps:
        typ = ep.get("type") or ""
        if ep.get("kind") == "stimulus":
            who = "%s &rarr; %s" % (e(ep.get("source") or "USER"), e(agent_name))
            cls = "troupe-stim"
        else:
            tgt = ep.get("target") or ""
            who = e(agent_name) + ((" &rarr; " + e(tgt)) if tgt else "")
            cls = "troupe-think" if typ == "THINK" else "troupe-act"
        rows.append("<tr class='%s'><td>%s</td><td>%s</td><td>[%s] %s</td></tr>" % (
            cls, e(str(ep.get("datetime") or "")), who, e(typ),
            e("" if ep.get("content") is None else str(ep.get("content")))))
    return _STYLE + "<table class='troupe-i'>%s</table>" % "".join(rows)
