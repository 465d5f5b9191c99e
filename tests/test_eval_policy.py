"""The policy harness's structured rows: validation, re-ask, scope by log-probabilities, and the
deterministic decision (most specific row first)."""

from __future__ import annotations

import math
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
    assert probs == {"employment_type=regular full-time": 0.9, "employment_type=part-time": 0.2}
    decider = pr.Decider([], {}, scope, tuple(TIME_OFF.outputs))
    gold = [{"gold": dict.fromkeys(TIME_OFF.outputs, 0.0)} | r for r in ROWS]
    assert score(decider.decide, gold, tuple(TIME_OFF.outputs))[0] == 1.0


def test_section_titles_become_the_question_of_the_sentences_under_them() -> None:
    from eval.policy import is_heading, policy_transcript

    assert is_heading("Personal Sick Time (PST)") and is_heading("* Credit Score:")
    assert not is_heading("* Minimum credit score of 600.")
    assert not is_heading("Less than 10 years of service = 3 weeks per year")
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
