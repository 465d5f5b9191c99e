"""The model fills each element's fields; every value is checked against the text it came from.

One schema-constrained call per element (prompts ``extract_task``, ``extract_judgment``,
``extract_exception``: few-shot, Japanese and English), given the element's quote and the
sentences either side of it ("Before" / "After", same speaker). The answer is validated, sent
back on error (``calls.ask_validated``) and cached by (model, prompt version, content).

Support check: a value is kept only when it is found in the quote or its neighbours (exactly
after normalisation, or most of its characters / words are there, see ``supported``). An
unsupported value is dropped, never shown as fact. The summary is the action / decision /
trigger, in the hearing's language.

One element per step: a task whose quote tells several steps becomes one task per step, each
grounded to its own part of the quote (the step's action located in the quote).

When the call fails, ``fill`` returns None and the caller falls back to the cue-derived fields
(``structure.cue_element``, marked ``filled_by="cues"``).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field
from rapidfuzz import fuzz

from .adapters.llm import ChatModel
from .align import ground, normalise
from .calls import Cache, ChunkFailure, ask_validated, cache_key, strict_schema
from .choose import value_scores
from .diagnose import finding_at
from .errors import LLMError
from .lexicon import both, language_of, lexicon
from .models import (
    AnyElement,
    ChunkRecord,
    CriterionStatus,
    Exception_,
    Finding,
    FindingKind,
    Judgment,
    RuleRow,
    Task,
    Transcript,
    rows_text,
)
from .prompts import load_prompt
from .quantities import canonical, parse_bounds
from .rule_complement import other_side
from .sentences import ABBREVIATIONS, Unit, summarise
from .structure import Group, grammar_rows, points_back, systems_in, written_out
from .support import supported

# a row whose condition is inside its outcome (or the reverse) and at least this share of its
# length is the sentence cut twice, not a case and an outcome
CUT_TWICE = 0.4
# a row read off the grammar is added only for a case the model's rows do not tell: closeness
# (rapidfuzz partial ratio) of a condition, or of a row's both sides to the clause, that says so
SAME_CASE = 70.0
LOCATE_MIN = 60.0  # rapidfuzz partial-ratio alignment needed to place a step inside the quote
TOP_LOGPROBS = 5
# A remark the model gave at least this probability where it wrote "none" is taken (see
# ``noted_remark``). Off (1.0) for the embedded 1.5B: on the dev hearings (gold text) 0.3 raised
# the model's own finding recall 0.273 -> 0.318 (one finding of 22) but lowered the product's
# finding F1 0.690 -> 0.656 (more false remarks); 0.1 gave recall 0.364, F1 0.219.
REMARK_MIN = 1.0
# A separate one-letter pick among the kinds of remark, calibrated against a content-free
# passage, was tried as a second opinion where the answer notes none: dev finding F1 0.598 ->
# 0.592 / 0.580 / 0.462 (thresholds 0.5 / 0.4 / 0.3), recall +0.02 at best. Not used.


# what a consultant should note about an element, asked in the same call (the last key, so the
# fields are written first); the value names are the prompt's, mapped to the finding kinds
Remark = Literal[
    "none",
    "one_person",
    "precedent",
    "oral_only",
    "approver_varies",
    "unnecessary",
    "case_by_case",
    "recurring",
]
REMARK_KIND: dict[str, FindingKind] = {
    "one_person": FindingKind.PERSON_DEPENDENCY,
    "precedent": FindingKind.PRECEDENT_FOLLOWING,
    "oral_only": FindingKind.ORAL_ONLY_CRITERION,
    "approver_varies": FindingKind.APPROVAL_ROUTE_VARIES,
    "unnecessary": FindingKind.UNNECESSARY_TASK,
    "case_by_case": FindingKind.JUDGMENT_WITHOUT_RULE,
    "recurring": FindingKind.ROUTINE_EXCEPTION,
}


class TaskStep(BaseModel):
    action: str
    actor: str = ""
    inputs: list[str] = Field(default_factory=list, max_length=4)
    outputs: list[str] = Field(default_factory=list, max_length=4)
    systems: list[str] = Field(default_factory=list, max_length=4)
    frequency: str = ""
    volume: str = ""
    deadline: str = ""


class TaskFields(BaseModel):
    steps: list[TaskStep] = Field(min_length=1, max_length=4)
    finding: Remark = "none"


class RuleFields(BaseModel):
    condition: str
    outcome: str


class JudgmentFields(BaseModel):
    decision: str
    rules: list[RuleFields] = Field(default_factory=list, max_length=4)
    decider: str = ""
    criterion: Literal["stated", "unstated", "absent"]
    finding: Remark = "none"


class ExceptionFields(BaseModel):
    trigger: str
    handling: str = ""
    owner: str = ""
    frequency: str = ""
    routine: bool = False
    finding: Remark = "none"


SCHEMAS: dict[str, tuple[str, type[BaseModel]]] = {
    "task": ("extract_task", TaskFields),
    "judgment": ("extract_judgment", JudgmentFields),
    "exception": ("extract_exception", ExceptionFields),
}
MAX_TOKENS = {"task": 400, "judgment": 300, "exception": 200}


# --------------------------------------------------------------------------- support


SNAP_MIN = 80.0  # rapidfuzz alignment needed to replace a value by the text's own words


def _not_japanese(ch: str) -> bool:
    """A Han character outside JIS X 0213, i.e. a simplified Chinese form (长, 说, 报)."""
    if not _CJK.match(ch):
        return False
    try:
        ch.encode("euc_jis_2004")
    except UnicodeEncodeError:
        return True
    return False


def in_texts_script(value: str, text: str) -> str:
    """A value with Chinese character forms the text does not use (a Qwen model drifting into
    Chinese: 「上长に理由を聞いています」) becomes the text's own words where it aligns with them
    (「上長に理由を聞いています」), else ""; other values are returned as they are."""
    if not any(_not_japanese(c) and c not in text for c in value):
        return value
    # a drift swaps characters one for one: the same length first, then one more or less
    for size in (len(value), len(value) - 1, len(value) + 1):
        best, start = 0.0, 0
        for a in range(max(1, len(text) - size + 1)):
            score = fuzz.ratio(value, text[a : a + size])
            if score > best:
                best, start = score, a
        if best >= SNAP_MIN:
            return text[start : start + size].strip().rstrip("。．.")
    return ""


def _keep(value: str, text: str, dropped: list[str]) -> str:
    value = value.strip()
    snapped = in_texts_script(value, text)
    if value and snapped != value:
        dropped.append(value)
        value = snapped
    if value and not supported(value, text):
        dropped.append(value)
        return ""
    return value


def _keep_all(values: list[str], text: str, dropped: list[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        kept = _keep(v, text, dropped)
        if kept and kept not in out:
            out.append(kept)
    return out


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_CUT_PARTICLES = {"が", "は", "も", "に", "を", "で", "から", "と"}


def _noun_phrase(value: str) -> str:
    """A Japanese participant as a noun phrase: the words before the first particle that ends
    the subject (「私がkintoneの…に」 -> 私); "" when a verb is left (a clause, not a person)."""
    from .readings import tokens

    out = ""
    for tok in tokens(value):
        if tok.pos[0] == "助詞" and tok.surface in _CUT_PARTICLES:
            break
        if tok.pos[0] in ("動詞", "助動詞"):
            return ""
        out += tok.surface
    return out.strip()


_PREDICATE_END = ("助詞", "助動詞", "補助記号", "空白")


def verb_phrase(value: str) -> bool:
    """A Japanese action reads as a verb phrase: it ends in a verb or a verbal noun (照合, 入力)
    before any particles and auxiliaries, and does not open with a verbal noun straight before
    its object (「照合請求書の金額」「入力仕訳」: Chinese word order, not Japanese). Values in
    other scripts pass."""
    from .readings import tokens

    if not _CJK.search(value):
        return True
    toks = [t for t in tokens(value) if t.pos[0] != "空白"]
    content = [t for t in toks if t.pos[0] not in _PREDICATE_END]
    if not content:
        return False
    last = content[-1]
    if not (last.pos[0] == "動詞" or (last.pos[0] == "名詞" and last.pos[2] == "サ変可能")):
        return False
    has_verb = any(t.pos[0] == "動詞" for t in toks)
    verbal_first = toks[0].pos[0] == "名詞" and toks[0].pos[2] == "サ変可能"
    return has_verb or not (verbal_first and len(toks) > 1 and toks[1].pos[0] == "名詞")


def participant(value: str, default_actor: str, not_people: list[str]) -> str:
    """Who does / decides / handles, checked for its kind: a noun phrase (Japanese), the speaker
    referring to themself -> ``default_actor`` (the interviewee's role) when there is one, and
    never one of ``not_people`` (the systems the caller knows for the element)."""
    v = value.strip()
    if v and _CJK.search(v):
        v = _noun_phrase(v)
    if not v:
        return ""
    head = re.split(r"の|'s\s|\s", v)[-1] if _CJK.search(v) else v
    if both().search("first_person", v) or both().search("first_person", head):
        return default_actor or v
    nv, nh = normalise(v), normalise(head)
    if any(normalise(s) in (nv, nh) for s in not_people if s):
        return ""  # a system or a document the element names (「何枚かの請求書」: its head)
    return v


def _generic_systems() -> list[str]:
    """Kinds of system every hearing may name (メール, CSV, spreadsheet): never a participant.
    (The engagement's glossary is not used here: it holds roles as well as systems.)"""
    return both().words("systems")


def _not_the_actor(systems: list[str], actor: str) -> list[str]:
    """Systems without the values that name the actor (「所属長」 given as a system and actor)."""
    na = normalise(actor)
    return [
        s
        for s in systems
        if not (na and len(normalise(s)) >= 2 and (normalise(s) in na or na in normalise(s)))
        and not both().search("first_person", s.strip())
    ]


# --------------------------------------------------------------------------- the call


@dataclass
class Context:
    """The quote of a group and the sentences either side of it (same speaker)."""

    quote: str
    before: str
    after: str
    before_unit: Unit | None = None
    after_unit: Unit | None = None

    @property
    def text(self) -> str:
        return f"{self.before}\n{self.quote}\n{self.after}"

    def render(self) -> str:
        ctx = f"Before: {self.before}\n" if self.before else ""
        return ctx + (f"After: {self.after}\n" if self.after else "")


def context_of(group: Group, units: list[Unit], transcript: Transcript) -> Context:
    first, last = group.units[0], group.units[-1]
    speaker = first.segment.speaker
    before = next(
        (
            u
            for u in reversed(units[: first.index])
            if u.segment.speaker == speaker and first.index - u.index <= 1 and u.classifiable
        ),
        None,
    )
    after = next(
        (
            u
            for u in units[last.index + 1 : last.index + 2]
            if u.segment.speaker == speaker and u.classifiable
        ),
        None,
    )
    return Context(
        transcript.text[group.start : group.end],
        before.text[-160:] if before else "",
        after.text[:160] if after else "",
        before,
        after,
    )


def remark_scores(top_logprobs: list[dict[str, float]]) -> dict[str, float]:
    """The probability of each remark at the token where the model writes the "finding" value
    (the answer's last key); {} when the backend returned no log-probabilities."""
    return value_scores(top_logprobs, [str(n) for n in get_args(Remark)], last=True)


def noted_remark(answer: BaseModel, scores: dict[str, float]) -> str:
    """The remark the model made: its written one, or, where it wrote "none", the likeliest other
    remark when that one has at least REMARK_MIN of the probability (a small model rarely writes
    a remark it is unsure of, but often gives it weight)."""
    written = str(getattr(answer, "finding", "none"))
    if written != "none" or not scores:
        return written
    best = max((k for k in scores if k != "none"), key=lambda k: scores[k])
    return best if scores[best] >= REMARK_MIN else "none"


class _Answered(BaseModel):
    """What is cached per element: the model's fields answer and its remark probabilities."""

    answer: dict[str, Any]
    remarks: dict[str, float] = Field(default_factory=dict)


def ask_fields(
    llm: ChatModel, cache: Cache | None, record: ChunkRecord, label: str, ctx: Context
) -> tuple[BaseModel, dict[str, float]]:
    """The model's fields for one element, and its probability per remark."""
    name, model = SCHEMAS[label]
    prompt = load_prompt(name)
    # the context after the quote stays in the user turn so the few-shot prefix is reused
    messages = prompt.render(context=ctx.render(), quote=ctx.quote)
    key = cache_key(llm.name, prompt.id + "+remarks", ctx.render() + ctx.quote)
    if cache is not None and (hit := cache.cache_get(key)) is not None:
        got = _Answered.model_validate_json(hit)
        return model.model_validate(got.answer), got.remarks
    value, out = ask_validated(
        llm,
        messages,
        model,
        strict_schema(model),
        record,
        MAX_TOKENS[label],
        "Answer again with one JSON object that follows the schema.",
        top_logprobs=TOP_LOGPROBS,
    )
    scores = remark_scores(out.top_logprobs)
    if cache is not None:
        cache.cache_put(
            key, _Answered(answer=value.model_dump(mode="json"), remarks=scores).model_dump_json()
        )
    return value, scores


# --------------------------------------------------------------------------- elements


def _latin_word(ch: str) -> bool:
    """A character inside a word of a spaced script (Japanese has no spaces to snap to)."""
    return (ch.isalnum() and ord(ch) < 0x2E80) or ch in "'’"  # below the CJK blocks


MIN_STEP = 4  # characters: two steps closer than this are one place
# a clause ends at 、 ; 。 ! ?, at a comma that is not inside a number (10,000), or at a full
# stop before a capital that does not end a title or abbreviation ("Mr. Smith", "approx. 3")
_CLAUSE_END = re.compile(
    r"[、;；。！？!?]|[,，](?![0-9０-９]{3})|"
    + "".join(rf"(?<!\b{re.escape(a)})" for a in ABBREVIATIONS)
    + r"\.(?=\s+[A-Z])"
)


def _clause_start(quote: str, lo: int, start: int) -> int:
    """The beginning of the clause that holds ``start``: just after the last clause end in
    ``quote[lo:start]`` (``start`` when there is none)."""
    ends = [m.end() for m in _CLAUSE_END.finditer(quote, lo, start)]
    if not ends:
        return start
    begin = ends[-1]
    while begin < start and quote[begin].isspace():
        begin += 1
    return begin


def _locate_steps(steps: list[TaskStep], quote: str) -> list[int] | None:
    """Where each step starts in the quote, in order; None when they cannot all be placed."""
    starts: list[int] = []
    low = quote.lower()
    said_end = 0  # where the step before was found to end
    for step in steps:
        al = fuzz.partial_ratio_alignment(step.action.lower(), low)
        if al is None or al.score < LOCATE_MIN:
            return None
        start = al.dest_start
        while start < len(quote) and (quote[start] in "、,，。.；; 　" or quote[start].isspace()):
            start += 1  # a separator ends the step before
        # a step starts at a word's beginning ("just", not "t")
        while (
            0 < start < len(quote) and _latin_word(quote[start - 1]) and _latin_word(quote[start])
        ):
            start -= 1
        if starts and start > starts[-1]:  # a step begins its clause: its subject and object
            # go with it ("while X receive"), never taking words the step before was found in
            begin = _clause_start(quote, max(starts[-1] + 1, said_end), start)
            start = begin if begin - starts[-1] >= MIN_STEP else start
        starts.append(start)
        said_end = al.dest_end
    if any(b - a < MIN_STEP for a, b in itertools.pairwise(starts)):
        return None  # not in the quote's order, or two steps at one place
    return starts


def _frequency(freq: str, deadline: str, ja: bool) -> str:
    if freq and deadline:
        return f"{freq}（{deadline}）" if ja else f"{freq} ({deadline})"
    return freq or deadline


def build(
    label: str,
    answer: BaseModel,
    group: Group,
    ctx: Context,
    transcript: Transcript,
    chunk: int,
    default_actor: str,
    system_names: list[str],
) -> list[AnyElement]:
    """The elements of one group from the model's checked answer."""
    ja = transcript.language.value != "en"
    iid = transcript.interview_id
    dropped: list[str] = []
    text = ctx.text
    common: dict[str, Any] = {
        "interview_id": iid,
        "source_chunk": chunk,
        "confidence": group.confidence,
        "filled_by": "model",
    }
    if isinstance(answer, TaskFields):
        # a step is one the quote itself tells (the neighbours are context, not this element)
        steps = [st for st in answer.steps if supported(st.action, ctx.quote)]
        if not steps:  # the model's actions are not in the quote: the quote is the action
            steps = [answer.steps[0].model_copy(update={"action": ""})]
        starts = _locate_steps(steps, ctx.quote) if len(steps) > 1 else [0]
        if starts is None:  # one task for the whole quote, with the fields of every step
            first = steps[0]
            merged = first.model_copy(
                update={
                    "inputs": [x for s in steps for x in s.inputs],
                    "outputs": [x for s in steps for x in s.outputs],
                    "systems": [x for s in steps for x in s.systems],
                }
            )
            steps, starts = [merged], [0]
        starts[0] = 0
        steps, starts = _without_lead_ins(steps, starts, ctx.quote)
        out: list[AnyElement] = []
        # a system (the model's, anywhere in its answer, or a glossary term found in the step) is
        # not who does the step
        told_systems = [x for st in answer.steps for x in st.systems]
        for n, step in enumerate(steps):
            a = starts[n]
            b = starts[n + 1] if n + 1 < len(steps) else len(ctx.quote)
            part = ctx.quote[a:b].strip()
            begin = group.start + a + (len(ctx.quote[a:b]) - len(ctx.quote[a:b].lstrip()))
            action = _keep(step.action, part, dropped)
            if action and not verb_phrase(action):  # a scrambled noun phrase is no action
                dropped.append(action)
                action = ""
            action = action or summarise(part, transcript.language.value)
            systems = _keep_all(step.systems, text, dropped)
            systems += [s for s in systems_in(part, system_names) if s not in systems]
            actor = participant(
                _keep(step.actor, text, dropped),
                default_actor,
                [*systems, *told_systems, *_generic_systems(), *step.inputs, *step.outputs],
            )
            actor = actor or default_actor
            systems = _not_the_actor(systems, actor)
            out.append(
                Task(
                    summary=action,
                    evidence=[ground(part, transcript, near=begin)],
                    action=action,
                    actor=actor,
                    inputs=_keep_all(step.inputs, text, dropped),
                    outputs=_keep_all(step.outputs, text, dropped),
                    systems=systems,
                    frequency=_frequency(
                        _keep(step.frequency, text, dropped),
                        _keep(step.deadline, text, dropped),
                        ja,
                    ),
                    volume=_keep(step.volume, text, dropped),
                    **common,
                )
            )
        return out
    evidence = [ground(ctx.quote, transcript, near=group.start)]
    if isinstance(answer, JudgmentFields):
        rules = []
        lex = lexicon(language_of(ctx.quote, transcript.language.value))
        for r in answer.rules:
            cond = _case_only(_keep(r.condition, text, dropped))
            cond = written_out(cond, said_before(cond, ctx.quote, ctx.before), lex)
            outcome = _keep(r.outcome, text, dropped)
            if cond and outcome and not _no_row(cond, outcome):
                rules.append(RuleRow(condition=cond, outcome=outcome))
        criterion = CriterionStatus(answer.criterion)
        modelled = bool(rules)
        # the quote's conditional clauses, as written, for each case the model's rows do not
        # already tell: a rule the model did not split, a case after the ones it gave; also
        # where the speaker says there is no rule, the case they go by (「遠い人なら送るかな」,
        # "if it's small, I write it off") is what an operator can act on
        rules += [
            g
            for g in grammar_rows(ctx.quote, transcript.language.value, ctx.before)
            if not any(_same_case(g, r) for r in rules)
        ]
        if criterion == CriterionStatus.STATED and not rules:
            criterion = CriterionStatus.UNSTATED  # a rule that cannot be shown is not stated
        elif criterion == CriterionStatus.ABSENT and modelled:
            criterion = CriterionStatus.STATED  # a rule row the text supports is a stated rule
        elif (
            criterion == CriterionStatus.ABSENT
            and answer.finding != "case_by_case"
            and not both().search("judgment_without_rule", text)
        ):
            # "no rule" needs a second signal (the model's own remark, or the lexicon); else the
            # rule is only not said here
            criterion = CriterionStatus.UNSTATED
        decision = _keep(answer.decision, text, dropped)
        if decision and (is_a_case(decision, rules) or (rules and _is_whole(decision, ctx.quote))):
            # the model wrote a case ("5万円を超える場合は") or the whole quote, not what is decided
            decision = ""
        if not rules:
            decision = decision or _short(ctx.quote)
        summary = decision or _short(rows_text(rules))
        return [
            Judgment(
                summary=summary,
                evidence=evidence,
                decision=decision,
                rules=rules,
                # the speaker tells how the case is decided: unless someone else is named,
                # the decision is theirs (as an exception's handling is)
                decider=participant(
                    _keep(answer.decider, text, dropped), default_actor, _generic_systems()
                )
                or default_actor,
                criterion=criterion,
                **common,
            )
        ]
    assert isinstance(answer, ExceptionFields)
    trigger = _keep(answer.trigger, text, dropped)
    handling = _keep(answer.handling, text, dropped)
    told = (
        grammar_rows(ctx.quote, transcript.language.value, ctx.before)
        if not (trigger and supported(trigger, ctx.quote))
        else []
    )
    if told:
        # the model took the trigger from a neighbour while the quote states its own case
        # (「…場合は、…」): the quote's conditional clause is the trigger, its rest the handling
        trigger = told[0].condition
        if not (handling and supported(handling, ctx.quote)):
            handling = told[0].outcome
    trigger = trigger or _short(ctx.quote)
    frequency = _keep(answer.frequency, text, dropped)
    return [
        Exception_(
            summary=trigger,
            evidence=evidence,
            trigger=trigger,
            handling=handling,
            # the handling is told by the speaker: unless someone else is named, it is theirs
            owner=participant(_keep(answer.owner, text, dropped), default_actor, _generic_systems())
            or default_actor,
            frequency=frequency,
            # routine only when the text says how often (a value that passed the check)
            is_routine=answer.routine and bool(frequency),
            **common,
        )
    ]


def remark_finding(
    remark: str, group: Group, ctx: Context, transcript: Transcript, chunk: int
) -> Finding | None:
    """The finding the model noted about the element, quoting the sentence that says it: the
    neighbour or the quote where the lexicon sees that kind of remark, else the quote with its
    neighbours."""
    kind = REMARK_KIND.get(remark)
    if kind is None:
        return None
    cue = both().re(kind.value)
    for unit in (ctx.after_unit, ctx.before_unit):
        if unit is not None and cue.search(unit.text):
            return finding_at(kind, unit.start, unit.end, transcript, chunk)
    if cue.search(ctx.quote) or kind in (
        FindingKind.JUDGMENT_WITHOUT_RULE,
        FindingKind.ROUTINE_EXCEPTION,
    ):
        return finding_at(kind, group.start, group.end, transcript, chunk)
    start = ctx.before_unit.start if ctx.before_unit else group.start
    end = ctx.after_unit.end if ctx.after_unit else group.end
    return finding_at(kind, start, end, transcript, chunk)


def complete_rules(
    llm: ChatModel,
    cache: Cache | None,
    record: ChunkRecord,
    group: Group,
    units: list[Unit],
    transcript: Transcript,
    elements: list[AnyElement],
) -> None:
    """Give each judgment of a filled group the untold side of its rule (rule_complement). Run
    after all fields calls: its prompt then keeps its prefix in the server's cache."""
    judgments = [e for e in elements if isinstance(e, Judgment) and e.rules]
    if not judgments:
        return
    lang = "en" if transcript.language.value == "en" else "ja"
    text = context_of(group, units, transcript).text
    for el in judgments:
        el.rules = other_side(llm, cache, record, el.rules, el.decision, text, lang)


# the grammar of a conditional clause's ends (closed word classes): 「…場合は」「…なら」, "if …"
_CASE_ENDS = re.compile(
    r"(?:の)?(?:場合|とき|時|際)(?:に)?(?:は|には)?[、,]?$|(?:なら|ならば|たら|れば)[、,]?$|"
    r"^(?:if|when|where|in case)\b\s*|[,:]$",
    re.I,
)


def is_a_case(decision: str, rules: list[RuleRow]) -> bool:
    """The decision field holds one of the rule's cases instead of what is decided: without its
    conditional ending (「場合は」, "if") it is a row's condition."""
    core = _CASE_ENDS.sub("", decision.strip().rstrip("。.")).strip()
    return bool(core) and any(fuzz.ratio(core, r.condition.strip()) >= 90 for r in rules)


def _no_row(condition: str, outcome: str) -> bool:
    """A row that is no case -> outcome: a condition that only points back at something said
    before (「そのときは」, "if that happens"), or the sentence cut twice (the condition inside
    the outcome or the outcome inside the condition: 「前回と同じ → 修理は前回と同じ店」)."""
    if points_back(condition, both()):
        return True
    c, o = normalise(condition), normalise(outcome)
    short, long_ = sorted((c, o), key=len)
    if len(short) < 2 or len(short) < CUT_TWICE * len(long_):
        return False  # a short case inside a long outcome is a case said again (「海外」)
    if re.fullmatch(r"[\x00-\x7f]+", condition + outcome):  # Latin script: whole words only
        words_c, words_o = (
            " ".join(re.findall(r"[a-z0-9$%]+", x.lower())) for x in (condition, outcome)
        )
        a, b = sorted((words_c, words_o), key=len)
        return re.search(rf"(?<![a-z0-9]){re.escape(a)}(?![a-z0-9])", b) is not None
    return short in long_


def _without_lead_ins(
    steps: list[TaskStep], starts: list[int], quote: str
) -> tuple[list[TaskStep], list[int]]:
    """Steps without the parts that only lead into the next step: a clause that ends in a
    connective (「出荷が終わると、」「通知が来るので、」, "once the goods arrive,") tells when
    or why the next step happens, not a step of its own; it goes with the step after it."""
    steps, starts = list(steps), list(starts)
    k = 0
    while k < len(steps) - 1:
        part = quote[starts[k] : starts[k + 1]]
        if both().search("lead_in_clause", part.strip()):
            del steps[k]
            del starts[k + 1]
        else:
            k += 1
    return steps, starts


def said_before(condition: str, quote: str, before: str) -> str:
    """What was said ahead of a row's condition: the quote up to it (where the quote holds it),
    after the text before the quote. A pointer in it (「それ以上」) bounds the last of this."""
    at = quote.find(condition) if condition else -1
    return before + quote[: max(at, 0)]


def _same_case(told: RuleRow, row: RuleRow) -> bool:
    """A row read off a clause tells the case of ``row``: the conditions are close, or the clause
    holds both the row's condition and its outcome (the same sentence cut elsewhere). Outcomes
    alone do not decide: two cases often end alike (「部長の承認」「本部長が承認」)."""
    if _case_marks(told.condition) != _case_marks(row.condition):
        return False  # another bound (5万円 / 10万円, 以上 / 未満) or a negation: another case
    c = normalise(told.condition)
    whole = c + normalise(told.outcome)

    def close(x: str, y: str) -> bool:
        return bool(x and y) and fuzz.partial_ratio(x, y) >= SAME_CASE

    rc, ro = normalise(row.condition), normalise(row.outcome)
    return close(c, rc) or (close(rc, whole) and close(ro, whole))


def _case_marks(condition: str) -> tuple[frozenset[tuple[str, str]], bool]:
    """What tells two cases of one rule apart where their words are alike: the bounds they put
    on quantities, and whether the case is negated (「急ぎでない」, "not new")."""
    bounds = frozenset((b.op, canonical(b.quantity)) for b in parse_bounds(condition))
    return bounds, bool(both().search("negated_case", condition))


def _case_only(condition: str) -> str:
    """A row's condition without the conditional ending the model copied with it
    (「10%以上になる場合は」 -> 「10%以上になる」): the row's arrow already says "if"."""
    core = both().re("condition_tail").sub("", condition).rstrip(" 、,")
    return core if len(core) >= 2 else condition


def _is_whole(value: str, quote: str) -> bool:
    """``value`` is the quote itself (a field that repeats the sentence names nothing)."""
    return fuzz.ratio(normalise(value), normalise(_short(quote))) >= 90


def _short(quote: str) -> str:
    return quote.strip().rstrip("。.！!？?")


def fill(
    llm: ChatModel,
    cache: Cache | None,
    record: ChunkRecord,
    group: Group,
    units: list[Unit],
    transcript: Transcript,
    chunk: int,
    default_actor: str,
    system_names: list[str],
) -> list[AnyElement] | None:
    """The group's elements with model-filled fields (and the finding the model noted, last),
    or None when the model's answer failed."""
    ctx = context_of(group, units, transcript)
    try:
        answer, remarks = ask_fields(llm, cache, record, group.label, ctx)
    except (ChunkFailure, LLMError):
        return None
    out = build(group.label, answer, group, ctx, transcript, chunk, default_actor, system_names)
    remark = noted_remark(answer, remarks)
    if remark == "case_by_case" and not any(
        isinstance(e, Judgment) and e.criterion != CriterionStatus.STATED for e in out
    ):  # "no rule" is said of a judgment, and contradicts the stated rule the same answer gives
        remark = "none"
    finding = remark_finding(remark, group, ctx, transcript, chunk)
    # "recurring" needs how often, said in the text (an exception with a kept frequency)
    if (
        finding is not None
        and finding.finding == FindingKind.ROUTINE_EXCEPTION
        and not any(isinstance(e, Exception_) and e.is_routine for e in out)
    ):
        finding = None
    if finding is None:
        return out
    finding.filled_by = "model"
    return [*out, finding]
