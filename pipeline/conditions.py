"""Evaluate a rule row's condition against the operator's case, deterministically where possible.

The question and the row are both parsed (``quantities``): amounts, counts, days, hours and
the kinds of non-working day. Where the row bounds a quantity and the question gives one of the
same unit, the comparison decides; where the row needs a quantity the question does not give,
the verdict says which fact is missing (the assistant then asks for it); otherwise the verdict
is "unknown" and the model decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from .models import RuleRow
from .quantities import (
    DURATIONS,
    Bound,
    DateBound,
    Period,
    Quantity,
    day_classes,
    money_words_near,
    parse_bounds,
    parse_date_bounds,
    parse_periods,
    parse_quantities,
    sentence_around,
)
from .text_rules import TextRule, asked_about, case_of, char_pairs, verdicts_of


@dataclass
class Case:
    """What the operator's question says about their situation."""

    text: str
    quantities: list[Quantity] = field(default_factory=list)
    days: set[str] = field(default_factory=set)
    periods: list[Period] = field(default_factory=list)

    @classmethod
    def of(cls, question: str) -> Case:
        periods = parse_periods(question)
        quantities = [q for q in parse_quantities(question) if not _inside(q, periods)]
        return cls(question, quantities, day_classes(question), periods)

    def period(self) -> Period | None:
        """The one time the operator names (a day, a month or a year); None when they name
        none, or several different ones (which one a rule's date is about is not known)."""
        spans = {(p.first, p.last) for p in self.periods}
        return self.periods[0] if len(spans) == 1 else None

    def value_for(self, bound: Bound, about: str = "") -> Quantity | None:
        """The operator's quantity the bound applies to: same unit, and a rate where the rule
        bounds a rate (「一人あたり1万円」 reads 「一人8,000円」, not the total 32,000円). Where
        the question gives no quantity of the bound's unit at all, its one bare amount said
        as money does (「12万の請求」 "a 12k invoice": the currency left out, meant). Of several,
        the one said in the sentence that shares most character pairs with ``about`` (the
        rule's condition: "worked for three years" over "the baby is due in nine weeks" for
        "worked for at least 26 weeks"); a duration in another unit than the bound's, or one of
        several, counts only where its sentence shares ``DURATION_SHARE`` of them ("I died 4
        years ago" says nothing of "up to 3 months of pension")."""
        same = [q for q in self.quantities if bound.quantity.comparable(q)]
        duration = bound.quantity.unit in DURATIONS
        if about and (len(same) > 1 or (duration and same and same[0].unit != bound.quantity.unit)):
            wanted = char_pairs(about)
            shared = {
                id(q): len(char_pairs(sentence_around(self.text, q.start, q.end)) & wanted)
                / max(len(wanted), 1)
                for q in same
            }
            if duration:
                # a duration is said about many things (a due date, how long ago): of several,
                # or one in another unit, only one said with the condition's words is its
                same = [q for q in same if shared[id(q)] >= DURATION_SHARE]
            same = sorted(same, key=lambda q: -shared[id(q)])
        if (
            not same
            and bound.quantity.unit in _BARE_CURRENCIES[language_of(self.text)]
            and not _CURRENCY_SAID.search(self.text)
        ):
            bare = [q for q in self.quantities if not q.unit and _AMOUNT_LIKE.search(q.text)]
            if len(bare) == 1 and money_words_near(self.text, bare[0].start, bare[0].end):
                same = [replace(bare[0], unit=bound.quantity.unit)]
        return next((q for q in same if q.per_unit == bound.quantity.per_unit), None) or next(
            iter(same), None
        )


# share of the condition's character pairs a duration's sentence needs (OR-ShARC tuning half:
# flat from 0.1 to 0.4)
DURATION_SHARE = 0.15


# the currency a bare amount is meant in: yen in a Japanese question, else the others
_BARE_CURRENCIES = {"ja": {"JPY"}, "en": {"USD", "EUR", "GBP"}}
# a bare number said as an amount: with a scale (12k, 12万, 3千) or thousands grouped (12,000),
# not a year (2024) or a small count; and money talked about next to it (請求, invoice, ...)
_AMOUNT_LIKE = re.compile(r"\d{1,3}(?:,\d{3})+|[0-9.]+\s?k\b|[万千億]", re.I)
# a currency named anywhere in the question: then a bare number is not read as the rule's
_CURRENCY_SAID = re.compile(
    r"[$¥￥€£円]|ドル|ユーロ|ポンド|\b(?:yen|jpy|usd|dollars?|euros?|eur|pounds?|gbp)\b", re.I
)


@dataclass
class Verdict:
    row: RuleRow
    holds: bool | None  # None: the comparison cannot be made from what the question says
    missing: str = ""  # unit of the fact the row needs and the question lacks (JPY, day, ...)
    reason: str = ""  # e.g. "8万円 > 5万円"


