"""The hand-over package, read back with the real tools: openpyxl (.xlsx), python-docx (.docx),
bpmn-moddle / dmn-moddle (node, installed by `scripts/ensure-system-deps.sh` via npm ci)."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from pipeline import cli
from pipeline import sample_engagement as se
from pipeline.handover.assemble import assemble
from pipeline.handover.bpmn import to_bpmn
from pipeline.handover.diagram import handover_layout
from pipeline.handover.package import build_files, build_zip
from pipeline.handover.rules import rule_tables, to_feel
from pipeline.handover.sheets import INVENTORY_COLUMNS

from .conftest import FakeEmbedder

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def handover() -> Any:
    eng, ivs, trs, els = se.load()
    return assemble(eng, ivs, els, transcripts=trs, include_drafts=True)


@pytest.fixture(scope="module")
def files(handover: Any) -> dict[str, bytes]:
    return build_files(handover)


def _moddle(tmp_path: Path, name: str, data: bytes) -> dict[str, Any]:
    if not (ROOT / "node_modules" / "bpmn-moddle").is_dir() or not shutil.which("node"):
        pytest.fail("node or node_modules missing: run `bash scripts/ensure-system-deps.sh`.")
    path = tmp_path / name
    path.write_bytes(data)
    run = subprocess.run(
        ["node", str(ROOT / "scripts" / "check_moddle.mjs"), str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.stdout, run.stderr
    return dict(json.loads(run.stdout.splitlines()[-1]))


def _sheet(data: bytes) -> Any:
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(data))


def test_inventory_xlsx_reads_back_with_formulas_and_values(files: dict[str, bytes]) -> None:
    wb = _sheet(files["01_業務一覧表.xlsx"])
    ws = wb["業務一覧表"]
    header = [c.value for c in ws[1]]
    assert header == INVENTORY_COLUMNS
    for needed in ("業務ID", "区分", "月間工数", "基準の所在", "外注可否と理由", "人による差異"):
        assert needed in header
    assert ws.freeze_panes == "B2" and ws.auto_filter.ref.startswith("A1:")
    assert ws["A1"].font.name == "游ゴシック" and ws["A2"].font.name == "游ゴシック"
    col = {name: i for i, name in enumerate(header)}
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    order = next(r for r in rows if "注文書" in (r[col["小分類"]] or ""))
    assert order[col["区分"]] == "作業"
    assert (order[col["頻度(回/月)"]], order[col["件数"]], order[col["分/件"]]) == (1, 40, 15)
    formula = order[col["月間工数"]]
    assert isinstance(formula, str) and formula.startswith("=") and "ROUND(" in formula
    # the formula multiplies the right cells: evaluate it on the row's own values
    refs = re.findall(r"([A-Z]+)\d+", formula.split("ROUND(")[1])
    from openpyxl.utils import column_index_from_string

    values = [order[column_index_from_string(r) - 1] for r in refs[:3]]
    assert values[0] * values[1] * values[2] / 60 == 10.0
    approval = next(r for r in rows if r[col["小分類"]] == "発注の承認者")
    assert approval[col["区分"]] == "判断"
    assert "10万円" in approval[col["人による差異"]] and "30万円" in approval[col["人による差異"]]
    assert "木村" in approval[col["出典"]] and "中川" in approval[col["出典"]]
    alone = next(r for r in rows if r[col["小分類"]] == "相見積もりを取るか")
    assert "一人だけが説明（木村）" in alone[col["診断所見"]] and alone[col["属人化"]] == "あり"
    widths = [ws.column_dimensions[c].width for c in ("A", "E", "AC")]
    assert all(8 <= w <= 60 for w in widths)
    assert "知識保有者" in wb.sheetnames


def test_rules_and_exception_lists(files: dict[str, bytes], handover: Any) -> None:
    ws = _sheet(files["03_判断基準表.xlsx"])["判断基準表"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    header = [c.value for c in ws[1]]
    col = {n: i for i, n in enumerate(header)}
    ten = next(r for r in rows if r[col["条件"]] == "10万円以上")
    assert ten[col["結果"]] == "部長の承認が必要" and ten[col["DMN式"]] == ">= 100000"
    no_rule = next(r for r in rows if r[col["判断"]] == "新しい取引先にするか")
    assert no_rule[col["根拠"]] == "なし" and no_rule[col["口頭のみ"]] == "要文書化"
    ex = _sheet(files["04_例外一覧.xlsx"])["例外一覧"]
    header = [c.value for c in ex[1]]
    assert header[:7] == ["業務ID", "例外", "トリガー", "対応", "担当", "頻度", "日常化"]
    routine = [r for r in ex.iter_rows(min_row=2, values_only=True) if r[6] == "はい"]
    assert any("急ぎ" in (r[2] or "") for r in routine)


def test_feel_conversion_and_overlap_report() -> None:
    assert to_feel("10万円以上") == ">= 100000"
    assert to_feel("30万円を超える") == "> 300000"
    assert to_feel("30万円まで") == "<= 300000"
    assert to_feel("10万円未満") == "< 100000"
    assert to_feel("交際費の場合") == ""
    from pipeline.handover.assemble import Handover
    from pipeline.inventory import Inventory, InventoryItem, Provenance
    from pipeline.models import Engagement, Judgment, ReviewStatus, RuleRow

    j = Judgment(
        id="J1",
        summary="承認者",
        rules=[
            RuleRow(condition="10万円以上", outcome="部長"),
            RuleRow(condition="5万円超", outcome="課長"),
        ],
        status=ReviewStatus.APPROVED,
    )
    item = InventoryItem(
        id="W-J1",
        kind="judgment",
        name="承認者",
        members=["J1"],
        sources=[Provenance(element_id="J1", interview_id="i", status=ReviewStatus.APPROVED)],
    )
    h = Handover(Engagement(id="e", name="e"), Inventory(engagement_id="e", items=[item]),
                 {"J1": j}, {}, [], [], {}, {}, {}, items=[item])  # fmt: skip
    tables = rule_tables(h)
    assert tables[0].overlaps == ["「10万円以上」と「5万円超」が重なる"]


def test_bpmn_parses_with_bpmn_moddle_without_warnings(
    files: dict[str, bytes], tmp_path: Path
) -> None:
    xml = files["02_業務フロー.bpmn"].decode()
    ids = re.findall(r'\bid="([^"]+)"', xml)
    assert ids and all(i.isascii() and re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", i) for i in ids)
    assert "発注の承認者" in xml and "bpmndi:BPMNShape" in xml and "bpmn:laneSet" in xml
    assert xml.count("<bpmn:lane ") >= 2 and "bpmn:boundaryEvent" in xml
    result = _moddle(tmp_path, "flow.bpmn", files["02_業務フロー.bpmn"])
    assert result["ok"], result
    # every flow node and flow has a DI element (otherwise "no diagram to display")
    nodes = re.findall(
        r"<bpmn:(?:userTask|exclusiveGateway|startEvent|endEvent|boundaryEvent|sequenceFlow) "
        r'id="([^"]+)"',
        xml,
    )
    for n in nodes:
        assert f'bpmnElement="{n}"' in xml, n


def test_broken_bpmn_is_caught_by_the_check(tmp_path: Path) -> None:
    bad = (
        b'<?xml version="1.0"?><bpmn:definitions '
        b'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"><bpmn:process id="p">'
        b'<bpmn:sequenceFlow id="f" sourceRef="nowhere" targetRef="x"/></bpmn:process>'
        b"</bpmn:definitions>"
    )
    assert not _moddle(tmp_path, "bad.bpmn", bad)["ok"]


def test_dmn_parses_with_dmn_moddle(files: dict[str, bytes], tmp_path: Path) -> None:
    xml = files["03_判断基準.dmn"].decode()
    assert 'hitPolicy="UNIQUE"' in xml and "20191111/MODEL" in xml
    assert "&gt;= 100000" in xml or ">= 100000" in xml
    result = _moddle(tmp_path, "rules.dmn", files["03_判断基準.dmn"])
    assert result["ok"], result


def test_procedure_docx_has_the_east_asian_font_and_sections(files: dict[str, bytes]) -> None:
    from docx import Document
    from docx.oxml.ns import qn

    name = next(n for n in files if n.endswith(".docx") and "購買申請" in n)
    doc = Document(io.BytesIO(files[name]))
    rfonts = doc.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert rfonts.get(qn("w:eastAsia")) == "游ゴシック"
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    for section in ("目的", "トリガー", "締切", "使用システム", "関連帳票", "手順", "判断基準",
                    "例外時の対応", "エスカレーション先", "出典"):  # fmt: skip
        assert section in headings
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "☐" in text and "発注の承認者" in text and "人による差異" in text
    md = files[name.replace(".docx", ".md")].decode()
    assert "## 手順" in md and "- [ ] " in md


def test_zip_has_an_index_and_reexport_keeps_ids(handover: Any) -> None:
    data = build_zip(handover)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        index = z.read("index.html").decode()
        questions = z.read("06_要確認事項.md").decode()
    needed_files = [
        "01_業務一覧表.xlsx",
        "02_業務フロー.bpmn",
        "02_業務フロー.svg",
        "02_業務フロー.png",
    ]
    needed_files += ["03_判断基準表.xlsx", "03_判断基準.dmn", "04_例外一覧.xlsx"]
    for needed in needed_files:
        assert needed in names and needed in index
    assert any(n.startswith("05_手順書/") and n.endswith(".docx") for n in names)
    assert "人による差異" in questions and "10万円" in questions and "25日" in questions
    # re-export after an edit: same IDs in the BPMN
    eng, ivs, trs, els = se.load()
    for e in els:
        e.summary += "。"
    again = assemble(eng, ivs, els, transcripts=trs, include_drafts=True)
    ids = lambda h: re.findall(r'\bid="([^"]+)"', to_bpmn(handover_layout(h)))  # noqa: E731
    assert ids(handover) == ids(again)


def test_cli_exports_approved_items_and_drafts_only_on_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline.workspace as w

    monkeypatch.setattr(w, "embedder", lambda settings: FakeEmbedder())
    ws = str(tmp_path / "ws")
    assert cli.main(["engagement", "sample", "--drafts", "--workspace", ws]) == 0
    out = tmp_path / "pkg.zip"
    args = ["export", "package", "--engagement", "eng_minato", "--out", str(out), "--workspace", ws]
    assert cli.main(args) == 2
    assert "--include-drafts" in capsys.readouterr().err
    assert cli.main([*args, "--include-drafts", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["drafts"] == summary["items"] >= 18 and summary["differences"] == 2
    with zipfile.ZipFile(out) as z:
        assert "下書き" in z.read("index.html").decode()
    assert cli.main(["approve", "--all", "--workspace", ws]) == 0
    capsys.readouterr()
    assert cli.main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["drafts"] == 0
    assert cli.main(["engagement", "differences", "eng_minato", "--workspace", ws]) == 0
    assert "approval_route_varies" in capsys.readouterr().out


def test_cli_creates_an_engagement_and_hearings_join_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = str(tmp_path / "ws")
    create = ["engagement", "create", "eng_x", "--name", "経理BPO", "--client", "架空商事",
              "--areas", "経理>経費精算,経理>支払", "--workspace", ws, "--json"]  # fmt: skip
    assert cli.main(create) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["areas"][0]["name"] == "経理" and len(made["areas"][0]["children"]) == 2
    audio = str(ROOT / "data" / "samples" / "ja_smoke" / "audio.ogg")
    assert cli.main(["import", audio, "--engagement", "nope", "--workspace", ws]) == 2
    assert "engagement" in capsys.readouterr().err.lower()
    assert cli.main(["interviews", "--workspace", ws, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # nothing half-imported
    args = ["import", audio, "--engagement", "eng_x", "--interviewee", "山本", "--workspace", ws]
    assert cli.main([*args, "--json"]) == 0
    iv = json.loads(capsys.readouterr().out)
    assert iv["engagement_id"] == "eng_x" and iv["interviewee"] == "山本"
    assert cli.main(["engagement", "list", "--workspace", ws]) == 0
    assert "eng_x\t経理BPO\t1 hearing(s)" in capsys.readouterr().out
