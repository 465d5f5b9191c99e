"""The database of record: round trips, ids, transactions, crash safety."""

from __future__ import annotations

from collections.abc import Iterator
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
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
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


def test_data_survives_reopen(db_url: str) -> None:
    url = db_url
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


# --------------------------------------------------------------------------- schema migrations


def test_migrated_schema_matches_the_tables_the_code_uses(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from pipeline.store import Base
    from pipeline.store.migrate import head_revision

    store = Store(db_url)
    try:
        with store.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert ctx.get_current_revision() == head_revision()
            diff = [
                d for d in compare_metadata(ctx, Base.metadata) if "alembic_version" not in str(d)
            ]
        assert diff == []
    finally:
        store.close()


LEGACY_TABLES = """
CREATE TABLE interviews (id VARCHAR(40) NOT NULL, data JSON NOT NULL, status VARCHAR(20) NOT NULL,
  created_at DATETIME NOT NULL, PRIMARY KEY (id));
CREATE INDEX ix_interviews_status ON interviews (status);
CREATE TABLE jobs (id VARCHAR(40) NOT NULL, interview_id VARCHAR(40) NOT NULL,
  status VARCHAR(20) NOT NULL, data JSON NOT NULL, created_at DATETIME NOT NULL, PRIMARY KEY (id));
CREATE INDEX ix_jobs_interview_id ON jobs (interview_id);
CREATE INDEX ix_jobs_status ON jobs (status);
INSERT INTO interviews VALUES ('int_old', '{"id": "int_old", "title": "前の版",
  "status": "uploaded", "created_at": "2026-01-05T10:00:00Z"}', 'uploaded',
  '2026-01-05 10:00:00.000000');
INSERT INTO jobs VALUES ('job_old', 'int_old', 'queued', '{"id": "job_old", "interview_id":
  "int_old", "status": "queued", "created_at": "2026-01-05T10:00:00Z"}',
  '2026-01-05 10:00:00.000000');
"""


def test_workspace_made_before_migrations_still_opens(tmp_path: Path) -> None:
    """A database created by the old ``create_all`` (no alembic_version, fewer tables, jobs
    without leases) opens with its data and gains what is missing."""
    import sqlite3

    db = tmp_path / "shikumi.db"
    with sqlite3.connect(db) as conn:
        conn.executescript(LEGACY_TABLES)
    store = Store(f"sqlite:///{db}")
    try:
        assert store.get_interview("int_old").title == "前の版"
        job = store.claim_next_job("w1")
        assert job is not None and job.id == "job_old" and job.attempts == 1
        store.add_interview(Interview(title="new"))  # the other tables exist now
        assert [e.id for e in store.list_engagements()] == ["default"]
    finally:
        store.close()


# --------------------------------------------------------------------------- concurrency


def test_concurrent_reviewers_one_wins_the_other_is_told(db_url: str) -> None:
    """Two reviewers (two connections) save the same version at the same moment: exactly one
    edit lands, the other gets the conflict message, whatever the engine."""
    import threading

    from pipeline.errors import ReviewError

    first, second = Store(db_url), Store(db_url)
    try:
        iv = first.add_interview(Interview(title="a"))
        (el,) = first.add_elements([Task(interview_id=iv.id, summary="原文")])
        for round_ in range(5):
            base = first.get_element(el.id)
            barrier = threading.Barrier(2)
            outcome: dict[str, str] = {}

            def edit(
                store: Store, who: str, base=base, round_=round_, barrier=barrier, outcome=outcome
            ) -> None:
                mine = base.model_copy(deep=True)
                mine.summary, mine.version = f"{who}-{round_}", base.version + 1
                barrier.wait()
                try:
                    store.save_element(mine, expected_version=base.version)
                    outcome[who] = "saved"
                except ReviewError as exc:
                    outcome[who] = exc.message

            threads = [
                threading.Thread(target=edit, args=(s, w)) for s, w in ((first, "A"), (second, "B"))
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sorted(outcome.values())[-1] == "saved"
            assert sum(v == "saved" for v in outcome.values()) == 1, outcome
            loser = next(v for v in outcome.values() if v != "saved")
            assert "changed by someone else" in loser
            winner = next(w for w, v in outcome.items() if v == "saved")
            assert first.get_element(el.id).summary == f"{winner}-{round_}"
    finally:
        first.close()
        second.close()


def test_two_stores_claiming_at_once_never_share_a_job(db_url: str) -> None:
    import threading

    stores = [Store(db_url) for _ in range(3)]
    try:
        for i in range(30):
            stores[0].add_job(Job(interview_id=f"int_{i}"))
        claimed: dict[str, list[str]] = {f"w{i}": [] for i in range(3)}
        barrier = threading.Barrier(3)

        def drain(store: Store, me: str) -> None:
            barrier.wait()
            while (job := store.claim_next_job(me)) is not None:
                claimed[me].append(job.id)

        threads = [threading.Thread(target=drain, args=(s, f"w{i}")) for i, s in enumerate(stores)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        everything = [j for ids in claimed.values() for j in ids]
        assert len(everything) == 30 and len(set(everything)) == 30
        assert all(j.worker in claimed for j in stores[0].list_jobs(JobStatus.RUNNING))
    finally:
        for s in stores:
            s.close()


def test_the_ui_goes_through_the_workspace_only() -> None:
    """Pages call the workspace (pipeline/workspace.py), never the store behind it."""
    root = Path(__file__).resolve().parent.parent
    files = [root / "app.py", *sorted((root / "ui").rglob("*.py"))]
    reaching = [
        f"{f.relative_to(root)}:{n}"
        for f in files
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
        if ".store" in line and "vector_store" not in line
    ]
    assert reaching == []


def test_workers_adding_elements_at_once_get_distinct_ids(db_url: str) -> None:
    """Two workers finishing extractions at the same moment: every element is kept under its
    own id (found by the two-worker queue test: one job failed on a duplicate J-number)."""
    import threading

    stores = [Store(db_url) for _ in range(3)]
    try:
        ivs = [stores[0].add_interview(Interview(title=f"h{i}")) for i in range(3)]
        barrier = threading.Barrier(3)
        errors: list[Exception] = []

        def extract(store: Store, interview_id: str) -> None:
            barrier.wait()
            try:
                for _ in range(5):
                    store.add_elements(
                        [
                            Judgment(interview_id=interview_id, summary="r"),
                            Task(interview_id=interview_id, summary="t"),
                        ]
                    )
            except Exception as exc:
                errors.append(exc)

        threads = [
            threading.Thread(target=extract, args=(s, iv.id))
            for s, iv in zip(stores, ivs, strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        ids = [e.id for e in stores[0].list_elements()]
        assert len(ids) == 30 and len(set(ids)) == 30
    finally:
        for s in stores:
            s.close()


def test_workers_caching_the_same_answer_at_once_do_not_fail(db_url: str) -> None:
    """Two workers labelling the same sentence store the same cache key (found by the queue
    test: a job failed on a duplicate llm_cache key)."""
    import threading

    stores = [Store(db_url) for _ in range(3)]
    try:
        barrier = threading.Barrier(3)
        errors: list[Exception] = []

        def put(store: Store, n: int) -> None:
            barrier.wait()
            try:
                for k in range(20):
                    store.cache_put(f"key{k}", f"answer from {n}")
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=put, args=(s, n)) for n, s in enumerate(stores)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert (stores[0].cache_get("key7") or "").startswith("answer from")
        stores[0].cache_put("key7", "replaced")
        assert stores[1].cache_get("key7") == "replaced"
    finally:
        for s in stores:
            s.close()


def test_unreachable_database_says_what_to_do() -> None:
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match="Cannot open the database") as exc:
        Store("postgresql+psycopg://shikumi:secret@127.0.0.1:9/shikumi")
    assert "SHIKUMI_DATABASE_URL" in exc.value.hint
    assert "secret" not in exc.value.message  # the password is not shown
