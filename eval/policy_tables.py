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
TABLES = {t.name: t for t in (TIME_OFF, LOAN)}
