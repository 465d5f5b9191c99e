"""Text-only rules (an imported rulebook, a policy snippet): no reviewed fields, only text.

The rule's conditions are read off the text (list items, else a list written inline in its first
sentence, else its sentences) with the grammar of lists: "any of" / "all of" / "you must:" /
items that are each a requirement (a list whose lead says neither is read as alternatives), and
a lead that excludes ("you can't get X if: ..."). A sentence whose consequence is negative ("You're
not an appointee if ...") reads the answer to its case reversed.
The operator's message is read as facts: its sentences, and a question we asked joined with the
operator's answer to it ("Are you under 19? Yes."). An answered question decides the condition
it quotes (our follow-up questions quote the condition whole), else the one with the largest
share of its character pairs in the question; several answers on one condition are combined by
the condition's own grammar ("... or ..." needs one). A sentence of the operator's that restates
a condition nobody answered (most of the condition's character pairs) decides it too: true,
unless exactly one of the two is negated. Reading such facts with the 1.5B model instead leaned
to "true" whatever the fact said and did not help (measured on OR-ShARC dev, docs/benchmarks.md).
A condition on an amount or a date is compared with the case the operator states
(``conditions.condition_holds``, by the caller). A condition the decision needs and nothing
decides is asked about instead of guessed.

A listed rule needs each of its items decided (or one decisive answer: a "no" to an item all are
needed for). A rule in prose is split into sentences, most of which are not conditions (who runs
the programme, what it pays), so it is decided by the sentences answered so far, each read with
its own polarity ("You can't ... if ...": a "yes" means no); with nothing answered yet, its
first sentence is asked about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ITEM = re.compile(r"^\s*(?:[*\-•・]|\d+[.)])\s*(.+?)\s*$", re.M)
_ANY = re.compile(r"\b(?:any|one) of\b|\beither\b|\bat least one\b|いずれか|どれか", re.I)
_EXCLUDES = re.compile(
    r"\b(?:can(?:no|'|’)t|cannot|won(?:'|’)t|will not|must not|may not|should(?:n(?:'|’)t| not)|"
    r"prohibited|banned|forbidden)\b|"
    r"(?:\bnot|n't|n’t) (?:be )?(?:eligible|entitled|allowed|permitted)\b|できません|対象外|禁止",
    re.I,
)
# a lead that needs every item: "all of", "both", or a lead that ends in the modal the items
# complete ("To get it you must:"; not "You must tell us if:", whose items are cases);
# "one of" still wins (_ANY)
_ALL = re.compile(
    r"\ball of\b|\bboth\b|すべて|全て|"
    r"\b(?:must|needs? to|ha(?:ve|s) to|(?:is|are) required to)(?: be| have)?\s*[:：]?\s*$",
    re.I,
)
# an item that is itself a requirement ("you must live in England")
_MUST = re.compile(r"\b(?:must|need to|needs to|have to|has to)\b|なければ|必要", re.I)
# a condition met by either of its parts ("after 25 years or when you sell your home")
_OR = re.compile(r"\bor\b|\beither\b|\bwhichever\b|または|もしくは|あるいは|いずれか", re.I)
# negation (closed word classes): a restated condition holds unless one side is negated
_NEGATION = re.compile(
    r"\b(?:not|no|never|without|none|neither|nor)\b|n[’']t\b|ません|ではなく|じゃなく|なし|無し|"
    r"(?<![少危汚])ない",
    re.I,
)
# an obligation written with two negations (「取らないといけません」, 「なければならない」) is
# not a negation
_OBLIGATION = re.compile(
    r"(?:ないと|なくては|なければ|なきゃ)(?:いけ|なら|だめ|ダメ)(?:ない|ません|ず)?|"
    r"\b(?:can(?:no|'|’)t|cannot) (?:help but|wait)\b",
    re.I,
)
SAID_SHARE = 0.6  # share of a condition's character pairs a sentence needs to restate it
MIN_ALTERNATIVE = 6  # character pairs an alternative of a condition needs to be restated alone


@dataclass
class TextRule:
    """A text rule's conditions and how they combine (grammar of lists, not of any rule)."""

    conditions: list[str]
    any_of: bool = False  # one condition is enough (else: all are needed)
    excludes: bool = False  # meeting the conditions means "no" (you can't get X if: ...)
    lead: str = ""  # the sentence that introduces the list
    listed: bool = False  # the conditions are the text's list items (else its sentences)

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

    def decide_from_answers(self, verdicts: list[bool | None]) -> bool | None:
        """The decision the answers so far support: a listed rule needs its items decided (or one
        decisive answer); a rule in prose is decided by whatever its answered sentences say,
        each read with its own polarity ("you can't X if Y" answered yes means no)."""
        if self.listed:
            return self.decide(verdicts)
        known: list[bool | None] = [
            (not v) if _says_no(c) else v
            for c, v in zip(self.conditions, verdicts, strict=True)
            if v is not None
        ]
        return self.decide(known) if known else None


