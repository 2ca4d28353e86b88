"""ArtifactExporter (TinyTroupe's `tinytroupe.extraction.ArtifactExporter`): write what a
simulation produced (documents, transcripts, reports, extracted data) to files, as text,
Markdown, JSON or Word (.docx).

The path is `{base_output_folder}/{content_type}/{artifact_name}.{target_format}`, characters
that cannot be in a file name (`/\\:*?"<>|`, tabs, newlines, `;`) replaced by "-".

Word documents are written with the standard library (zipfile and a minimal WordprocessingML
package); TinyTroupe needs pandoc for them. Markdown is rendered simply: headings (`#`..`###`),
paragraphs, bullet and numbered lists, code blocks, **bold**, *italic* and `code`.
"""

import json
import os
import re
import textwrap
import zipfile
from xml.sax.saxutils import escape as _xml_escape

_INVALID = ['/', '\\', ':', '*', '?', '"', '<', '>', '|', '\n', '\t', '\r', ';']


def sanitize_artifact_name(name):
    for ch in _INVALID:
        name = name.replace(ch, "-")
    return name


def _dedent(text):
    return textwrap.dedent(text).strip("\n") if isinstance(text, str) else text


class ArtifactExporter:
    """Export artifacts to files under `base_output_folder`."""

    def __init__(self, base_output_folder):
        self.base_output_folder = base_output_folder

    def export(self, artifact_name, artifact_data, content_type, content_format=None,
               target_format="txt", verbose=False):
        """Write `artifact_data` (a str, or a dict whose "content" is the text) as
        `target_format`: "txt"/"text", "md"/"markdown", "json" (a dict only) or "docx"
        (`content_format` "md"/"markdown" (the default) or "txt"/"text"). Returns the path."""
        if isinstance(artifact_data, str):
            artifact_data = _dedent(artifact_data)
        elif isinstance(artifact_data, dict):
            artifact_data = dict(artifact_data)
            if "content" in artifact_data:
                artifact_data["content"] = _dedent(artifact_data["content"])
        else:
            raise ValueError("The artifact data must be either a string or a dictionary.")
        artifact_name = sanitize_artifact_name(str(artifact_name))
        path = self._compose_filepath(artifact_data, artifact_name, content_type, target_format)
        if target_format == "json":
            self._export_as_json(path, artifact_data)
        elif target_format in ("txt", "text", "md", "markdown"):
            self._export_as_txt(path, artifact_data)
        elif target_format == "docx":
            self._export_as_docx(path, artifact_data, content_format, title=artifact_name)
        else:
            raise ValueError("Unsupported target format: %s." % target_format)
        if verbose:
            print("Exported %s to %s" % (artifact_name, path))
        return path

    @staticmethod
    def _content(artifact_data):
        if isinstance(artifact_data, dict):
            if "content" not in artifact_data:
                raise ValueError("a dict artifact needs its text under 'content'")
            return str(artifact_data["content"])
        return artifact_data

    def _export_as_txt(self, path, artifact_data):
        with open(path, "w", encoding="utf-8", errors="replace") as f:
            f.write(self._content(artifact_data))

    def _export_as_json(self, path, artifact_data):
        if not isinstance(artifact_data, dict):
            raise ValueError("The artifact data must be a dictionary to export to JSON.")
        with open(path, "w", encoding="utf-8", errors="replace") as f:
            json.dump(artifact_data, f, indent=4, ensure_ascii=False)

    def _export_as_docx(self, path, artifact_data, content_format, title=None):
        fmt = content_format or "markdown"
        if fmt not in ("text", "txt", "markdown", "md"):
            raise ValueError("The original format cannot be %s to export to DOCX." % fmt)
        markdown = fmt in ("markdown", "md")
        write_docx(path, self._content(artifact_data), markdown=markdown, title=title)

    def _compose_filepath(self, artifact_data, artifact_name, content_type, target_format=None):
        extension = target_format if target_format is not None else (
            "txt" if isinstance(artifact_data, str) else "json")
        subfolder = content_type or ""
        path = os.path.join(self.base_output_folder, subfolder,
                            "%s.%s" % (artifact_name, extension))
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        return path


# ---------------------------------------------------------------------- .docx

_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_R_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_R_STYLES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"
_R_CORE = ("http://schemas.openxmlformats.org/package/2006/relationships/metadata/"
           "core-properties")

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/>'
    '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.styles+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
    'package.core-properties+xml"/>'
    '</Types>')

_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="%s" Target="word/document.xml"/>'
    '<Relationship Id="rId2" Type="%s" Target="docProps/core.xml"/>'
    '</Relationships>' % (_R_DOC, _R_CORE))

_DOC_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="%s" Target="styles.xml"/>'
    '</Relationships>' % _R_STYLES)


def _style(style_id, name, size=None, bold=False, space_before=None, based_on="Normal",
           font=None, indent=None):
    ppr = ""
    if space_before is not None or indent is not None:
        ppr = "<w:pPr>"
        if space_before is not None:
            ppr += '<w:spacing w:before="%d" w:after="120"/>' % space_before
        if indent is not None:
            ppr += '<w:ind w:left="%d"/>' % indent
        ppr += "</w:pPr>"
    rpr = ""
    if size or bold or font:
        rpr = "<w:rPr>"
        if font:
            rpr += '<w:rFonts w:ascii="%s" w:hAnsi="%s" w:cs="%s"/>' % (font, font, font)
        if bold:
            rpr += "<w:b/>"
        if size:
            rpr += '<w:sz w:val="%d"/>' % size
        rpr += "</w:rPr>"
    based = '<w:basedOn w:val="%s"/>' % based_on if based_on else ""
    return ('<w:style w:type="paragraph" w:styleId="%s"><w:name w:val="%s"/>%s'
            '<w:qFormat/>%s%s</w:style>' % (style_id, name, based, ppr, rpr))


