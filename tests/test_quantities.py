"""Numbers with units and the bounds rules put on them, Japanese and English."""

from __future__ import annotations

import pytest

from pipeline.conditions import Case, evaluate_row
from pipeline.models import RuleRow
from pipeline.quantities import (
    canonical,
    day_classes,
    kanji_to_number,
    parse_bounds,
    parse_date,
    parse_date_bounds,
    parse_periods,
    parse_quantities,
)


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("五十万円", 500_000, "JPY"),
        ("千円", 1_000, "JPY"),
        ("二千五百円", 2_500, "JPY"),
        ("1,000万円", 10_000_000, "JPY"),
        ("８万円", 80_000, "JPY"),
        ("1万5千円", 15_000, "JPY"),
        ("3営業日", 3, "business_day"),
        ("月45時間", 45, "hour"),
        ("$5,000", 5_000, "USD"),
        ("12k dollars", 12_000, "USD"),
        ("10%", 10, "percent"),
        ("五十万年以上は部長の決断", 500_000, "JPY"),  # a mis-heard 円: no one counts 万年
    ],
)
def test_quantities_parse_with_units(text: str, value: float, unit: str) -> None:
    (q, *_) = parse_quantities(text)
    assert (q.value, q.unit) == (value, unit)


def test_words_with_kanji_digits_are_not_numbers_and_calendar_years_stay_years() -> None:
    assert parse_quantities("一部の社員と一般の取引先") == []
    (q, *_) = parse_quantities("2024年4月から")
    assert (q.value, q.unit) == (2024, "year")
    assert kanji_to_number("二千五百") == 2500


@pytest.mark.parametrize(
    ("text", "op", "value"),
    [
        ("5万円を超える場合", ">", 50_000),
        ("一人あたり1万円以下", "<=", 10_000),
        ("10万円以上", ">=", 100_000),
        ("3営業日以内", "<=", 3),
        ("1万円未満", "<", 10_000),
        ("invoices over $5,000", ">", 5_000),
        ("at least 10%", ">=", 10),
        ("$20,000 or more", ">=", 20_000),
    ],
)
def test_bounds(text: str, op: str, value: float) -> None:
    (b,) = parse_bounds(text)
    assert (b.op, b.quantity.value) == (op, value)


def test_rows_are_evaluated_against_the_operators_case() -> None:
    over = RuleRow(condition="1件5万円を超える", outcome="部長の承認が必要")
    under = RuleRow(condition="1件5万円以下", outcome="所属長の承認のみ")
    case = Case.of("十二万円のモニター代は所属長のOKだけでいいですか？")
    assert evaluate_row(over, case).holds is True
    assert evaluate_row(under, case).holds is False
    assert evaluate_row(over, Case.of("32,000円の経費です")).holds is False
    missing = evaluate_row(over, Case.of("この経費は部長の承認が要りますか？"))
    assert missing.holds is None and missing.missing == "JPY"
    usd = RuleRow(condition="over $5,000", outcome="accrue")
    assert evaluate_row(usd, Case.of("Goods worth $7,800 were received")).holds is True


def test_an_amount_said_without_its_currency_is_read_in_the_rules_currency() -> None:
    usd = RuleRow(condition="over $5,000", outcome="accrue")
    yen = RuleRow(condition="1件5万円を超える", outcome="部長の承認が必要")
    assert evaluate_row(usd, Case.of("a 3k invoice from the courier")).holds is False
    assert evaluate_row(usd, Case.of("An invoice of 12,000 came in")).holds is True
    assert evaluate_row(yen, Case.of("12万の請求は誰が承認しますか")).holds is True
    # money talked about further on in the same sentence, not in the next one
    late = "There's a 12k delivery that hasn't been invoiced yet. Do we accrue it?"
    assert evaluate_row(usd, Case.of(late)).holds is True
    assert evaluate_row(usd, Case.of("We had 12k visitors this year. Any invoice?")).holds is None
    # not a year or a count of things, not two candidates, not where a currency is named, not
    # across the question's language
    for other in (
        "In 2024 we had 3 late invoices",
        "an order of 1,200 pieces",
        "a file with 6,000 rows",
        "one invoice for 3k and one for 9k",
        "a 6k invoice in yen",
        "a 30m delay on the invoice",
    ):
        assert evaluate_row(usd, Case.of(other)).holds is None, other
    assert evaluate_row(yen, Case.of("5万キロ走った社用車")).holds is None
    assert evaluate_row(yen, Case.of("a 12k invoice")).missing == "JPY"
    assert evaluate_row(usd, Case.of("12万の請求")).missing == "USD"