# a list written inside a sentence: "A, B, C and D" (at least three items, the last joined by
# "and" / "or")
_LAST_ITEM = re.compile(r"^(?:and|or|and/or)\s+(.+?)[.;]?$", re.I)


def _enumeration(sentence: str) -> tuple[str, list[str]] | None:
    """A sentence's inline list as (lead, items): "Land eligible includes cropland, rangeland
    and forest land." -> items ["Land eligible includes cropland", "rangeland", "forest land"];
    a lead ending in a colon is cut off the first item ("must: meet X, be Y, and be Z")."""
    chunks = [c.strip() for c in re.split(r",\s*", sentence)]
    if len(chunks) < 3:
        return None
    last = _LAST_ITEM.match(chunks[-1])
    tail = [last.group(1)] if last else []
    if not last:  # "..., software and ebooks": the last two items share a chunk
        m = re.match(r"^(.+?)\s+(?:and|or)\s+(.+?)[.;]?$", chunks[-1], re.I)
        tail = [m.group(1), m.group(2)] if m else []
    if not tail or any(len(c.split()) > 8 for c in chunks[1:-1]):
        return None
    lead, colon, head = chunks[0].rpartition(":")
    if not colon:
        lead, head = "", chunks[0]
    return lead.strip() + (":" if colon else ""), [head.strip(), *chunks[1:-1], *tail]


# the clause that states the case of a sentence: "if / when / unless ...", 「…場合は」「…なら」
_CASE_CLAUSE = re.compile(
    r"^\s*(?:if|when|where|unless|once)\b[^,]*,\s*|\s*\b(?:if|when|where|unless|once)\b.*$|"
    r"^.*?(?:場合は?|ときは?|時は?|なら(?:ば)?)[、,]?",
    re.I,
)


def _says_no(sentence: str) -> bool:
    """A prose sentence whose consequence is negative: meeting its case means "no" ("You're not
    an appointee if you just help", "If a relationship exists, you are not a contractor",
    "You can't get it if ..."). The case clause's own negations do not count."""
    main = _CASE_CLAUSE.sub(" ", sentence)
    return bool(_EXCLUDES.search(_CONDITIONAL.sub(" ", sentence))) or (
        main != sentence and negated(main)
    )


# a sentence's conditional clause: a leading "If / When ...," or a trailing "if / unless ..."
# (a trailing "when" or "where" is as often a relative clause: "a claim made when ... cannot")
_CONDITIONAL = re.compile(
    r"^\s*(?:if|when|where|unless|once)\b[^,]*,\s*|\s*\b(?:if|unless)\b.*$|"
    r"^.*?(?:場合は?|ときは?|時は?|なら(?:ば)?)[、,]?",
    re.I,
)


def text_rule(text: str, max_sentences: int = 6) -> TextRule:
    """A text's conditions: every list item (none is dropped: a listed rule needs each decided),
    else its first ``max_sentences`` sentences."""
    body = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
    found = list(_ITEM.finditer(body))
    # a first list line that ends in a colon introduces the items after it ("3. A licensee may
    # not:" above "* display ..."): it is their lead, not one of them
    while len(found) > 1 and found[0].group(1).endswith((":", "：")):
        found = found[1:]
    items = [m.group(1) for m in found]
    first = found[0] if found else None
    lead = body[: first.start()].strip() if first else body
    inline = False
    if not items:
        sentences = re.split(r"(?<=[.。!?！？])\s+", body)
        items = [s.strip() for s in sentences if len(s.strip()) > 3][:max_sentences]
        # a rule whose first sentence lists its cases inline reads as that list
        enumerated = _enumeration(items[0]) if items else None
        if enumerated:
            lead, items = enumerated
            inline = True
    listed = len(items) > 1 and (bool(first) or inline)
    explicit_any = bool(_ANY.search(lead)) or any(
        re.search(r"\bor\s*$", i, re.I) for i in items[:-1]
    )
    explicit_all = not explicit_any and (
        bool(_ALL.search(lead))
        or any(re.search(r"\band\s*$", i, re.I) for i in items[:-1])
        or (listed and all(_MUST.search(i) for i in items))
    )
    return TextRule(
        conditions=items or [body[:300]],
        # a list whose lead does not say "all" is read as alternatives: the 1.5B model's pick
        # (calibrated) did worse than this on OR-ShARC dev, and no threshold on it did better
        # (docs/benchmarks.md, session 12)
        any_of=explicit_any or (listed and not explicit_all),
        # the lead of a list says whether meeting its items excludes; a rule in prose has no
        # lead (a "cannot" in another of its sentences says nothing of the one answered)
        excludes=listed and bool(_EXCLUDES.search(lead)),
        lead=lead,
        listed=listed,
    )


