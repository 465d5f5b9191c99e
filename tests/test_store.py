"""The database of record: round trips, ids, transactions, crash safety."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import NotFoundError
from pipeline.models import (
    Evidence,
    Exception_,
    Finding,
    FindingKind,
    Interview,
    Job,
    JobStatus,
    Judgment,
    ReviewStatus,
    RuleRow,
    Task,
)
from pipeline.store import Store

from .conftest import transcript_of


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield s
    s.close()


def test_interview_transcript_and_elements_round_trip(store: Store) -> None:
    iv = store.add_interview(Interview(title="経費精算ヒアリング", business_area="経費精算"))
    tr = transcript_of(["申請を受け付けます。", "5万円を超える場合は部長承認です。"], iv.id)
    store.save_transcript(tr)
    got = store.get_transcript(iv.id)
    assert got is not None and got.text == tr.text and got.segments[1].id == "s0002"

    saved = store.add_elements(
        [
            Task(interview_id=iv.id, summary="申請受付", actor="経理"),
            Judgment(
                interview_id=iv.id,
                summary="部長承認",
                rules=[RuleRow(condition="5万円超", outcome="部長承認")],
                evidence=[Evidence(quote="5万円を超える場合は部長承認です")],
            ),
            Exception_(interview_id=iv.id, summary="領収書紛失", is_routine=True),
            Finding(interview_id=iv.id, summary="属人化", finding=FindingKind.PERSON_DEPENDENCY),
        ]
    )
    assert [e.id for e in saved] == ["T0001", "J0001", "X0001", "F0001"]
    j = store.get_element("J0001")
    assert isinstance(j, Judgment) and j.rules[0].outcome == "部長承認"
    kinds = [e.kind for e in store.list_elements(iv.id)]
    assert kinds == ["finding", "judgment", "task", "exception"]
    assert len(store.list_elements(kind="task")) == 1


def test_ids_stay_unique_across_interviews(store: Store) -> None:
    a = store.add_interview(Interview(title="a"))
    b = store.add_interview(Interview(title="b"))
    store.add_elements([Task(interview_id=a.id, summary="x")])
    store.add_elements([Task(interview_id=b.id, summary="y")])
    assert sorted(e.id for e in store.list_elements(kind="task")) == ["T0001", "T0002"]


def test_failed_write_leaves_previous_state(store: Store) -> None:
    iv = store.add_interview(Interview(title="a"))
    store.add_elements([Task(interview_id=iv.id, summary="kept")])
    with pytest.raises(RuntimeError), store.tx() as s:
        from pipeline.store import ElementRow

        row = s.get(ElementRow, "T0001")
        assert row is not None
        row.status = "approved"
        raise RuntimeError("crash mid-way")
    assert store.get_element("T0001").status == ReviewStatus.DRAFT


def test_data_survives_reopen(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    s1 = Store(url)
    iv = s1.add_interview(Interview(title="persist"))
    s1.close()
    s2 = Store(url)
    assert s2.get_interview(iv.id).title == "persist"
    s2.close()


def test_replace_elements_never_touches_reviewed(store: Store) -> None:
    iv = store.add_interview(Interview(title="a"))
    _, t2 = store.add_elements(
        [Task(interview_id=iv.id, summary="draft"), Task(interview_id=iv.id, summary="ok")]
    )
    t2.status = ReviewStatus.APPROVED
    store.save_element(t2)
    store.replace_elements(iv.id, [])
    assert [e.summary for e in store.list_elements(iv.id)] == ["ok"]


def test_missing_ids_say_what_to_do(store: Store) -> None:
    with pytest.raises(NotFoundError, match="not found") as exc:
        store.get_interview("nope")
    assert "shikumi interviews" in exc.value.hint


def test_jobs_claim_in_order(store: Store) -> None:
    j1 = store.add_job(Job(interview_id="a"))
    store.add_job(Job(interview_id="b"))
    claimed = store.claim_next_job()
    assert claimed is not None and claimed.id == j1.id and claimed.status == JobStatus.RUNNING
    assert store.get_job(j1.id).status == JobStatus.RUNNING


def test_open_questions_count_repeats(store: Store) -> None:
    store.record_open_question("海外出張の日当は？")
    store.record_open_question("海外出張の日当は?")
    (q,) = store.list_open_questions()
    assert q.count == 2
