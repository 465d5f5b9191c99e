"""The procedure as a Graphviz flow (DOT text): tasks in order, judgments as diamonds with
their branches, exceptions attached to the task they interrupt; one cluster per interview.

Each node links to the review page (``review?element=ID``), so clicking it opens the element.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Iterable

from pipeline.models import (
    AnyElement,
    Exception_,
    Finding,
    Interview,
    Judgment,
    ReviewStatus,
    Task,
)

FILL = {
    ReviewStatus.APPROVED: "#d9f2d9",
    ReviewStatus.DRAFT: "#ffffff",
    ReviewStatus.REJECTED: "#f4d6d6",
    ReviewStatus.RETIRED: "#e6e6e6",
}
FONT = "Noto Sans CJK JP, Noto Sans, sans-serif"


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _wrap(text: str, width: int = 16, lines: int = 3) -> str:
    # Japanese has no spaces: wrap by characters; English text wraps on words where it can.
    out = textwrap.wrap(text, width=width * (2 if text.isascii() else 1), break_long_words=True)
    if len(out) > lines:
        out = [*out[: lines - 1], out[lines - 1][:-1] + "…"]
    return "\n".join(out)


def _char_start(el: AnyElement) -> int:
    for ev in el.evidence:
        if ev.char_start is not None:
            return ev.char_start
    return 1 << 30


def _node(el: AnyElement, shape: str, extra: str = "", rounded: bool = False) -> str:
    border = "#c62828" if not el.grounded else ("#ef6c00" if el.low_confidence else "#455a64")
    style = ("rounded," if rounded else "") + (
        "filled,dashed" if el.status == ReviewStatus.DRAFT else "filled"
    )
    label = f"{el.id}\n{_wrap(el.summary)}"
    return (
        f"  {_q(el.id)} [label={_q(label)}, shape={shape}, style={_q(style)}, "
        f"fillcolor={_q(FILL[el.status])}, color={_q(border)}, "
        f'URL={_q("review?element=" + el.id)}, target="_self", tooltip={_q(el.summary)}{extra}];'
    )


def _task_sequence(tasks: list[Task]) -> list[Task]:
    return sorted(tasks, key=lambda x: (x.order if x.order is not None else 1 << 30, x.id))


def _preceding(el: AnyElement, tasks: list[Task]) -> Task | None:
    pos = _char_start(el)
    before = [x for x in tasks if _char_start(x) <= pos]
    return max(before, key=_char_start) if before else (tasks[0] if tasks else None)


def _cluster(
    n: int, interview: Interview | None, items: list[AnyElement], show_findings: bool
) -> list[str]:
    tasks = _task_sequence([e for e in items if isinstance(e, Task)])
    ids = {e.id for e in items}
    title = interview.title if interview else items[0].interview_id
    out = [f"  subgraph cluster_{n} {{", f'  label={_q(title)}; style=rounded; color="#90a4ae";']
    for x in tasks:
        out.append(_node(x, "box", rounded=True))
    for e in items:
        if isinstance(e, Judgment):
            out.append(_node(e, "diamond"))
        elif isinstance(e, Exception_):
            out.append(_node(e, "hexagon", ', fontcolor="#bf360c"'))
        elif isinstance(e, Finding) and show_findings:
            out.append(_node(e, "note", ', fontcolor="#6a1b9a"'))
    closing = len(out)
    out.append("  }")
    notes: list[str] = []  # rule tables drawn beside their judgment, inside the cluster
    # the task order
    for prev, nxt in itertools.pairwise(tasks):
        targets = [i for i in prev.next_ids if i in ids] or [nxt.id]
        out += [f"  {_q(prev.id)} -> {_q(tid)};" for tid in targets]
    for e in items:
        if isinstance(e, Judgment):
            src = _preceding(e, tasks)
            if src is not None:
                out.append(f"  {_q(src.id)} -> {_q(e.id)} [style=bold];")
            branches = {k: v for k, v in e.branch_to.items() if v in ids}
            for outcome, target in branches.items():
                out.append(f"  {_q(e.id)} -> {_q(target)} [label={_q(_wrap(outcome, 12, 2))}];")
            if not branches and e.rules:
                rules = "\n".join(_wrap(f"{r.condition} → {r.outcome}", 22, 2) for r in e.rules[:4])
                rid = f"{e.id}_rules"
                notes.append(
                    f"  {_q(rid)} [label={_q(rules)}, shape=note, fontsize=10, "
                    f'color="#90a4ae", URL={_q("review?element=" + e.id)}, target="_self"];'
                )
                out.append(f"  {_q(e.id)} -> {_q(rid)} [style=dotted, arrowhead=none];")
        elif isinstance(e, Exception_):
            src = next((x for x in tasks if x.id == e.interrupts), None) or _preceding(e, tasks)
            if src is not None:
                out.append(
                    f'  {_q(src.id)} -> {_q(e.id)} [style=dashed, color="#ef6c00", '
                    f'label="{"routine" if e.is_routine else ""}"];'
                )
        elif isinstance(e, Finding) and show_findings:
            for target in (c for c in e.concerns if c in ids):
                out.append(f'  {_q(e.id)} -> {_q(target)} [style=dotted, color="#6a1b9a"];')
    return out[:closing] + notes + out[closing:]


def build_dot(
    elements: Iterable[AnyElement],
    interviews: dict[str, Interview],
    show_findings: bool = False,
) -> str:
    by_interview: dict[str, list[AnyElement]] = {}
    for el in elements:
        by_interview.setdefault(el.interview_id, []).append(el)
    lines = [
        "digraph procedure {",
        "  rankdir=TB; newrank=true; nodesep=0.35; ranksep=0.45; compound=true;",
        f'  node [fontname={_q(FONT)}, fontsize=11, margin="0.25,0.08"];',
        f'  edge [fontname={_q(FONT)}, fontsize=9, color="#607d8b"];',
        f"  graph [fontname={_q(FONT)}, fontsize=12];",
    ]
    for n, (iid, items) in enumerate(by_interview.items()):
        lines += _cluster(n, interviews.get(iid), items, show_findings)
    lines.append("}")
    return "\n".join(lines)
