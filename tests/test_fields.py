"""The model-filled fields: prompts, the support check, the finding the model notes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipeline.calls import strict_schema
from pipeline.extract import extract
from pipeline.fields import (
    SCHEMAS,
    in_texts_script,
    noted_remark,
    participant,
    remark_scores,
    supported,
    verb_phrase,
)
from pipeline.models import Finding, FindingKind, Language, Segment, Task, Transcript
from pipeline.prompts import load_prompt
from tests.conftest import FakeChat, echo_fields


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_every_few_shot_answer_follows_its_schema_and_quotes_its_text(kind: str) -> None:
    name, model = SCHEMAS[kind]
    prompt = load_prompt(name)
    users = [t for role, t in prompt.messages if role == "user"][:-1]
    answers = [t for role, t in prompt.messages if role == "assistant"]
    assert len(answers) == len(users) >= 3
    schema = strict_schema(model)
    assert schema["additionalProperties"] is False
    for user, answer in zip(users, answers, strict=True):
        value = model.model_validate_json(answer.strip())
        data = value.model_dump()
        # the examples follow the rule the prompt states: every value is in the text
        for step in data.get("steps", [data]):
            for key in ("actor", "decider", "owner", "frequency", "volume", "deadline"):
                if step.get(key):
                    assert supported(step[key], user), (key, step[key])


@pytest.mark.parametrize(
    ("value", "text", "ok"),
    [
        ("5万円を超える", "1件5万円を超える場合は、部長の承認も必要です。", True),
        ("部長の承認が必要", "5万円を超える場合は部長の承認が必要です。", True),
        ("毎月25日まで", "まず社員が楽楽精算で申請します。", False),
        ("the controller", "Then the controller signs it off.", True),
        ("checks each claim", "The clerk checks every claim against the policy.", True),
        ("the CFO approves", "The clerk checks every claim against the policy.", False),
        ("", "anything", False),
    ],
)
def test_a_value_is_supported_only_when_the_text_says_it(value: str, text: str, ok: bool) -> None:
    assert supported(value, text) is ok


class NotingChat(FakeChat):
    """Labels one sentence a task and notes, in its fields answer, that one person knows it."""

    def _next(self) -> str:
        schema = self.schemas[-1] or {}
        last = self.calls[-1][-1]["content"]
        if schema.get("title") == "Label":
            sentence = last.split("Sentence: ")[-1]
            return json.dumps({"label": "task" if "入力します" in sentence else "none"})
        answer: dict[str, Any] = json.loads(echo_fields(schema["title"], last.split("Quote: ")[-1]))
        return json.dumps(answer | {"finding": "one_person"})


def test_the_finding_the_model_notes_quotes_the_neighbour_that_says_it() -> None:
    lines = [
        "毎月、請求データを販売管理システムに入力します。",
        "このやり方は田中さんしか分からないんです。",
    ]
    segs = [
        Segment(id=f"s{i + 1:04d}", start=i * 5.0, end=i * 5.0 + 4.5, speaker="担当", text=t)
        for i, t in enumerate(lines)
    ]
    tr = Transcript(interview_id="int_f", language=Language.JA, segments=segs, duration=10.0)
    run = extract(tr, NotingChat())
    (task,) = [e for e in run.elements if isinstance(e, Task)]
    assert task.evidence[0].quote == lines[0]
    (finding,) = [e for e in run.elements if isinstance(e, Finding)]
    assert finding.finding == FindingKind.PERSON_DEPENDENCY
    assert finding.evidence[0].quote == lines[1]  # the sentence that says it, not the step


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("私がkintoneの受注管理アプリに", "営業事務"),  # a clause: its subject, the speaker
        ("経理の私が毎朝", "営業事務"),  # the speaker, however introduced
        ("I", "営業事務"),
        ("we", "営業事務"),
        ("鈴木課長", "鈴木課長"),
        ("経理の佐藤さん", "経理の佐藤さん"),  # の inside a noun phrase stays
        ("the controller", "the controller"),
        ("kintone", ""),  # a system is not who does the step
        ("入力しています", ""),  # a verb is not a participant
        ("何枚かの納品書", ""),  # a document the step names (its head), not who does it
        ("総務の秘書", "総務の秘書"),
    ],
)
def test_a_participant_is_a_person_or_role_never_a_system_or_a_clause(
    value: str, expected: str
) -> None:
    assert participant(value, "営業事務", ["kintone", "SAP", "納品書"]) == expected


class SystemActorChat(FakeChat):
    """Names a system as the actor of a step told in the first person."""

    def _next(self) -> str:
        schema = self.schemas[-1] or {}
        last = self.calls[-1][-1]["content"]
        if schema.get("title") == "Label":
            return json.dumps({"label": "task"})
        step = {"action": "受注データをSAPに入力する", "actor": "SAP", "inputs": [],
                "outputs": [], "systems": ["SAP"], "frequency": "", "volume": "",
                "deadline": ""}  # fmt: skip
        if "私が" in last.split("Quote: ")[-1]:
            step |= {"actor": "私", "systems": ["SAP", "私"]}
        return json.dumps({"steps": [step], "finding": "none"})


def test_the_actor_of_a_step_is_the_speakers_role_when_the_model_names_a_system_or_i() -> None:
    lines = ["毎日、受注データをSAPに入力します。", "それから私が受注データをSAPに入力します。"]
    segs = [
        Segment(id=f"s{i + 1:04d}", start=i * 5.0, end=i * 5.0 + 4.5, speaker="担当", text=t)
        for i, t in enumerate(lines)
    ]
    tr = Transcript(interview_id="int_a", language=Language.JA, segments=segs, duration=10.0)
    tasks = [e for e in extract(tr, SystemActorChat(), default_actor="営業事務").elements
             if isinstance(e, Task)]  # fmt: skip
    assert [t.actor for t in tasks] == ["営業事務", "営業事務"]
    assert all(t.systems == ["SAP"] for t in tasks)


def test_the_remark_is_read_at_the_finding_token_and_taken_when_likely_enough(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the answer's tokens: ... "deadline":"" }], "finding":" one _person "}
    positions = [
        {'"': -0.01},
        {"none": -2.0, "one": -0.3, "pre": -2.5},  # the finding value's first token
        {"_person": -0.01},
        {'"}': -0.01},
    ]
    scores = remark_scores(positions)
    assert max(scores, key=lambda k: scores[k]) == "one_person"
    assert remark_scores([{'"': 0.0}, {"}": 0.0}]) == {}

    step = {"action": "入力する", "actor": "", "inputs": [], "outputs": [], "systems": []}
    written_none = SCHEMAS["task"][1].model_validate({"steps": [step], "finding": "none"})
    monkeypatch.setattr("pipeline.fields.REMARK_MIN", 0.2)
    assert noted_remark(written_none, {"none": 0.7, "precedent": 0.25}) == "precedent"
    assert noted_remark(written_none, {"none": 0.85, "precedent": 0.15}) == "none"
    written = SCHEMAS["task"][1].model_validate({"steps": [step], "finding": "oral_only"})
    assert noted_remark(written, {"none": 0.9}) == "oral_only"  # what it wrote stands


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("発注書の数量を照合する", True),
        ("伝票を入力", True),
        ("支払データを作成", True),
        ("出荷指示書を出して", True),
        ("請求書発行", True),
        ("照合発注書の数量", False),  # Chinese word order: the verb before its object
        ("入力伝票", False),
        ("作成支払データ", False),
        ("確認するためです", False),  # a purpose, not an action
        ("reconcile the accounts", True),
    ],
)
def test_an_action_reads_as_a_japanese_verb_phrase(value: str, ok: bool) -> None:
    assert verb_phrase(value) is ok


class ScrambledActionChat(FakeChat):
    """Writes a step's action with the verb before its object."""

    def _next(self) -> str:
        if (self.schemas[-1] or {}).get("title") == "Label":
            return json.dumps({"label": "task"})
        step = {"action": "照合発注書の数量", "actor": "", "inputs": [], "outputs": [],
                "systems": [], "frequency": "", "volume": "", "deadline": ""}  # fmt: skip
        return json.dumps({"steps": [step], "finding": "none"})


