"""The knowledge index holds approved knowledge only, and stays in step with review actions.

Real chromadb (PersistentClient in tmp) and the real keyword index; FakeEmbedder vectors.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pipeline.models import Evidence, Exception_, Interview, Judgment, RuleRow, Task
from pipeline.retrieve import Filters
from pipeline.workspace import Workspace
from tests.conftest import FakeEmbedder


def _seed(ws: Workspace) -> dict[str, str]:
    """Two interviews (経費精算, 受注) with one task, judgment and exception."""
    exp = ws.store.add_interview(Interview(title="経費ヒアリング", business_area="経費精算"))
    order = ws.store.add_interview(Interview(title="受注ヒアリング", business_area="受注"))
    ev = Evidence(quote="5万円を超える場合は部長の承認が必要です", audio_start=42.5, audio_end=47.0)
    els = ws.store.add_elements(
        [
            Task(interview_id=exp.id, summary="楽楽精算で経費を申請する", actor="申請者"),
            Judgment(
                interview_id=exp.id,
                summary="5万円を超える経費は部長承認",
                decision="承認者を決める",
                rules=[RuleRow(condition="5万円超", outcome="部長承認")],
                decider="部長",
                evidence=[ev],
            ),
            Exception_(
                interview_id=order.id,
                summary="検収書が遅れたら翌月計上",
                trigger="検収書が締め日までに届かない",
                handling="翌月に売上計上する",
                owner="鈴木課長",
            ),
        ]
    )
    return {e.kind: e.id for e in els}


def _keyword_ids(ws: Workspace, query: str) -> list[str]:
    return [h.id for h in ws.index.keyword().search(query)]


def test_only_approved_elements_are_indexed(make_workspace: Any) -> None:
    ws = make_workspace()
    ids = _seed(ws)
    assert ws.index.count() == 0  # drafts never answer
    ws.reviewer.approve(ids["judgment"], "sato")
    assert ws.vectors.all_ids() == [ids["judgment"]]
    assert _keyword_ids(ws, "部長承認") == [ids["judgment"]]


def test_version_and_effective_date_travel_with_the_element(make_workspace: Any) -> None:
    ws = make_workspace()
    ids = _seed(ws)
    jid = ids["judgment"]
    ws.reviewer.transition(jid, "approve", "sato", effective=date(2026, 4, 1))
    hit, _ = ws.vectors.get([jid])[0]
    assert hit.metadata["version"] == 2
    assert hit.metadata["effective_date"] == "2026-04-01"
    assert hit.metadata["business_area"] == "経費精算"
    assert hit.metadata["audio_start"] == 42.5
    assert hit.metadata["contact"] == "部長"


def test_editing_an_approved_element_replaces_its_indexed_text(make_workspace: Any) -> None:
    ws = make_workspace()
    ids = _seed(ws)
    jid = ids["judgment"]
    ws.reviewer.approve(jid, "sato")
    ws.reviewer.edit(jid, {"summary": "10万円を超える経費は役員承認", "decider": "役員"}, "sato")
    hit, _ = ws.vectors.get([jid])[0]
    assert "10万円を超える経費は役員承認" in hit.document
    assert "5万円を超える経費は部長承認" not in hit.document
    assert hit.metadata["version"] == 3 and hit.metadata["contact"] == "役員"
    assert _keyword_ids(ws, "役員承認") == [jid]
    assert ws.index.count() == 1


def test_retired_and_rejected_elements_never_answer(make_workspace: Any) -> None:
    ws = make_workspace()
    ids = _seed(ws)
    for eid in ids.values():
        ws.reviewer.approve(eid, "sato")
    ws.reviewer.retire(ids["judgment"], "sato")
    ws.reviewer.reject(ids["task"], "sato")
    assert ws.vectors.all_ids() == [ids["exception"]]
    assert _keyword_ids(ws, "部長承認") == []
    found = [r.id for r in ws.assistant.retriever.search("楽楽精算 部長承認 経費", k=5)]
    assert found == [ids["exception"]]


def test_rebuild_recreates_the_index_from_the_database(make_workspace: Any) -> None:
    ws = make_workspace()
    ids = _seed(ws)
    ws.reviewer.approve(ids["task"], "sato")
    ws.reviewer.approve(ids["exception"], "sato")
    ws.vectors.reset()  # the index folder is lost or corrupted
    assert ws.index.count() == 0
    assert ws.rebuild_index() == 2
    assert sorted(ws.vectors.all_ids()) == sorted([ids["task"], ids["exception"]])
    assert _keyword_ids(ws, "検収書") == [ids["exception"]]


def test_another_process_sees_approvals_in_keyword_search(make_workspace: Any) -> None:
    app = make_workspace()
    ids = _seed(app)
    assert _keyword_ids(app, "検収書") == []  # the app has built its keyword index
    cli = make_workspace()  # a second Workspace on the same folder, like the CLI
    cli.reviewer.approve(ids["exception"], "sato")
    assert _keyword_ids(app, "検収書") == [ids["exception"]]
    cli.reviewer.retire(ids["exception"], "sato")
    assert _keyword_ids(app, "検収書") == []


def test_keyword_copy_on_disk_is_reused_and_rebuilt_when_stale(make_workspace: Any) -> None:
    ws = make_workspace()
    ids = _seed(ws)
    ws.reviewer.approve(ids["task"], "sato")
    assert ws.index.keyword_path is not None and ws.index.keyword_path.exists()
    fresh = make_workspace()
    assert _keyword_ids(fresh, "楽楽精算") == [ids["task"]]


def test_a_new_embedder_gets_its_own_collection_built_from_the_database(
    make_workspace: Any,
) -> None:
    ws = make_workspace()
    ids = _seed(ws)
    ws.reviewer.approve(ids["task"], "sato")

    class OtherEmbedder(FakeEmbedder):
        name = "other-embedder"
        dim = 64

    other = make_workspace(embed=OtherEmbedder())
    assert other.vectors.name != ws.vectors.name
    assert other.index.count() == 0
    other.assistant  # noqa: B018 - opening the assistant builds the index from the DB
    assert other.vectors.all_ids() == [ids["task"]]


def test_filters_restrict_both_halves(make_workspace: Any) -> None:
    ws = make_workspace()
    ids = _seed(ws)
    for eid in ids.values():
        ws.reviewer.approve(eid, "sato")
    retriever = ws.assistant.retriever
    q = "承認 検収書 申請"
    area = [r.id for r in retriever.search(q, k=5, filters=Filters(areas=["受注"]))]
    assert area == [ids["exception"]]
    kinds = {r.id for r in retriever.search(q, k=5, filters=Filters(kinds=["task", "judgment"]))}
    assert kinds == {ids["task"], ids["judgment"]}
    order_iv = ws.store.get_element(ids["exception"]).interview_id
    by_iv = [r.id for r in retriever.search(q, k=5, filters=Filters(interviews=[order_iv]))]
    assert by_iv == [ids["exception"]]
