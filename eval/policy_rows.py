"""Structured rule rows for a decision table: the model chooses, the structure carries.

For each extracted rule (a judgment or exception), one constrained model call writes the rows
that rule states, each ``{output, value, when: [{field, op, value}]}``: set one output field to
a value when every test holds. The JSON schema restricts fields, outputs and comparators to the
table's own names; pydantic then checks each test against the field's kind (a number for a
number field, a date for a date field, one of the table's values for a categorical field) and
an invalid answer is sent back once with the errors (instructor's re-ask). Numbers and dates in
a test are read with ``pipeline.quantities`` ("10 years" -> 10, "January 1, 2004" -> a date).

Two more choices, each scored by log-probabilities (``pipeline.choose``):
- scope: for every value of a categorical input field, whether the rules cover a request with
  that value at all (a request outside the scope gets nothing: 0 or false); a value is out when
  its probability lies ``SCOPE_MARGIN`` below the field's best value;
- the default of a yes/no output (what holds when no row applies); a number defaults to 0.

Deciding a table row is deterministic: the rows of an output whose tests all hold; the most
specific one (most tests) wins; at equal specificity a row that says something other than the
default wins over one that repeats it, then the earlier row.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from eval.policy_tables import Table

Op = Literal["==", "!=", "<", "<=", ">", ">="]
MAX_CATEGORIES = 12  # a string field with more distinct values is not treated as categorical
# A value is out of scope when the model's "covered" probability for it lies this far below the
# best value of the same field. The 1.5B model leans to "covered" (A) for every value (loan:
# 0.50-0.84), so an absolute 0.5 never fires; tuned on the loan table only (0.732 -> 0.792 on
# the recorded answers of one run; margins 0.1 and 0.15 also cut 'part-time', which is covered).
SCOPE_MARGIN = 0.2


class Test(BaseModel):
    field: str
    op: Op
    value: str | float | bool


class Row(BaseModel):
    output: str
    value: float | bool
    when: list[Test] = Field(default_factory=list)


class Rows(BaseModel):
    rows: list[Row] = Field(default_factory=list)


@dataclass(frozen=True)
class Check:
    """A test made executable: the value coerced to the field's kind."""

    field: str
    op: str
    value: Any

    def holds(self, row: dict[str, Any]) -> bool:
        a = row[self.field]
        if isinstance(self.value, date):
            a = date.fromisoformat(str(a))
        elif isinstance(self.value, str):
            a = _norm(str(a))
        return bool(
            {
                "==": lambda: a == self.value,
                "!=": lambda: a != self.value,
                "<": lambda: a < self.value,
                "<=": lambda: a <= self.value,
                ">": lambda: a > self.value,
                ">=": lambda: a >= self.value,
            }[self.op]()
        )


@dataclass(frozen=True)
class Rule:
    output: str
    value: float
    checks: tuple[Check, ...]
    source: str  # the extracted rule it came from (its summary)


@dataclass
class Decider:
    rules: list[Rule] = field(default_factory=list)
    defaults: dict[str, float] = field(default_factory=dict)
    out_of_scope: dict[str, set[str]] = field(default_factory=dict)  # field -> values
    outputs: tuple[str, ...] = ()
    narrowest: bool = False  # drop a holding row that another holding row narrows

    def decide(self, row: dict[str, Any]) -> dict[str, float]:
        if any(_norm(str(row[f])) in vals for f, vals in self.out_of_scope.items()):
            return dict.fromkeys(self.outputs, 0.0)
        out = {}
        for name in self.outputs:
            default = self.defaults.get(name, 0.0)
            held = [
                (i, r)
                for i, r in enumerate(self.rules)
                if r.output == name and all(c.holds(row) for c in r.checks)
            ]
            if self.narrowest:
                # a row whose tests another holding row's tests imply ("10 years or more" beside
                # "20 years or more") is the general case the other one narrows
                held = [
                    (i, r) for i, r in held if not any(j != i and narrower(q, r) for j, q in held)
                ]
            hits = [(len(r.checks), r.value != default, -i, r.value) for i, r in held]
            out[name] = max(hits)[3] if hits else default
        return out


def _implies(a: Check, b: Check) -> bool:
    """Whenever test ``a`` holds, test ``b`` holds (same field)."""
    if a.field != b.field:
        return False
    if a.op == "==":
        try:
            return b.holds({b.field: a.value if not isinstance(a.value, date) else str(a.value)})
        except TypeError:
            return False
    if type(a.value) is not type(b.value) or isinstance(a.value, str | bool):
        return a == b
    x, y = a.value, b.value
    table = {
        (">=", ">="): x >= y,
        (">=", ">"): x > y,
        (">", ">"): x >= y,
        (">", ">="): x >= y,
        ("<=", "<="): x <= y,
        ("<=", "<"): x < y,
        ("<", "<"): x <= y,
        ("<", "<="): x <= y,
    }
    return bool(table.get((a.op, b.op), False))