def test_a_scrambled_action_gives_way_to_the_quote() -> None:
    seg = Segment(
        id="s0001", start=0.0, end=4.0, speaker="担当", text="届いた発注書の数量を照合します。"
    )
    tr = Transcript(interview_id="int_a", language=Language.JA, segments=[seg], duration=4.0)
    tasks = [e for e in extract(tr, ScrambledActionChat()).elements if isinstance(e, Task)]
    assert [t.action for t in tasks] == ["届いた発注書の数量を照合します"]


def test_a_value_in_chinese_forms_takes_the_texts_own_words() -> None:
    text = "締めの3日前までに出ない人がいたら、課長に理由を聞いて報告しています。"
    assert (
        in_texts_script("课长に理由を聞いて報告しています", text)
        == "課長に理由を聞いて報告しています"
    )
    assert in_texts_script("这个报告", text) == ""  # nothing of the text to snap to
    assert in_texts_script("課長に理由を聞く", text) == "課長に理由を聞く"  # Japanese: unchanged


@pytest.mark.parametrize(
    ("quote", "first", "second", "second_step"),
    [
        # a step starts at the beginning of a word
        (
            "Greg emails the controller directly and I don't get a note saying go ahead.",
            "Greg emails the controller",
            "t get a note",
            "don't get a note",
        ),
        (
            "We ring the café and then we email the supplier.",
            "ring the café",
            "é and then we email",
            "café and then",
        ),
        # a step begins its clause: the subject and object told before its verb go with it
        (
            "First Officers receive $10,000, while Captains receive $20,000 on joining.",
            "First Officers receive $10,000",
            "receive $20,000",
            "while Captains receive",
        ),
        (
            "在庫を確認して、お客様に納期をメールで回答します。",
            "在庫を確認",
            "納期をメールで回答",
            "お客様に納期",
        ),
        # ...but never takes words the step before was found in, nor a title's full stop
        (
            "We check the stock, confirm the price and email the customer.",
            "check the stock, confirm the price",
            "email the",
            "email the customer",
        ),
        (
            "I check the file and Mr. Smith approves it.",
            "check the file",
            "approves it",
            "approves it.",
        ),
        # Japanese has no spaces: a step starts where it was found
        ("出荷が終わると、伝票を印刷して、倉庫に渡します。", "出荷", "伝票を印刷", "伝票を印刷"),
    ],
)
def test_a_step_starts_at_the_beginning_of_a_word_and_its_clause(
    quote: str, first: str, second: str, second_step: str
) -> None:
    from pipeline.fields import TaskStep, _locate_steps

    starts = _locate_steps([TaskStep(action=first), TaskStep(action=second)], quote)
    assert starts is not None and len(starts) == 2
    assert quote[starts[1] :].startswith(second_step)