_SENTENCE_END = re.compile(r"(?<=[。！？])|(?<=[.!?])\s+")
# the operator's answer to a yes/no question we asked (a closed class of answer words)
_ANSWER_YES = re.compile(r"^(?:yes|yeah|yep|correct|right|i do|i am|はい|ええ|そうです)\b", re.I)
_ANSWER_NO = re.compile(r"^(?:no|nope|not|i don'?t|i'm not|いいえ|いえ|違います)\b", re.I)


# a yes/no question clause after a statement written without a full stop ("... VAT Can I ...?")
AUX_START = re.compile(
    r"\b(?:Do|Does|Did|Is|Are|Was|Were|Can|Could|Should|Shall|Must|May|Might|Will|Would|Have|"
    r"Has|Need|Am)\s+(?:I|we|you|my|our|the|a|an|it|they|he|she|this|that|these|there|someone)\b"
)


def _run_on(sentence: str) -> list[str]:
    """A statement that runs into a question without a full stop, split where the question's
    auxiliary opens it ("I live in Sweden. I work there too Do you live in ...?")."""
    starts = [m.start() for m in AUX_START.finditer(sentence) if m.start() > 0]
    if not starts:
        return [sentence]
    cut = starts[0]
    return [sentence[:cut], sentence[cut:]]


def facts_of(message: str) -> list[str]:
    """The operator's message as facts: its sentences, a question we asked joined with the
    operator's answer to it ("Are you over 18? Yes.", 「海外ですか？ いいえ、国内です。」)."""
    out: list[str] = []
    for s in (x.strip() for part in _SENTENCE_END.split(message.strip()) for x in _run_on(part)):
        if not s:
            continue
        if out and out[-1].endswith(("?", "？")) and _an_answer(s):
            out[-1] += " " + s
        else:
            out.append(s)
    return out


def _an_answer(sentence: str) -> bool:
    """A reply to the question before it: it starts with a yes / no word, or is short."""
    if sentence.endswith(("?", "？")):
        return False
    short = len(sentence.split()) <= 3 and len(sentence) <= 12
    return short or bool(_ANSWER_YES.match(sentence) or _ANSWER_NO.match(sentence))


def _question_and_reply(fact: str) -> tuple[str, str]:
    """A fact split at its last question mark (either width): (question, reply)."""
    i = max(fact.rfind("?"), fact.rfind("？"))
    return (fact[:i], fact[i + 1 :].strip()) if i >= 0 else ("", fact)


def answered(fact: str) -> bool | None:
    """Yes / no when the fact is a question answered yes or no, else None."""
    q, a = _question_and_reply(fact)
    if not q or not a:
        return None
    if _ANSWER_YES.match(a):
        return True
    if _ANSWER_NO.match(a):
        return False
    return None


def answers_to(conditions: list[str], message: str) -> list[bool | None]:
    """Each condition as the operator's answers decide it (several answers on one condition:
    all must hold); None where no answer is about it. An answered question is about the
    condition it quotes (our own follow-up question quotes the condition whole), else the
    condition with the largest share of its character pairs in the question; a question that
    shares nothing with any condition decides nothing."""
    out: list[bool | None] = [None for _ in conditions]
    grams = [char_pairs(c) for c in conditions]
    flat = [_NOT_WORD.sub("", c.lower()) for c in conditions]
    for fact in facts_of(message):
        said = answered(fact)
        if said is None:
            continue
        question = _question_and_reply(fact)[0]
        asked = _NOT_WORD.sub("", question.lower())
        quoted = [i for i, c in enumerate(flat) if c and c in asked]
        if quoted:
            k = max(quoted, key=lambda i: len(flat[i]))
        else:
            best = most_shared(char_pairs(question), grams)
            if best is None:
                continue
            k = best
        if out[k] is None:
            out[k] = said
        else:
            out[k] = (out[k] or said) if _OR.search(conditions[k]) else (out[k] and said)
    return out


