"""Labelled sentences -> element groups; and the cue-derived fields used when the model fails.

Grouping: consecutive sentences of one speaker become one element when the later one continues
the earlier (「これは」「そのときに」, "this is"), when the earlier is a clause cut off by a segment
boundary, or when both are judgments or both exceptions (a rule is told in several sentences:
its other branch, who decides, "it depends"). Checks on the model's label (``relabel``): a
count or a frequency alone and a question the interviewee asks aloud are never elements; a
"judgment" that only describes an approval act, with no condition, is a task; an "exception"
whose conditional clause bounds a quantity is a threshold rule, a judgment. A task is one
sentence (or a clause cut off by a segment boundary); the fields call splits a sentence that
tells several steps into one task per step.

Fallback fields (``cue_element``): when the model's fields answer failed, the element is built
from the lexicon's phrasings (``pipeline/lexicon``) and marked ``filled_by="cues"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .lexicon import Lexicon, both, language_of, lexicon
from .models import (
    AnyElement,
    CriterionStatus,
    Evidence,
    Exception_,
    Judgment,
    RuleRow,
    Task,
)
from .quantities import DURATIONS, Quantity, normalize, parse_bounds, parse_quantities
from .sentences import (
    Unit,
    ends_with_abbreviation,
    sentence_spans,
    summarise,
    summarise_head,
)


@dataclass
class Group:
    """Consecutive sentences that make one element."""

    label: str
    units: list[Unit]

    @property
    def start(self) -> int:
        return self.units[0].start

    @property
    def end(self) -> int:
        return self.units[-1].end

    @property
    def confidence(self) -> float | None:
        known = [u.confidence for u in self.units if u.confidence is not None]
        return round(min(known), 3) if known else None


def relabel(label: str, text: str, lex: Lexicon) -> str:
    """Deterministic checks on the model's label (see the module docstring)."""
    core = summarise(text, lex.language)
    if (
        lex.search("volume_only", core)
        or lex.search("frequency_only", core)
        or re.search(r"[?？]\s*$", text)
    ):
        return "none"
    if (
        label == "judgment"
        and lex.search("approval_act", text)
        and not (
            lex.search("rule", text)
            or lex.search("judgment_without_rule", text)
            or lex.search("unstated", text)
        )
    ):
        return "task"
    if label == "exception" and (_threshold_case(text) or lex.search("precedent", text)):
        # a threshold partitions the normal flow; a case decided as the last one was is a
        # judgment whose rule is unsaid (前回踏襲): neither is a thing gone wrong
        return "judgment"
    return label


# bounds that tell a tolerance or a point in time, not a threshold that partitions the work:
# 「3日以上遅れた」 is still a thing gone wrong, 「2社から」「3月10日以降」 are no thresholds
_NOT_A_THRESHOLD = DURATIONS | {"business_day", "hour", "minute", "age", ""}
_NOT_A_COMPARISON = ("から", "以降", "以前", "まで", "以内")


def _trigger_only(group: Group) -> bool:
    """An exception told as an event alone ("Sometimes a vendor sends the same invoice twice."),
    with no case-and-handling clause: the speaker's next step is how it is handled."""
    if group.label != "exception" or len(group.units) != 1:
        return False
    unit = group.units[0]
    if both().search("irregular_question", unit.question):
        return False  # the answer to "what if ... goes wrong?" is the handling itself
    return not _condition(unit.text, lexicon(language_of(unit.text, "ja")))[0]


def _threshold_case(text: str) -> bool:
    """The sentence's conditional clause bounds an amount, a share or a count (「弁償額が3万円を
    超えるときは」, "if the refund is over $500"): a threshold rule, which partitions the normal
    flow, not an irregular event (an exception's trigger is a thing that goes wrong). A bound on
    time (「3日以上遅れた」) or a starting point (「2社から」「3月10日以降」) is no threshold."""
    cond, _ = _condition(text, lexicon(language_of(text, "ja")))
    if not cond:
        return False
    norm = normalize(cond)
    return any(
        b.op != "=="
        and b.quantity.unit not in _NOT_A_THRESHOLD
        and not norm[b.quantity.end :].lstrip().startswith(_NOT_A_COMPARISON)
        for b in parse_bounds(norm)
    )