def test_a_clause_start_too_near_the_step_before_is_not_taken() -> None:
    from pipeline.fields import TaskStep, _locate_steps

    ja = "確認、それから請求書を送付します。"
    assert _locate_steps([TaskStep(action="確認"), TaskStep(action="請求書を送付")], ja) == [0, 7]


class CaseAsDecisionChat(FakeChat):
    """Writes the rule's case into the decision field (as the 1.5B did for ja_smoke)."""

    def _next(self) -> str:
        schema = self.schemas[-1] or {}
        if schema.get("title") == "Label":
            return json.dumps({"label": "judgment"})
        if schema.get("title") == "JudgmentFields":
            row = {"condition": "5万円を超える", "outcome": "部長の承認が必要"}
            return json.dumps({"decision": "5万円を超える場合は", "rules": [row],
                               "decider": "部長", "criterion": "stated"})  # fmt: skip
        return json.dumps({"label": "none"})


@pytest.mark.parametrize(
    ("decision", "expected"),
    [
        ("5万円を超える場合は", True),
        ("5万円を超えるなら", True),
        ("if the invoice is over $5,000", True),
        ("経費の承認者を決める", False),
        ("who approves the invoice", False),
    ],
)
def test_a_decision_that_is_one_of_the_rules_cases_is_recognised(
    decision: str, expected: bool
) -> None:
    from pipeline.fields import is_a_case
    from pipeline.models import RuleRow

    rows = [
        RuleRow(condition="5万円を超える", outcome="部長の承認"),
        RuleRow(condition="the invoice is over $5,000", outcome="the CFO approves"),
    ]
    assert is_a_case(decision, rows) is expected


