"""The policy harness's structured rows: validation, re-ask, scope by log-probabilities, and the
deterministic decision (most specific row first)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from eval import policy_rows as pr
from eval.policy import PROMPTS, load_eval_prompt, score
from eval.policy_tables import TIME_OFF
from pipeline.adapters.llm import Completion
from tests.conftest import FakeChat

ROWS = [
    {"employment_type": "regular full-time", "supplemental": False, "hire_date": "2000-05-01",
     "request_date": "2024-05-01", "years_of_service": 24},
    {"employment_type": "regular full-time", "supplemental": False, "hire_date": "2010-05-01",
     "request_date": "2024-05-01", "years_of_service": 14},
    {"employment_type": "part-time", "supplemental": False, "hire_date": "2020-05-01",
     "request_date": "2024-05-01", "years_of_service": 4},
]  # fmt: skip
CATS = pr.categories(TIME_OFF, ROWS)


def rows_of(*rows: tuple[str, float, list[tuple[str, str, Any]]]) -> pr.Rows:
    """(output, value, [(field, op, value), ...]) per row, as the model would answer."""
    return pr.Rows.model_validate(
        {
            "rows": [
                {
                    "output": o,
                    "value": v,
                    "when": [{"field": f, "op": op, "value": x} for f, op, x in w],
                }
                for o, v, w in rows
            ]
        }
    )


def test_values_are_read_in_the_fields_kind() -> None:
    assert pr.coerce("10 years", "int") == 10
    assert pr.coerce(48, "float") == 48
    assert pr.coerce("January 1, 2004", "date") == date(2004, 1, 1)
    assert pr.coerce("yes", "bool") is True
    assert pr.coerce("Regular", "str", CATS["employment_type"]) == "regular full time"
    with pytest.raises(ValueError, match="'regular full-time', 'part-time'"):
        pr.coerce("temporary", "str", CATS["employment_type"])
    with pytest.raises(ValueError, match="not a date"):
        pr.coerce("twenty years ago", "date")
    with pytest.raises(ValueError, match="not one number"):
        pr.coerce("between 5 and 10", "int")


def test_invalid_tests_are_reported_and_their_rows_dropped() -> None:
    answer = rows_of(
        ("vacation_weeks", 3, [("tenure", "<", 10)]),
        ("vacation_weeks", 4, [("employment_type", ">", "part-time")]),
        ("bonus", 1, []),
        ("vacation_weeks", 5, [("years_of_service", ">=", "20 years")]),
    )
    rules, errors = pr.check_rows(answer, TIME_OFF, CATS, "vacation")
    assert [r.value for r in rules] == [5.0]
    assert "unknown input field 'tenure'" in errors
    assert "employment_type is str: compare it with == or !=, not >" in errors
    assert "unknown output field 'bonus'" in errors


def test_the_most_specific_row_wins_and_out_of_scope_requests_get_nothing() -> None:
    answer = rows_of(
        ("vacation_weeks", 4, [("years_of_service", ">=", 10)]),
        ("vacation_weeks", 5, [("hire_date", "<", "2004-01-01"), ("years_of_service", ">=", 20)]),
        ("pst_hours", 48, []),
    )
    rules, errors = pr.check_rows(answer, TIME_OFF, CATS, "vacation")
    assert errors == []
    decider = pr.Decider(rules, {}, {"employment_type": {"part time"}}, tuple(TIME_OFF.outputs))
    assert [decider.decide(r)["vacation_weeks"] for r in ROWS] == [5.0, 4.0, 0.0]
    assert [decider.decide(r)["pst_hours"] for r in ROWS] == [48.0, 48.0, 0.0]


def test_at_equal_specificity_a_row_that_says_something_beats_the_default() -> None:
    answer = rows_of(
        ("fixed_holidays", 0, [("supplemental", "==", False)]),
        ("fixed_holidays", 8, [("years_of_service", ">", 1)]),
    )
    rules, _ = pr.check_rows(answer, TIME_OFF, CATS, "x")
    decider = pr.Decider(rules, {}, {}, tuple(TIME_OFF.outputs))
    assert decider.decide(ROWS[0])["fixed_holidays"] == 8.0


def test_a_refused_answer_is_sent_back_with_its_errors() -> None:
    bad = rows_of(("pst_hours", 48, [("employment_type", "==", "staff")])).model_dump_json()
    good = bad.replace("staff", "regular full-time")
    chat = FakeChat(["not json at all", bad, good])
    prompt = load_eval_prompt(PROMPTS / "policy_rows.md")
    rules, errors, raws = pr.compile_rule(
        chat, prompt, "PST is 48 hours", TIME_OFF, ROWS, CATS, "pst", retries=1
    )
    assert rules == []
    assert errors == ["employment_type: 'staff' is not one of 'regular full-time', 'part-time'"]
    assert len(raws) == 2 and "Fix these errors" in chat.calls[1][-1]["content"]
    chat = FakeChat([bad, good])
    rules, errors, _ = pr.compile_rule(chat, prompt, "PST", TIME_OFF, ROWS, CATS, "pst")
    assert errors == [] and rules[0].checks[0].value == "regular full time"
    assert "'staff' is not one of" in chat.calls[1][-1]["content"]
    schema = chat.schemas[0]
    assert schema is not None
    test_schema = schema["properties"]["rows"]["items"]["properties"]["when"]["items"]
    assert test_schema["properties"]["field"]["enum"] == list(TIME_OFF.inputs)


class LogprobChat(FakeChat):
    """Answers a scope question with log-probabilities: P(covered) per value."""

    def __init__(self, p_yes: dict[str, float]):
        super().__init__()
        self.p_yes = p_yes

    def complete(self, messages: Any, schema: Any = None, max_tokens: int = 2048,
                 top_logprobs: int = 0) -> Completion:  # fmt: skip
        self.calls.append(messages)
        last = messages[-1]["content"]
        yes = next((p for v, p in self.p_yes.items() if f"is '{v}'" in last), 0.5)
        alts = {"A": math.log(yes), "B": math.log(1 - yes)}
        return Completion(text="A" if yes > 0.5 else "B", top_logprobs=[alts])


def test_scope_is_chosen_by_log_probabilities() -> None:
    prompt = load_eval_prompt(PROMPTS / "policy_scope.md")
    chat = LogprobChat({"regular full-time": 0.9, "part-time": 0.2})
    scope, probs = pr.choose_scope(chat, prompt, "rules", CATS)
    assert scope == {"employment_type": {"part time"}}
    assert probs == {
        "employment_type=regular full-time": 0.9,
        "employment_type=part-time": 0.2,
        "employment_type=N/A": 0.5,  # the content-free value: the model's lean
    }
    decider = pr.Decider([], {}, scope, tuple(TIME_OFF.outputs))
    gold = [{"gold": dict.fromkeys(TIME_OFF.outputs, 0.0)} | r for r in ROWS]
    assert score(decider.decide, gold, tuple(TIME_OFF.outputs))[0] == 1.0


def test_section_titles_become_the_question_of_the_sentences_under_them() -> None:
    from eval.policy import is_heading, policy_transcript

    assert is_heading("Personal Sick Time (PST)") and is_heading("* Credit Score:")
    assert not is_heading("* Minimum credit score of 600.")
    assert not is_heading("Less than 10 years of service = 3 weeks per year")
    # numbered titles are titles too (they were read as sentences of the section before)
    assert is_heading("4. Schedule Premiums") and is_heading("2.2 Bonuses and Incentives")
    assert not is_heading("3. Pay is set per hour.")
    text = "Overtime\nStaff are paid 1.5 times the hourly rate. Managers are not paid overtime.\n"
    segs = policy_transcript(text).segments
    assert [(s.speaker, s.text) for s in segs] == [
        ("interviewer", "Overtime"),
        ("author", "Staff are paid 1.5 times the hourly rate."),
        ("author", "Managers are not paid overtime."),
    ]
    assert [s.speaker for s in policy_transcript(text, headings=False).segments] == ["author"] * 3


def test_a_model_that_leans_to_covered_still_separates_values_by_their_distance_to_the_best() -> (
    None
):
    prompt = load_eval_prompt(PROMPTS / "policy_scope.md")
    cats = {"country": ["US", "UK", "Canada"]}
    chat = LogprobChat({"US": 0.84, "UK": 0.51, "Canada": 0.7})
    scope, _ = pr.choose_scope(chat, prompt, "rules", cats)
    assert scope == {"country": {"uk"}}  # 0.51 < 0.84 - 0.2; 0.7 stays covered
    scope, _ = pr.choose_scope(LogprobChat({}), prompt, "rules", cats)
    assert scope == {}  # no preference: nothing is cut


# --------------------------------------------------------------------------- the "pick" design


class PickChat(FakeChat):
    """Answers the output question with log-probabilities over its letters: the letter of the
    output named in ``p_of`` for the rule's text, from a fixed lean for the content-free rule."""

    def __init__(self, p_of: dict[str, dict[str, float]], rows_answer: str = '{"rows": []}'):
        super().__init__(default=rows_answer)
        self.p_of = p_of

    def complete(self, messages: Any, schema: Any = None, max_tokens: int = 2048,
                 top_logprobs: int = 0) -> Completion:  # fmt: skip
        if not top_logprobs:
            return super().complete(messages, schema, max_tokens, top_logprobs)
        self.calls.append(messages)
        last = messages[-1]["content"]
        probs = next((p for key, p in self.p_of.items() if key in last), {"A": 1.0})
        return Completion(text="A", top_logprobs=[{k: math.log(v) for k, v in probs.items()}])


