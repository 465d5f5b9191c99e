"""Text-only rules (an imported rulebook, a policy snippet): no reviewed fields, only text.

The rule's conditions are read off the text (list items, else sentences) with the grammar of
lists: "any of" / "all of", and a lead that excludes ("you can't get X if: ..."). The operator's
message is read as facts: its sentences, and a question we asked joined with the operator's
short answer to it ("Are you under 19? Yes."). For each condition the model picks the fact that
is about it, or none (one token, scored by log-probabilities); a question answered yes / no
decides the condition, any other fact is read by the model (true / false / does not say); a
condition no fact is about is the one to ask. The rule's logic then decides yes / no / ask.

A small model leans towards some letters whatever the condition (measured on OR-ShARC dev: the
later facts). That lean is measured once per rule with a content-free condition ("N/A", which no
fact is about): each label's probability is divided by its probability for the content-free
condition and renormalised (contextual calibration) before the pick. Measured on 40 OR-ShARC
dev utterances outside the fixed evaluation subset (docs/benchmarks.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CONTENT_FREE = "N/A"  # a condition no fact is about: the model's lean over the letters


_ITEM = re.compile(r"^\s*(?:[*\-•・]|\d+[.)])\s*(.+?)\s*$", re.M)
_ANY = re.compile(r"\b(?:any|one) of\b|\beither\b|\bat least one\b|いずれか|どれか", re.I)
_EXCLUDES = re.compile(
    r"\b(?:can(?:no|'|’)t|cannot|won(?:'|’)t|will not|not (?:eligible|entitled|allowed|permitted)|"
    r"prohibited|must not|may not)\b|できません|対象外|禁止",
    re.I,
)


@dataclass
class TextRule:
    """A text rule's conditions and how they combine (grammar of lists, not of any rule)."""

    conditions: list[str]
    any_of: bool = False  # one condition is enough (else: all are needed)
    excludes: bool = False  # meeting the conditions means "no" (you can't get X if: ...)
    combination_known: bool = True  # the text says "all" or "any"; else the model decides
    lead: str = ""  # the sentence that introduces the list

    def decide(self, verdicts: list[bool | None]) -> bool | None:
        """True / False, or None when a condition the decision needs is not known."""
        if self.any_of:
            met = (
                True
                if any(v is True for v in verdicts)
                else (False if all(v is False for v in verdicts) else None)
            )
        else:
            met = (
                False
                if any(v is False for v in verdicts)
                else (True if all(v is True for v in verdicts) else None)
            )
        if met is None:
            return None
        return (not met) if self.excludes else met


def text_rule(text: str, max_conditions: int = 6) -> TextRule:
    body = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
    items = [m.group(1) for m in _ITEM.finditer(body)]
    first = _ITEM.search(body)
    lead = body[: first.start()].strip() if first else body
    if not items:
        items = [s.strip() for s in re.split(r"(?<=[.。!?！？])\s+", body) if len(s.strip()) > 3]
    explicit_any = bool(_ANY.search(lead)) or any(re.search(r"\bor\s*$", i) for i in items[:-1])
    explicit_all = bool(re.search(r"\ball of\b|\band\s*$|すべて|全て", lead, re.I)) or any(
        re.search(r"\band\s*$", i) for i in items[:-1]
    )
    return TextRule(
        conditions=items[:max_conditions] or [body[:300]],
        any_of=explicit_any,
        excludes=bool(_EXCLUDES.search(lead)),
        combination_known=explicit_any or explicit_all or len(items) <= 1,
        lead=lead,
    )


_SENTENCE_END = re.compile(r"(?<=[。！？])|(?<=[.!?])\s+")
# the operator's answer to a yes/no question we asked (a closed class of answer words)
_ANSWER_YES = re.compile(r"^(?:yes|yeah|yep|correct|right|i do|i am|はい|ええ|そうです)\b", re.I)
_ANSWER_NO = re.compile(r"^(?:no|nope|not|i don'?t|i'm not|いいえ|いえ|違います)\b", re.I)
MAX_FACTS = 9  # labelled A-I; N is "no fact is about the condition"


def facts_of(message: str) -> list[str]:
    """The operator's message as facts: its sentences, a question we asked joined with the
    operator's short answer to it ("Are you over 18? Yes."). The last ``MAX_FACTS``."""
    out: list[str] = []
    for s in (x.strip() for x in _SENTENCE_END.split(message.strip())):
        if not s:
            continue
        if out and out[-1].endswith(("?", "？")) and _short_answer(s):
            out[-1] += " " + s
        else:
            out.append(s)
    return out[-MAX_FACTS:]


def _short_answer(sentence: str) -> bool:
    return len(sentence.split()) <= 3 and not sentence.endswith(("?", "？")) and len(sentence) <= 12


def answered(fact: str) -> bool | None:
    """Yes / no when the fact is a question answered yes or no, else None."""
    q, _, a = fact.rpartition("?") if "?" in fact else fact.rpartition("？")
    if not q or not a.strip():
        return None
    a = a.strip()
    if _ANSWER_YES.match(a):
        return True
    if _ANSWER_NO.match(a):
        return False
    return None


def fact_about(probs: dict[str, float], facts: list[str]) -> str | None:
    """The fact the model picked as being about a condition (labels A, B, ... and N for none),
    or None when "none" is at least as likely as the best fact."""
    letters = [chr(ord("A") + i) for i in range(len(facts))]
    best = max(letters, key=lambda x: probs.get(x, 0.0), default="")
    if not best or probs.get(best, 0.0) <= probs.get("N", 0.0):
        return None
    return facts[letters.index(best)]


def read_fact(probs: dict[str, float]) -> bool | None:
    """The model's reading of one fact against a condition: T / F, or U (None)."""
    if not probs:
        return None
    return {"T": True, "F": False}.get(max(probs, key=lambda k: probs[k]))