def test_a_judgment_whose_decision_is_a_case_is_summarised_by_its_rows() -> None:
    from pipeline.models import Judgment

    seg = Segment(id="s0001", start=0.0, end=4.0, speaker="担当",
                  text="5万円を超える場合は、部長の承認が必要です。")  # fmt: skip
    tr = Transcript(interview_id="int_a", language=Language.JA, segments=[seg], duration=4.0)
    els = [e for e in extract(tr, CaseAsDecisionChat(default="{}")).elements
           if isinstance(e, Judgment)]  # fmt: skip
    assert len(els) == 1
    assert els[0].decision == ""
    assert els[0].summary == "5万円を超える → 部長の承認が必要"


class RuleWithoutRowsChat(FakeChat):
    """Labels every sentence a judgment and repeats it as the decision, with no rows (as the
    1.5B does for a plain threshold sentence); ``criterion`` is what it says about the rule."""

    def __init__(self, criterion: str) -> None:
        super().__init__(default="{}")
        self.criterion = criterion

    def _next(self) -> str:
        schema = self.schemas[-1] or {}
        if schema.get("title") == "Label":
            return json.dumps({"label": "judgment"})
        if schema.get("title") == "JudgmentFields":
            quote = self.calls[-1][-1]["content"].rsplit("Quote:", 1)[-1].strip().rstrip("。")
            # "no rule" comes with the model's remark that it is decided case by case
            remark = "case_by_case" if self.criterion == "absent" else "none"
            return json.dumps({"decision": quote, "rules": [], "decider": "",
                               "criterion": self.criterion, "finding": remark})  # fmt: skip
        return json.dumps({"label": "none"})


@pytest.mark.parametrize("criterion", ["unstated", "absent"])
def test_a_rule_the_model_left_without_rows_gets_its_conditional_clause_as_a_row(
    criterion: str,
) -> None:
    # also where the speaker says there is no rule: the case they go by is what an operator
    # can act on, and the criterion stays what the model said (no written rule)
    from pipeline.models import CriterionStatus, Judgment

    rows = ["備品の購入が3万円以上 → 総務課長の決裁を取ります"]

    seg = Segment(id="s0001", start=0.0, end=4.0, speaker="担当",
                  text="備品の購入が3万円以上の場合は、総務課長の決裁を取ります。")  # fmt: skip
    tr = Transcript(interview_id="int_a", language=Language.JA, segments=[seg], duration=4.0)
    chat = RuleWithoutRowsChat(criterion)
    els = [e for e in extract(tr, chat).elements if isinstance(e, Judgment)]
    assert len(els) == 1
    assert [r.text for r in els[0].rules] == rows
    assert els[0].criterion == CriterionStatus(criterion)
    # the decision that only repeats the quote gives way to the rows
    assert els[0].decision == "" and els[0].summary == rows[0]


class FirstCaseOnlyChat(FakeChat):
    """Labels every sentence a judgment and gives the row of the first case only, as the 1.5B
    does when a speaker tells three cases in a row."""

    def _next(self) -> str:
        schema = self.schemas[-1] or {}
        if schema.get("title") == "Label":
            return json.dumps({"label": "judgment"})
        if schema.get("title") == "JudgmentFields":
            row = {"condition": "5万円を超える", "outcome": "部長の承認"}
            answer = {"decision": "経費の承認者", "decider": "", "criterion": "stated"}
            return json.dumps(answer | {"rules": [row]})
        return json.dumps({"label": "none"})