def test_days_of_the_week_fall_under_the_rules_kinds_of_day() -> None:
    row = RuleRow(condition="支払期日が土日祝日の場合", outcome="前営業日に支払う")
    assert evaluate_row(row, Case.of("支払期日が日曜日です")).holds is True
    assert day_classes("falls on a weekend") == {"sat", "sun"}
    assert evaluate_row(row, Case.of("支払期日はいつですか")).missing == "day_kind"


def test_canonical_tokens_make_spellings_of_one_amount_equal() -> None:
    tokens = {canonical(q) for t in ("5万円", "50,000円", "五万円") for q in parse_quantities(t)}
    assert tokens == {"50000JPY"}


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("Hired prior to January 1, 2004 with 20 or more years", "2004-01-01"),
        ("2004-01-01", "2004-01-01"),
        ("2024/4/1から", "2024-04-01"),
        ("２０２４年４月１日以降", "2024-04-01"),
        ("on 3rd Sept. 2021", "2021-09-03"),
        ("2004-02-30, then 2004-03-01", "2004-03-01"),  # not a real day: the next one
    ],
)
def test_calendar_dates_are_read_in_both_languages(text: str, iso: str) -> None:
    d = parse_date(text)
    assert d is not None and d.isoformat() == iso


def test_numbers_without_a_month_are_not_dates() -> None:
    assert parse_date("20 or more years of service") is None
    assert parse_date("2004年") is None


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("They passed away on June 9th, 2010.", "2010-06-09", "2010-06-09"),
        ("courses that began in September of 2017", "2017-09-01", "2017-09-30"),
        ("I acquired it in 1998", "1998-01-01", "1998-12-31"),
        ("2024年2月に入社しました", "2024-02-01", "2024-02-29"),
        ("2003年入社です", "2003-01-01", "2003-12-31"),
    ],
)
def test_a_time_is_read_as_the_period_it_names(text: str, first: str, last: str) -> None:
    (p,) = parse_periods(text)
    assert (p.first.isoformat(), p.last.isoformat()) == (first, last)


def test_counts_and_amounts_are_not_years() -> None:
    assert parse_periods("it took 2000 hours") == []
    assert parse_periods("up to £2,010 a year, or £2010") == []
    assert parse_periods("after 20 years of service") == []


@pytest.mark.parametrize(
    ("text", "op", "iso"),
    [
        ("born on or after 6 April 1953", ">=", "1953-04-06"),
        ("you owned it before April 1982", "<", "1982-04-01"),
        ("served after November 11, 1998", ">", "1998-11-11"),
        ("2004年1月1日より前に入社した人", "<", "2004-01-01"),
        ("2024年4月以降の申請", ">=", "2024-04-01"),
    ],
)
def test_date_bounds(text: str, op: str, iso: str) -> None:
    (b,) = parse_date_bounds(text)
    assert (b.op, b.period.first.isoformat()) == (op, iso)


def test_a_date_without_a_comparison_word_is_no_bound() -> None:
    assert parse_date_bounds("The scheme opened on 1 April 2019.") == []


