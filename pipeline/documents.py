"""Terms from the documents a consultant uploads beside the audio (規程, マニュアル, 帳票).

PDF (pypdf), DOCX and XLSX (their XML read straight from the zip), TXT / MD / CSV. The nouns
of those documents (Sudachi mode-C compounds with a kanji or katakana, 2-12 characters) become
correction candidates for the hearing: a client's own system, form and department names.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from html import unescape
from pathlib import Path

from .errors import ShikumiError

SUFFIXES = (".pdf", ".docx", ".xlsx", ".txt", ".md", ".csv")
_TAG_TEXT = re.compile(r"<(?:w:t|t)(?:\s[^>]*)?>([^<]*)</(?:w:t|t)>")
_CONTENT = re.compile(r"[\u3400-\u9fff\u30a1-\u30fa]")
_WORDLIKE = re.compile(r"[\u3400-\u9fff\u3005\u30a1-\u30fa\u30fcA-Za-z]+")  # 楽楽, kintone
MAX_TERMS = 2000


def document_text(path: Path) -> str:
    """The plain text of one document."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".pdf":
            from pypdf import PdfReader

            return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
        if suffix in (".docx", ".xlsx"):
            with zipfile.ZipFile(path) as z:
                parts = [
                    n
                    for n in z.namelist()
                    if n == "word/document.xml"
                    or n == "xl/sharedStrings.xml"
                    or n.startswith("xl/worksheets/")
                ]
                texts = []
                for name in parts:
                    xml = z.read(name).decode("utf-8", errors="replace")
                    xml = xml.replace("</w:p>", "\n").replace("</si>", "\n")
                    texts.append("".join(unescape(m) for m in _TAG_TEXT.findall(xml)))
                return "\n".join(texts)
        if suffix in (".txt", ".md", ".csv"):
            return path.read_text("utf-8", errors="replace")
    except Exception as exc:
        raise ShikumiError(
            f"The document {path.name} could not be read: {exc}",
            "Upload it as PDF, DOCX, XLSX or TXT, or leave it out.",
        ) from exc
    raise ShikumiError(
        f"{path.name}: documents must be PDF, DOCX, XLSX or TXT.", "Convert it or leave it out."
    )


def terms_from_text(text: str) -> list[str]:
    """Noun compounds of a Japanese text, most frequent first."""
    from .readings import tokens

    counts: dict[str, int] = {}
    for line in text.splitlines():
        run: list[str] = []
        for tok in [*tokens(line[:2000]), None]:
            if tok is not None and (
                tok.noun or tok.pos[0] in ("接頭辞", "接尾辞") or _WORDLIKE.fullmatch(tok.surface)
            ):
                run.append(tok.surface)
                continue
            term = "".join(run)
            run = []
            if 2 <= len(term) <= 12 and _CONTENT.search(term) and not re.search(r"\d", term):
                counts[term] = counts.get(term, 0) + 1
    return sorted(counts, key=lambda t: -counts[t])[:MAX_TERMS]


def document_terms(paths: Iterable[Path]) -> list[str]:
    """Terms of every readable document among ``paths`` (unreadable ones are skipped)."""
    out: dict[str, None] = {}
    for p in paths:
        if p.suffix.lower() not in SUFFIXES:
            continue
        try:
            text = document_text(p)
        except ShikumiError:
            continue
        for t in terms_from_text(text):
            out.setdefault(t, None)
    return list(out)