def group_units(units: list[Unit], done: list[Unit], language: str) -> list[Group]:
    """Labelled sentences in transcript order, grouped into elements (the checks use the
    phrasings of both languages: a hearing mixes them)."""
    lex = both()
    done_ids = {u.index for u in done}
    groups: list[Group] = []
    for unit in units:
        if unit.index not in done_ids or unit.label == "none":
            continue
        unit.label = relabel(unit.label, unit.text, lex)
        if unit.label == "none":
            continue
        last = groups[-1] if groups else None
        prev = last.units[-1] if last else None
        if (
            unit.label == "task"
            and lex.search("irregular_question", unit.question)
            and not (prev is not None and prev.question == unit.question)
        ):
            # the first step told in answer to "what if ... goes wrong?" is how the exception
            # is handled
            unit.label = "exception"
        head = summarise_head(unit.text, language)
        if (
            last is not None
            and prev is not None
            and prev.index == unit.index - 1
            and prev.segment.speaker == unit.segment.speaker
            and (
                lex.search("continuation", head)
                or lex.search("unfinished", prev.text)
                or (
                    last.label == "judgment"
                    and unit.label in ("judgment", "exception")
                    and lex.search("elliptical", head)
                )
                or (unit.label == last.label and unit.label in ("judgment", "exception"))
                or (unit.label == "task" and _trigger_only(last))
            )
        ):
            last.units.append(unit)
            continue
        groups.append(Group(unit.label, [unit]))
    return groups


# --------------------------------------------------------------------------- fallback fields


def systems_in(text: str, names: list[str]) -> list[str]:
    """The glossary's (and the lexicon's generic) system names that occur in the text."""
    low = text.lower()
    out: list[str] = []
    for w in names:
        if w and w.lower() in low and w not in out:
            out.append(w)
    return out


def _first(lex: Lexicon, name: str, text: str) -> str:
    m = lex.search(name, text)
    if not m:
        return ""
    groups = [g for g in m.groups() if g]
    return (groups[0] if groups else m.group(0)).strip()


def _documents(lex: Lexicon, text: str) -> tuple[list[str], list[str]]:
    doc = lex.pattern("document")
    if not doc:
        return [], []
    if lex.language == "en":
        art = r"\s+(?:the |our |all |every |each |their |a |an )?"
        out_re = re.compile(rf"\b(?:{lex.pattern('output_verb')})s?{art}(?:{doc})", re.I)
        in_re = re.compile(rf"\b(?:{lex.pattern('input_verb')})s?{art}(?:{doc})", re.I)
    else:
        out_re = re.compile(rf"(?:{doc})を[^。、]{{0,8}}?(?:{lex.pattern('output_verb')})")
        in_re = re.compile(
            rf"(?:{doc})(?:を|と|が|の)[^。]{{0,20}}?(?:{lex.pattern('input_verb')})"
        )

    def found(pattern: re.Pattern[str]) -> list[str]:
        out: list[str] = []
        for m in pattern.finditer(text):
            name = next((g for g in m.groups() if g), "").strip()
            name = re.sub(r"^(?:the|our|a|an|all|every|each)\s+", "", name, flags=re.I)
            if len(name) >= 2 and name not in out:
                out.append(name)
        return out

    outputs = found(out_re)
    return [x for x in found(in_re) if x not in outputs], outputs


def _condition(text: str, lex: Lexicon) -> tuple[str, str]:
    s = summarise(text, lex.language)
    m = lex.re("condition").match(s)
    if m:
        cond, rest = [g for g in m.groups() if g is not None][:2]
        return lex.re("condition_tail").sub("", cond).strip(), rest.strip()
    m = lex.re("condition_after").match(s)
    if m and len(m.group(2)) > 3:
        return m.group(2), m.group(1)
    return "", ""


def _sentences(text: str) -> list[str]:
    """The sentences of a quote (the units' own split, ``sentence_spans``); "e.g." or "Mr."
    does not end one."""
    out: list[str] = []
    for s, e in sentence_spans(text):
        if out and ends_with_abbreviation(out[-1]):
            out[-1] = f"{out[-1]} {text[s:e]}"
        else:
            out.append(text[s:e])
    return out


def points_back(condition: str, lex: Lexicon) -> bool:
    """A case that only points back at something said before (「その場合は」, "if that
    happens"): no condition of its own."""
    return bool(lex.re("deictic_case").match(condition.strip(" 、,")))


