"""policy_corpus: extract judgment rules from a policy text, apply them to its decision table.

Data: ``<data>/policy_corpus`` (DecisionsDev policy-corpus, Apache-2.0). We start with the
Acme time-off policy (``human-resources/acme_time_off.txt``) and its 1,000-row decision table
(``acme_time_off_decisions_1000.csv``: request fields -> fixed holidays, personal choice holidays,
vacation weeks, sick-time hours).

Method (two model steps, both cheap enough for eval-quick):
1. ``pipeline.extract.extract`` on the policy text as a Transcript (one segment per sentence),
   exactly as for a hearing. Judgments (condition -> outcome, decider) and exceptions
   (trigger -> handling) are the extracted rules.
2. One call with ``eval/prompts/policy_rules.md`` turns *only those extracted rules*, rendered
   as the assistant sees them (``pipeline.models.element_text``: summary, conditions, quote),
   never the whole policy text, into executable cases: per output field, an ordered list of
   ``{"if": <Python boolean expression over the input fields>, "then": <number>}`` plus a
   default. The expressions run in a restricted evaluator (comparisons, boolean logic,
   arithmetic, the row's fields: no calls, no attributes), over every row.

Decision accuracy: a row is correct when every output field equals the gold value (within
0.01). Per-field accuracy is reported too. Baselines in the same run: the majority decision of
the evaluated rows, and (full mode) the same compile step fed the whole policy text instead of
the extracted rules, which separates extraction losses from compilation losses.
"""

from __future__ import annotations

import ast
import csv
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.common import REPO, EvalContext, Metric, Section

DATASET = (
    "policy-corpus (DecisionsDev, github.com/DecisionsDev/policy-corpus@cb303b5), "
    "human-resources/acme_time_off; synthetic policy and decision table; Apache-2.0"
)
POLICY = "human-resources/acme_time_off.txt"
TABLE = "human-resources/acme_time_off_decisions_1000.csv"
INPUTS = {
    "employment_type": "str",
    "supplemental": "bool",
    "hire_date": "date",
    "request_date": "date",
    "years_of_service": "int",
}
OUTPUTS = ("fixed_holidays", "personal_choice_holidays", "vacation_weeks", "pst_hours")
SMOKE_ROWS = 20
PROMPT_PATH = REPO / "eval" / "prompts" / "policy_rules.md"

CASE_SCHEMA = {
    "type": "object",
    "properties": {"if": {"type": "string"}, "then": {"type": "number"}},
    "required": ["if", "then"],
}
OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "outputs": {
            "type": "object",
            "properties": {
                name: {
                    "type": "object",
                    "properties": {
                        "cases": {"type": "array", "items": CASE_SCHEMA},
                        "default": {"type": "number"},
                    },
                    "required": ["cases", "default"],
                }
                for name in OUTPUTS
            },
            "required": list(OUTPUTS),
        }
    },
    "required": ["outputs"],
}


# --------------------------------------------------------------------------- prompt


def load_eval_prompt(path: Path = PROMPT_PATH) -> Any:
    """Load an eval prompt file in the format of ``prompts/`` (header, ### sections)."""
    from pipeline.prompts import _SECTION, Prompt

    raw = path.read_text(encoding="utf-8")
    m = re.match(r"^---\n(.*?)\n---\n", raw, re.DOTALL)
    if not m:
        raise ValueError(f"{path} has no '---' header")
    header = dict(line.split(":", 1) for line in m.group(1).splitlines() if ":" in line)
    parts = _SECTION.split(raw[m.end() :])
    messages = tuple((parts[i], parts[i + 1]) for i in range(1, len(parts) - 1, 2))
    return Prompt(header["name"].strip(), header["version"].strip(), messages)


# --------------------------------------------------------------------------- data


def load_rows(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / "policy_corpus" / TABLE
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
                    "gold": {k: float(r[k]) for k in OUTPUTS},
                }
            )
    return rows