def test_a_case_the_models_rows_leave_out_is_added_from_its_conditional_clause() -> None:
    from pipeline.models import Judgment

    text = "5万円を超える場合は部長の承認です。海外出張の場合は、本部長が承認します。"
    seg = Segment(id="s0001", start=0.0, end=6.0, speaker="担当", text=text)
    tr = Transcript(interview_id="int_a", language=Language.JA, segments=[seg], duration=6.0)
    els = [e for e in extract(tr, FirstCaseOnlyChat(default="{}")).elements]
    rows = [r.text for e in els if isinstance(e, Judgment) for r in e.rules if not r.inferred]
    # the model's row once (the clause that says the same case adds nothing), the second case
    # from the grammar
    assert rows == ["5万円を超える → 部長の承認", "海外出張 → 本部長が承認します"]


def test_a_models_pointer_row_bounds_the_quantity_said_just_before_it_in_its_quote() -> None:
    from pipeline.fields import said_before
    from pipeline.lexicon import lexicon
    from pipeline.structure import written_out

    before = "6時間までは申請も要りません。それ以上は課長に申請します。"
    quote = "月35時間が上限です。それ以上の場合は部長に報告します。"
    said = said_before("それ以上", quote, before)
    assert written_out("それ以上", said, lexicon("ja")) == "35時間以上"


@pytest.mark.parametrize(
    ("text", "language", "rows"),
    [
        (
            "でも、課長が休みのときは、部長に回しています。",
            "ja",
            ["課長が休み → 部長に回しています"],
        ),
        ("ただし、10万円以上なら稟議です。", "ja", ["10万円以上なら → 稟議です"]),
        ("そのときは過去のファイルを見て決めています。", "ja", []),  # points back
        ("そういう場合は、課長に聞きます。", "ja", []),
        ("出張が急に決まったときに、請求書払いかカード払いか、とか。", "ja", []),  # open question
        (
            "Well. If the invoice is late, I call the vendor.",
            "en",
            ["the invoice is late → I call the vendor"],
        ),
        ("If that happens, I call the vendor.", "en", []),
        ("When it does, we wait.", "en", []),
        ("Approvals go to the director.", "en", []),
        ("月末までに計上しなければなりません。", "ja", []),  # an obligation, not a case
        (
            "If the invoice is over $5,000, the CFO signs it.",
            "en",
            ["the invoice is over $5,000 → the CFO signs it"],
        ),  # not cut at the thousands comma
        ("I decide when to pay it.", "en", []),  # a trailing "when" is no case
        (
            "If the vendor is new, e.g. a startup, we ask for a deposit.",
            "en",
            ["the vendor is new → e.g. a startup, we ask for a deposit"],
        ),
        ("でも急ぎの場合は電話します。", "ja", ["急ぎ → 電話します"]),
        # a case that bounds a quantity said before it gets that quantity written in
        (
            "残業の上限は月45時間です。それ以上なら部長に報告します。",
            "ja",
            ["45時間以上なら → 部長に報告します"],
        ),
        ("上限は五十万円です。それを超えたら稟議です。", "ja", ["五十万円を超えたら → 稟議です"]),
        (
            "The limit is $500. If it is above that, the CFO signs.",
            "en",
            ["it is above $500 → the CFO signs"],
        ),
        # a title does not end the sentence; the answer "no." does
        (
            "If Mr. Lee is away, Ms. Kim signs it.",
            "en",
            ["Mr. Lee is away → Ms. Kim signs it"],
        ),
        (
            "The answer is no. If it is late, I call.",
            "en",
            ["it is late → I call"],
        ),
    ],
)
def test_rule_rows_read_off_the_grammar_of_a_conditional_clause(
    text: str, language: str, rows: list[str]
) -> None:
    from pipeline.structure import grammar_rows

    assert [r.text for r in grammar_rows(text, language)] == rows


