"""policy_corpus decision tables as flat rows: input fields (typed), gold output fields.

The test table is the Acme time-off policy. The loan table is a tuning table: prompts and code
were tuned on it, never on the time-off policy. Its nested applicant record is flattened
(``applicant_credit_score``) and given the two fields the corpus's own decision model for the
policy names (``loan/basic_loan_approval.json``: ``age``, ``debt_to_income_ratio``), computed
from the record: age on 2025-03-08 (the youngest applicant the table treats as an adult was born
on 2007-03-08; any day up to 2026-03-06 gives the same ages), the ratio in percent of monthly
debt over monthly gross income.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

# input kinds: "str" (a categorical value), "bool", "int", "float", "date" (YYYY-MM-DD)
# output kinds: "number", "bool"


@dataclass
class Table:
    name: str
    policy: str  # path under policy_corpus
    path: str
    business_area: str
    inputs: dict[str, str]
    outputs: dict[str, str]
    load: Callable[[Path], list[dict[str, Any]]]
    dataset: str
    role: str  # "test" or "tuning"

    def rows(self, data_dir: Path) -> list[dict[str, Any]]:
        return self.load(data_dir / "policy_corpus" / self.path)


def _time_off(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            rows.append(
                {
                    "employment_type": r["employment_type"],
                    "supplemental": r["supplemental"] == "True",
                    "hire_date": r["hire_date"],
                    "request_date": r["request_date"],
                    "years_of_service": int(r["years_of_service"]),
                    "gold": {k: float(r[k]) for k in TIME_OFF.outputs},
                }
            )
    return rows


LOAN_DAY = date(2025, 3, 8)


def _age(birth: str, on: date = LOAN_DAY) -> int:
    b = date.fromisoformat(birth)
    return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


def _loan(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            a = json.loads(r["applicant"])
            gross = float(a.get("monthly_gross_income") or 0)
            rows.append(
                {
                    "age": _age(a["birth_date"]),
                    "country": str(a.get("address", {}).get("country", "")),
                    "credit_score": float(a["credit_score"]),
                    "annual_income": float(a["annual_income"]),
                    "income_document": str(a.get("income_document") or "none"),
                    "employment_status": str(a["employment_status"]),
                    "is_financial_record_present": bool(a.get("is_financial_record_present")),
                    "debt_to_income_ratio": round(
                        100 * float(a["monthly_debt_amount"]) / gross if gross else 100.0, 1
                    ),
                    "has_co_signer": bool(r["co_signer"].strip()),
                    "loan_amount": float(r["loan_amount"]),
                    "gold": {"eligibility": float(r["eligibility"] == "True")},
                }
            )
    return rows


CORPUS = "policy-corpus (DecisionsDev, github.com/DecisionsDev/policy-corpus@cb303b5)"
TIME_OFF = Table(
    name="time-off",
    policy="human-resources/acme_time_off.txt",
    path="human-resources/acme_time_off_decisions_1000.csv",
    business_area="time off",
    inputs={
        "employment_type": "str",
        "supplemental": "bool",
        "hire_date": "date",
        "request_date": "date",
        "years_of_service": "int",
    },
    outputs={
        "fixed_holidays": "number",
        "personal_choice_holidays": "number",
        "vacation_weeks": "number",
        "pst_hours": "number",
    },
    load=_time_off,
    dataset=f"{CORPUS}, human-resources/acme_time_off; synthetic policy and decision table; "
    "Apache-2.0",
    role="test",
)
LOAN = Table(
    name="loan",
    policy="loan/basic_loan_approval_us.txt",
    path="loan/loan_compliance/loan_policy_test_dataset_1K.csv",
    business_area="loan approval",
    inputs={
        "age": "int",
        "country": "str",
        "credit_score": "float",
        "annual_income": "float",
        "income_document": "str",
        "employment_status": "str",
        "is_financial_record_present": "bool",
        "debt_to_income_ratio": "float",
        "has_co_signer": "bool",
        "loan_amount": "float",
    },
    outputs={"eligibility": "bool"},
    load=_loan,
    dataset=f"{CORPUS}, loan/basic_loan_approval_us (tuning); synthetic; Apache-2.0",
    role="tuning",
)


# --------------------------------------------------------------------------- pilot pay (tuning)
# The corpus has no decision table for its pilot compensation policy; this one is generated here
# (seeded, so every run sees the same rows) and its gold decisions are what the policy text
# states, read by hand (``pilot_pay_decision``). It is a tuning table with what loan lacks:
# several outputs, number outputs set by categorical/bool/int inputs, a grant that applies to
# everyone, and a yes/no output with several conditions.
PILOT_RANKS = ("First Officer", "Captain")


def pilot_pay_decision(r: dict[str, Any]) -> dict[str, float]:
    """Section 2.2 (signing bonus: First Officers $10,000, Direct-Entry Captains $20,000, for
    newly hired pilots), 3 (per diem $3.25/hour domestic, $5.00 international), 4 (assignments
    within 48 hours of departure: $250 per leg), 5 (10 sick days for each pilot), 7 (First
    Officers may be promoted after three years and 2,000 logged hours). Section 4's holiday
    rate (1.5 times the regular rate) is left out: its "nothing applies" value is 1, not 0, and
    would sink every row of a design that defaults numbers to 0."""
    bonus = (10000.0 if r["rank"] == "First Officer" else 20000.0) if r["newly_hired"] else 0.0
    return {
        "signing_bonus": bonus,
        "per_diem_rate": 5.0 if r["assignment"] == "international" else 3.25,
        "short_notice_premium": 250.0 if r["notice_hours"] <= 48 else 0.0,
        "sick_days": 10.0,
        "promotion_eligible": float(
            r["rank"] == "First Officer"
            and r["years_of_service"] >= 3
            and r["logged_hours"] >= 2000
        ),
    }


def _pilot_pay(_path: Path, n: int = 600, seed: int = 7) -> list[dict[str, Any]]:
    import random

    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        new = rng.random() < 0.15
        years = 0 if new else rng.randint(1, 25)
        r: dict[str, Any] = {
            "rank": rng.choice(PILOT_RANKS),
            "newly_hired": new,
            "assignment": "international" if rng.random() < 0.3 else "domestic",
            "notice_hours": rng.choice([rng.randint(2, 48), rng.randint(49, 400)])
            if rng.random() < 0.4
            else rng.randint(49, 400),
            "years_of_service": years,
            "logged_hours": int(rng.uniform(0, 800)) if new else years * rng.randint(300, 900),
        }
        r["gold"] = pilot_pay_decision(r)
        rows.append(r)
    return rows


PILOT_PAY = Table(
    name="pilot-pay",
    policy="human-resources/compensation/aethersky-airways-pilot-compensation-policy.txt",
    path="human-resources/compensation/aethersky-airways-pilot-compensation-policy.txt",
    business_area="pilot compensation",
    inputs={
        "rank": "str",
        "newly_hired": "bool",
        "assignment": "str",
        "notice_hours": "int",
        "years_of_service": "int",
        "logged_hours": "int",
    },
    outputs={
        "signing_bonus": "number",
        "per_diem_rate": "number",
        "short_notice_premium": "number",
        "sick_days": "number",
        "promotion_eligible": "bool",
    },
    load=_pilot_pay,
    dataset=f"{CORPUS}, human-resources/compensation/aethersky-airways-pilot-compensation-policy "
    "(tuning); decision rows generated by eval.policy_tables (seeded), gold read from the text; "
    "Apache-2.0",
    role="tuning",
)
TABLES = {t.name: t for t in (TIME_OFF, LOAN, PILOT_PAY)}