def policy_transcript(text: str, doc_id: str = "policy") -> Any:
    """One segment per sentence (lines split at sentence ends)."""
    from pipeline.models import Language, Segment, Transcript

    sentences: list[str] = []
    for line in text.splitlines():
        line = line.strip().lstrip("*").strip()
        if line:
            sentences += [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", line) if s.strip()]
    segs = [
        Segment(id=f"s{i + 1:04d}", start=i * 5.0, end=i * 5.0 + 4.5, text=s, speaker="author")
        for i, s in enumerate(sentences)
    ]
    return Transcript(
        interview_id=doc_id, language=Language.EN, segments=segs, duration=len(segs) * 5.0
    )


def rules_text(elements: list[Any]) -> str:
    """The extracted rules as the compile step sees them: judgments and exceptions only,
    rendered as the assistant sees them (``element_text``: summary, conditions, quote)."""
    from pipeline.models import Exception_, Judgment, element_text

    return "\n\n".join(element_text(el) for el in elements if isinstance(el, Judgment | Exception_))


def field_descriptions(rows: list[dict[str, Any]]) -> str:
    out = []
    for name, kind in INPUTS.items():
        examples = sorted({repr(r[name]) for r in rows[:200]})[:5]
        out.append(f"- {name} ({kind}), e.g. {', '.join(examples)}")
    return "\n".join(out)


# --------------------------------------------------------------------------- execution

_ALLOWED = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Is,
    ast.IsNot,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Tuple,
    ast.List,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.IfExp,
)


def compile_condition(expr: str) -> Any:
    """Compile a model-written condition; only comparisons/logic over the row's fields."""
    tree = ast.parse(expr.strip() or "False", mode="eval")
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ValueError(f"not allowed in a condition: {type(node).__name__}")
        if (
            isinstance(node, ast.Name)
            and node.id not in INPUTS
            and node.id not in ("True", "False")
        ):
            raise ValueError(f"unknown field {node.id!r}")
    return compile(tree, "<condition>", "eval")


@dataclass
class RuleSet:
    cases: dict[str, list[tuple[Any, float, str]]] = field(default_factory=dict)
    defaults: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def decide(self, row: dict[str, Any]) -> dict[str, float]:
        env = {k: row[k] for k in INPUTS}
        out = {}
        for name in OUTPUTS:
            value = self.defaults.get(name, 0.0)
            for code, then, _src in self.cases.get(name, []):
                try:
                    hit = eval(code, {"__builtins__": {}}, env)
                except Exception:
                    continue
                if hit:
                    value = then
                    break
            out[name] = value
        return out


def parse_ruleset(text: str) -> RuleSet:
    s = text.strip()
    start, end = s.find("{"), s.rfind("}")
    data = json.loads(s[start : end + 1]) if start >= 0 else {}
    outputs = data.get("outputs", {}) if isinstance(data, dict) else {}
    rs = RuleSet()
    for name in OUTPUTS:
        spec = outputs.get(name) or {}
        rs.defaults[name] = float(spec.get("default", 0) or 0)
        rs.cases[name] = []
        for case in spec.get("cases", []) or []:
            src = str(case.get("if", ""))
            try:
                rs.cases[name].append((compile_condition(src), float(case.get("then", 0)), src))
            except (SyntaxError, ValueError, TypeError) as exc:
                rs.errors.append(f"{name}: {src!r}: {exc}")
    return rs


def compile_rules(llm: Any, rules: str, rows: list[dict[str, Any]]) -> tuple[RuleSet, str]:
    prompt = load_eval_prompt()
    messages = prompt.render(
        rules=rules or "(no rules were extracted)",
        inputs=field_descriptions(rows),
        outputs="\n".join(f"- {o}" for o in OUTPUTS),
    )
    out = llm.complete(messages, schema=OUTPUT_SCHEMA, max_tokens=800)
    try:
        return parse_ruleset(out.text), out.text
    except (ValueError, json.JSONDecodeError) as exc:
        rs = RuleSet(defaults=dict.fromkeys(OUTPUTS, 0.0), errors=[f"unparseable: {exc}"])
        return rs, out.text


def score(decide: Any, rows: list[dict[str, Any]]) -> tuple[float, dict[str, float]]:
    correct, per = 0, Counter[str]()
    for r in rows:
        pred = decide(r)
        ok = {k: abs(pred[k] - r["gold"][k]) < 0.01 for k in OUTPUTS}
        per.update(k for k, v in ok.items() if v)
        correct += all(ok.values())
    n = len(rows) or 1
    return correct / n, {k: per[k] / n for k in OUTPUTS}


