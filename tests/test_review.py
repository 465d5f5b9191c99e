"""Review actions: versions, history, allowed transitions, no lost edits."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.errors import ReviewError
from pipeline.models import Interview, ReviewStatus, Task


def _ws_with_task(make_workspace: Any) -> Any:
    ws = make_workspace()
    iv = ws.store.add_interview(Interview(title="t"))
    ws.store.add_elements([Task(interview_id=iv.id, summary="照合する", actor="経理")])
    return ws


def test_edit_bumps_version_and_records_history(make_workspace: Any) -> None:
    ws = _ws_with_task(make_workspace)
    el = ws.reviewer.edit("T0001", {"actor": "経理担当", "summary": "領収書を照合する"}, "sato")
    assert el.version == 2 and el.actor == "経理担当"
    entry = el.history[-1]
    assert entry.who == "sato" and entry.changes["actor"] == {"from": "経理", "to": "経理担当"}
    assert ws.store.get_element("T0001").summary == "領収書を照合する"


def test_stale_edit_is_refused_not_overwritten(make_workspace: Any) -> None:
    ws = _ws_with_task(make_workspace)
    ws.reviewer.edit("T0001", {"actor": "A"}, "one", expected_version=1)
    with pytest.raises(ReviewError, match="changed since"):
        ws.reviewer.edit("T0001", {"actor": "B"}, "two", expected_version=1)
    assert ws.store.get_element("T0001").actor == "A"


def test_invalid_edit_writes_nothing(make_workspace: Any) -> None:
    ws = _ws_with_task(make_workspace)
    with pytest.raises(ReviewError):
        ws.reviewer.edit("T0001", {"no_such_field": 1}, "x")
    with pytest.raises(ReviewError):
        ws.reviewer.edit("T0001", {"status": "approved"}, "x")
    assert ws.store.get_element("T0001").version == 1


def test_lifecycle_and_index_sync(make_workspace: Any) -> None:
    ws = _ws_with_task(make_workspace)
    el = ws.reviewer.approve("T0001", "sato")
    assert el.status == ReviewStatus.APPROVED and el.effective_date is not None
    assert ws.index.count() == 1
    ws.reviewer.retire("T0001", "sato")
    assert ws.index.count() == 0
    with pytest.raises(ReviewError, match="Cannot retire"):
        ws.reviewer.retire("T0001", "sato")
    actions = [h.action for h in ws.store.get_element("T0001").history]
    assert actions == ["approved", "retired"]
