"""Numbers with units, and the bounds a rule puts on them, in Japanese and English text.

A leaf module (no project imports): the assistant compares an operator's case with a rule row
(「5万円を超える場合」 vs 「8万円の出張経費」), retrieval normalises amounts on both sides, and the
transcript check can ask whether a heard number carries a plausible unit.

    >>> [(q.value, q.unit) for q in parse_quantities("五十万円以上、3営業日以内、$5,000")]
    [(500000.0, 'JPY'), (3.0, 'business_day'), (5000.0, 'USD')]
    >>> [(b.op, b.quantity.value) for b in parse_bounds("5万円を超える場合は部長の承認")]
    [('>', 50000.0)]

What is grammar here (numerals, unit words, comparison words) is the language's, not any
hearing's: nothing in this file was written to match one sample sentence.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

Op = Literal[">", ">=", "<", "<=", "=="]

_KANJI_DIGIT = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "壱": 1,
    "弐": 2,
    "参": 3,
    "両": 2,
}
_KANJI_SMALL = {"十": 10, "百": 100, "千": 1000}
_KANJI_LARGE = {"万": 10_000, "億": 100_000_000, "兆": 1_000_000_000_000}

# a number: arabic (with thousands separators / decimals) optionally followed by kanji
# multipliers (5万, 1,000万, 2.5億, 3千), or a kanji numeral (五十万, 千, 二千五百)
_ARABIC = r"\d+(?:,\d{3})*(?:\.\d+)?"
_KANJI_NUM = r"[〇零一二三四五六七八九十百千万億兆壱弐参]+"
_NUMBER = rf"(?:{_ARABIC}|{_KANJI_NUM})+"
# English number words up to ninety-nine (a closed class): "twenty years old", "three months"
_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
_TEENS = "fifteen sixteen seventeen eighteen nineteen"
_EN_ONES = {w: i for i, w in enumerate(f"{_ONES} {_TEENS}".split())}
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_EN_TENS = {w: 10 * i for i, w in enumerate(_TENS, 2)}
_EN_WORD_NUM = (
    rf"(?:{'|'.join(_EN_TENS)})(?:[-\s]+(?:{'|'.join(list(_EN_ONES)[1:10])}))?|"
    rf"{'|'.join(sorted(_EN_ONES, key=len, reverse=True))}"
)

# unit words after a number, longest first; value = canonical unit, optional multiplier
_UNITS_JA: list[tuple[str, str, float]] = [
    ("営業日", "business_day", 1),
    ("稼働日", "business_day", 1),
    ("ヶ月", "month", 1),
    ("か月", "month", 1),
    ("カ月", "month", 1),
    ("ケ月", "month", 1),
    ("箇月", "month", 1),
    ("ヵ月", "month", 1),
    ("時間", "hour", 1),
    ("分", "minute", 1),
    ("日間", "day", 1),
    ("日", "day", 1),
    ("週間", "week", 1),
    ("週", "week", 1),
    ("年間", "year", 1),
    ("年", "year", 1),
    ("歳", "age", 1),
    ("才", "age", 1),
    ("円", "JPY", 1),
    ("ドル", "USD", 1),
    ("ユーロ", "EUR", 1),
    ("パーセント", "percent", 1),
    ("％", "percent", 1),
    ("%", "percent", 1),
    ("割", "percent", 10),
    ("件", "count", 1),
    ("人", "person", 1),
    ("名", "person", 1),
    ("回", "times", 1),
    ("枚", "sheet", 1),
    ("台", "unit", 1),
    ("個", "unit", 1),
    ("社", "company", 1),
]
_UNITS_EN: list[tuple[str, str, float]] = [
    ("business days", "business_day", 1),
    ("business day", "business_day", 1),
    ("working days", "business_day", 1),
    ("working day", "business_day", 1),
    ("days", "day", 1),
    ("day", "day", 1),
    ("hours", "hour", 1),
    ("hour", "hour", 1),
    ("minutes", "minute", 1),
    ("weeks", "week", 1),
    ("week", "week", 1),
    ("months", "month", 1),
    ("month", "month", 1),
    ("years", "year", 1),
    ("year", "year", 1),
    ("dollars", "USD", 1),
    ("usd", "USD", 1),
    ("euros", "EUR", 1),
    ("eur", "EUR", 1),
    ("yen", "JPY", 1),
    ("jpy", "JPY", 1),
    ("percent", "percent", 1),
    ("%", "percent", 1),
    ("invoices", "count", 1),
    ("items", "count", 1),
    ("cases", "count", 1),
    ("people", "person", 1),
    ("employees", "person", 1),
    ("times", "times", 1),
]
_CURRENCY_PREFIX = {"$": "USD", "¥": "JPY", "￥": "JPY", "€": "EUR", "£": "GBP"}
_EN_SCALE = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "million": 1e6,
    "mn": 1e6,
    "billion": 1e9,
    "bn": 1e9,
}

_UNIT_ALT = "|".join(re.escape(u) for u, _, _ in _UNITS_JA)
_EN_UNIT_ALT = "|".join(re.escape(u) for u, _, _ in _UNITS_EN)
_QUANTITY = re.compile(
    rf"(?P<cur>[$¥￥€£])?\s?(?:(?P<num>{_NUMBER})|\b(?P<word>{_EN_WORD_NUM})\b)"
    rf"(?:\s?(?P<scale>k|m|mn|bn|thousand|million|billion)\b)?"
    rf"(?:[\s-]?(?P<unit>{_UNIT_ALT}|(?:{_EN_UNIT_ALT})\b))?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: str  # JPY, USD, day, business_day, hour, age, percent, count, ... or "" (bare)
    start: int
    end: int
    text: str
    per_unit: bool = False  # a rate: 「一人あたり1万円」「(一人)8,000円」, "$50 per person"

    def comparable(self, other: Quantity) -> bool:
        return (
            self.unit == other.unit
            or {self.unit, other.unit} == {"day", "business_day"}
            or {self.unit, other.unit} <= DURATIONS
        )

    def in_unit_of(self, other: Quantity) -> float:
        """This quantity's value in the other's unit where both are calendar durations
        (12 months read against "26 weeks" is about 52 weeks); else its value as it is."""
        if self.unit != other.unit and {self.unit, other.unit} <= DURATIONS:
            return self.value * _DAYS_IN[self.unit] / _DAYS_IN[other.unit]
        return self.value


# calendar durations in days, for comparing a duration said in one unit with a bound in another
_DAYS_IN = {"day": 1.0, "week": 7.0, "month": 365.25 / 12, "year": 365.25}
DURATIONS = frozenset(_DAYS_IN)


@dataclass(frozen=True)
class Bound:
    """A rule's bound on a quantity: ``value op quantity`` must hold (e.g. amount > 50,000 JPY)."""

    op: Op
    quantity: Quantity

    def holds(self, value: Quantity) -> bool | None:
        """Does the operator's quantity fall inside this bound? None: the two cannot be
        compared (different units that are not both calendar durations)."""
        if not self.quantity.comparable(value):
            return None
        a, b = value.in_unit_of(self.quantity), self.quantity.value
        if value.unit != self.quantity.unit:
            a = round(a, 1)  # 365 days is a year, 52 weeks twelve months
        return {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b, "==": a == b}[self.op]

    def describe(self, lang: str = "ja") -> str:
        words = _OP_WORDS_JA if lang == "ja" else _OP_WORDS_EN
        return (
            f"{self.quantity.text}{words[self.op]}"
            if lang == "ja"
            else (f"{words[self.op]} {self.quantity.text}")
        )


