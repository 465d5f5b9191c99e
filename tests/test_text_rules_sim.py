"""The gold-snippet harness decides as the assistant renders a text-only rule."""

from __future__ import annotations

from eval.text_rules_sim import decide


def test_the_harness_reads_answers_cases_and_lists() -> None:
    rule = "To qualify you must:\n* be 24 or older\n* live in Wales"
    assert decide(rule, "I am 30 years old. Do you live in Wales? Yes. Do I qualify?") == "yes"
    assert decide(rule, "I'm twenty years old. Do I qualify?") == "no"
    assert decide(rule, "Do I qualify?") == "follow_up"