def test_numbers_a_rule_does_not_state_are_refused() -> None:
    text = "First Officers receive $10,000 after three years; the rate is 3.25 per hour."
    stated = pr.stated_numbers(text)
    assert {10000.0, 3.0, 3.25} <= stated and 4.0 not in stated
    answer = rows_of(
        ("pst_hours", 10000, [("years_of_service", ">=", 3)]),
        ("pst_hours", 12000, [("years_of_service", ">=", 3)]),
        ("pst_hours", 0, [("years_of_service", "<", 3)]),
        ("vacation_weeks", 3.25, [("years_of_service", ">=", 4)]),
    )
    rules, errors = pr.check_rows(answer, TIME_OFF, CATS, "x", stated)
    assert [r.value for r in rules] == [10000.0, 0.0]
    assert errors == [
        "pst_hours: 12000.0 is not a number the rule states",
        "years_of_service: 4.0 is not a number the rule states",
    ]
    assert len(pr.check_rows(answer, TIME_OFF, CATS, "x")[0]) == 4  # no check without stated
    dated = rows_of(
        ("pst_hours", 0, [("hire_date", "<", "January 1, 2004")]),
        ("pst_hours", 0, [("hire_date", "<", "2005-01-01")]),
    )
    rules, errors = pr.check_rows(dated, TIME_OFF, CATS, "x", pr.stated_numbers("before 2004"))
    assert len(rules) == 1 and errors == ["hire_date: 2005-01-01 is not a date the rule states"]