_OP_WORDS_JA: dict[str, str] = {">": "超", ">=": "以上", "<": "未満", "<=": "以下", "==": ""}
_OP_WORDS_EN: dict[str, str] = {
    ">": "over",
    ">=": "at least",
    "<": "under",
    "<=": "up to",
    "==": "exactly",
}

# comparison words: after the quantity in Japanese, mostly before it in English
AFTER_JA: list[tuple[str, Op]] = [
    ("以上", ">="),
    ("以下", "<="),
    ("未満", "<"),
    ("を超え", ">"),
    ("を超す", ">"),
    ("超え", ">"),
    ("超過", ">"),
    ("超", ">"),
    ("を上回", ">"),
    ("より多", ">"),
    ("より大き", ">"),
    ("を下回", "<"),
    ("より少な", "<"),
    ("より小さ", "<"),
    ("以内", "<="),
    ("まで", "<="),
    ("に満たな", "<"),
    ("から", ">="),
    ("以降", ">="),
    ("以前", "<="),
]
BEFORE_EN: list[tuple[str, Op]] = [
    ("more than", ">"),
    ("greater than", ">"),
    ("larger than", ">"),
    ("higher than", ">"),
    ("over", ">"),
    ("above", ">"),
    ("exceeding", ">"),
    ("exceeds", ">"),
    ("exceed", ">"),
    ("in excess of", ">"),
    ("under the age of", "<"),
    ("below the age of", "<"),
    ("over the age of", ">"),
    ("above the age of", ">"),
    ("older than", ">"),
    ("younger than", "<"),
    ("at least", ">="),
    ("no less than", ">="),
    ("not less than", ">="),
    ("minimum of", ">="),
    ("less than", "<"),
    ("fewer than", "<"),
    ("under", "<"),
    ("below", "<"),
    ("lower than", "<"),
    ("at most", "<="),
    ("up to", "<="),
    ("no more than", "<="),
    ("not more than", "<="),
    ("maximum of", "<="),
    ("within", "<="),
    ("exactly", "=="),
]
AFTER_EN: list[tuple[str, Op]] = [
    ("or more", ">="),
    ("or older", ">="),
    ("and older", ">="),
    ("or younger", "<="),
    ("and younger", "<="),
    ("or above", ">="),
    ("and above", ">="),
    ("or over", ">="),
    ("or less", "<="),
    ("or below", "<="),
    ("and below", "<="),
    ("or under", "<="),
]


