"""Answers rendered from the approved structure: the model chooses, the fields speak.

For one question and the approved elements retrieval found:
1. the model chooses which element answers (or none) — one token, scored by log-probabilities;
2. for a judgment, the rule row that applies is found by evaluating its condition against the
   question (``conditions``); where the question lacks the fact the row needs, the answer is one
   follow-up question for it; where no comparison can be made, the model chooses the row;
3. the answer is rendered from the chosen element's reviewed fields in the shape the question
   asks for: "what do I do" -> the procedure / handling; "who" -> the approver with the
   condition; yes/no -> yes or no first (the model reads the applicable row and the facts);
4. approved judgments from different hearings that answer the same question with different
   thresholds or deciders are shown side by side and recorded as an open question.

Every line carries the id of the element it was rendered from, so the answer is faithful by
construction. Text-only rules (no reviewed fields, e.g. an imported rulebook) are decided by the
questions the operator answered (``text_rules``); a condition nobody answered is asked about.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from .adapters.llm import ChatModel
from .choose import LETTERS, choose
from .conditions import (
    Case,
    Verdict,
    bounds_of,
    evaluate_row,
    language_of,
    missing_question,
    text_verdicts,
)
from .models import AnyElement, Exception_, Finding, Judgment, RuleRow, Task, rows_text
from .prompts import load_prompt
from .retrieve import Retrieved
from .text_rules import AUX_START, char_pairs, text_rule

Shape = Literal["how", "who", "yesno"]
MAX_OPTIONS = 5
RANK_PRIOR = (0.5, 0.2, 0.13, 0.1, 0.07)  # retrieval's order as a prior over the options
NONE_PROBABILITY = 0.5  # the model's "none of these" at or above this: not covered
OUTCOME_SHARE = 0.3  # shared character pairs of two rules' outcomes for them to conflict
SAME_PROBABILITY = 0.7  # the model's "same decision" needed to call two rules a conflict
EXTRA_PROBABILITY = 0.25  # another element this likely is added (e.g. the exception that fits)
# An exception applies only when its trigger holds: its weight is the share of the trigger's
# character pairs the question has, over this share (at most 1, at least TRIGGER_FLOOR)
TRIGGER_SHARE = 0.3
TRIGGER_FLOOR = 0.25
RELATED_RATIO = 0.5  # a how / who answer adds the runner-up this close to the chosen element

# Interrogatives and question grammar (closed word classes of each language, not phrasings of
# any hearing): they decide the answer's shape.
_WHO = re.compile(
    r"誰|だれ|どなた|どの(?:人|方|部署|上司)|承認者|決裁者|判断者|責任者|担当者は|"
    r"\bwho\b|\bwhom\b|\bwhose\b|which (?:person|manager|role|team)",
    re.I,
)
_WH_JA = re.compile(
    r"何|なに[をがもでと]|なんの|なんと言|いつ|どこ|どう|どの|どれ|どんな|"
    r"いくら|いくつ|なぜ|どちら"
)
_YESNO_JA = re.compile(
    r"(?:ます|です|でしょう|ません|ない|いい|良い|よい|要る|いる|必要|可能|できる)"
    r"(?:か|かね|の)?\s*[？?]?\s*$"
)
_YESNO_EN = re.compile(
    r"^(?:do|does|did|is|are|was|were|can|could|should|shall|must|may|might|will|would|"
    r"have|has|need|am)\b",
    re.I,
)


_SENTENCE_END = re.compile(r"(?<=[。！？])|(?<=[.!?])\s+")


def question_sentence(text: str) -> str:
    """The sentence that asks: the last one ending in a question mark, else the last one; in
    English, from the auxiliary that opens the question when a statement runs into it."""
    sentences = [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]
    if not sentences:
        return text.strip()
    asking = [s for s in sentences if s.endswith(("?", "？"))]
    last = (asking or sentences)[-1]
    starts = [m.start() for m in AUX_START.finditer(last)]
    if language_of(last) == "en" and starts and not _YESNO_EN.match(last):
        last = last[starts[-1] :]
    return last


def question_shape(question: str) -> Shape:
    """The shape of the answer the question asks for, read off the sentence that asks."""
    last = question_sentence(question)
    if _WHO.search(last):
        return "who"
    if language_of(last) == "ja":
        if not _WH_JA.search(last) and _YESNO_JA.search(last):
            return "yesno"
        return "how"
    if _YESNO_EN.match(last) and not re.search(r"\bhow\b|\bwhat\b|\bwhen\b", last, re.I):
        return "yesno"
    return "how"


@dataclass
class Candidate:
    result: Retrieved
    element: AnyElement | None  # None: a text-only rule
    engagement: str = ""  # rules disagree only within one engagement (one client)

    @property
    def id(self) -> str:
        return self.result.id


@dataclass
class Line:
    text: str
    ids: list[str]

    def render(self) -> str:
        cites = "".join(f"[{i}]" for i in self.ids)
        return f"{self.text} {cites}".strip()


@dataclass
class Composition:
    lines: list[Line] = field(default_factory=list)
    covered: bool = True
    decision: str = "answer"  # answer / yes / no / inquire / none
    conflict: str = ""  # open question for the consultant, when approved rules disagree
    chosen: str = ""  # id of the element the answer was rendered from
    probabilities: dict[str, float] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        out: list[str] = []
        for line in self.lines:
            out += [i for i in line.ids if i not in out]
        return out

    @property
    def text(self) -> str:
        return "\n".join(line.render() for line in self.lines)


L = {
    "ja": {
        "yes": "はい。",
        "no": "いいえ。",
        "decider": "判断者",
        "actor": "担当",
        "owner": "担当",
        "systems": "使用システム",
        "frequency": "頻度",
        "inputs": "インプット",
        "outputs": "アウトプット",
        "deadline": "締切",
        "step": "手順",
        "if": "場合",
        "applies": "あなたのケース",
        "not_applies": "この条件には当たりません",
        "conflict": "注意: ヒアリングによってルールが異なります。コンサルタントに確認中です"
        "(要確認事項として記録しました)。",
        "exception": "例外",
        "rule": "判断",
        "which_case": "次のどの場合に当たりますか？",
        "related": "関連",
    },
    "en": {
        "yes": "Yes.",
        "no": "No.",
        "decider": "decides",
        "actor": "who",
        "owner": "owner",
        "systems": "systems",
        "frequency": "frequency",
        "inputs": "inputs",
        "outputs": "outputs",
        "deadline": "deadline",
        "step": "Step",
        "if": "if",
        "applies": "your case",
        "not_applies": "this condition does not apply",
        "conflict": "Note: the hearings disagree on this rule; the consultant has been asked"
        " (recorded as an open question).",
        "exception": "Exception",
        "rule": "Rule",
        "which_case": "Which of these cases applies?",
        "related": "Related",
    },
}


def _short(text: str, n: int = 140) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= n else text[: n - 1] + "…"


def option_text(c: Candidate) -> str:
    """One line per candidate for the choice prompt: kind and the fields that say what it is."""
    el = c.element
    if el is None:
        return _short(c.result.text, 220)
    if isinstance(el, Judgment):
        rows = rows_text(el.rules[:3])
        return _short(
            f"判断/Judgment: {el.decision or el.summary}" + (f" / {rows}" if rows else "")
        )
    if isinstance(el, Exception_):
        return _short(f"例外/Exception: {el.trigger or el.summary} → {el.handling}")
    if isinstance(el, Task):
        return _short(f"作業/Task: {el.action or el.summary}")
    return _short(f"{el.kind}: {el.summary}")


# restrictive particles read alike (だけ / のみ / only) when a question is set against an outcome
_ONLY = re.compile(r"だけ|のみ|ばかり|\bonly\b|\bjust\b", re.I)
_PUNCT = re.compile(r"[\s、。,.!?！？「」()（）:：/・]+")


def _bigrams(text: str) -> set[str]:
    return char_pairs(_ONLY.sub("のみ", text.lower()), _PUNCT)


def asked_case(question: str, verdicts: list[Verdict]) -> Verdict:
    """The case (row) a yes/no question is about: the one whose outcome shares the most of its
    own words with the question — words the other outcomes do not have (部長 vs 所属長のみ) —
    then the most words overall. The sentence that asks is read first (「…請求書はまだです。
    計上しますか？」 asks about 計上, not about the invoice); the whole message when that
    sentence shares no word of its own with any outcome."""
    grams = [_bigrams(v.row.outcome) for v in verdicts]

    def score(q: set[str], i: int) -> tuple[int, float]:
        others = set().union(*(g for j, g in enumerate(grams) if j != i))
        own = grams[i] - others
        return len(q & own), (len(q & grams[i]) / len(grams[i]) if grams[i] else 0.0)

    q = _bigrams(question_sentence(question))
    if not any(score(q, i)[0] for i in range(len(verdicts))):
        q = _bigrams(question)
    return verdicts[max(range(len(verdicts)), key=lambda i: score(q, i))]


def _judgment_line(el: Judgment) -> str:
    rows = " / ".join(_row_text(r) for r in _rows(el))
    return _short(f"{el.decision or el.summary}: {rows}", 200)


def _rows(el: Judgment) -> list[RuleRow]:
    return el.rules or [RuleRow(condition="", outcome=el.summary)]


def _row_text(row: RuleRow) -> str:
    if not row.condition:
        return row.outcome
    text = row.text
    if row.inferred:  # the other side of a threshold the reviewer has not confirmed
        text += "（推定）" if language_of(text) == "ja" else " (inferred)"
    return text


class Composer:
    def __init__(self, llm_factory: Callable[[], ChatModel]):
        self._llm_factory = llm_factory

    # ------------------------------------------------------------------ choices

    def choose_element(self, question: str, cands: list[Candidate]) -> dict[str, float]:
        """Probability per candidate id, plus "N" for none of them."""
        cands = cands[:MAX_OPTIONS]
        labels = [*LETTERS[: len(cands)], "N"]
        options = "\n".join(f"{LETTERS[i]}) {option_text(c)}" for i, c in enumerate(cands))
        msgs = load_prompt("answer_choose").render(question=question, options=options)
        choice = choose(self._llm_factory(), msgs, labels)
        if not choice.probs:  # the model wrote no label: trust retrieval's order
            return {cands[0].id: 1.0} if cands else {"N": 1.0}
        # the model's pick weighed against retrieval's order: p(model) x prior(rank), renormalised.
        # Measured on the dev questions: the embedded 1.5B model alone picks the right element
        # for 0.57 of them, retrieval's first hit for 0.76, the product for 0.76 (a model with
        # sharper, better picks overrides retrieval only where it is clearly surer)
        raw = {c.id: choice.p(LETTERS[i]) * RANK_PRIOR[i] for i, c in enumerate(cands)}
        total = sum(raw.values()) or 1.0
        out = {k: (1 - choice.p("N")) * v / total for k, v in raw.items()}
        out["N"] = choice.p("N")
        return out

    def choose_row(self, question: str, el: Judgment, rows: list[RuleRow]) -> int | None:
        """Index of the row that applies, or None when the question does not tell."""
        labels = [str(i) for i in range(len(rows) + 1)][:10]
        listed = "\n".join(f"{i + 1}) {_row_text(r)}" for i, r in enumerate(rows[:9]))
        msgs = load_prompt("answer_row").render(
            decision=el.decision or el.summary, rows=listed, question=question
        )
        choice = choose(self._llm_factory(), msgs, labels)
        if not choice.label or choice.label == "0" or choice.p(choice.label) < 0.5:
            return None
        return int(choice.label) - 1

    def yes_or_no(self, question: str, rule: str, facts: str) -> bool:
        msgs = load_prompt("answer_yesno").render(rule=rule, facts=facts, question=question)
        choice = choose(self._llm_factory(), msgs, ["Y", "N"])
        return choice.p("Y") >= choice.p("N")

    # ------------------------------------------------------------------ rendering

    def compose(self, question: str, cands: list[Candidate]) -> Composition:
        return _collect(self.stream(question, cands))

    def stream(self, question: str, cands: list[Candidate]) -> Iterator[Line | Composition]:
        """Lines as they are decided, then the final Composition."""
        comp = Composition()
        if not cands:
            comp.covered, comp.decision = False, "none"
            yield comp
            return
        probs = weigh_triggers(question, cands, self.choose_element(question, cands))
        comp.probabilities = probs
        ranked = sorted((c for c in cands if c.id in probs), key=lambda c: -probs[c.id])
        if probs.get("N", 0.0) >= NONE_PROBABILITY or not ranked:
            comp.covered, comp.decision = False, "none"
            yield comp
            return
        shape = question_shape(question)
        primary = _bounding_rule(question, shape, ranked) or ranked[0]
        comp.chosen = primary.id
        lang = language_of(question)
        for line in self._render(question, shape, lang, primary, comp):
            comp.lines.append(line)
            yield line
        conflict = self._conflict(primary, ranked, probs, lang)
        if conflict is not None:
            comp.lines += conflict[0]
            comp.conflict = conflict[1]
            yield from conflict[0]
        if comp.decision not in ("inquire",) and shape != "yesno" and conflict is None:
            # a how / who question the model cannot settle between two rules gets both
            runner = next((c for c in ranked if c is not primary), None)
            top = probs[primary.id]
            if (
                runner is not None
                and isinstance(runner.element, Task | Judgment)
                and probs[runner.id] >= RELATED_RATIO * top
            ):
                for i, line in enumerate(self._render(question, shape, lang, runner, comp)):
                    if i == 0:  # said as the other rule that may be meant
                        line = Line(f"{L[lang]['related']}: {line.text}", line.ids)
                    comp.lines.append(line)
                    yield line
        if comp.decision not in ("inquire",):
            for c in ranked[1:]:
                if probs[c.id] >= EXTRA_PROBABILITY and isinstance(c.element, Exception_):
                    line = self._exception_line(c.element, lang, extra=True)
                    comp.lines.append(line)
                    yield line
        yield comp

    def _render(
        self, question: str, shape: Shape, lang: str, cand: Candidate, comp: Composition
    ) -> Iterator[Line]:
        el = cand.element
        if el is None:
            yield from self._render_text(question, shape, lang, cand, comp)
        elif isinstance(el, Judgment):
            yield from self._render_judgment(question, shape, lang, el, comp)
        elif isinstance(el, Exception_):
            if shape == "yesno":
                yes = self.yes_or_no(question, f"{el.trigger} → {el.handling}", "")
                yield _yes_no(comp, yes, lang, el.id)
            yield self._exception_line(el, lang)
        elif isinstance(el, Task):
            if shape == "yesno":
                yes = self.yes_or_no(question, el.action or el.summary, "")
                yield _yes_no(comp, yes, lang, el.id)
            yield from self._task_lines(el, lang)
        elif isinstance(el, Finding):
            yield Line(el.summary, [el.id])

    def _task_lines(self, el: Task, lang: str) -> Iterator[Line]:
        t = L[lang]
        head = el.action or el.summary
        if el.actor:
            head += (
                f"（{t['actor']}: {el.actor}）" if lang == "ja" else f" ({t['actor']}: {el.actor})"
            )
        yield Line(head, [el.id])
        details = []
        for key in ("systems", "inputs", "outputs"):
            vals = getattr(el, key)
            if vals:
                details.append(f"{t[key]}: {', '.join(vals)}")
        for key in ("frequency",):
            if getattr(el, key):
                details.append(f"{t[key]}: {getattr(el, key)}")
        if details:
            yield Line(" / ".join(details), [el.id])

    def _exception_line(self, el: Exception_, lang: str, extra: bool = False) -> Line:
        t = L[lang]
        trigger = el.trigger or el.summary
        text = f"{trigger} → {el.handling}" if el.handling else trigger
        if el.owner:
            text += (
                f"（{t['owner']}: {el.owner}）" if lang == "ja" else f" ({t['owner']}: {el.owner})"
            )
        if extra:
            text = f"{t['exception']}: {text}"
        return Line(text, [el.id])

    def _decider_suffix(self, el: Judgment, lang: str) -> str:
        if not el.decider:
            return ""
        t = L[lang]
        return (
            f"（{t['decider']}: {el.decider}）"
            if lang == "ja"
            else f" ({el.decider} {t['decider']})"
        )

    def _render_judgment(
        self, question: str, shape: Shape, lang: str, el: Judgment, comp: Composition
    ) -> Iterator[Line]:
        t = L[lang]
        rows = _rows(el)
        case = Case.of(question)
        verdicts = [evaluate_row(r, case) for r in rows]
        applicable = [v for v in verdicts if v.holds]
        decided = [v for v in verdicts if v.holds is not None]
        missing = next((v.missing for v in verdicts if v.missing), "")
        chosen: list[Verdict] = applicable
        if not chosen and not decided and shape == "yesno":
            # a yes/no needs the row that applies: ask for the missing fact, or let the model
            # choose among rows it cannot compare; "cannot tell" becomes a follow-up question
            if missing:
                yield from self._follow_up(comp, missing_question(missing, lang), el, rows, lang)
                return
            if len(rows) > 1:
                idx = self.choose_row(question, el, rows)
                if idx is None:
                    yield from self._follow_up(comp, t["which_case"], el, rows, lang)
                    return
                chosen = [Verdict(rows[idx], None)]
            else:
                chosen = [Verdict(rows[0], None)]
        if shape == "yesno":
            yes = self._judgment_yes(question, rows, verdicts, chosen)
            yield _yes_no(comp, yes, lang, el.id)
        if not chosen and not decided:  # how / who with nothing to compare: every case
            if el.decision and shape == "how":
                yield Line(f"{t['rule']}: {el.decision}" + self._decider_suffix(el, lang), [el.id])
            for r in rows:
                yield Line(_row_text(r), [el.id])
            return
        shown = chosen or decided
        for v in shown:
            line = _row_text(v.row)
            if v.reason:
                mark = t["applies"] if v.holds else t["not_applies"]
                line += f"（{mark}: {v.reason}）" if lang == "ja" else f" ({mark}: {v.reason})"
            yield Line(line + self._decider_suffix(el, lang), [el.id])
        if not chosen and decided:
            # the operator's case falls under none of the rows: show the rest for context
            for r in rows:
                if all(r is not v.row for v in shown):
                    yield Line(_row_text(r), [el.id])

    def _follow_up(
        self, comp: Composition, ask: str, el: Judgment, rows: list[RuleRow], lang: str
    ) -> Iterator[Line]:
        """One question for the fact the rule needs, then its cases (why the fact matters)."""
        comp.decision = "inquire"
        yield Line(ask, [el.id])
        for r in rows:
            yield Line(_row_text(r) + self._decider_suffix(el, lang), [el.id])

    def _judgment_yes(
        self, question: str, rows: list[RuleRow], verdicts: list[Verdict], chosen: list[Verdict]
    ) -> bool:
        """Yes or no to a question about a judgment.

        Where conditions were evaluated, the question is about the case whose outcome it
        resembles most (「所属長のOKだけで」 asks about 「所属長の承認のみ」); the answer is whether
        that case holds for the operator. Otherwise the model reads the rule and the facts.
        """
        if any(v.holds is not None for v in verdicts):
            asked = asked_case(question, verdicts)
            if asked.holds is not None:
                return asked.holds
        rule = "; ".join(_row_text(r) for r in rows)
        facts = "; ".join(
            (f"{v.reason}: " if v.reason else "") + f"the rule applies: {v.row.outcome}"
            for v in chosen
        )
        return self.yes_or_no(question, rule, facts)

    def _render_text(
        self, question: str, shape: Shape, lang: str, cand: Candidate, comp: Composition
    ) -> Iterator[Line]:
        """A rule without reviewed fields: its conditions are read off the text (list items or
        sentences); the questions the operator answered yes / no decide the conditions they are
        about, a sentence of theirs that restates a condition decides it, and the rule's logic
        (all / any, a rule that excludes) decides. A condition the decision needs and nothing
        decides is asked about (``text_rules``)."""
        if shape != "yesno":
            yield Line(_short(cand.result.text, 300), [cand.id])
            return
        rule = text_rule(cand.result.text)
        verdicts = text_verdicts(rule, question)
        verdict = rule.decide_from_answers(verdicts)
        if verdict is None:
            unknown = next(c for c, v in zip(rule.conditions, verdicts, strict=True) if v is None)
            comp.decision = "inquire"
            ask = (
                f"「{unknown}」に当てはまりますか？"
                if lang == "ja"
                else f"Is this true for you: {unknown}?"
            )
            yield Line(ask, [cand.id])
            return
        yield _yes_no(comp, verdict, lang, cand.id)
        yield Line(_short(cand.result.text, 300), [cand.id])

    def same_decision(self, a: Judgment, b: Judgment) -> bool:
        """The model's check that two judgments that disagree are about the same decision."""
        msgs = load_prompt("answer_same").render(first=_judgment_line(a), second=_judgment_line(b))
        choice = choose(self._llm_factory(), msgs, ["Y", "N"])
        return choice.p("Y") >= SAME_PROBABILITY

    # ------------------------------------------------------------------ conflicts

    def _conflict(
        self, primary: Candidate, ranked: list[Candidate], probs: dict[str, float], lang: str
    ) -> tuple[list[Line], str] | None:
        a = primary.element
        if not isinstance(a, Judgment):
            return None
        for c in ranked[1:]:
            b = c.element
            if not isinstance(b, Judgment) or b.interview_id == a.interview_id:
                continue
            if c.engagement != primary.engagement:
                continue
            if not disagree(a, b) or not same_outcomes(a, b) or not self.same_decision(a, b):
                continue
            lines = [Line(L[lang]["conflict"], [a.id, b.id])]
            for el in (a, b):
                rows = " / ".join(_row_text(r) for r in _rows(el))
                lines.append(Line(rows + self._decider_suffix(el, lang), [el.id]))
            said = {el.id: _short(" / ".join(map(_row_text, _rows(el))), 80) for el in (a, b)}
            note = "承認済みのルールが食い違っています: " + " と ".join(
                f"{i}「{t}」" for i, t in said.items()
            )
            return lines, note
        return None