@pytest.mark.parametrize(
    ("before", "condition", "language", "written"),
    [
        ("目安は月30時間です。", "それ以上", "ja", "30時間以上"),
        ("交通費は5千円まで申請不要で、", "それを超え", "ja", "5千円を超え"),
        # the quantity in the clause itself, not one said earlier
        ("会議は週2回です。", "上限は12時間で、それを超え", "ja", "上限は12時間で、12時間を超え"),
        # the sentence just before states no amount (a date is none): nothing to write in
        ("伝票は毎月7枚ほどです。締めは毎月25日です。", "それを過ぎたら", "ja", "それを過ぎたら"),
        # two kinds of quantity said just before: which one is meant is not known
        ("上限は8万円で、対象は6割です。", "それ以上", "ja", "それ以上"),
        ("The cap is $800.", "anything above that", "en", "anything above $800"),
        ("The cap is $800.", "the turnover this quarter drops", "en",
         "the turnover this quarter drops"),
        ("It takes 2 weeks.", "we go over it with legal", "en", "we go over it with legal"),
        ("Review takes 3 days.", "over this week", "en", "over this week"),
    ],
)  # fmt: skip
def test_a_pointer_case_gets_the_quantity_said_just_before_it_or_stays_as_said(
    before: str, condition: str, language: str, written: str
) -> None:
    from pipeline.lexicon import lexicon
    from pipeline.structure import written_out

    assert written_out(condition, before, lexicon(language)) == written


@pytest.mark.parametrize(
    ("told", "row", "same"),
    [
        (("8万円を超える", "部長の承認"), ("8万円を超える", "部長が承認"), True),
        (("30万円を超える", "社長の承認"), ("8万円を超える", "部長の承認"), False),  # a tier
        (("金額が8万円未満", "課長の承認"), ("金額が8万円以上", "部長の承認"), False),
        (("出荷が急ぎでない", "翌週に回す"), ("出荷が急ぎ", "当日に出す"), False),
        (("the buyer is not new", "we invoice them"), ("the buyer is new", "we ask a deposit"),
         False),
    ],
)  # fmt: skip
def test_a_clause_tells_the_same_case_as_a_row_only_with_the_same_bounds_and_sign(
    told: tuple[str, str], row: tuple[str, str], same: bool
) -> None:
    from pipeline.fields import _same_case
    from pipeline.models import RuleRow

    a = RuleRow(condition=told[0], outcome=told[1])
    b = RuleRow(condition=row[0], outcome=row[1])
    assert _same_case(a, b) is same


@pytest.mark.parametrize(
    ("condition", "outcome", "kept"),
    [
        ("3万円以上", "部長の承認も要る", True),
        ("the amount is over $5,000", "we accrue it", True),
        ("そういうとき", "課長に聞く", False),  # points back: the case was said before
        ("in that case", "call the buyer", False),
        ("同じ業者にしています", "清掃は同じ業者にしています", False),  # the sentence cut twice
        ("three days after us", "the branch closes three days after us", False),
        ("海外", "海外送金で払う", True),  # a short case said again in its outcome
        ("late", "charge a late fee", True),
    ],
)
def test_a_model_row_that_is_no_case_and_outcome_is_not_shown(
    condition: str, outcome: str, kept: bool
) -> None:
    from pipeline.fields import _no_row

    assert _no_row(condition, outcome) is not kept


class NeighbourTriggerChat(FakeChat):
    """Labels the second sentence an exception and copies its trigger and handling from the
    sentence before it (the "Before" context), as the 1.5B did on a new hearing."""

    def _next(self) -> str:
        schema = self.schemas[-1] or {}
        last = self.calls[-1][-1]["content"]
        if schema.get("title") == "Label":
            label = "exception" if "場合は" in last.split("Sentence:")[-1] else "task"
            return json.dumps({"label": label})
        if schema.get("title") == "ExceptionFields":
            return json.dumps({"trigger": "検収書は紙で保管します", "handling": "紙で保管",
                               "owner": "", "frequency": "", "routine": False})  # fmt: skip
        return echo_fields(str(schema.get("title")), last.split("Quote: ")[-1])