def normalize(text: str) -> str:
    """Full-width digits and signs to ASCII (NFKC), keeping Japanese characters."""
    return unicodedata.normalize("NFKC", text)


def kanji_to_number(s: str) -> float | None:
    """五十万 -> 500000, 二千五百 -> 2500, 千 -> 1000, 1,000万 -> 10000000, 1万5千 -> 15000,
    2.5億 -> 2.5e8, 二〇二四 -> 2024. Arabic chunks act as digits inside kanji numerals."""
    parts = re.findall(r"\d+(?:\.\d+)?|.", s.replace(",", ""))
    if not parts:
        return None
    total, section = 0.0, 0.0
    digit: float | None = None
    for p in parts:
        if p[0].isdigit():
            digit = float(p) if digit is None else digit * 10 ** len(p) + float(p)
        elif p in _KANJI_DIGIT:
            digit = _KANJI_DIGIT[p] if digit is None else digit * 10 + _KANJI_DIGIT[p]
        elif p in _KANJI_SMALL:
            section += (digit if digit is not None else 1) * _KANJI_SMALL[p]
            digit = None
        elif p in _KANJI_LARGE:
            total += ((section + (digit or 0)) or 1) * _KANJI_LARGE[p]
            section, digit = 0.0, None
        else:
            return None
    return total + section + (digit or 0)


def _unit(word: str | None) -> tuple[str, float]:
    if not word:
        return "", 1.0
    low = word.lower()
    for u, canon, mult in _UNITS_JA + _UNITS_EN:
        if low == u:
            return canon, mult
    return "", 1.0


def parse_quantities(text: str) -> list[Quantity]:
    """Every number in the text with its unit (``""`` when none follows), in order.

    Offsets index into ``text`` (NFKC normalisation keeps the length of digits and signs;
    where it does not, e.g. ligatures, the offsets are those of the normalised text).
    """
    norm = normalize(text)
    out: list[Quantity] = []
    for m in _QUANTITY.finditer(norm):
        word = m.group("word")
        num = float(_word_number(word)) if word else kanji_to_number(m.group("num"))
        if num is None:
            continue
        # a lone kanji digit that is part of a word (一部, 一般, 三者) is not a quantity
        if (
            not word
            and re.fullmatch(_KANJI_NUM, m.group("num"))
            and not (m.group("unit") or m.group("cur"))
        ):
            continue
        if re.match(r"\s*(?:あたり|当たり|につき|ごと|毎)", norm[m.end() :]):
            continue  # 「一人あたり」「1件につき」: the denominator of a rate, not an amount
        unit, mult = _unit(m.group("unit"))
        if m.group("cur"):
            unit = _CURRENCY_PREFIX[m.group("cur")]
        if m.group("scale"):
            mult *= _EN_SCALE[m.group("scale").lower()]
        if unit == "year" and _money_context(norm, m.start(), m.end()):
            unit = "JPY"  # 「五十万年」: a mis-heard 円 where money is meant
        if unit == "age" and not _AGE_NUMBER.search(m.group("num") or ""):
            continue  # 「千歳」「万歳」: a place or a cheer, not an age
        if unit == "age" and m.group("unit") == "才" and not m.group("num")[-1:].isdigit():
            continue  # 「容積十才」: 才 is also a unit of volume; an age in 才 is written in digits
        if _an_age(norm, m.start(), m.end(), unit):
            unit = "age"
        elif word and not unit:
            continue  # "one of the following": a number word counts only with its unit
        per = bool(_PER_BEFORE.search(norm[max(0, m.start() - 8) : m.start()])) or bool(
            _PER_AFTER.match(norm[m.end() : m.end() + 16])
        )
        out.append(Quantity(num * mult, unit, m.start(), m.end(), m.group(0).strip(), per))
    return out


