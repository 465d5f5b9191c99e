"""The Excel lists of the hand-over: 業務一覧表, 判断基準表, 例外一覧 (openpyxl).

Every sheet has a Japanese font, a frozen, filtered header row and column widths fitted to the
content (full-width characters count double). 月間工数 is an Excel formula over the 頻度 (回/月),
件数 (件/回) and 分/件 cells, so an edit in Excel recomputes it.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from ..differences import ASPECT_JA
from ..inventory import KIND_JA, InventoryItem
from ..models import Exception_, Judgment, Task
from .assemble import Handover, lane_of, role_of
from .rules import Table

FONT = "游ゴシック"
HEADER_FILL = "DDEBF7"

INVENTORY_COLUMNS = [
    "業務ID", "部門", "大分類", "中分類", "小分類", "区分", "トリガー・前工程", "インプット",
    "アウトプット", "後工程", "担当者", "代替可能者", "判断者・承認者", "頻度", "頻度(回/月)",
    "締切・タイミング", "件数", "分/件", "月間工数", "使用システム", "関連帳票", "判断の有無",
    "基準の所在", "例外頻度", "属人化", "手順書の有無", "外注可否と理由", "診断所見", "出典",
    "確認状態", "人による差異",
]  # fmt: skip


def _width(value: Any) -> int:
    text = str(value if value is not None else "")
    longest = max((line for line in text.split("\n")), key=len, default="")
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in longest)


def _sheet(wb: Any, title: str, columns: Sequence[str], rows: list[list[Any]]) -> Any:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    ws.append(list(columns))
    for row in rows:
        ws.append(row)
    body = Font(name=FONT, size=10)
    head = Font(name=FONT, size=10, bold=True)
    fill = PatternFill("solid", fgColor=HEADER_FILL)
    wrap = Alignment(wrap_text=True, vertical="top")
    for cell in ws[1]:
        cell.font, cell.fill, cell.alignment = head, fill, wrap
    for r in ws.iter_rows(min_row=2):
        for cell in r:
            cell.font, cell.alignment = body, wrap
    for n, col in enumerate(columns, 1):
        values = [col] + [row[n - 1] for row in rows if n - 1 < len(row)]
        widest = max(
            (_width(v) for v in values if not (isinstance(v, str) and v.startswith("="))),
            default=8,
        )
        ws.column_dimensions[get_column_letter(n)].width = min(60, max(8, widest + 2))
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(1, len(rows) + 1)}"
    return ws


def _book() -> Any:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    return wb


def _save(wb: Any) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _sources(item: InventoryItem) -> str:
    out = []
    for s in item.sources:
        at = (
            f" {int(s.audio_start // 60):02d}:{int(s.audio_start % 60):02d}"
            if s.audio_start is not None
            else ""
        )
        out.append(f"{s.hearing}／{s.person}{at}「{s.quote}」")
    return "\n".join(out)


def _join(values: Sequence[str]) -> str:
    seen: list[str] = []
    for v in values:
        if v and v not in seen:
            seen.append(v)
    return "、".join(seen)


_DEADLINE = re.compile(
    r"[0-9０-９]+\s*(?:営業日|日)(?:まで|締め)|月末|月初|翌月[0-9０-９]+\s*営業日"
)


def inventory_rows(h: Handover) -> list[list[Any]]:
    from ..differences import facts

    flow = sorted((i for i in h.items if i.kind != "exception"), key=lambda i: i.order)
    prev_next: dict[str, tuple[str, str]] = {}
    for n, item in enumerate(flow):
        before = flow[n - 1].name if n > 0 else "（開始）"
        after = flow[n + 1].name if n + 1 < len(flow) else "（終了）"
        prev_next[item.id] = (before, after)
    rows: list[list[Any]] = []
    for r, item in enumerate(h.items, start=2):
        els = h.members(item)
        tasks = [e for e in els if isinstance(e, Task)]
        judgments = [e for e in els if isinstance(e, Judgment)]
        excs = [e for e in els if isinstance(e, Exception_)]
        w = h.workloads.get(item.id)
        a = h.assessments.get(item.id)
        lane = lane_of(h, item)
        actors = _join([role_of(t.actor) for t in tasks] + [role_of(x.owner) for x in excs])
        people = item.people
        deciders = _join([j.decider for j in judgments])
        if not deciders:
            deciders = _join([facts(e).get("approver", "") for e in els])
        deadline = _join([facts(e).get("deadline", "") for e in els])
        freq = _join([t.frequency for t in tasks] + [x.frequency for x in excs])
        trigger = _join([x.trigger for x in excs]) or prev_next.get(item.id, ("", ""))[0]
        findings = h.findings.get(item.id, [])
        diffs = h.differences_of(item)
        formula = f'=IF(COUNT(O{r},Q{r},R{r})=3,ROUND(O{r}*Q{r}*R{r}/60,1),"")'
        rows.append(
            [
                item.id,
                lane or actors,
                item.area[0] if item.area else "",
                item.area[1] if len(item.area) > 1 else "",
                item.name,
                KIND_JA[item.kind],
                trigger,
                _join([i for t in tasks for i in t.inputs]),
                _join([o for t in tasks for o in t.outputs]),
                prev_next.get(item.id, ("", ""))[1] if item.kind != "exception" else "",
                actors or lane,
                "、".join(people[1:]) if len(people) > 1 else "（なし）",
                deciders,
                freq,
                w.per_month if w and w.per_month is not None else None,
                deadline,
                w.items_per_run if w and w.items_per_run is not None else None,
                w.minutes_per_item if w and w.minutes_per_item is not None else None,
                formula,
                _join(a.systems if a else []),
                _join([d for t in tasks for d in [*t.inputs, *t.outputs] if _is_form(d)]),
                "あり" if judgments else "なし",
                a.criterion if a and a.criterion else "",
                _join([x.frequency for x in excs])
                or ("日常化" if any(x.is_routine for x in excs) else ""),
                "あり" if a and a.person_dependent else "なし",
                "あり" if a and a.manual else "なし",
                f"{a.readiness}：" + "／".join(a.reasons) if a else "",
                "\n".join(
                    [f"{f.finding.value}: {f.summary}" for f in findings]
                    + ([f"一人だけが説明（{people[0]}）"] if item.single_source and people else [])
                ),
                _sources(item),
                h.status_label(item),
                "\n".join(
                    f"{ASPECT_JA[d.aspect]}: "
                    + " ／ ".join(f"{s.source.person}「{s.value}」" for s in d.sides)
                    for d in diffs
                ),
            ]
        )
    return rows


def _is_form(name: str) -> bool:
    return bool(re.search(r"書|票|伝票|申請|表|form|invoice|receipt", name, re.I))


def inventory_xlsx(h: Handover) -> bytes:
    wb = _book()
    _sheet(wb, "業務一覧表", INVENTORY_COLUMNS, inventory_rows(h))
    holders = [
        [x.person, len(x.items), len(x.sole), "、".join(x.items), "、".join(x.sole)]
        for x in h.holders
    ]
    _sheet(
        wb,
        "知識保有者",
        ["担当者", "説明した業務数", "一人だけが説明した業務数", "業務ID", "一人だけの業務ID"],
        holders,
    )
    return _save(wb)


RULE_COLUMNS = [
    "業務ID",
    "判断",
    "条件",
    "結果",
    "判断者",
    "根拠",
    "口頭のみ",
    "DMN式",
    "重複",
    "出典",
    "確認状態",
]


def rules_xlsx(tables: list[Table]) -> bytes:
    rows = [
        [
            r.item_id,
            r.judgment,
            r.condition,
            r.outcome,
            r.decider,
            r.basis,
            "要文書化" if r.oral_only else "",
            r.feel,
            "／".join(t.overlaps),
            r.source,
            r.status,
        ]
        for t in tables
        for r in t.rows
    ]
    wb = _book()
    _sheet(wb, "判断基準表", RULE_COLUMNS, rows)
    return _save(wb)


EXCEPTION_COLUMNS = [
    "業務ID", "例外", "トリガー", "対応", "担当", "頻度", "日常化", "エスカレーション（いつ）",
    "エスカレーション（誰に）", "エスカレーション（どうやって）", "関連業務", "出典", "確認状態",
]  # fmt: skip

_ESCALATE_TO = re.compile(
    r"([一-龥ァ-ヶー]{0,6}(?:部長|課長|上長|所属長|社長|本部長|マネージャー|さん))"
)
_HOW = re.compile(r"電話|メール|チャット|Slack|Teams|口頭|kintone", re.I)


def exception_rows(h: Handover) -> list[list[Any]]:
    rows = []
    names = {i.id: i.name for i in h.inventory.items}
    item_of = h.inventory.item_of()
    for item in h.items:
        if item.kind != "exception":
            continue
        excs = [e for e in h.members(item) if isinstance(e, Exception_)]
        handling = _join([x.handling for x in excs])
        to = _ESCALATE_TO.search(handling)
        how = _HOW.search(handling)
        related = _join([names.get(item_of.get(x.interrupts or "", ""), "") for x in excs])
        rows.append(
            [
                item.id,
                item.name,
                _join([x.trigger for x in excs]),
                handling,
                _join([x.owner for x in excs]),
                _join([x.frequency for x in excs]),
                "はい" if any(x.is_routine for x in excs) else "いいえ",
                "担当者が対応できないとき（要確認）",
                to.group(1) if to else "要確認",
                how.group(0) if how else "要確認",
                related,
                _sources(item),
                h.status_label(item),
            ]
        )
    return rows


def exceptions_xlsx(h: Handover) -> bytes:
    wb = _book()
    _sheet(wb, "例外一覧", EXCEPTION_COLUMNS, exception_rows(h))
    return _save(wb)