_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<w:styles xmlns:w="%s">'
    '<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Calibri" w:hAnsi="Calibri" '
    'w:cs="Calibri"/><w:sz w:val="22"/></w:rPr></w:rPrDefault>'
    '<w:pPrDefault><w:pPr><w:spacing w:after="120"/></w:pPr></w:pPrDefault></w:docDefaults>'
    '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/>'
    '<w:qFormat/></w:style>'
    '%s%s%s%s%s%s'
    '</w:styles>' % (
        _W_NS,
        _style("Title", "Title", size=48, bold=True, space_before=0),
        _style("Heading1", "heading 1", size=32, bold=True, space_before=360),
        _style("Heading2", "heading 2", size=28, bold=True, space_before=240),
        _style("Heading3", "heading 3", size=24, bold=True, space_before=240),
        _style("ListParagraph", "List Paragraph", indent=720),
        _style("Code", "Code", font="Courier New", size=20)))


def _clean(text):
    # characters XML 1.0 does not allow
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", text)


def _run(text, bold=False, italic=False, code=False):
    rpr = ""
    if bold or italic or code:
        rpr = "<w:rPr>%s%s%s</w:rPr>" % (
            '<w:rFonts w:ascii="Courier New" w:hAnsi="Courier New" w:cs="Courier New"/>'
            if code else "", "<w:b/>" if bold else "", "<w:i/>" if italic else "")
    return '<w:r>%s<w:t xml:space="preserve">%s</w:t></w:r>' % (rpr, _xml_escape(_clean(text)))


_INLINE = re.compile(r"(\*\*[^*]+\*\*|(?<!\w)__[^_]+__(?!\w)|`[^`]+`|(?<![\w*])\*[^*\s][^*]*\*(?![\w*])"
                     r"|(?<!\w)_[^_\s][^_]*_(?!\w))")


def _inline_runs(text, markdown):
    if not markdown:
        return _run(text)
    out = []
    for piece in _INLINE.split(text):
        if not piece:
            continue
        if (piece.startswith("**") and piece.endswith("**") and len(piece) > 4) or \
                (piece.startswith("__") and piece.endswith("__") and len(piece) > 4):
            out.append(_run(piece[2:-2], bold=True))
        elif piece.startswith("`") and piece.endswith("`") and len(piece) > 2:
            out.append(_run(piece[1:-1], code=True))
        elif (piece.startswith("*") and piece.endswith("*") and len(piece) > 2) or \
                (piece.startswith("_") and piece.endswith("_") and len(piece) > 2):
            out.append(_run(piece[1:-1], italic=True))
        else:
            out.append(_run(piece))
    return "".join(out)


def _paragraph(text, style=None, markdown=True, prefix=""):
    ppr = '<w:pPr><w:pStyle w:val="%s"/></w:pPr>' % style if style else ""
    runs = (_run(prefix) if prefix else "") + _inline_runs(text, markdown)
    return "<w:p>%s%s</w:p>" % (ppr, runs)


def _blocks(text, markdown):
    """(style, text, prefix) per paragraph."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not markdown:
        return [(None, line, "") for line in lines]
    blocks, para, in_code = [], [], False

    def flush():
        if para:
            blocks.append((None, " ".join(s.strip() for s in para), ""))
            del para[:]

    for line in lines:
        if line.strip().startswith("```"):
            flush()
            in_code = not in_code
            continue
        if in_code:
            blocks.append(("Code", line, ""))
            continue
        s = line.strip()
        m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", s)
        if m:
            flush()
            level = min(len(m.group(1)), 3)
            blocks.append(("Heading%d" % level, m.group(2), ""))
        elif re.match(r"^[-*+]\s+", s):
            flush()
            blocks.append(("ListParagraph", re.sub(r"^[-*+]\s+", "", s), "\u2022 "))
        elif re.match(r"^\d+[.)]\s+", s):
            flush()
            m2 = re.match(r"^(\d+[.)])\s+(.*)$", s)
            blocks.append(("ListParagraph", m2.group(2), m2.group(1) + " "))
        elif not s:
            flush()
        elif re.match(r"^(-{3,}|\*{3,}|_{3,})$", s):
            flush()
        else:
            para.append(s)
    flush()
    return blocks


def write_docx(path, text, markdown=True, title=None):
    """Write `text` (Markdown or plain text) as a .docx file at `path` with the standard
    library only."""
    body = "".join(_paragraph(t, style, markdown, prefix) for style, t, prefix in
                   _blocks(text, markdown)) or "<w:p/>"
    document = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<w:document xmlns:w="%s" xmlns:r="http://schemas.openxmlformats.org/'
                'officeDocument/2006/relationships"><w:body>%s'
                '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1440" '
                'w:right="1440" w:bottom="1440" w:left="1440" w:header="708" w:footer="708" '
                'w:gutter="0"/></w:sectPr></w:body></w:document>' % (_W_NS, body))
    core = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
            'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            '<dc:title>%s</dc:title><dc:creator>troupe</dc:creator></cp:coreProperties>'
            % _xml_escape(_clean(title or "")))
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr("word/document.xml", document)
        z.writestr("word/_rels/document.xml.rels", _DOC_RELS)
        z.writestr("word/styles.xml", _STYLES)
        z.writestr("docProps/core.xml", core)
    os.replace(tmp, path)
    return path


__all__ = ["ArtifactExporter", "write_docx", "sanitize_artifact_name"]