# an age is written with a digit (65歳, 二十歳), not with 千 / 万 / 百 alone (千歳, 万歳)
_AGE_NUMBER = re.compile(r"[0-9〇一二三四五六七八九十]")


def _word_number(word: str) -> int:
    """ "twenty-three" -> 23, "seven" -> 7."""
    parts = re.split(r"[-\s]+", word.lower())
    return sum(_EN_TENS.get(p, _EN_ONES.get(p, 0)) for p in parts)


# an age: "23 years old", "a 43-year-old man", "aged 60", "under the age of 18", "24 or
# older", "I'm 20" (grammar of ages, both sides of a rule); 「65歳」 is an age by its unit
_AGE_AFTER = re.compile(r"[\s-]*(?:old\b|of age\b)|\s*(?:or|and)\s+(?:older|younger)\b", re.I)
# words before a number that make it an age; "I'm 20" only where nothing but a pause follows
# ("I'm one of the directors" is no age)
_AGE_BEFORE = re.compile(r"\b(?:aged?|ages? of|older than|younger than)\s*$", re.I)
_SELF_BEFORE = re.compile(
    r"\b(?:i'?m|i am|(?:he|she|they|who) (?:is|are)|(?:he|she)'s)(?: (?:now|only|just))?\s*$",
    re.I,
)
_PAUSE_AFTER = re.compile(r"\s*(?:[.,;!?]|$|and\b|years?\b)", re.I)


def _an_age(text: str, start: int, end: int, unit: str) -> bool:
    """The number at text[start:end] (with its unit word, if any) is somebody's age."""
    if unit not in ("", "year"):
        return False
    before, after = text[:start], text[end : end + 20]
    if _AGE_AFTER.match(after) or _AGE_BEFORE.search(before):
        return True
    return not unit and bool(_SELF_BEFORE.search(before) and _PAUSE_AFTER.match(after))


# a rate's denominator just before or after the amount (grammar, not phrasings of a hearing)
_PER_BEFORE = re.compile(
    r"(?:(?:一|1|ひと)(?:人|名|件|回|台|枚|個|日|時間)(?:あたり|当たり|につき)?|あたり|当たり|につき|"
    r"\beach\b|\bper\b)\s*[(（]?\s*$",
    re.I,
)
_PER_AFTER = re.compile(
    r"\s*(?:per|a|each)\s+(?:person|head|item|invoice|employee|day|unit)\b", re.I
)
_MONEY_WORDS = re.compile(
    r"金額|円|費|代|支払|払|請求|精算|予算|価格|単価|税|給|手当|売上|経費|決裁|承認|"
    r"amount|pay|cost|price|invoice|expense|budget|fee"
)