def narrower(a: Rule, b: Rule) -> bool:
    """Rule ``a`` singles out a narrower group than ``b``: each of ``b``'s tests is implied by
    one of ``a``'s, and not the other way round."""

    def covers(x: Rule, y: Rule) -> bool:
        return all(any(_implies(c, d) for c in x.checks) for d in y.checks)

    return covers(a, b) and not covers(b, a)


# --------------------------------------------------------------------------- validation


def _norm(s: str) -> str:
    return re.sub(r"[\s_-]+", " ", s.strip().lower())


def categories(table: Table, rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The values of each categorical (string) input field, most frequent first."""
    out: dict[str, list[str]] = {}
    for name, kind in table.inputs.items():
        if kind != "str":
            continue
        counts: dict[str, int] = {}
        for r in rows:
            counts[str(r[name])] = counts.get(str(r[name]), 0) + 1
        if len(counts) <= MAX_CATEGORIES:
            out[name] = sorted(counts, key=lambda v: -counts[v])
    return out


def coerce(value: Any, kind: str, known: list[str] | None = None) -> Any:
    """A test's value in the field's kind; ValueError names what would be accepted."""
    from pipeline.quantities import parse_date, parse_quantities

    if kind == "bool":
        if isinstance(value, bool):
            return value
        low = str(value).strip().lower()
        if low in ("true", "yes", "1"):
            return True
        if low in ("false", "no", "0"):
            return False
        raise ValueError(f"{value!r} is not true or false")
    if kind in ("int", "float"):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        qs = parse_quantities(str(value))
        if len(qs) == 1:
            return qs[0].value
        raise ValueError(f"{value!r} is not one number")
    if kind == "date":
        d = parse_date(str(value))
        if d is None:
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")
        return d
    text = _norm(str(value))
    if known is None:
        return text
    norm = {_norm(k): k for k in known}
    if text in norm:
        return text
    # a shorter or longer spelling of exactly one of the values ("regular" for "regular full-time")
    near = [k for k in norm if re.search(rf"\b{re.escape(text)}\b", k) or k in text]
    if len(near) == 1:
        return near[0]
    raise ValueError(f"{value!r} is not one of {', '.join(repr(k) for k in known)}")


def check_rows(
    answer: Rows,
    table: Table,
    cats: dict[str, list[str]],
    source: str,
    stated: set[float] | None = None,
) -> tuple[list[Rule], list[str]]:
    """The answer's rows made executable; an invalid row is dropped and its error reported.
    ``stated``: the numbers the rule's text states; a number output's value and a number test's
    value must be one of them (0 too for a value: "no bonus"); a number the rule does not state
    is the model's invention; so is a date test whose year the rule does not state."""
    rules, errors = [], []
    for row in answer.rows:
        if row.output not in table.outputs:
            errors.append(f"unknown output field {row.output!r}")
            continue
        if (
            stated is not None
            and table.outputs[row.output] == "number"
            and not _stated(float(row.value), stated | {0.0})
        ):
            errors.append(f"{row.output}: {row.value} is not a number the rule states")
            continue
        checks, bad = [], False
        for t in row.when:
            kind = table.inputs.get(t.field)
            if kind is None:
                errors.append(f"unknown input field {t.field!r}")
                bad = True
                continue
            if kind in ("str", "bool") and t.op not in ("==", "!="):
                errors.append(f"{t.field} is {kind}: compare it with == or !=, not {t.op}")
                bad = True
                continue
            try:
                check = Check(t.field, t.op, coerce(t.value, kind, cats.get(t.field)))
            except ValueError as exc:
                errors.append(f"{t.field}: {exc}")
                bad = True
                continue
            if stated is not None and kind in ("int", "float") and not _stated(check.value, stated):
                errors.append(f"{t.field}: {check.value} is not a number the rule states")
                bad = True
                continue
            if stated is not None and kind == "date" and not _stated(check.value.year, stated):
                errors.append(f"{t.field}: {check.value} is not a date the rule states")
                bad = True
                continue
            checks.append(check)
        if not bad:
            rules.append(Rule(row.output, float(row.value), tuple(checks), source))
    return rules, errors


_NUMBER_WORDS = {
    w: float(i)
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
} | {"thirty": 30.0, "forty": 40.0, "fifty": 50.0, "hundred": 100.0, "twice": 2.0, "half": 0.5}


def stated_numbers(text: str) -> set[float]:
    """The numbers a rule's text states: digits with their units read by
    ``pipeline.quantities`` ("$10,000" -> 10000, "36%" -> 36) and English number words."""
    from pipeline.quantities import parse_quantities

    found = {q.value for q in parse_quantities(text)}
    found |= {v for w, v in _NUMBER_WORDS.items() if re.search(rf"\b{w}\b", text, re.I)}
    return found


def _stated(value: Any, stated: set[float]) -> bool:
    return isinstance(value, int | float) and any(abs(value - s) < 1e-6 for s in stated)


# --------------------------------------------------------------------------- model calls


def rows_schema(table: Table) -> dict[str, Any]:
    scalar = {"anyOf": [{"type": "number"}, {"type": "boolean"}, {"type": "string"}]}
    test = {
        "type": "object",
        "properties": {
            "field": {"enum": list(table.inputs)},
            "op": {"enum": ["==", "!=", "<", "<=", ">", ">="]},
            "value": scalar,
        },
        "required": ["field", "op", "value"],
    }
    row = {
        "type": "object",
        "properties": {
            "output": {"enum": list(table.outputs)},
            "value": {"anyOf": [{"type": "number"}, {"type": "boolean"}]},
            "when": {"type": "array", "items": test},
        },
        "required": ["output", "value", "when"],
    }
    return {
        "title": "Rows",
        "type": "object",
        "properties": {"rows": {"type": "array", "items": row}},
        "required": ["rows"],
    }


def describe_inputs(table: Table, rows: list[dict[str, Any]], cats: dict[str, list[str]]) -> str:
    hint = {
        "int": "a whole number",
        "float": "a number",
        "bool": "true or false",
        "date": "a date YYYY-MM-DD",
    }
    out = []
    for name, kind in table.inputs.items():
        if name in cats:
            out.append(f"- {name}: one of " + ", ".join(repr(v) for v in cats[name]))
        elif kind == "str":
            examples = sorted({str(r[name]) for r in rows[:50]})[:4]
            out.append(f"- {name}: text, e.g. " + ", ".join(repr(v) for v in examples))
        else:
            out.append(f"- {name}: {hint[kind]}")
    return "\n".join(out)


def describe_outputs(table: Table) -> str:
    return "\n".join(
        f"- {name}: {'true or false' if kind == 'bool' else 'a number'}"
        for name, kind in table.outputs.items()
    )


def _parse(text: str) -> Rows:
    s = text.strip()
    start, end = s.find("{"), s.rfind("}")
    if start < 0:
        raise ValueError("no JSON object in the answer")
    data = json.loads(s[start : end + 1])
    if not isinstance(data, dict) or "rows" not in data:
        raise ValueError('the answer has no "rows"')
    return Rows.model_validate(data)


def compile_rule(
    llm: Any,
    prompt: Any,
    rule: str,
    table: Table,
    rows: list[dict[str, Any]],
    cats: dict[str, list[str]],
    source: str,
    retries: int = 1,
    stated: set[float] | None = None,
) -> tuple[list[Rule], list[str], list[str]]:
    """One extracted rule -> its rows. Returns (rules, errors left, raw answers). ``stated``:
    the numbers the rule states (values not among them are refused, see ``check_rows``)."""
    messages = prompt.render(
        rule=rule,
        inputs=describe_inputs(table, rows, cats),
        outputs=describe_outputs(table),
    )
    raws: list[str] = []
    rules: list[Rule] = []
    errors: list[str] = []
    for _attempt in range(retries + 1):
        out = llm.complete(messages, schema=rows_schema(table), max_tokens=400)
        raws.append(out.text)
        try:
            answer = _parse(out.text)
        except (ValueError, ValidationError) as exc:
            errors = [f"unparseable: {str(exc)[:200]}"]
        else:
            rules, errors = check_rows(answer, table, cats, source, stated)
            if not errors:
                break
        messages = [
            *messages,
            {"role": "assistant", "content": out.text},
            {
                "role": "user",
                "content": "Fix these errors and answer again with the whole JSON:\n- "
                + "\n- ".join(errors),
            },
        ]
    return rules, errors, raws


def choose_scope(
    llm: Any, prompt: Any, rules: str, cats: dict[str, list[str]]
) -> tuple[dict[str, set[str]], dict[str, float]]:
    """For each categorical value: do the rules cover it? (A yes, B no, by log-probability).
    The probabilities returned also hold each field's content-free value (``name=N/A``), the
    model's lean whatever the value (``scope_calibrated``)."""
    from pipeline.choose import CONTENT_FREE, choose

    out: dict[str, set[str]] = {}
    probs: dict[str, float] = {}
    for name, values in cats.items():
        p_of = {}
        for v in [*values, CONTENT_FREE]:
            messages = prompt.render(rules=rules, field=name, value=v)
            c = choose(llm, messages, ["A", "B"])
            p_of[v] = c.p("A") if c.probs else 1.0
            probs[f"{name}={v}"] = round(p_of[v], 3)
        p_of.pop(CONTENT_FREE)
        best = max(p_of.values(), default=1.0)
        out.update({name: {_norm(v) for v, p in p_of.items() if p < best - SCOPE_MARGIN}})
    return {k: v for k, v in out.items() if v}, probs


def scope_calibrated(probs: dict[str, float], cats: dict[str, list[str]]) -> dict[str, set[str]]:
    """Out of scope: a value whose "covered" odds are lower than the content-free value's (the
    model's lean: the same question asked of "N/A")."""
    from pipeline.choose import CONTENT_FREE, calibrated

    out: dict[str, set[str]] = {}
    for name, values in cats.items():
        lean = probs.get(f"{name}={CONTENT_FREE}")
        if lean is None:
            continue
        prior = {"A": lean, "B": 1 - lean}
        cut = set()
        for v in values:
            p = probs.get(f"{name}={v}", 1.0)
            if calibrated({"A": p, "B": 1 - p}, prior)["A"] < 0.5:
                cut.add(_norm(v))
        if cut and len(cut) < len(values):
            out[name] = cut
    return out


def choose_defaults(llm: Any, prompt: Any, rules: str, table: Table) -> dict[str, float]:
    """A yes/no output's value when none of its rows applies (A true, B false)."""
    from pipeline.choose import choose

    out = {}
    for name, kind in table.outputs.items():
        if kind != "bool":
            out[name] = 0.0
            continue
        c = choose(llm, prompt.render(rules=rules, output=name), ["A", "B"])
        out[name] = 1.0 if c.label == "A" else 0.0
    return out


# --------------------------------------------------------------------------- the "pick" design

NONE = "none of them"
# An output is picked for a rule when its calibrated probability is at least this share of the
# best option's (and the best is not "none of them").
PICK_SHARE = 0.5


def output_options(outputs: list[str]) -> tuple[list[str], str]:
    """The lettered options of the output question: every output field, then "none of them"."""
    from pipeline.choose import LETTERS

    names = [*outputs, NONE]
    labels = list(LETTERS[: len(names)])
    text = "\n".join(f"{lab}. {n.replace('_', ' ')}" for lab, n in zip(labels, names, strict=True))
    return labels, text


def output_probs(llm: Any, prompt: Any, rule: str, outputs: list[str]) -> dict[str, float]:
    """P(the rule sets this output) for each output and for "none of them", by log-probability."""
    from pipeline.choose import choose

    labels, options = output_options(outputs)
    c = choose(llm, prompt.render(rule=rule, options=options), labels)
    names = [*outputs, NONE]
    return {n: c.p(lab) for lab, n in zip(labels, names, strict=True)} if c.probs else {}


def pick_outputs(
    probs: dict[str, float], outputs: list[str], share: float = PICK_SHARE
) -> list[str]:
    """The outputs a rule sets: none when "none of them" is the most probable option; else the
    best output and any other within ``share`` of it. No probabilities: every output."""
    if not probs:
        return list(outputs)
    best = max(probs, key=lambda k: probs[k])
    if best == NONE:
        return []
    return [k for k, p in probs.items() if k != NONE and p >= share * probs[best]]


def scope_from_rows(
    rules: list[Rule], defaults: dict[str, float], cats: dict[str, list[str]]
) -> dict[str, set[str]]:
    """Scope read from the rules' own tests: where rows grant something (a non-zero value that is
    not the output's default) to values of a categorical field named with ==, a value of that
    field that no row names at all is out of scope."""
    out: dict[str, set[str]] = {}
    for name, values in cats.items():
        named = {c.value for r in rules for c in r.checks if c.field == name}
        granted = any(
            c.field == name and c.op == "=="
            for r in rules
            if r.value and r.value != defaults.get(r.output, 0.0)
            for c in r.checks
        )
        cut = {_norm(v) for v in values if _norm(v) not in named}
        if granted and cut:
            out[name] = cut
    return out
