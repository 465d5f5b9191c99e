"""Judgments as decision rules: one row per rule (条件 → 結果, 判断者, 根拠, 出典) and DMN 1.3
decision tables with the UNIQUE hit policy.

A condition that reads as an amount comparison (「10万円以上」「30万円まで」「$5,000 or more」)
becomes a numeric FEEL test on an input 金額 (円); anything else is kept as a FEEL string
literal on an input 条件, so the table opens in a modeler and a person rewrites it there.
Overlapping numeric rules (two rules true for one amount: not UNIQUE) are reported, as are
judgments with no stated rule.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from ..models import CriterionStatus, Judgment
from .assemble import Handover
from .layout import ascii_id

DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"
ET.register_namespace("", DMN_NS)

_AMOUNT = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(億|万|千)?\s*円|\$\s*([0-9][0-9,]*)")
_LOWER_INC = re.compile(r"以上|or more|at least|から")
_LOWER_EXC = re.compile(r"超え|超|を超える|より多|over|above|more than")
_UPPER_INC = re.compile(r"以下|まで|up to|or less|at most")
_UPPER_EXC = re.compile(r"未満|より少|under|below|less than")


@dataclass
class RuleLine:
    item_id: str
    judgment: str
    condition: str
    outcome: str
    decider: str
    basis: str  # 規程 / マニュアル / 口頭のみ / なし
    source: str
    status: str
    feel: str = ""  # numeric FEEL test, when the condition is an amount comparison

    @property
    def oral_only(self) -> bool:
        return self.basis in ("口頭のみ", "なし")


@dataclass
class Table:
    item_id: str
    name: str
    decider: str
    rows: list[RuleLine] = field(default_factory=list)
    numeric: bool = False
    overlaps: list[str] = field(default_factory=list)


def _yen(m: re.Match[str]) -> float:
    if m.group(3):
        return float(m.group(3).replace(",", ""))
    unit = {"億": 1e8, "万": 1e4, "千": 1e3}.get(m.group(2) or "", 1)
    return float(m.group(1)) * unit


def to_feel(condition: str) -> str:
    """「10万円以上」 -> ``>= 100000``; empty when not an amount comparison."""
    text = unicodedata.normalize("NFKC", condition)
    m = _AMOUNT.search(text)
    if not m or len(_AMOUNT.findall(text)) != 1:
        return ""
    v = _yen(m)
    n = f"{v:.0f}"
    tail = text[m.end() :]
    if _LOWER_EXC.search(tail) or _LOWER_EXC.search(text[: m.start()]):
        return f"> {n}"
    if _LOWER_INC.search(tail):
        return f">= {n}"
    if _UPPER_EXC.search(tail):
        return f"< {n}"
    if _UPPER_INC.search(tail):
        return f"<= {n}"
    return ""


def _interval(feel: str) -> tuple[float, float, bool, bool]:
    op, _, num = feel.partition(" ")
    v = float(num)
    inf = float("inf")
    return {
        ">": (v, inf, False, False),
        ">=": (v, inf, True, False),
        "<": (-inf, v, False, False),
        "<=": (-inf, v, False, True),
    }[op]


def _overlap(a: str, b: str) -> bool:
    lo1, hi1, lc1, hc1 = _interval(a)
    lo2, hi2, lc2, hc2 = _interval(b)
    lo, lc = (lo1, lc1) if (lo1, not lc1) > (lo2, not lc2) else (lo2, lc2)
    hi, hc = (hi1, hc1) if (hi1, hc1) < (hi2, hc2) else (hi2, hc2)
    return lo < hi or (lo == hi and lc and hc)


def rule_tables(h: Handover) -> list[Table]:
    tables: list[Table] = []
    for item in h.items:
        if item.kind != "judgment":
            continue
        basis = h.assessments[item.id].criterion if item.id in h.assessments else ""
        status = h.status_label(item)
        for el in h.members(item):
            if not isinstance(el, Judgment):
                continue
            src = next((s for s in item.sources if s.element_id == el.id), None)
            source = f"{src.hearing}／{src.person}「{src.quote}」" if src else ""
            table = Table(
                item_id=item.id,
                name=el.decision or item.name,
                decider=el.decider,
                numeric=bool(el.rules),
            )
            for r in el.rules:
                feel = to_feel(r.condition)
                table.numeric = table.numeric and bool(feel)
                table.rows.append(
                    RuleLine(
                        item.id,
                        table.name,
                        r.condition,
                        r.outcome,
                        el.decider,
                        _basis(el, basis),
                        source,
                        # an inferred row the reviewer left marked is still to be confirmed
                        f"{status}（推定・要確認）" if r.inferred else status,
                        feel,
                    )
                )
            if not el.rules:
                table.rows.append(
                    RuleLine(
                        item.id,
                        table.name,
                        "（基準が語られていない）",
                        "要確認",
                        el.decider,
                        _basis(el, basis),
                        source,
                        status,
                    )
                )
            if table.numeric:
                for i, a in enumerate(table.rows):
                    for b in table.rows[i + 1 :]:
                        if _overlap(a.feel, b.feel):
                            table.overlaps.append(f"「{a.condition}」と「{b.condition}」が重なる")
            tables.append(table)
    return tables


def _basis(el: Judgment, item_basis: str) -> str:
    if el.criterion == CriterionStatus.ABSENT:
        return "なし"
    if el.criterion == CriterionStatus.UNSTATED:
        return "口頭のみ"
    return item_basis or "口頭のみ"


def to_dmn(tables: list[Table], name: str) -> str:
    """DMN 1.3 definitions with one decision (UNIQUE decision table) per judgment."""
    q = f"{{{DMN_NS}}}"
    defs = ET.Element(
        q + "definitions",
        {"id": "Definitions_shikumi", "name": name, "namespace": "https://shikumi.example/dmn"},
    )
    used: set[str] = set()
    for n, t in enumerate(tables, 1):
        did = ascii_id("Decision", t.item_id)
        while did in used:
            did = f"{did}_{n}"
        used.add(did)
        dec = ET.SubElement(defs, q + "decision", {"id": did, "name": t.name})
        table = ET.SubElement(
            dec, q + "decisionTable", {"id": f"{did}_table", "hitPolicy": "UNIQUE"}
        )
        inp = ET.SubElement(
            table, q + "input", {"id": f"{did}_in", "label": "金額（円）" if t.numeric else "条件"}
        )
        expr = ET.SubElement(
            inp,
            q + "inputExpression",
            {"id": f"{did}_in_expr", "typeRef": "number" if t.numeric else "string"},
        )
        ET.SubElement(expr, q + "text").text = "金額" if t.numeric else "条件"
        ET.SubElement(
            table,
            q + "output",
            {"id": f"{did}_out", "label": "結果", "name": "結果", "typeRef": "string"},
        )
        for k, row in enumerate(t.rows, 1):
            rule = ET.SubElement(table, q + "rule", {"id": f"{did}_r{k}"})
            if row.oral_only or t.overlaps:
                notes = []
                if row.oral_only:
                    notes.append(f"根拠: {row.basis}")
                if t.overlaps:
                    notes.append("重複: " + "; ".join(t.overlaps))
                ET.SubElement(rule, q + "description").text = " / ".join(notes)
            ie = ET.SubElement(rule, q + "inputEntry", {"id": f"{did}_r{k}_in"})
            ET.SubElement(ie, q + "text").text = (
                row.feel if t.numeric else _feel_string(row.condition)
            )
            oe = ET.SubElement(rule, q + "outputEntry", {"id": f"{did}_r{k}_out"})
            ET.SubElement(oe, q + "text").text = _feel_string(row.outcome)
    ET.indent(defs)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(defs, encoding="unicode")


def _feel_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