def money_words_near(text: str, start: int, end: int, window: int = 20) -> bool:
    """Whether money is talked about within ``window`` characters of text[start:end], or in the
    same sentence ("a 12k delivery that hasn't been invoiced")."""
    if _MONEY_WORDS.search(text[max(0, start - window) : end + window]):
        return True
    return bool(_MONEY_WORDS.search(sentence_around(text, start, end)))


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence of ``text`` that holds text[start:end] (cut at full stops and marks)."""
    first = max(text.rfind(p, 0, start) for p in ".。!?！？") + 1
    ends = [i for i in (text.find(p, end) for p in ".。!?！？") if i >= 0]
    return text[first : min(ends, default=len(text))]


def _money_context(text: str, start: int, end: int) -> bool:
    """「五十万年」: no business talk counts years in ten-thousands, so 万年/億年 is a mis-heard
    万円; a plain large number of years (500000年) only next to money words."""
    num = text[start:end]
    if re.search(r"[万億兆]", num):
        return True
    if not re.search(r"\d{5,}", num.replace(",", "")):
        return False
    window = text[max(0, start - 20) : end + 20]
    return bool(_MONEY_WORDS.search(window))


def parse_bounds(text: str) -> list[Bound]:
    """The bounds a rule condition puts on quantities: 「5万円を超える」 -> amount > 50,000 JPY.

    A quantity with no comparison word becomes ``==`` only when nothing else is said about it;
    callers usually ignore those.
    """
    norm = normalize(text)
    low = norm.lower()
    out: list[Bound] = []
    for q in parse_quantities(norm):
        op: Op | None = None
        after = norm[q.end : q.end + 6]
        for word, o in AFTER_JA:
            if after.lstrip().startswith(word):
                op = o
                break
        if op is None:
            after_en = low[q.end : q.end + 14].lstrip()
            op = next((o for w, o in AFTER_EN if after_en.startswith(w)), None)
        if op is None:
            before = low[max(0, q.start - 18) : q.start].rstrip()
            op = next((o for w, o in BEFORE_EN if before.endswith(w)), None)
        out.append(Bound(op or "==", q))
    return out


# --------------------------------------------------------------------------- days of the week

_DAY_CLASSES: dict[str, frozenset[str]] = {
    "sat": frozenset({"土曜", "土", "saturday"}),
    "sun": frozenset({"日曜", "日", "sunday"}),
    "holiday": frozenset({"祝日", "祭日", "祝", "holiday", "public holiday", "bank holiday"}),
}
_DAY_WORDS = re.compile(
    r"土日祝日?|土日祝祭日|土日|休日|週末|祝祭日|祝日|祭日|土曜日?|日曜日?|"
    r"weekends?|holidays?|saturdays?|sundays?|non-business days?|non-working days?",
    re.IGNORECASE,
)


def day_classes(text: str) -> set[str]:
    """Which kinds of non-working day the text names: {"sat", "sun", "holiday"}."""
    out: set[str] = set()
    for m in _DAY_WORDS.finditer(normalize(text)):
        w = m.group(0).lower()
        if w.startswith(("土日", "休日", "週末", "weekend", "non-")):
            out |= {"sat", "sun"} | (
                {"holiday"} if "祝" in w or w.startswith(("休日", "non-")) else set()
            )
        if "祝" in w or "祭" in w or "holiday" in w:
            out.add("holiday")
        if w.startswith(("土曜", "saturday")):
            out.add("sat")
        if w.startswith(("日曜", "sunday")):
            out.add("sun")
    return out


# --------------------------------------------------------------------------- calendar dates

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ]
    )
    for m in names
}
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_PATTERNS: list[re.Pattern[str]] = [
    re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"),
    re.compile(
        rf"\b(?P<m>{_MONTH_ALT})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})", re.I
    ),
    re.compile(
        rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m>{_MONTH_ALT})\.?,?\s+(?P<y>\d{{4}})", re.I
    ),
]


def parse_date(text: str) -> date | None:
    """The first calendar date the text names: ``2004-01-01``, ``2004/1/1``, ``2004年1月1日``,
    ``January 1, 2004``, ``1 Jan 2004``. None when there is none (or it is not a real day)."""
    norm = normalize(text)
    found: list[tuple[int, date]] = []
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(norm):
            month = m.group("m")
            mon = int(month) if month.isdigit() else _MONTHS[month.lower()]
            try:
                found.append((m.start(), date(int(m.group("y")), mon, int(m.group("d")))))
            except ValueError:
                continue
    return min(found)[1] if found else None


def canonical(q: Quantity) -> str:
    """A unit-tagged token for indexing: 5万円 and 50,000円 and 五万円 all give ``50000JPY``."""
    v = int(q.value) if q.value == int(q.value) else q.value
    return f"{v}{q.unit}"


# ------------------------------------------------------------------- periods and date bounds


@dataclass(frozen=True)
class Period:
    """A time as said: a day, a month or a year ("in 1998" is the whole of 1998)."""

    first: date
    last: date
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class DateBound:
    """A rule's bound on a date: "before 6 April 2016", 「2004年1月1日以降」, "after 1998"."""

    op: Op
    period: Period

    def holds(self, p: Period) -> bool | None:
        """Does the operator's period fall inside the bound? None when it straddles the bound
        (a year named against a day inside that year)."""
        b = self.period
        if self.op == "<":
            return True if p.last < b.first else (False if p.first >= b.first else None)
        if self.op == "<=":
            return True if p.last <= b.last else (False if p.first > b.last else None)
        if self.op == ">":
            return True if p.first > b.last else (False if p.last <= b.last else None)
        if self.op == ">=":
            return True if p.first >= b.first else (False if p.last < b.first else None)
        return None


