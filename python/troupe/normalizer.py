"""Normalizer (TinyTroupe's `tinytroupe.extraction.Normalizer`): many free-text elements (the
agents' answers, concepts, passages) grouped into at most `n` normalised labels by the model,
then any element mapped to one of them.

Each model call is an `llm.ask` (task "normalize", plain text answered with JSON), recorded in
the session's log and served from it when the session is replayed. The elements are
de-duplicated in their order of appearance (TinyTroupe uses a set, whose order changes from run
to run: the request, and so the replay, would differ). Elements already placed by the grouping
are mapped without a further call.
"""

import logging
import textwrap

from . import _llm

logger = logging.getLogger("troupe")

_GROUP_SYSTEM = (
    "You normalise a list of textual elements: group elements that mean the same or nearly the "
    "same thing and give each group a short, clear, general label. Produce at most {n} "
    "labels{max_length}. Every element must belong to exactly one label. Answer with JSON only: "
    "an object mapping each label to the list of the original elements it groups, e.g. "
    "{{\"Label 1\": [\"element a\", \"element b\"], \"Label 2\": [\"element c\"]}}.")

_APPLY_SYSTEM = (
    "You map textual elements to categories. For each element, in order, choose the category "
    "that best describes it, spelled exactly as given. Answer with JSON only: a list of "
    "categories, one per element, in the elements' order.")


def _dedupe(items):
    seen = set()
    out = []
    for x in items:
        key = x if isinstance(x, str) else repr(x)
        if key not in seen:
            seen.add(key)
            out.append(x)
    return out


class Normalizer:
    """Normalise elements into at most `n` labels."""

    def __init__(self, elements, n, verbose=False, max_length=None, session=None):
        self.elements = _dedupe([str(e) for e in elements])
        self.n = int(n)
        self.verbose = verbose
        self.max_length = max_length
        self._session = session
        #: label -> the original elements it groups
        self.normalized_elements = None
        #: element -> its label (a cache)
        self.normalizing_map = {}
        system = _GROUP_SYSTEM.format(
            n=self.n, max_length=(" of at most %d characters each" % max_length)
            if max_length else "")
        user = "Elements to normalise (%d):\n%s" % (
            len(self.elements), "\n".join("- %s" % e for e in self.elements))
        answer = _llm.ask_text("normalize", system, user, session=session)
        result = _llm.extract_json(answer)
        if verbose:
            print("Normalization result: %s" % answer)
        mapping = {}
        if isinstance(result, dict):
            for k, v in result.items():
                if isinstance(v, (list, tuple, set)):
                    originals = [str(x) for x in v if x]
                else:
                    originals = [str(v)] if v else []
                mapping[str(k)] = originals
        else:
            logger.warning("Normalizer: the model's answer is not a JSON object; every element "
                           "is its own label")
            mapping = {e: [e] for e in self.elements}
        mapping = {k: v for k, v in mapping.items() if k and v}
        if len(mapping) > self.n:
            # keep the largest groups; the rest go to "Other"
            order = sorted(mapping, key=lambda k: len(mapping[k]), reverse=True)
            keep = order[: self.n - 1] if self.n > 1 else order[:1]
            overflow = [x for k in order if k not in keep for x in mapping[k]]
            mapping = {k: mapping[k] for k in keep}
            if self.n > 1:
                mapping["Other"] = overflow
            elif keep:
                mapping[keep[0]] = mapping[keep[0]] + overflow
        if self.max_length is not None and self.max_length > 10:
            shortened = {}
            for k, originals in mapping.items():
                nk = k
                if len(k) > self.max_length:
                    first = k.split(".")[0].strip()
                    nk = first if 0 < len(first) <= self.max_length else \
                        textwrap.shorten(k, width=self.max_length, placeholder="...")
                shortened.setdefault(nk, []).extend(originals)
            mapping = shortened
        self.normalized_elements = mapping
        for label, originals in mapping.items():
            for o in originals:
                self.normalizing_map.setdefault(o, label)

    def normalize(self, element_or_elements):
        """The label of an element (a str), or the labels of a list of elements (in order).
        Unseen elements are mapped with one model call."""
        if isinstance(element_or_elements, str):
            items = [element_or_elements]
        elif isinstance(element_or_elements, list):
            items = [str(e) for e in element_or_elements]
        else:
            raise ValueError("The element_or_elements must be either a string or a list.")
        todo = _dedupe([e for e in items if e not in self.normalizing_map])
        if todo:
            categories = list(self.normalized_elements.keys())
            user = "Categories:\n%s\n\nElements:\n%s" % (
                "\n".join("- %s" % c for c in categories),
                "\n".join("%d. %s" % (i + 1, e) for i, e in enumerate(todo)))
            answer = _llm.ask_text("normalize", _APPLY_SYSTEM, user, session=self._session)
            labels = _llm.extract_json(answer)
            if self.verbose:
                print("Normalization applier result: %s" % answer)
            if not isinstance(labels, list):
                logger.warning("Normalizer: the model's answer is not a JSON list; unseen "
                               "elements go to the first category")
                labels = []
            labels = [str(x) for x in labels][: len(todo)]
            default = categories[0] if categories else None
            labels += [default] * (len(todo) - len(labels))
            for e, lab in zip(todo, labels):
                self.normalizing_map[e] = lab if lab is not None else e
        out = [self.normalizing_map[e] for e in items]
        return out[0] if isinstance(element_or_elements, str) else out

    def normalized_mapping(self):
        """label -> the original elements it groups."""
        if isinstance(self.normalized_elements, dict):
            return self.normalized_elements
        return {e: [e] for e in self.elements}


__all__ = ["Normalizer"]
