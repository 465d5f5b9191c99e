"""Stage 6: answer an operator's question from approved rules only, with checked citations.

The flow of one question (``mode="structured"``, the default):
1. retrieve (hybrid, with optional filters by business area, interview and element kind);
2. if the best match is below the calibrated threshold, nothing approved covers the question:
   say so plainly, name who to ask if the knowledge base knows, record an open question;
3. otherwise the answer is rendered from the approved structure (``compose``): the model
   chooses which element applies (or none: not covered), conditions are evaluated against the
   question, a missing fact becomes one follow-up question, and every line is rendered from the
   element's reviewed fields with its id. Faithful by construction.

``mode="generate"`` (for strong models) lets the chat model write the answer from the retrieved
rules instead, citing rule ids after every statement; then
4. the answer is checked statement by statement before anyone sees it: citations to rules
   that were not retrieved are removed, statements without a valid citation are removed,
   ``NO_RULE`` (the model says nothing fits) and an answer with no supported statement left
   both turn into the "not covered" answer.

``ask_stream`` yields each statement as soon as it is complete and has passed the check, then
the final :class:`Answer` (which is authoritative, e.g. when the model ends up with NO_RULE).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from .adapters.llm import ChatModel
from .compose import Candidate, Composer, Composition, Line
from .conditions import language_of as question_language
from .errors import NotFoundError
from .models import Answer, AnyElement, Citation
from .prompts import load_prompt
from .retrieve import Filters, Retrieved, Retriever
from .store import Store

_ID = r"[A-Z]{1,2}\d{3,}"
CITATION = re.compile(rf"\[\s*({_ID}(?:\s*[,、，]\s*{_ID})*)\s*\]")
_LOOSE_ID = r"[A-Za-z]{1,3}-?\d{1,8}"  # what a model may write: j0001, T-12, ...
_ANY_BRACKET = re.compile(rf"\[\s*({_LOOSE_ID}(?:\s*[,、，]\s*{_LOOSE_ID})*)\s*\]")
_CITE_AFTER = re.compile(r"[ \t\u3000]*\[[^\[\]\n]{1,80}\]")
_TRAIL = re.compile(r"[ \t\u3000]*\n?")
_MARKER = re.compile(r"^\s*(?:[-*・•]|\d+[.)．、]|[(（]?\d+[)）])\s*")
_WORDISH = re.compile(r"[\w\u3040-\u30ff\u3400-\u9fff]")
NO_RULE = "NO_RULE"
CONTACT_MARGIN = 0.03  # a rule this close below the threshold is "related": its owner may know
MESSAGES = {
    "ja": {
        "none": "承認済みのルールには、この質問に答えるものがありません。",
        "ask": "{who}に確認してください(未解決の質問として記録しました)。",
        "ask_unknown": "担当のコンサルタントに確認してください(未解決の質問として記録しました)。",
    },
    "en": {
        "none": "No approved rule covers this question.",
        "ask": "Please ask {who} (recorded as an open question).",
        "ask_unknown": "Please ask your consultant (recorded as an open question).",
    },
}


def format_rules(results: list[Retrieved]) -> str:
    blocks = []
    for r in results:
        m = r.metadata
        about = [str(m.get("kind", "")) or "rule"]
        if m.get("version"):
            about.append(f"v{m['version']}")
        if m.get("effective_date"):
            about.append(f"effective {m['effective_date']}")
        if m.get("interview_title"):
            about.append(f"from {m['interview_title']}")
        blocks.append(f"[{r.id}] ({', '.join(about)})\n{r.text}")
    return "\n\n".join(blocks)


# --------------------------------------------------------------------------- checking


def split_statements(text: str) -> list[str]:
    """Split an answer into statements; each keeps the citations that follow its end mark.

    >>> split_statements("A です。[J0001] B.[T0002]\\nC")
    ['A です。[J0001] ', 'B.[T0002]\\n', 'C']
    """
    out: list[str] = []
    start = i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        end = None
        if ch == "\n":
            end = i + 1
        elif ch in "。！？!?" or (
            ch == "." and i > 0 and not text[i - 1].isdigit()
            and (i + 1 == n or text[i + 1].isspace() or text[i + 1] == "[")
        ):  # fmt: skip
            j = i + 1
            while m := _CITE_AFTER.match(text, j):
                j = m.end()
            end = _TRAIL.match(text, j).end()  # type: ignore[union-attr]
        if end is not None:
            out.append(text[start:end])
            start = i = end
        else:
            i += 1
    if start < n:
        out.append(text[start:])
    return out


def _ids(statement: str) -> list[str]:
    return [i.strip() for m in _ANY_BRACKET.findall(statement) for i in re.split(r"[,、，]", m)]


def is_claim(statement: str) -> bool:
    """Does the statement say something (as opposed to a heading, a marker or blank)?"""
    body = _MARKER.sub("", _ANY_BRACKET.sub("", statement)).strip()
    if not body or body.endswith((":", "：")):
        return False
    return len(_WORDISH.findall(body)) >= 2


@dataclass
class Checked:
    text: str  # what may be shown
    cited: list[str] = field(default_factory=list)  # valid ids, in order of first use
    warnings: list[str] = field(default_factory=list)
    no_rule: bool = False
    claims: int = 0  # statements kept that say something


def check_statement(statement: str, allowed: set[str]) -> tuple[str | None, list[str], list[str]]:
    """(kept text or None, valid ids, warnings) for one statement."""
    ids = _ids(statement)
    bad = [i for i in ids if i.upper() not in allowed]
    good = [i.upper() for i in ids if i.upper() in allowed]
    warnings = [f"removed citation to {b}, which is not among the retrieved rules" for b in bad]

    def keep_valid(m: re.Match[str]) -> str:
        valid = [i.strip().upper() for i in re.split(r"[,、，]", m.group(1))]
        valid = [i for i in valid if i in allowed]
        return "".join(f"[{i}]" for i in valid)

    clean = _ANY_BRACKET.sub(keep_valid, statement)
    if is_claim(statement) and not good:
        short = _ANY_BRACKET.sub("", statement).strip()[:80]
        return None, [], [*warnings, f"removed a statement with no valid citation: «{short}»"]
    return clean, good, warnings


def check_answer(text: str, allowed: set[str]) -> Checked:
    if NO_RULE in text:
        return Checked(text="", no_rule=True)
    out = Checked(text="")
    kept: list[str] = []
    for st in split_statements(text):
        clean, good, warnings = check_statement(st, allowed)
        out.warnings += warnings
        if clean is None:
            continue
        kept.append(clean)
        out.cited += [g for g in good if g not in out.cited]
        if good:
            out.claims += 1
    out.text = re.sub(r"\n{3,}", "\n\n", "".join(kept)).strip()
    return out


def decision_of(answer: Answer) -> str:
    """yes / no / follow_up / not_covered / answer: the kind of reply, for evaluation."""
    if not answer.covered:
        return "not_covered"
    first = split_statements(answer.text)[:1]
    head = CITATION.sub("", first[0]).strip() if first else ""
    low = head.lower()
    if low.startswith(("yes", "はい")):
        return "yes"
    if low.startswith(("no", "いいえ")):
        return "no"
    if head.endswith(("?", "？")) or re.search(r"[?？]", CITATION.sub("", answer.text)):
        return "follow_up"
    return "answer"


def with_reply(asked: str, answer: Answer, reply: str) -> str:
    """What to ask when the operator replies to our follow-up question: the question we asked
    with their reply, then what they had asked (``asked``, itself possibly built this way), so
    the reply is read as the answer to our question and the original question keeps its shape.
    Any other reply is a new question."""
    reply = reply.strip()
    if decision_of(answer) != "follow_up" or not reply:
        return reply
    first = split_statements(answer.text)[:1]
    ours = CITATION.sub("", first[0]).strip() if first else ""
    if not ours.endswith(("?", "？")):
        return reply
    if not reply.endswith(("。", ".", "!", "！", "?", "？")):
        reply += "。" if question_language(ours + reply) == "ja" else "."
    return f"{ours} {reply}\n{asked}"


# --------------------------------------------------------------------------- the assistant


class Assistant:
    def __init__(
        self,
        store: Store,
        retriever: Retriever,
        llm_factory: Callable[[], ChatModel],
        k: int = 5,
        max_tokens: int = 600,
        mode: Literal["structured", "generate"] = "structured",
    ):
        self.store = store
        self.retriever = retriever
        self._llm_factory = llm_factory  # called only when a rule covers the question
        self.k = k
        self.max_tokens = max_tokens
        self.mode = mode
        self.composer = Composer(llm_factory)

    # ------------------------------------------------------------------ pieces

    def retrieve(self, question: str, filters: Filters | None = None) -> list[Retrieved]:
        return self.retriever.search(question, k=self.k, filters=filters)

    def contact(self, results: list[Retrieved], filters: Filters | None = None) -> str:
        """Who may know: the owner of a closely related rule, or of any rule in the asked area."""
        floor = self.retriever.threshold - CONTACT_MARGIN
        for r in results:
            related = r.similarity >= floor or bool(filters and filters.areas)
            if related and r.metadata.get("contact"):
                return str(r.metadata["contact"])
        return ""

    def not_covered(
        self, question: str, results: list[Retrieved], filters: Filters | None = None,
        warnings: list[str] | None = None,
    ) -> Answer:  # fmt: skip
        msg = MESSAGES[question_language(question)]
        who = self.contact(results, filters)
        self.store.record_open_question(question)
        text = msg["none"] + " " + (msg["ask"].format(who=who) if who else msg["ask_unknown"])
        return Answer(question=question, text=text, covered=False, contact=who,
                      retrieved_ids=[r.id for r in results], warnings=warnings or [])  # fmt: skip

    def citation(self, r: Retrieved, loaded: AnyElement | None = None) -> Citation:
        """Resolve a cited id to its element, interview and audio time (database first;
        ``loaded``: the element already read for this answer)."""
        m = r.metadata
        try:
            el = (
                loaded if loaded is not None and loaded.id == r.id else self.store.get_element(r.id)
            )
        except NotFoundError:
            start = m.get("audio_start")
            return Citation(
                element_id=r.id,
                interview_id=str(m.get("interview_id", "")),
                interview_title=str(m.get("interview_title", "")),
                summary=str(m.get("summary", "")) or r.text.split("\n", 1)[0][:120],
                audio_start=float(start) if isinstance(start, int | float) and start >= 0 else None,
                kind=str(m.get("kind", "")),
                version=int(m["version"]) if m.get("version") else None,
            )
        ev = next((e for e in el.evidence if e.grounded), el.evidence[0] if el.evidence else None)
        title = str(m.get("interview_title", ""))
        if not title:
            try:
                title = self.store.get_interview(el.interview_id).title
            except NotFoundError:
                title = ""
        return Citation(
            element_id=el.id,
            interview_id=el.interview_id,
            interview_title=title,
            summary=el.summary,
            quote=ev.quote if ev else "",
            audio_start=ev.audio_start if ev else None,
            audio_end=ev.audio_end if ev else None,
            kind=el.kind,
            version=el.version,
            effective_date=el.effective_date if isinstance(el.effective_date, date) else None,
            speaker=ev.speaker if ev else "",
        )

    def check(
        self, question: str, text: str, results: list[Retrieved], filters: Filters | None = None
    ) -> Answer:
        """Validate the model's answer before it is shown (see the module docstring)."""
        by_id = {r.id.upper(): r for r in results}
        checked = check_answer(text, set(by_id))
        if checked.no_rule:
            note = "the model found no rule that answers"
            return self.not_covered(question, results, filters, [note])
        warnings = checked.warnings
        answer_text, cited = checked.text, checked.cited
        if checked.claims == 0:
            # nothing the model said is backed by a retrieved rule: refuse rather than guess
            note = "the answer had no statement supported by a cited rule"
            return self.not_covered(question, results, filters, [*warnings, note])
        if question_language(question) == "ja" and question_language(answer_text) != "ja":
            warnings.append("the answer is not in the question's language")
        return Answer(
            question=question,
            text=answer_text,
            covered=True,
            citations=[self.citation(by_id[c]) for c in cited],
            retrieved_ids=[r.id for r in results],
            warnings=warnings,
        )

    def _element(self, r: Retrieved) -> AnyElement | None:
        try:
            return self.store.get_element(r.id)
        except NotFoundError:
            return None  # a text-only rule (e.g. an imported rulebook): no reviewed fields

    def candidates(self, results: list[Retrieved]) -> list[Candidate]:
        out, engagements = [], {}
        for r in results:
            el = self._element(r)
            eng = ""
            if el is not None:
                if el.interview_id not in engagements:
                    try:
                        engagements[el.interview_id] = self.store.get_interview(
                            el.interview_id
                        ).engagement_id
                    except NotFoundError:
                        engagements[el.interview_id] = ""
                eng = engagements[el.interview_id]
            out.append(Candidate(r, el, eng))
        return out

    def from_composition(
        self,
        question: str,
        comp: Composition,
        results: list[Retrieved],
        filters: Filters | None = None,
        cands: list[Candidate] | None = None,
    ) -> Answer:
        if not comp.covered:
            note = "the model chose none of the retrieved rules"
            return self.not_covered(question, results, filters, [note])
        by_id = {r.id.upper(): r for r in results}
        loaded = {c.id.upper(): c.element for c in cands or [] if c.element is not None}
        if comp.conflict:
            self.store.record_open_question(comp.conflict)
        warnings = ["approved rules from different hearings disagree"] if comp.conflict else []
        return Answer(
            question=question,
            text=comp.text,
            covered=True,
            citations=[
                self.citation(by_id[i.upper()], loaded.get(i.upper()))
                for i in comp.ids
                if i.upper() in by_id
            ],
            retrieved_ids=[r.id for r in results],
            warnings=warnings,
        )

    def _messages(self, question: str, results: list[Retrieved]) -> list[dict[str, str]]:
        lang = "Japanese" if question_language(question) == "ja" else "English"
        return load_prompt("answer").render(
            rules=format_rules(results), question=question, language=lang
        )

    @staticmethod
    def _filters(
        filters: Filters | None, area: str | None, interview: str | None, kinds: list[str] | None
    ) -> Filters | None:
        if filters is None and not (area or interview or kinds):
            return None
        f = filters or Filters()
        return Filters(
            areas=f.areas + ([area] if area else []),
            interviews=f.interviews + ([interview] if interview else []),
            kinds=f.kinds + list(kinds or []),
        )

    # ------------------------------------------------------------------ API

    def ask(
        self,
        question: str,
        *,
        area: str | None = None,
        interview: str | None = None,
        kinds: list[str] | None = None,
        filters: Filters | None = None,
    ) -> Answer:
        filters = self._filters(filters, area, interview, kinds)
        results = self.retrieve(question, filters)
        if not self.retriever.covered(results):
            return self.not_covered(question, results, filters)
        if self.mode == "structured":
            cands = self.candidates(results)
            comp = self.composer.compose(question, cands)
            return self.from_composition(question, comp, results, filters, cands)
        messages = self._messages(question, results)
        out = self._llm_factory().complete(messages, max_tokens=self.max_tokens)
        return self.check(question, out.text, results, filters)

    def ask_stream(
        self,
        question: str,
        *,
        area: str | None = None,
        interview: str | None = None,
        kinds: list[str] | None = None,
        filters: Filters | None = None,
    ) -> Iterator[str | Answer]:
        """Yield checked statements as they complete, then the final (authoritative) Answer."""
        filters = self._filters(filters, area, interview, kinds)
        results = self.retrieve(question, filters)
        if not self.retriever.covered(results):
            yield self.not_covered(question, results, filters)
            return
        if self.mode == "structured":
            cands = self.candidates(results)
            for item in self.composer.stream(question, cands):
                if isinstance(item, Line):
                    yield item.render() + "\n"
                else:
                    yield self.from_composition(question, item, results, filters, cands)
            return
        allowed = {r.id.upper() for r in results}
        raw, done, stopped = "", 0, False
        for piece in self._llm_factory().stream(self._messages(question, results), self.max_tokens):
            raw += piece
            if stopped:
                continue
            if NO_RULE in raw:
                stopped = True
                continue
            statements = split_statements(raw)
            complete = len(statements) - 1  # the last one may still grow
            tail = statements[-1].lstrip(" \t\u3000") if statements else ""
            waiting = not tail or tail.startswith("[")
            if complete > done and waiting and not statements[complete - 1].endswith("\n"):
                complete -= 1  # citations may still follow the previous statement
            for st in statements[done:complete]:
                clean, _, _ = check_statement(st, allowed)
                if clean:
                    yield clean
            done = max(done, complete)
        checked = check_answer(raw, allowed)
        if not stopped and not checked.no_rule and checked.claims > 0:
            for st in split_statements(raw)[done:]:
                clean, _, _ = check_statement(st, allowed)
                if clean:
                    yield clean
        final = self.check(question, raw, results, filters)
        yield final