def test_an_exception_whose_quote_states_its_case_takes_that_case_as_its_trigger() -> None:
    from pipeline.models import Exception_

    segs = [
        Segment(id="s0001", start=0.0, end=3.0, speaker="担当", text="検収書は紙で保管します。"),
        Segment(id="s0002", start=3.0, end=7.0, speaker="担当",
                text="検収書が届かない場合は、倉庫に電話で確認します。"),
    ]  # fmt: skip
    tr = Transcript(interview_id="int_a", language=Language.JA, segments=segs, duration=7.0)
    els = [e for e in extract(tr, NeighbourTriggerChat(default="{}")).elements
           if isinstance(e, Exception_)]  # fmt: skip
    assert len(els) == 1
    assert els[0].trigger == "検収書が届かない"
    assert els[0].handling == "倉庫に電話で確認します"


class JudgmentChat(FakeChat):
    """Labels every sentence a judgment; names a decider only where the sentence names one."""

    def _next(self) -> str:
        schema = self.schemas[-1] or {}
        last = self.calls[-1][-1]["content"]
        if schema.get("title") == "Label":
            return json.dumps({"label": "judgment"})
        quote = last.split("Quote: ")[-1]
        answer = json.loads(echo_fields(str(schema.get("title")), quote))
        if schema.get("title") == "JudgmentFields" and "課長" in quote:
            answer["decider"] = "課長"
        return json.dumps(answer)


def test_a_judgment_with_no_one_named_is_the_speaker_s_own() -> None:
    from pipeline.models import Judgment

    deciders = []
    for text in (
        "摘要が曖昧なものは、中身を見てどの科目にするか決めています。",
        "十万円を超える値引きは課長が決めます。",
    ):
        segs = [Segment(id="s0001", start=0.0, end=4.0, speaker="担当", text=text)]
        tr = Transcript(interview_id="int_a", language=Language.JA, segments=segs, duration=4.0)
        found = extract(tr, JudgmentChat(default="{}"), default_actor="経理担当").elements
        deciders += [e.decider for e in found if isinstance(e, Judgment)]
    assert deciders == ["経理担当", "課長"]


class AllExceptionsChat(FakeChat):
    """Labels every sentence an exception (as the 1.5B did for a threshold rule on a new
    hearing) and copies the quote into the fields."""

    def _next(self) -> str:
        schema = self.schemas[-1] or {}
        last = self.calls[-1][-1]["content"]
        if schema.get("title") == "Label":
            return json.dumps({"label": "exception"})
        return echo_fields(str(schema.get("title")), last.split("Quote: ")[-1])


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("立替額が2万円を超えるときは、精算書に領収書の原本を付けてもらいます。", "judgment"),
        ("If the refund is over $500, Linda signs it.", "judgment"),
        ("領収書をなくした場合は、出金伝票を書いてもらいます。", "exception"),  # no bound
        ("If the invoice is late, I call the vendor.", "exception"),
        # a tolerance on time, a starting point: still a thing gone wrong
        ("入荷が4日以上ずれ込んだ場合は、購買に連絡します。", "exception"),
        ("If the shipment is more than two days late, I call the carrier.", "exception"),
        ("見積もりが3社から揃わない場合は、課長に相談します。", "exception"),
        # a case decided as the last one was: a judgment whose rule is unsaid
        ("そういう伝票は、前回と同じ部門に振り替えています。", "judgment"),
        ("For those I charge the same fee as last time.", "judgment"),
    ],
)
def test_an_exception_that_is_a_threshold_or_a_precedent_is_a_judgment(
    text: str, kind: str
) -> None:
    seg = Segment(id="s0001", start=0.0, end=4.0, speaker="担当", text=text)
    lang = Language.EN if text.isascii() else Language.JA
    tr = Transcript(interview_id="int_a", language=lang, segments=[seg], duration=4.0)
    els = extract(tr, AllExceptionsChat(default="{}")).elements
    assert [e.kind for e in els if e.kind != "finding"] == [kind]


