"""Keyword search that understands Japanese, and hybrid retrieval with a covered decision."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline.adapters.vectorstore import ChromaVectorStore
from pipeline.index import KnowledgeIndex
from pipeline.keyword import KeywordIndex, tokenize
from pipeline.retrieve import Filters, Retriever
from tests.conftest import FakeEmbedder


def test_japanese_compounds_are_kept_and_their_parts_searchable() -> None:
    terms = tokenize("経費精算の承認ルートは部長決裁です。")
    assert "経費精算" in terms and "承認ルート" in terms  # mode C keeps business compounds
    assert "経費" in terms and "精算" in terms  # ... and their parts are searchable too
    assert "の" not in terms and "は" not in terms and "。" not in terms


def test_english_words_are_lowercased_without_stopwords_or_plurals() -> None:
    assert tokenize("Are the Benefits for Families taxable?") == ["benefit", "family", "taxable"]


def test_an_english_element_with_japanese_field_labels_is_found_by_its_english_words() -> None:
    # the indexed text of an element carries bilingual labels (判断/Decision): its English words
    # must stay English, not Sudachi's katakana (journal -> ジャーナル)
    kw = KeywordIndex()
    kw.add("j", "Journal entry approval: over $50,000 to the CFO\n判断/Decision: who approves")
    kw.add("t", "Revalue foreign currency balances\n作業/Task: revaluation")
    assert [h.id for h in kw.search("Who has to approve journal entries?")] == ["j"]
    assert "journal" in tokenize("判断/Decision: journal entries")


def test_bm25_ranks_the_document_with_the_rare_term_first() -> None:
    kw = KeywordIndex()
    kw.add("a", "経費精算は毎月25日締めです。")
    kw.add("b", "出張の精算は帰着後7日以内に行います。")
    kw.add("c", "交際費は一人1万円までです。")
    assert [h.id for h in kw.search("交際費の上限は？")] == ["c"]
    assert kw.search("精算")[0].id in {"a", "b"} and len(kw.search("精算")) == 2
    kw.remove("c")
    assert kw.search("交際費") == []
    kw.add("a", "交際費は部長承認です。")  # re-adding replaces the old text
    assert [h.id for h in kw.search("交際費")] == ["a"] and kw.search("毎月") == []


def test_keyword_filters_by_metadata() -> None:
    kw = KeywordIndex()
    kw.add("t", "請求書を発行する", {"kind": "task", "business_area": "受注"})
    kw.add("j", "請求書の再発行は課長が判断する", {"kind": "judgment", "business_area": "受注"})
    assert [h.id for h in kw.search("請求書", filters={"kind": ["judgment"]})] == ["j"]
    assert kw.search("請求書", filters={"business_area": ["経費精算"]}) == []


def test_keyword_index_survives_save_and_load(tmp_path: Path) -> None:
    kw = KeywordIndex()
    kw.add("x", "Write off differences under $100.", {"kind": "judgment"})
    kw.generation = "g1"
    kw.save(tmp_path / "kw.pkl")
    again = KeywordIndex()
    assert again.load(tmp_path / "kw.pkl") and again.generation == "g1"
    assert [h.id for h in again.search("differences", filters={"kind": ["judgment"]})] == ["x"]
    import pickle

    old = {"version": 1, "generation": "g0", "docs": {}}
    (tmp_path / "old.pkl").write_bytes(pickle.dumps(old))
    assert not KeywordIndex().load(tmp_path / "old.pkl")  # other tokens: rebuilt instead
    (tmp_path / "bad.pkl").write_bytes(b"not a pickle")
    assert not KeywordIndex().load(tmp_path / "bad.pkl")


def _index(tmp_path: Path) -> KnowledgeIndex:
    index = KnowledgeIndex(ChromaVectorStore(tmp_path / "idx", embed=FakeEmbedder()))
    docs = {
        "J0001": ("5万円を超える経費は部長の承認が必要です。", "経費精算", "judgment"),
        "X0001": ("領収書を紛失した場合は出金伝票で代用します。", "経費精算", "exception"),
        "T0001": ("毎朝、申請内容と領収書を照合します。", "経費精算", "task"),
        "J0002": ("Journal entries over $50,000 need CFO approval.", "close", "judgment"),
    }
    index.put(
        list(docs),
        [d[0] for d in docs.values()],
        [{"business_area": a, "kind": k, "interview_id": "iv"} for _, a, k in docs.values()],
    )
    return index


def test_hybrid_finds_keyword_only_matches_and_scores_them(tmp_path: Path) -> None:
    retriever = Retriever(_index(tmp_path), pool=1)  # vector pool of one: keyword must help
    ids = [r.id for r in retriever.search("出金伝票", k=4)]
    assert "X0001" in ids
    r = next(r for r in retriever.search("出金伝票", k=4) if r.id == "X0001")
    assert r.keyword > 0 and -1.0 <= r.similarity <= 1.0


def test_each_mode_and_filters(tmp_path: Path) -> None:
    index = _index(tmp_path)
    for mode in ("hybrid", "vector", "keyword"):
        res = Retriever(index, mode=mode).search("部長の承認", k=2)  # type: ignore[arg-type]
        assert res[0].id == "J0001", mode
    f = Filters(areas=["close"])
    assert [r.id for r in Retriever(index).search("承認 approval", k=5, filters=f)] == ["J0002"]
    assert Filters().where() is None
    assert Filters(kinds=["task"], areas=["a"]).where() == {
        "$and": [{"business_area": {"$in": ["a"]}}, {"kind": {"$in": ["task"]}}]
    }


def test_covered_decision_uses_the_threshold(tmp_path: Path) -> None:
    index = _index(tmp_path)
    strict = Retriever(index, threshold=0.99)
    lenient = Retriever(index, threshold=0.1)
    res = strict.search("5万円を超える経費は部長の承認が必要ですか", k=3)
    assert lenient.covered(res) and not strict.covered(res)
    assert not lenient.covered([])


def test_a_stale_keyword_hit_for_a_deleted_document_is_dropped(
    tmp_path: Path, monkeypatch: Any
) -> None:
    index = _index(tmp_path)
    kw = index.keyword()
    index.vectors._col.delete(ids=["X0001"])  # removed behind the keyword index's back
    monkeypatch.setattr(index, "keyword", lambda: kw)  # and the keyword index does not know
    ids = [r.id for r in Retriever(index).search("出金伝票", k=4)]
    assert "X0001" not in ids


@pytest.mark.slow
def test_embedded_model_finds_japanese_and_english_rules(tmp_path: Path) -> None:
    """The real offline embedder, through chromadb's registered embedding function."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from pipeline.adapters.embeddings import embedder_for

    store = ChromaVectorStore(tmp_path / "idx", embed=embedder_for("embedded"))
    index = KnowledgeIndex(store)
    index.put(
        ["J0001", "X0001", "J0002"],
        [
            "5万円を超える経費は部長の承認が必要です。",
            "領収書を紛失した場合は出金伝票で代用します。",
            "Journal entries over $50,000 need CFO approval.",
        ],
        [{"kind": "judgment"}, {"kind": "exception"}, {"kind": "judgment"}],
    )
    retriever = Retriever(index)
    assert retriever.search("レシートをなくしたらどうする？", k=1)[0].id == "X0001"
    assert retriever.search("Who signs off a large journal entry?", k=1)[0].id == "J0002"
    covered = retriever.search("高額な経費は誰が承認しますか？", k=3)
    assert covered[0].id == "J0001" and retriever.covered(covered)
    store.close()
    # another process opens the collection by name alone: chromadb rebuilds our function
    client = chromadb.PersistentClient(
        path=str(tmp_path / "idx"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    col = client.get_collection(store.name)
    res = col.query(query_texts=["出金伝票"], n_results=1)
    assert res["ids"][0] == ["X0001"]