def majority(rows: list[dict[str, Any]]) -> Any:
    top = Counter(tuple(r["gold"][k] for k in OUTPUTS) for r in rows).most_common(1)[0][0]
    decision = dict(zip(OUTPUTS, top, strict=True))
    return lambda _row: decision


# --------------------------------------------------------------------------- run


def _llm(ctx: EvalContext) -> Any:
    if "llm" in ctx.options:
        return ctx.options["llm"]
    from pipeline.adapters.llm import chat_model
    from pipeline.settings import load_settings

    ctx.options["llm"] = chat_model(load_settings(ctx.work_dir / "workspace"))
    return ctx.options["llm"]


def run(ctx: EvalContext) -> Section:
    from pipeline.extract import extract

    text = (ctx.data_dir / "policy_corpus" / POLICY).read_text(encoding="utf-8")
    rows = load_rows(ctx.data_dir)
    if ctx.smoke:
        rows = rows[:SMOKE_ROWS]
    llm = _llm(ctx)
    t0 = time.perf_counter()
    from eval.pet import ensure_interview

    ensure_interview(ctx.options.get("store"), "policy", "policy_corpus time off")
    result = extract(
        policy_transcript(text), llm, store=ctx.options.get("store"), business_area="time off"
    )
    elements = list(result.elements)
    t_extract = time.perf_counter() - t0
    rules = rules_text(elements)
    t0 = time.perf_counter()
    ruleset, raw = compile_rules(llm, rules, rows)
    t_compile = time.perf_counter() - t0
    acc, per_field = score(ruleset.decide, rows)
    base_acc, base_fields = score(majority(rows), rows)
    design = getattr(result, "design", "?")
    metrics = [
        Metric(
            "time-off decision accuracy (all 4 outputs)",
            round(acc, 3),
            round(base_acc, 3),
            "majority decision (same run)",
            n=len(rows),
        ),
    ]
    metrics += [
        Metric(
            f"  {k} accuracy",
            round(per_field[k], 3),
            round(base_fields[k], 3),
            "majority decision (same run)",
            n=len(rows),
        )
        for k in OUTPUTS
    ]
    details: dict[str, Any] = {
        "extracted": {
            k: sum(1 for e in elements if e.kind == k)
            for k in ("task", "judgment", "exception", "finding")
        },
        "rules": rules,
        "compiled": {k: [(src, then) for _c, then, src in v] for k, v in ruleset.cases.items()},
        "defaults": ruleset.defaults,
        "compile_errors": ruleset.errors,
        "raw_compile_answer": raw[:4000],
        "seconds": {"extract": round(t_extract, 1), "compile": round(t_compile, 1)},
    }
    notes = [
        "Rules are compiled from the extracted judgments/exceptions only (as the assistant sees "
        "them: summary, condition -> outcome, quote), never from the whole policy text; the "
        "compiled conditions then run over every row (no model call per row).",
        "The majority baseline predicts the most frequent gold decision of the evaluated rows "
        f"({base_acc:.0%} of them).",
    ]
    if not ctx.quick and not ctx.smoke:
        direct, _ = compile_rules(llm, text, rows)
        d_acc, _ = score(direct.decide, rows)
        metrics.append(
            Metric(
                "time-off decision accuracy, compiled from the policy text "
                "(no extraction; same run)",
                round(d_acc, 3),
                n=len(rows),
            )
        )
        details["direct_compile_errors"] = direct.errors
        notes.append(
            "The 'compiled from the policy text' row skips extraction: the gap to the "
            "first row is what extraction loses."
        )
    prompt = load_eval_prompt()
    return Section(
        task="extraction/policy",
        metrics=metrics,
        datasets=[DATASET],
        config={
            "llm": getattr(llm, "name", "?"),
            "compile_prompt": prompt.id,
            "extraction_design": design,
            "rows": len(rows),
            "policy": POLICY,
        },
        notes=notes,
        details=details,
    )