class TriggerThenStepChat(FakeChat):
    """Labels a sentence that tells an irregular event an exception and every other one a
    task, as the 1.5B does when the handling is told in the sentence after the event."""

    def _next(self) -> str:
        schema = self.schemas[-1] or {}
        last = self.calls[-1][-1]["content"]
        if schema.get("title") == "Label":
            sentence = last.split("Sentence:")[-1]
            irregular = "ときどき" in sentence or "Now and then" in sentence
            return json.dumps({"label": "exception" if irregular else "task"})
        return echo_fields(str(schema.get("title")), last.split("Quote: ")[-1])


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        # the event alone, then the step that handles it: one exception
        (
            "ときどき、同じ見積書が二重に登録されます。システムが警告を出すので、後の方を取り消します。",
            ["exception"],
        ),
        (
            "Now and then a courier loses a parcel. I file a claim with the courier the same day.",
            ["exception"],
        ),
        # an exception that tells its own handling: the next step is the normal flow again
        (
            "ときどき、住所が違っている場合は、営業に確認します。確認が済んだら発送します。",
            ["exception", "task"],
        ),
    ],
)  # fmt: skip
def test_an_exception_told_as_an_event_alone_takes_the_next_step_as_its_handling(
    text: str, kinds: list[str]
) -> None:
    seg = Segment(id="s0001", start=0.0, end=8.0, speaker="担当", text=text)
    lang = Language.EN if text.isascii() else Language.JA
    tr = Transcript(interview_id="int_a", language=lang, segments=[seg], duration=8.0)
    els = extract(tr, TriggerThenStepChat(default="{}")).elements
    assert [e.kind for e in els if e.kind != "finding"] == kinds


@pytest.mark.parametrize(
    ("quote", "actions", "kept"),
    [
        # a clause that only tells when or why goes with the step after it
        (
            "検品が済むと、システムで入庫を確定して、棚に並べます。",
            ["検品が済む", "システムで入庫を確定", "棚に並べます"],
            ["システムで入庫を確定", "棚に並べます"],
        ),
        (
            "申請が上がってくるので、内容を確認して、課長に回します。",
            ["申請が上がってくる", "内容を確認", "課長に回します"],
            ["内容を確認", "課長に回します"],
        ),
        (
            "Once the pallet is counted, I update the stock sheet and email the buyer.",
            ["the pallet is counted", "update the stock sheet", "email the buyer"],
            ["update the stock sheet", "email the buyer"],
        ),
        # steps that each do something stay apart
        (
            "伝票を印刷して、課長に回します。",
            ["伝票を印刷", "課長に回します"],
            ["伝票を印刷", "課長に回します"],
        ),
    ],
)
def test_a_clause_that_only_leads_into_a_step_is_no_step_of_its_own(
    quote: str, actions: list[str], kept: list[str]
) -> None:
    from pipeline.fields import TaskStep, _locate_steps, _without_lead_ins

    steps = [TaskStep(action=a) for a in actions]
    starts = _locate_steps(steps, quote)
    assert starts is not None
    starts[0] = 0
    out, at = _without_lead_ins(steps, starts, quote)
    assert [s.action for s in out] == kept
    assert at[0] == 0 and len(at) == len(out)


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        # a remark that a step's output is not needed: a finding, not an irregular event
        ("The weekly aging report goes out, but nobody reads it.", ["finding"]),
        ("月次の集計表も作っていますが、誰も見ていないんです。", ["finding"]),
        # an irregular event with its handling stays an exception beside its remark
        (
            "If a pallet arrives damaged, I log it twice, just in case.",
            ["exception", "finding"],
        ),
    ],
)
def test_an_exception_that_is_only_a_remark_that_a_step_is_unneeded_is_the_finding_alone(
    text: str, kinds: list[str]
) -> None:
    seg = Segment(id="s0001", start=0.0, end=4.0, speaker="担当", text=text)
    lang = Language.EN if text.isascii() else Language.JA
    tr = Transcript(interview_id="int_a", language=lang, segments=[seg], duration=4.0)
    els = extract(tr, AllExceptionsChat(default="{}")).elements
    assert sorted(e.kind for e in els) == kinds
