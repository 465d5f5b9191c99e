"""手順書 (procedure manuals), one per 中分類, as Markdown and as Word (.docx).

Sections for outsourced staff: 目的, トリガー, 締切, 使用システム, 関連帳票, 手順 (check boxes),
判断基準, 例外時の対応, エスカレーション先, 出典. Word needs the East Asian font set explicitly
(``w:eastAsia`` on the styles), otherwise Japanese falls back to a Western font.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from ..differences import facts
from ..inventory import InventoryItem, shorten
from ..models import Exception_, Judgment, Task
from .assemble import Handover, role_of
from .sheets import _sources

EAST_ASIAN_FONT = "游ゴシック"
LATIN_FONT = "Calibri"


@dataclass
class Procedure:
    area: list[str]
    purpose: str
    trigger: str
    deadline: str
    systems: list[str]
    forms: list[str]
    steps: list[str]
    rules: list[str]
    exceptions: list[str]
    escalation: list[str]
    sources: list[str]
    drafts: bool = False
    item_ids: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"手順書：{' ＞ '.join(self.area)}"


def procedures(h: Handover) -> list[Procedure]:
    groups: dict[tuple[str, ...], list[InventoryItem]] = {}
    for item in sorted(h.items, key=lambda i: (i.area, i.order)):
        groups.setdefault(tuple(item.area[:2]), []).append(item)
    out: list[Procedure] = []
    for area, items in groups.items():
        steps, rules, excs, escal, sources = [], [], [], [], []
        systems: list[str] = []
        forms: list[str] = []
        deadlines: list[str] = []
        trigger = ""
        for item in items:
            els = h.members(item)
            for el in els:
                d = facts(el).get("deadline")
                if d and d not in deadlines:
                    deadlines.append(d)
            task = next((e for e in els if isinstance(e, Task)), None)
            judg = next((e for e in els if isinstance(e, Judgment)), None)
            exc = next((e for e in els if isinstance(e, Exception_)), None)
            if task is not None:
                who = role_of(task.actor)
                # a procedure step may be a full sentence (the flow box has the short label)
                text = shorten(task.action or task.summary, 60)
                steps.append(text + (f"（{who}）" if who else "") + f" [{item.id}]")
                trigger = trigger or "、".join(task.inputs) or item.name
                systems += [s for s in task.systems if s not in systems]
                forms += [x for x in [*task.inputs, *task.outputs] if x not in forms]
            elif judg is not None:
                steps.append(f"判断：{item.name} → 下の判断基準に従う [{item.id}]")
                if judg.rules:
                    for r in judg.rules:
                        rules.append(f"{r.text}（判断者：{judg.decider or '要確認'}）")
                else:
                    rules.append(f"{item.name}：基準が語られていない（要確認）")
            elif exc is not None:
                excs.append(f"{exc.trigger or item.name} → {exc.handling or '対応を要確認'}")
                escal.append(f"{exc.trigger or item.name}：{exc.owner or '要確認'}")
            for diff in h.differences_of(item):
                rules.append(f"⚠ 人による差異（要確認）：{diff.summary}")
            sources.append(f"[{item.id}] " + _sources(item).replace("\n", " ／ "))
        out.append(
            Procedure(
                area=list(area),
                purpose=f"{area[-1]}の業務を、担当者が変わっても同じ品質・同じ期限で行う。",
                trigger=trigger or "要確認",
                deadline="、".join(deadlines) or "要確認",
                systems=systems,
                forms=forms,
                steps=steps,
                rules=rules,
                exceptions=excs,
                escalation=escal,
                sources=sources,
                drafts=any(not i.approved for i in items),
                item_ids=[i.id for i in items],
            )
        )
    return out


def to_markdown(p: Procedure) -> str:
    lines = [f"# {p.title}", ""]
    if p.drafts:
        lines += ["> 下書きを含みます（未承認の項目があります）。", ""]

    def section(title: str, body: list[str], checkbox: bool = False) -> None:
        lines.append(f"## {title}")
        lines.append("")
        if not body:
            lines.append("- （なし・要確認）")
        for b in body:
            lines.append(f"- [ ] {b}" if checkbox else f"- {b}")
        lines.append("")

    section("目的", [p.purpose])
    section("トリガー", [p.trigger])
    section("締切", [p.deadline])
    section("使用システム", p.systems)
    section("関連帳票", p.forms)
    section("手順", p.steps, checkbox=True)
    section("判断基準", p.rules)
    section("例外時の対応", p.exceptions)
    section("エスカレーション先", p.escalation)
    section("出典", p.sources)
    return "\n".join(lines)


def set_east_asian_font(style_or_run: object, name: str = EAST_ASIAN_FONT) -> None:
    """Set the Latin and the East Asian font (python-docx only sets the Latin one)."""
    from docx.oxml.ns import qn

    font = style_or_run.font  # type: ignore[attr-defined]
    font.name = LATIN_FONT
    element = style_or_run.element  # type: ignore[attr-defined]
    rpr = element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), name)


def to_docx(p: Procedure) -> bytes:
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    for style_name in ("Normal", "Title", "Heading 1", "Heading 2", "List Bullet"):
        set_east_asian_font(doc.styles[style_name])
    doc.styles["Normal"].font.size = Pt(10.5)
    doc.add_heading(p.title, level=0)
    if p.drafts:
        doc.add_paragraph("下書きを含みます（未承認の項目があります）。")

    def section(title: str, body: list[str], checkbox: bool = False) -> None:
        doc.add_heading(title, level=1)
        for b in body or ["（なし・要確認）"]:
            para = doc.add_paragraph(style="List Bullet" if not checkbox else None)
            run = para.add_run(("☐ " if checkbox else "") + b)
            set_east_asian_font(run)

    section("目的", [p.purpose])
    section("トリガー", [p.trigger])
    section("締切", [p.deadline])
    section("使用システム", p.systems)
    section("関連帳票", p.forms)
    section("手順", p.steps, checkbox=True)
    section("判断基準", p.rules)
    section("例外時の対応", p.exceptions)
    section("エスカレーション先", p.escalation)
    section("出典", p.sources)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