def weigh_triggers(
    question: str, cands: list[Candidate], probs: dict[str, float]
) -> dict[str, float]:
    """The choice weighed by the exceptions' triggers: an exception whose trigger the question
    does not state (few of its character pairs) is less likely to be what applies, however
    the model leans (measured on the dev questions: the 1.5B picked 「領収書をなくした」's
    handling for 「経費の申請は誰が承認するんですか」)."""
    asked = char_pairs(question)
    out = dict(probs)
    for c in cands:
        el = c.element
        if c.id not in out or not isinstance(el, Exception_) or not el.trigger:
            continue
        g = char_pairs(el.trigger)
        share = len(g & asked) / len(g) if g else 1.0
        out[c.id] *= min(1.0, max(TRIGGER_FLOOR, share / TRIGGER_SHARE))
    rest = sum(v for k, v in out.items() if k != "N")
    before = sum(v for k, v in probs.items() if k != "N")
    if rest > 0:
        out.update({k: v * before / rest for k, v in out.items() if k != "N"})
    return out


def _bounds(el: Judgment) -> set[tuple[str, str, float]]:
    return {
        (b.op, b.quantity.unit, b.quantity.value) for r in el.rules for b in bounds_of(r.condition)
    }


def _bounding_rule(question: str, shape: Shape, ranked: list[Candidate]) -> Candidate | None:
    """A yes/no or who question that gives a quantity (「十二万円の…」, "$2,300 of …") is
    answered by the likeliest retrieved judgment whose rule bounds that kind of quantity: its
    condition can be evaluated, where a task's or exception's text can only be read."""
    if shape == "how":
        return None
    case = Case.of(question)
    if not case.quantities:
        return None
    for c in ranked:
        if isinstance(c.element, Judgment) and any(
            case.value_for(b) is not None
            for r in c.element.rules
            for b in bounds_of(r.condition)
            if b.op != "=="
        ):
            return c
    return None


