"""troupe.export.ArtifactExporter: text, Markdown, JSON and .docx (written with the standard
library; python-docx must open it and read the right text)."""

import json
import os
import zipfile

import pytest

from conftest import LISA

import troupe.control as control
from troupe import TinyPerson
from troupe.export import ArtifactExporter

MEMO = """
    # Forecast review

    The **treatment** group scored higher: *p* < 0.05 & Cohen's d = 1.2.
    Results hold for `claim_score`.

    ## Next steps

    - Repeat with 32 customers
    - Ask about price, too

    1. Write the report
    2. Share it

    ```
    tester.run_test("welch_t_test")
    ```
    """


def test_docx_opens_in_python_docx_with_the_right_text(tmp_path):
    docx = pytest.importorskip("docx")
    exporter = ArtifactExporter(str(tmp_path))
    path = exporter.export("Memo: A/B <results>", {"content": MEMO, "author": "me"}, "memos",
                           content_format="md", target_format="docx")
    assert path == os.path.join(str(tmp_path), "memos", "Memo- A-B -results-.docx")
    doc = docx.Document(path)
    paras = [(p.style.name, p.text) for p in doc.paragraphs]
    assert paras == [
        ("Heading 1", "Forecast review"),
        ("Normal", "The treatment group scored higher: p < 0.05 & Cohen's d = 1.2. "
                   "Results hold for claim_score."),
        ("Heading 2", "Next steps"),
        ("List Paragraph", "\u2022 Repeat with 32 customers"),
        ("List Paragraph", "\u2022 Ask about price, too"),
        ("List Paragraph", "1. Write the report"),
        ("List Paragraph", "2. Share it"),
        ("Code", 'tester.run_test("welch_t_test")'),
    ]
    runs = {r.text: r for r in doc.paragraphs[1].runs}
    assert runs["treatment"].bold and runs["p"].italic
    assert doc.core_properties.title == "Memo- A-B -results-"
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None

    # plain text: one paragraph per line, no Markdown
    plain = exporter.export("plain", "Line *one*\nLine two", "memos", content_format="txt",
                            target_format="docx")
    assert [p.text for p in docx.Document(plain).paragraphs] == ["Line *one*", "Line two"]
    with pytest.raises(ValueError):
        exporter.export("bad", "x", "memos", content_format="csv", target_format="docx")


def test_text_markdown_and_json(tmp_path):
    exporter = ArtifactExporter(str(tmp_path / "out"))
    p = exporter.export("notes", MEMO, "docs", target_format="md")
    with open(p, encoding="utf-8") as f:
        assert f.read().startswith("# Forecast review\n\nThe **treatment**")
    p = exporter.export("notes", {"content": "  a\n  b"}, "docs")
    assert p.endswith(os.path.join("docs", "notes.txt"))
    with open(p, encoding="utf-8") as f:
        assert f.read() == "a\nb"
    p = exporter.export("data", {"content": "x", "score": 0.9}, "data", target_format="json")
    with open(p, encoding="utf-8") as f:
        assert json.load(f) == {"content": "x", "score": 0.9}
    with pytest.raises(ValueError):
        exporter.export("data", "a string", "data", target_format="json")
    with pytest.raises(ValueError):
        exporter.export("data", "x", "data", target_format="pdf")
    with pytest.raises(ValueError):
        exporter.export("data", 42, "data")


def test_exporting_what_an_agent_wrote(offline, tmp_path):
    """A session's output (an agent's answer) exported as .docx."""
    docx = pytest.importorskip("docx")
    control.begin(str(tmp_path / "sim"))
    lisa = TinyPerson.load_specification(LISA)
    lisa.listen_and_act("Tell me what you think about forecasts.")
    said = lisa.pop_actions_and_get_contents_for("TALK", False) or \
        lisa.last_remembered_action()["content"]
    control.end()
    path = ArtifactExporter(str(tmp_path / "artifacts")).export(
        "Lisa's answer", "# Interview\n\n" + said, "interviews", content_format="md",
        target_format="docx")
    texts = [p.text for p in docx.Document(path).paragraphs]
    assert texts[0] == "Interview" and texts[1] == " ".join(said.split())