def test_the_outputs_a_rule_sets_are_picked_and_none_of_them_drops_it() -> None:
    outputs = ["vacation_weeks", "pst_hours"]
    assert pr.pick_outputs({"vacation_weeks": 0.6, "pst_hours": 0.1, pr.NONE: 0.3}, outputs) == [
        "vacation_weeks"
    ]
    assert pr.pick_outputs({"vacation_weeks": 0.4, "pst_hours": 0.3, pr.NONE: 0.3}, outputs) == [
        "vacation_weeks",
        "pst_hours",
    ]
    assert pr.pick_outputs({"vacation_weeks": 0.2, "pst_hours": 0.1, pr.NONE: 0.7}, outputs) == []
    assert pr.pick_outputs({}, outputs) == outputs
    labels, options = pr.output_options(outputs)
    assert labels == ["A", "B", "C"] and options.splitlines()[-1] == "C. none of them"


def test_the_pick_design_compiles_only_against_the_chosen_output() -> None:
    from eval.policy import compile_structured

    chat = PickChat(
        {
            "N/A": {"A": 0.5, "B": 0.3, "C": 0.2},  # the lean: vacation_weeks (A)
            "sick time": {"A": 0.3, "B": 0.6, "C": 0.1},
            "badge": {"A": 0.3, "B": 0.1, "C": 0.6},
        }
    )
    table = replace(TIME_OFF, outputs={"vacation_weeks": "number", "pst_hours": "number"})
    pieces = [("Employees get 48 hours of sick time.", "pst"), ("Wear a badge.", "badge")]
    _decider, det = compile_structured(chat, pieces, table, ROWS, "pick")
    assert [p["chosen"] for p in det["picks"]] == [["pst_hours"], []]
    rows_calls = [s for s in chat.schemas if s is not None]
    assert len(rows_calls) == 1  # the badge rule is never compiled
    assert rows_calls[0]["properties"]["rows"]["items"]["properties"]["output"]["enum"] == [
        "pst_hours"
    ]


def test_scope_read_from_the_rows_tests() -> None:
    answer = rows_of(
        ("pst_hours", 48, [("employment_type", "==", "regular full-time")]),
        ("vacation_weeks", 0, [("employment_type", "==", "regular full-time")]),
    )
    rules, _ = pr.check_rows(answer, TIME_OFF, CATS, "x")
    assert pr.scope_from_rows(rules, {}, CATS) == {"employment_type": {"part time"}}
    # a value only named by a row that gives nothing does not make the others out of scope
    assert pr.scope_from_rows(rules[1:], {}, CATS) == {}
    # named anywhere, even to give nothing, is in scope
    answer = rows_of(
        ("pst_hours", 48, [("employment_type", "==", "regular full-time")]),
        ("pst_hours", 0, [("employment_type", "==", "part-time")]),
    )
    rules, _ = pr.check_rows(answer, TIME_OFF, CATS, "x")
    assert pr.scope_from_rows(rules, {}, CATS) == {}