def _inside(q: Quantity, periods: list[Period]) -> bool:
    """The quantity is part of a date (「2004年1月1日」 holds no bound on days)."""
    return any(q.start < p.end and p.start < q.end for p in periods)


def bounds_of(condition: str) -> list[Bound]:
    """The comparisons a condition makes on quantities (quantities without a comparison word
    are ignored, and so are the numbers of a date)."""
    periods = parse_periods(condition)
    found = parse_bounds(condition)
    return [
        b for b in found if b.op != "==" and b.quantity.unit and not _inside(b.quantity, periods)
    ]


def _date_verdict(row: RuleRow, bounds: list[DateBound], case: Case) -> Verdict:
    """A condition on a date against the one time the operator names."""
    p = case.period()
    if p is None:
        return Verdict(row, None, missing="date" if not case.periods else "")
    results = [b.holds(p) for b in bounds]
    holds = False if False in results else (None if None in results else True)
    sign = {True: "✓", False: "✗", None: "?"}[holds]
    said = "; ".join(b.period.text for b in bounds)
    return Verdict(row, holds, reason=f"{p.text} / {said} {sign}")


def evaluate_row(row: RuleRow, case: Case) -> Verdict:
    bounds = bounds_of(row.condition)
    if bounds:
        reasons, results = [], []
        for b in bounds:
            value = case.value_for(b, row.condition)
            if value is None:
                return Verdict(row, None, missing=b.quantity.unit)
            ok = b.holds(value)
            results.append(ok)
            sign = {True: "✓", False: "✗", None: "?"}[ok]
            reasons.append(f"{value.text} / {b.describe(language_of(row.condition))} {sign}")
        holds = None if None in results else all(bool(r) for r in results)
        return Verdict(row, holds, reason="; ".join(reasons))
    dates = parse_date_bounds(row.condition)
    if dates:
        return _date_verdict(row, dates, case)
    days = day_classes(row.condition)
    if days:
        if not case.days:
            return Verdict(row, None, missing="day_kind")
        return Verdict(row, bool(days & case.days), reason=", ".join(sorted(days & case.days)))
    return Verdict(row, None)


def condition_holds(condition: str, case: Case) -> bool | None:
    """A condition of a text rule evaluated like a rule row's: true / false where its bounds
    on quantities or dates can be compared with what the operator said, else None."""
    return evaluate_row(RuleRow(condition=condition, outcome=""), case).holds


def language_of(text: str) -> str:
    """ "ja" when the text has any kana or kanji (a question, a rule row), else "en"."""
    return "ja" if re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text) else "en"


MISSING_QUESTION = {
    "ja": {
        "JPY": "金額はいくらですか？",
        "USD": "金額はいくらですか？",
        "EUR": "金額はいくらですか？",
        "day": "何日ですか？",
        "business_day": "何営業日ですか？",
        "hour": "何時間ですか？",
        "percent": "何パーセントですか？",
        "count": "件数はいくつですか？",
        "person": "何人ですか？",
        "month": "何か月ですか？",
        "year": "何年ですか？",
        "age": "何歳ですか？",
        "day_kind": "その日は土日・祝日ですか、営業日ですか？",
        "date": "それはいつですか？（日付）",
    },
    "en": {
        "JPY": "What is the amount?",
        "USD": "What is the amount?",
        "EUR": "What is the amount?",
        "day": "How many days?",
        "business_day": "How many business days?",
        "hour": "How many hours?",
        "percent": "What is the percentage?",
        "count": "How many items?",
        "person": "How many people?",
        "month": "How many months?",
        "year": "How many years?",
        "age": "How old are you?",
        "day_kind": "Is that day a weekend or holiday, or a business day?",
        "date": "When was that (the date)?",
    },
}


def missing_question(unit: str, lang: str) -> str:
    table = MISSING_QUESTION["ja" if lang == "ja" else "en"]
    return table.get(
        unit, "詳しい状況を教えてください。" if lang == "ja" else "Can you tell me more?"
    )


def text_verdicts(rule: TextRule, message: str) -> list[bool | None]:
    """Each condition of a text rule as the operator's message decides it: answered or
    restated (``text_rules.verdicts_of``), else compared, a bound on an amount, a duration, an
    age or a date against the case the operator states or supposes (not what they ask about:
    "Will I get up to £2,010?"). In a rule written in prose only the sentence the question is
    about is compared: its other sentences bound other things ("under 21 cannot join the
    garden" says nothing of "must have a provider")."""
    case = Case.of(case_of(message))
    asked = asked_about(rule, message)
    return [
        v if v is not None or (asked is not None and i != asked) else condition_holds(c, case)
        for i, (c, v) in enumerate(
            zip(rule.conditions, verdicts_of(rule.conditions, message), strict=True)
        )
    ]
