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
    Bound,
    Quantity,
    day_classes,
    money_words_near,
    parse_bounds,
    parse_quantities,
)


@dataclass
class Case:
    """What the operator's question says about their situation."""

    text: str
    quantities: list[Quantity] = field(default_factory=list)
    days: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, question: str) -> Case:
        return cls(question, parse_quantities(question), day_classes(question))

    def value_for(self, bound: Bound) -> Quantity | None:
        """The operator's quantity the bound applies to: same unit, and a rate where the rule
        bounds a rate (「一人あたり1万円」 reads 「一人8,000円」, not the total 32,000円). Where
        the question gives no quantity of the bound's unit at all, its one bare amount said
        as money does (「12万の請求」 "a 12k invoice": the currency left out, meant)."""
        same = [q for q in self.quantities if bound.quantity.comparable(q)]
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


def bounds_of(condition: str) -> list[Bound]:
    """The comparisons a condition makes (quantities without a comparison word are ignored,
    unless the condition holds nothing else: 「1万円」 alone reads as a limit of 1万円)."""
    found = parse_bounds(condition)
    real = [b for b in found if b.op != "==" and b.quantity.unit]
    return real


def evaluate_row(row: RuleRow, case: Case) -> Verdict:
    bounds = bounds_of(row.condition)
    if bounds:
        reasons, results = [], []
        for b in bounds:
            value = case.value_for(b)
            if value is None:
                return Verdict(row, None, missing=b.quantity.unit)
            ok = b.holds(value)
            results.append(ok)
            sign = {True: "✓", False: "✗", None: "?"}[ok]
            reasons.append(f"{value.text} / {b.describe(language_of(row.condition))} {sign}")
        holds = None if None in results else all(bool(r) for r in results)
        return Verdict(row, holds, reason="; ".join(reasons))
    days = day_classes(row.condition)
    if days:
        if not case.days:
            return Verdict(row, None, missing="day_kind")
        return Verdict(row, bool(days & case.days), reason=", ".join(sorted(days & case.days)))
    return Verdict(row, None)


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
        "day_kind": "その日は土日・祝日ですか、営業日ですか？",
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
        "day_kind": "Is that day a weekend or holiday, or a business day?",
    },
}


def missing_question(unit: str, lang: str) -> str:
    table = MISSING_QUESTION["ja" if lang == "ja" else "en"]
    return table.get(
        unit, "詳しい状況を教えてください。" if lang == "ja" else "Can you tell me more?"
    )