_YEAR = r"(?:19|20)\d\d"
_PERIOD_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("day", pattern) for pattern in _DATE_PATTERNS
] + [
    ("month", re.compile(rf"\b(?P<m>{_MONTH_ALT})\.?,?\s+(?:of\s+)?(?P<y>{_YEAR})\b", re.I)),
    ("month", re.compile(rf"(?P<y>{_YEAR})\s*年\s*(?P<m>\d{{1,2}})\s*月(?!\s*\d{{1,2}}\s*日)")),
    ("month", re.compile(rf"(?P<y>{_YEAR})[-/](?P<m>\d{{1,2}})(?![-/.]?\d)")),
    # a year alone: not an amount (£2010), not part of a longer number, not a count of years
    (
        "year",
        re.compile(
            rf"(?<![\d$¥￥€£.,/-])(?P<y>{_YEAR})(?![\d,.]?\d)(?!\s*(?:年\s*\d|年間|years?\b))"
        ),
    ),
]


def _month_days(y: int, m: int) -> tuple[date, date]:
    nxt = date(y + (m == 12), m % 12 + 1, 1)
    return date(y, m, 1), date.fromordinal(nxt.toordinal() - 1)


def parse_periods(text: str) -> list[Period]:
    """Every day, month or year the text names, in order, each span read once (the most
    precise reading wins: "6 April 2016" is a day, not a month and a year)."""
    norm = normalize(text)
    taken: list[tuple[int, int]] = []
    out: list[Period] = []
    for kind, pattern in _PERIOD_PATTERNS:
        for m in pattern.finditer(norm):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            y = int(m.group("y"))
            said = _QUANTITY.match(norm, m.start())
            unit = (said.group("unit") or "") if said else ""
            if kind == "year" and unit and not unit.startswith("年"):
                continue  # a count with a unit ("2000 hours"), not a year
            try:
                if kind == "year":
                    first, last = date(y, 1, 1), date(y, 12, 31)
                else:
                    month = m.group("m")
                    mon = int(month) if month.isdigit() else _MONTHS[month.lower()]
                    if kind == "month":
                        first, last = _month_days(y, mon)
                    else:
                        first = last = date(y, mon, int(m.group("d")))
            except ValueError:
                continue
            taken.append((m.start(), m.end()))
            out.append(Period(first, last, m.start(), m.end(), m.group(0)))
    return sorted(out, key=lambda p: p.start)


# comparison words of a date: before it in English, after it in Japanese
_DATE_BEFORE_EN: list[tuple[str, Op]] = [
    ("on or before", "<="),
    ("on or after", ">="),
    ("no later than", "<="),
    ("not later than", "<="),
    ("prior to", "<"),
    ("earlier than", "<"),
    ("later than", ">"),
    ("before", "<"),
    ("after", ">"),
    ("since", ">="),
    ("from", ">="),
    ("until", "<="),
    ("by", "<="),
]
_DATE_AFTER_JA: list[tuple[str, Op]] = [
    ("より前", "<"),
    ("以前", "<="),
    ("前に", "<"),
    ("前の", "<"),
    ("以降", ">="),
    ("以後", ">="),
    ("より後", ">"),
    ("後に", ">"),
    ("から", ">="),
    ("まで", "<="),
]


def parse_date_bounds(text: str) -> list[DateBound]:
    """The bounds a condition puts on a date: "born on or after 6 April 1953" -> >= that day;
    「2004年1月1日より前に入社」 -> < that day. A date with no comparison word is no bound."""
    norm = normalize(text)
    low = norm.lower()
    out: list[DateBound] = []
    for p in parse_periods(norm):
        after = norm[p.end : p.end + 4].lstrip()
        op = next((o for w, o in _DATE_AFTER_JA if after.startswith(w)), None)
        if op is None:
            before = re.sub(r"\s+", " ", low[max(0, p.start - 16) : p.start]).rstrip()
            before = re.sub(r"\s*\bthe$", "", before)
            op = next((o for w, o in _DATE_BEFORE_EN if re.search(rf"\b{w}$", before)), None)
        if op is not None:
            out.append(DateBound(op, p))
    return out