def test_date_rows_are_evaluated_against_the_time_the_operator_names() -> None:
    row = RuleRow(condition="2004年1月1日より前に入社した人", outcome="5週間")
    assert evaluate_row(row, Case.of("2003年入社の人の休暇は？")).holds is True
    assert evaluate_row(row, Case.of("2004年4月に入社しました")).holds is False
    assert evaluate_row(row, Case.of("2004年入社です")).holds is False
    # a year that holds the bound's day straddles it: not decided by the comparison
    april = RuleRow(condition="2004年4月1日より前に入社した人", outcome="5週間")
    assert evaluate_row(april, Case.of("2004年入社です")).holds is None
    # no time named: the fact the row needs is asked for
    missing = evaluate_row(row, Case.of("休暇は何週間ですか？"))
    assert (missing.holds, missing.missing) == (None, "date")
    # two different times: which one the row is about is not known, and nothing is asked
    two = evaluate_row(row, Case.of("2001年に入社して2010年に異動しました"))
    assert (two.holds, two.missing) == (None, "")
    # the day of a date is no bound on a number of days
    since = RuleRow(condition="2024年4月1日以降", outcome="x")
    assert evaluate_row(since, Case.of("3日")).missing == "date"


def test_ages_durations_and_number_words() -> None:
    from pipeline.conditions import Case, condition_holds

    # an age is its own kind of quantity: "a 43 year old man" is no duration of 43 years
    ages = [(q.value, q.unit) for q in parse_quantities("I am a 43-year-old man, aged 60, 65歳")]
    assert ages == [(43.0, "age"), (60.0, "age"), (65.0, "age")]
    assert [(b.op, b.quantity.unit) for b in parse_bounds("under the age of 18")] == [("<", "age")]
    assert [(b.op, b.quantity.value) for b in parse_bounds("if 50 or older")] == [(">=", 50.0)]
    assert condition_holds("you must be 24 or older", Case.of("I'm twenty years old.")) is False
    assert condition_holds("満60歳以上の社員", Case.of("私は62歳です。")) is True
    # number words count only with a unit ("one of the following" is no quantity)
    assert parse_quantities("one of the following") == []
    assert [(q.value, q.unit) for q in parse_quantities("twenty-three days")] == [(23.0, "day")]
    # durations compare across calendar units, and the one said with the condition's words
    # is the condition's ("worked ... three years", not "due in nine weeks")
    case = Case.of("I have worked for the council for three years. My baby is due in nine weeks.")
    assert condition_holds("have worked for your employer for at least 26 weeks", case) is True
    assert condition_holds("the baby is due within 4 weeks", case) is False
    # a duration said about something else decides nothing
    assert (
        condition_holds("claim up to 3 months of pension", Case.of("I died 4 years ago.")) is None
    )


def test_durations_and_ages_at_their_edges() -> None:
    from pipeline.conditions import Case, condition_holds

    # one duration in the bound's own unit is compared however few words the two share
    assert (
        evaluate_row(RuleRow(condition="3日以内", outcome=""), Case.of("5日後に申請しました")).holds
        is False
    )
    assert condition_holds("勤続1年以上", Case.of("入社して2年です")) is True
    # a conversion at its boundary holds (365 days is a year, 90 days three months)
    assert condition_holds("worked for at least 1 year", Case.of("I worked here 365 days.")) is True
    case = Case.of("I have been employed for 90 days.")
    assert condition_holds("employed for at least 3 months", case) is True
    # what is not an age: "I'm one of ...", 千歳 (a place), 万歳 (a cheer)
    assert parse_quantities("I'm one of the directors") == []
    assert parse_quantities("新千歳空港") == [] and parse_quantities("万歳") == []
    # ages said with "years" around them
    said = [
        (q.value, q.unit) for q in parse_quantities("at least 18 years of age, 25 years or younger")
    ]
    assert said == [(18.0, "age"), (25.0, "age")]
    assert [(b.op, b.quantity.unit) for b in parse_bounds("older than 65")] == [(">", "age")]


def test_threshold_rows_in_different_calendar_units_are_ordered_by_length() -> None:
    from pipeline.rule_complement import _open_side

    rows = [
        RuleRow(condition="1か月を超える場合", outcome="部長承認"),
        RuleRow(condition="10日を超える場合", outcome="課長承認"),
    ]
    assert _open_side(rows) == 1  # the lowest threshold is 10 days, not "1" month
