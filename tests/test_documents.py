"""Terms from documents uploaded beside the audio feed the correction of that hearing."""

from __future__ import annotations

import zipfile
from pathlib import Path

from pipeline.correction import candidates
from pipeline.documents import document_terms, document_text
from pipeline.vocabulary import for_hearing


def _docx(path: Path, paragraphs: list[str]) -> Path:
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "word/document.xml", f'<w:document xmlns:w="x"><w:body>{body}</w:body></w:document>'
        )
    return path


def _xlsx(path: Path, cells: list[str]) -> Path:
    items = "".join(f"<si><t>{c}</t></si>" for c in cells)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/sharedStrings.xml", f"<sst>{items}</sst>")
    return path


def test_docx_xlsx_and_text_documents_give_their_nouns(tmp_path: Path) -> None:
    docx = _docx(tmp_path / "規程.docx", ["出張旅費は出張精算システムで申請する。"])
    xlsx = _xlsx(tmp_path / "帳票.xlsx", ["得意先別売掛金残高表", "備考"])
    txt = tmp_path / "manual.txt"
    txt.write_text("購買稟議は調達ポータルから起票します。", "utf-8")
    assert "出張精算システム" in document_text(docx)
    terms = document_terms([docx, xlsx, txt, tmp_path / "ignored.png"])
    assert "出張精算システム" in terms or "出張精算" in terms
    assert any("売掛金" in t for t in terms)
    assert "調達ポータル" in terms


def test_a_document_term_becomes_a_candidate(tmp_path: Path) -> None:
    txt = tmp_path / "manual.txt"
    txt.write_text("請求書は楽楽明細で発行します。", "utf-8")
    lex = for_hearing("ja", documents=document_terms([txt]))
    found = {(c.original, c.replacement, c.source) for c in candidates("楽楽名細で送ります", lex)}
    assert ("楽楽名細", "楽楽明細", "documents") in found
