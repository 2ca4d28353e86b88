"""Content enrichment and style transfer (TinyTroupe's `tinytroupe.enrichment`): `TinyEnricher`
makes synthetic content richer and more realistic, `TinyStyler` rewrites content in a given
style, keeping its facts. Each call is one model call (`llm.ask`, tasks "enrich" and "style",
plain text), recorded in the session's log and served from it when the session is replayed.
The result is the content of the answer's fenced code block (the whole answer when it has
none).
"""

from . import _llm

_ENRICH_SYSTEM = (
    "You enrich synthetic content (documents, meetings, emails, chat messages, tables, "
    "configuration files, ...) so that it becomes more realistic, informative, useful and "
    "human-like: expanding outlines, filling in plausible specific details, adjusting tone, or "
    "adapting the format, as the requirements ask. Keep what the content already says, stay "
    "consistent with the context given, and do not repeat earlier enrichments listed as "
    "context. Answer with the enriched content only, inside one fenced code block (```).")

_STYLE_SYSTEM = (
    "You rewrite content in a requested writing or speaking style (tone, register, dialect, "
    "personality, conventions) while preserving all of its information: names, dates, numbers, "
    "technical terms, every point made. Do not add or remove information unless asked. Answer "
    "with the restyled content only, inside one fenced code block (```).")


def _user(kind_label, kind_value, content_type, content, context_info, context_cache):
    parts = []
    if content_type:
        parts.append("Content type: %s" % content_type)
    else:
        parts.append("Content type: not specified (guess it from the content)")
    parts.append("%s: %s" % (kind_label, kind_value))
    if context_info:
        parts.append("Context information:\n%s" % context_info)
    if context_cache:
        lines = []
        for item in context_cache:
            if isinstance(item, dict):
                lines.append("- %s: %s" % (item.get("cached_type") or item.get("style") or
                                           "previous", item.get("cached_content") or
                                           item.get("styled") or item.get("content") or ""))
            else:
                lines.append("- %s" % item)
        parts.append("Earlier results:\n" + "\n".join(lines))
    parts.append("The content:\n```\n%s\n```" % content)
    return "\n\n".join(parts)


class TinyEnricher:
    """Enrich content with one model call per `enrich_content`."""

    def __init__(self, use_past_results_in_context=False, session=None):
        self.use_past_results_in_context = use_past_results_in_context
        self.context_cache = []
        self._session = session

    def enrich_content(self, requirements, content, content_type=None, context_info="",
                       context_cache=None, verbose=False):
        """The content, enriched as `requirements` say."""
        if context_cache is None and self.use_past_results_in_context:
            context_cache = self.context_cache
        user = _user("Enrichment requirements", requirements, content_type, content,
                     context_info, context_cache)
        answer = _llm.ask_text("enrich", _ENRICH_SYSTEM, user, session=self._session)
        if verbose:
            print("Enrichment result: %s" % answer)
        result = _llm.extract_code_block(answer) if answer is not None else None
        if self.use_past_results_in_context and result is not None:
            self.context_cache.append({"cached_type": content_type or "content",
                                       "cached_content": result})
        return result


class TinyStyler:
    """Apply a style to content with one model call per `apply_style`."""

    def __init__(self, use_past_results_in_context=False, session=None):
        self.use_past_results_in_context = use_past_results_in_context
        self.context_cache = []
        self._session = session

    def apply_style(self, content, style, content_type=None, context_info="", context_cache=None,
                    verbose=False, temperature=0.7):
        """The content rewritten in `style`, its information kept. (`temperature` is accepted
        for TinyTroupe's sake; the session's configuration sets the model's.)"""
        if context_cache is None and self.use_past_results_in_context:
            context_cache = self.context_cache
        user = _user("Style", style, content_type, content, context_info, context_cache)
        answer = _llm.ask_text("style", _STYLE_SYSTEM, user, session=self._session)
        if verbose:
            print("Styling result: %s" % answer)
        if not answer:
            return content
        styled = _llm.extract_code_block(answer) or answer
        if self.use_past_results_in_context:
            self.context_cache.append({"original": content, "style": style, "styled": styled})
        return styled


__all__ = ["TinyEnricher", "TinyStyler"]
