"""Link elements into a flow: task order, judgment branches, exception interrupts.

Hearings walk through the work in order, so the order of first mention is the task order.
A judgment branches to the next task stated after it (its outcome leads there); an exception
interrupts the task it was stated nearest after (the step during which the irregular case
shows up). These are drafts for the reviewer, computed from positions in the transcript.
"""

from __future__ import annotations

from .models import AnyElement, Exception_, Judgment, Task

_FAR = 1 << 30


def position(el: AnyElement) -> int:
    starts = [e.char_start for e in el.evidence if e.char_start is not None]
    return min(starts) if starts else _FAR


def link_flow(elements: list[AnyElement]) -> None:
    tasks = sorted((e for e in elements if isinstance(e, Task)), key=position)
    for n, (t, nxt) in enumerate(zip(tasks, [*tasks[1:], None], strict=False), start=1):
        t.order = n
        t.next_ids = [nxt.id] if nxt else []
    grounded = [t for t in tasks if position(t) < _FAR]
    for el in elements:
        pos = position(el)
        if pos >= _FAR:
            continue
        before = [t for t in grounded if position(t) <= pos]
        after = [t for t in grounded if position(t) > pos]
        if isinstance(el, Judgment) and not el.branch_to:
            targets: dict[str, str] = {}
            for rule in el.rules:
                if after:
                    targets[rule.outcome or rule.condition] = after[0].id
            if not targets and after:
                targets["next"] = after[0].id
            el.branch_to = targets
        elif isinstance(el, Exception_) and el.interrupts is None:
            nearest = before[-1] if before else (after[0] if after else None)
            el.interrupts = nearest.id if nearest else None