def written_out(condition: str, before: str, lex: Lexicon) -> str:
    """A condition that bounds a quantity said before it (「それ以上」 after 「目安は20時間です」,
    "anything above that" after "the limit is $500") with that quantity written in its place
    (「20時間以上」, "anything above $500"): the row then reads alone and its bound can be
    evaluated. Unchanged when it points back at no quantity, or ``before`` states none."""
    m = lex.re("pointer_bound").search(condition)
    if m is None:
        return condition
    # the quantity pointed at is said just before: in the clause ahead of the pointer, else in
    # the last sentence said; none there, or two of different kinds, and the case stays as said
    said = _amounts(condition[: m.start()])
    if not said:
        sentences = _sentences(before.strip())
        said = _amounts(sentences[-1]) if sentences else []
    if not said or len({q.unit for q in said}) > 1:
        return condition
    pointer = re.search(r"\w+$", m.group(0))  # the match's last word: それ, "that"
    at = m.start() + (pointer.start() if pointer else 0)
    return condition[:at] + said[-1].text + condition[m.end() :]


def _amounts(text: str) -> list[Quantity]:
    """The quantities with a unit in ``text``, without the days of calendar dates
    (「毎月25日」「3月25日」 name a day, not a number of days)."""
    norm = normalize(text)
    return [
        q
        for q in parse_quantities(norm)
        if q.unit and not (q.unit == "day" and norm[: q.start].rstrip().endswith("月"))
    ]


def grammar_rows(text: str, language: str, before: str = "") -> list[RuleRow]:
    """Rule rows read off the grammar of conditional clauses (「…場合は、…」, "If …, …"), one
    per sentence that has one: the condition and the outcome are the sentence's own words.
    A case that only points back (「その場合は」, "if that happens") gives no row: its condition
    was said before; one that bounds a quantity said before (「それ以上なら」) gets it written in
    (``before``: the text said ahead of ``text``). For a judgment whose rule the model left
    without rows."""
    language = language_of(text, language)
    lex = lexicon(language)
    rows: list[RuleRow] = []
    said = before
    for sentence in _sentences(text):
        cond, outcome = _condition(sentence.strip(), lex)
        cond = written_out(cond.strip(" 、,"), said, lex)
        said += sentence
        outcome = outcome.strip(" 、,").rstrip("。.")
        if (
            cond
            and outcome
            and not points_back(cond, lex)
            and not lex.re("undecided_outcome").search(outcome)
        ):
            rows.append(RuleRow(condition=cond, outcome=outcome))
    return rows


def cue_element(
    label: str,
    text: str,
    evidence: Evidence,
    iid: str,
    chunk: int,
    actor: str,
    context: str,
    language: str,
    system_names: list[str],
) -> AnyElement:
    """The element with fields from the lexicon's phrasings (the fallback when the model's fields
    answer failed); ``filled_by="cues"`` says so."""
    language = language_of(text, language)
    lex = lexicon(language)
    summary = summarise(text, language)
    common = {
        "interview_id": iid,
        "summary": summary,
        "evidence": [evidence],
        "source_chunk": chunk,
        "filled_by": "cues",
    }
    if label == "task":
        inputs, outputs = _documents(lex, text)
        return Task(
            action=summary,
            actor=_first(lex, "actor", text) or actor,
            inputs=inputs,
            outputs=outputs,
            systems=systems_in(text, system_names),
            frequency=_first(lex, "frequency", text),
            **common,  # type: ignore[arg-type]
        )
    if label == "judgment":
        cond, outcome = _condition(text, lex)
        if lex.search("judgment_without_rule", text):
            criterion = CriterionStatus.ABSENT
        elif lex.search("unstated", text) or not cond:
            criterion = CriterionStatus.UNSTATED
        else:
            criterion = CriterionStatus.STATED
        return Judgment(
            decision=summary,
            rules=[RuleRow(condition=cond, outcome=outcome)] if cond else [],
            decider=_first(lex, "decider", text),
            criterion=criterion,
            **common,  # type: ignore[arg-type]
        )
    trigger, handling = _condition(text, lex)
    routine = bool(lex.search("routine", context))
    return Exception_(
        trigger=trigger or summary,
        handling=handling,
        owner=_first(lex, "person", text) or _first(lex, "actor", text),
        frequency=_first(lex, "frequency", context if routine else text),
        is_routine=routine,
        **common,  # type: ignore[arg-type]
    )