def verdicts_of(conditions: list[str], message: str) -> list[bool | None]:
    """Each condition as the operator's answers decide it, else as a statement of theirs
    restates it (``answers_to``, then ``told_in_passing``); None where neither does."""
    told = told_in_passing(conditions, message)
    return [
        a if a is not None else t
        for a, t in zip(answers_to(conditions, message), told, strict=True)
    ]


def negated(text: str) -> bool:
    """The text says "not" (an obligation said with two negations does not count)."""
    return bool(_NEGATION.search(_OBLIGATION.sub(" ", text)))


def statements(message: str) -> list[str]:
    """The operator's sentences that state something: not a question, not an answer to one."""
    return [f for f in facts_of(message) if answered(f) is None and not f.endswith(("?", "？"))]


# the case a question supposes: "Can I ... if my turnover is £145,000?", 「…の場合は？」
_SUPPOSED = re.compile(r"\b(?:if|when|where|as)\b\s+(.+)$|^(.+?)(?:場合|なら|たら|とき|時)", re.I)


def case_of(message: str) -> str:
    """What the operator says of their case: their statements, and the case a question of
    theirs supposes (its "if ..." clause), not what the question asks about ("Will I get up to
    £2,010?" says nothing of their case)."""
    out = statements(message)
    for f in facts_of(message):
        if f.endswith(("?", "？")):
            m = _SUPPOSED.search(f)
            if m:
                out.append(m.group(1) or m.group(2))
    return " ".join(out)


def asked_about(rule: TextRule, message: str) -> int | None:
    """The sentence of a rule in prose the operator's last question is about: the one with the
    largest share of its character pairs in that question (None for a listed rule, or when the
    question shares nothing with any)."""
    asked = [f for f in facts_of(message) if f.endswith(("?", "？"))]
    if rule.listed or not asked:
        return None
    return most_shared(char_pairs(asked[-1]), [char_pairs(c) for c in rule.conditions])


def most_shared(pairs: set[str], grams: list[set[str]]) -> int | None:
    """Index of the text (given by its character pairs) with the largest share of its pairs in
    ``pairs`` (the first of equals); None when none shares any."""
    share = [len(pairs & g) / len(g) if g else 0.0 for g in grams]
    best = max(range(len(share)), key=lambda i: (share[i], -i), default=-1)
    return best if best >= 0 and share[best] > 0 else None


def told_in_passing(conditions: list[str], message: str) -> list[bool | None]:
    """Each condition as a sentence the operator stated (not a question, not an answer to one)
    restates it: the sentence with the largest share of the character pairs of the condition's
    case (its "if" clause, or one alternative of it), at least ``SAID_SHARE``; it holds unless
    exactly one of the two is negated ("The business I own is not registered for VAT" against
    "if your business is registered for VAT"). None where no sentence restates the condition."""
    stated = [(f, char_pairs(f)) for f in statements(message)]
    out: list[bool | None] = []
    for c in conditions:
        best_share, said = 0.0, None
        for part in _restatable(c):
            g = char_pairs(part)
            for f, pairs in stated if g else []:
                share = len(pairs & g) / len(g)
                if share > best_share:
                    best_share, said = share, negated(f) == negated(part)
        out.append(said if best_share >= SAID_SHARE else None)
    return out


def case_clause(sentence: str) -> str:
    """The case a sentence states: its "if / when ..." clause (「…場合」), else the sentence."""
    m = _CASE_PART.search(sentence)
    return (m.group(1) or m.group(2) or "").strip() if m else sentence


_CASE_PART = re.compile(
    r"\b(?:if|when|unless|once)\b\s+([^,;]+)|^(.+?)(?:場合|ときは|時は|なら)", re.I
)


def _restatable(condition: str) -> list[str]:
    """What an operator's statement may restate of a condition: the whole, its case clause, and
    each alternative of the case ("volunteers or voluntary workers")."""
    case = case_clause(condition)
    alternatives = [p for p in _OR.split(case) if p and len(char_pairs(p)) >= MIN_ALTERNATIVE]
    return list(dict.fromkeys(p.strip() for p in [case, *alternatives] if p.strip()))


_NOT_WORD = re.compile(r"[\s、。,.!?！？「」()（）:：/・'’]+")


def char_pairs(text: str, apart: re.Pattern[str] = _NOT_WORD) -> set[str]:
    """The text's character pairs inside words (lower case, words split at ``apart``): word
    overlap for any script."""
    t = apart.sub(" ", text.lower())
    return {t[i : i + 2] for i in range(len(t) - 1) if " " not in t[i : i + 2]}