def disagree(a: Judgment, b: Judgment) -> bool:
    """Two judgments about the same decision that give different thresholds or deciders.

    Same decision: they bound the same kind of quantity (an amount, a number of days) — or name
    the same decision — and say something different about it.
    """
    ba, bb = _bounds(a), _bounds(b)
    units_a, units_b = {u for _, u, _ in ba}, {u for _, u, _ in bb}
    if units_a & units_b:
        shared = units_a & units_b
        va = {(o, v) for o, u, v in ba if u in shared}
        vb = {(o, v) for o, u, v in bb if u in shared}
        if va != vb:
            return True
        return bool(a.decider and b.decider and a.decider != b.decider)
    same = a.decision and b.decision and a.decision.strip() == b.decision.strip()
    return bool(same and a.decider and b.decider and a.decider != b.decider)


def same_outcomes(a: Judgment, b: Judgment) -> bool:
    """Whether two judgments decide the same kind of thing: their outcomes and deciders share
    at least ``OUTCOME_SHARE`` of the smaller one's character pairs. Two rules that bound the
    same amount can still decide different things (「5万円以上は相見積もり」 and 「30万円超は
    部長の承認」): no conflict, whatever the model says of them."""
    said = [char_pairs(" ".join([*(r.outcome for r in _rows(el)), el.decider])) for el in (a, b)]
    smaller = min(len(said[0]), len(said[1]))
    return smaller > 0 and len(said[0] & said[1]) / smaller >= OUTCOME_SHARE


def _yes_no(comp: Composition, yes: bool, lang: str, element_id: str) -> Line:
    """The answer's first line to a yes/no question, and its decision."""
    comp.decision = "yes" if yes else "no"
    return Line(L[lang]["yes" if yes else "no"], [element_id])


def _collect(stream: Iterator[Line | Composition]) -> Composition:
    for item in stream:
        if isinstance(item, Composition):
            return item
    return Composition(covered=False, decision="none")