def test_compile_answers_are_cached_by_what_was_sent() -> None:
    from eval.policy import CachedChat

    class Memo:
        def __init__(self) -> None:
            self.d: dict[str, str] = {}

        def cache_get(self, key: str) -> str | None:
            return self.d.get(key)

        def cache_put(self, key: str, value: str) -> None:
            self.d[key] = value

    chat = FakeChat(["one", "two"])
    cached = CachedChat(chat, Memo())
    msgs = [{"role": "user", "content": "hi"}]
    assert cached.complete(msgs).text == "one"
    assert cached.complete(msgs).text == "one"  # from the cache
    assert cached.complete(msgs, max_tokens=5).text == "two"  # sent differently
    assert len(chat.calls) == 2


def test_the_pilot_pay_table_follows_the_policys_statements() -> None:
    from pathlib import Path

    from eval.policy_tables import PILOT_PAY, pilot_pay_decision

    rows = PILOT_PAY.rows(Path("/nonexistent"))
    assert len(rows) == 600 and rows == PILOT_PAY.rows(Path("/nonexistent"))  # seeded
    new_captain = {"rank": "Captain", "newly_hired": True, "assignment": "international",
                   "notice_hours": 48, "years_of_service": 0, "logged_hours": 100}  # fmt: skip
    assert pilot_pay_decision(new_captain) == {
        "signing_bonus": 20000.0,
        "per_diem_rate": 5.0,
        "short_notice_premium": 250.0,
        "sick_days": 10.0,
        "promotion_eligible": 0.0,
    }
    senior_fo = new_captain | {"rank": "First Officer", "newly_hired": False, "notice_hours": 49,
                               "years_of_service": 3, "logged_hours": 2000}  # fmt: skip
    got = pilot_pay_decision(senior_fo)
    assert (got["signing_bonus"], got["short_notice_premium"], got["promotion_eligible"]) == (
        0.0,
        0.0,
        1.0,
    )
    assert set(rows[0]) == set(PILOT_PAY.inputs) | {"gold"}


def test_a_tier_beats_the_wider_tier_it_narrows() -> None:
    answer = rows_of(
        ("vacation_weeks", 3, [("years_of_service", "<", 10)]),
        ("vacation_weeks", 4, [("years_of_service", ">=", 10)]),
        ("vacation_weeks", 5, [("years_of_service", ">=", 20)]),
        ("pst_hours", 20, [("employment_type", "!=", "regular full-time")]),
        ("pst_hours", 40, [("employment_type", "==", "part-time")]),
    )
    rules, _ = pr.check_rows(answer, TIME_OFF, CATS, "x")
    plain = pr.Decider(rules, {}, {}, tuple(TIME_OFF.outputs))
    narrow = pr.Decider(rules, {}, {}, tuple(TIME_OFF.outputs), narrowest=True)
    assert [plain.decide(r)["vacation_weeks"] for r in ROWS] == [4.0, 4.0, 3.0]  # earlier row
    assert [narrow.decide(r)["vacation_weeks"] for r in ROWS] == [5.0, 4.0, 3.0]
    assert plain.decide(ROWS[2])["pst_hours"] == 20.0
    assert narrow.decide(ROWS[2])["pst_hours"] == 40.0  # == part-time implies != regular
    assert pr.narrower(rules[2], rules[1]) and not pr.narrower(rules[1], rules[2])
    assert not pr.narrower(rules[0], rules[1])


def test_calibrated_scope_cuts_a_value_the_model_covers_less_than_a_content_free_one() -> None:
    prompt = load_eval_prompt(PROMPTS / "policy_scope.md")
    cats = {"country": ["US", "UK", "Canada"]}
    chat = LogprobChat({"US": 0.95, "UK": 0.7, "Canada": 0.85, "N/A": 0.8})
    _scope, probs = pr.choose_scope(chat, prompt, "rules", cats)
    assert pr.scope_calibrated(probs, cats) == {"country": {"uk"}}
    everything_low = {
        "country=US": 0.1,
        "country=UK": 0.1,
        "country=Canada": 0.1,
        "country=N/A": 0.9,
    }
    assert pr.scope_calibrated(everything_low, cats) == {}  # never cut every value
