"""policy_corpus: extract judgment rules from a policy text, apply them to its decision table.

Data: ``<data>/policy_corpus`` (DecisionsDev policy-corpus, Apache-2.0), tables in
``eval.policy_tables``. The test table is the Acme time-off policy
(``human-resources/acme_time_off.txt``, 1,000 rows: request fields -> fixed holidays, personal
choice holidays, vacation weeks, sick-time hours). The tuning tables are the loan approval
policy (1,000 rows -> eligibility) and pilot-pay (600 rows generated from the pilot compensation
policy, gold read from its text: five outputs, four of them numbers); prompts and code were
tuned on them, never on time-off.

Method:
1. ``pipeline.extract.extract`` on the policy text as a Transcript (one segment per sentence),
   exactly as for a hearing. Judgments (condition -> outcome, decider) and exceptions
   (trigger -> handling) are the extracted rules, rendered as the assistant sees them
   (``pipeline.models.element_text``: summary, rule rows, quote); never the whole policy text.
2. The rules become decision logic, designs measured side by side in the same run:
   - ``pick`` (the headline): the model first *chooses* which output each rule sets, scored
     by log-probabilities over the output names and "none of them" and calibrated against a
     content-free rule; tasks that state a number or name an output are asked too (a sentence
     that grants something is often labelled a task), and a rule whose pick is "none of them"
     is dropped. The rule is then compiled as in ``rows`` against the chosen outputs only, and
     a number (or a date's year) the rule's text does not state is refused and re-asked: the
     value comes from the text, read with ``pipeline.quantities``.
   - ``rows`` (``eval.policy_rows``): per extracted rule, structured rows
     ``{output, value, when: [{field, op, value}]}`` under a JSON schema of the table's own
     names, validated by pydantic (re-asked once with the errors); the scope of the rules and a
     yes/no output's default chosen by log-probabilities; rows evaluated deterministically,
     most specific first.
   - ``python`` (``eval/prompts/policy_rules.md``): one call writes, per output field, an
     ordered list of ``{"if": <Python boolean expression>, "then": <number>}`` plus a default,
     run in a restricted evaluator (comparisons, boolean logic, arithmetic, the row's fields:
     no calls, no attributes).
   Variants of ``rows`` and ``pick`` made of the same answers are scored beside them (scope
   read from the rows' tests, calibrated scope, no scope, narrowest row first). No model call
   per table row; the compile step's answers are cached in the run's store.

Decision accuracy: a row is correct when every output field equals the gold value (within
0.01). Per-field accuracy is reported too. Baselines in the same run: the majority decision of
the evaluated rows, and (full mode) both designs fed the whole policy text instead of the
extracted rules, which separates extraction losses from compilation losses.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.common import REPO, EvalContext, Metric, Section, product_embedder
from eval.policy_tables import TABLES, TIME_OFF, Table

DATASET = TIME_OFF.dataset
POLICY = TIME_OFF.policy
TABLE = TIME_OFF.path
INPUTS = TIME_OFF.inputs
OUTPUTS = tuple(TIME_OFF.outputs)
SMOKE_ROWS = 20
PROMPTS = REPO / "eval" / "prompts"
PROMPT_PATH = PROMPTS / "policy_rules.md"
HEADLINE = "pick"  # the design whose figure is the table's decision accuracy
HEADINGS = True  # section titles as the interviewer's questions (policy_transcript)

CASE_SCHEMA = {
    "type": "object",
    "properties": {"if": {"type": "string"}, "then": {"type": "number"}},
    "required": ["if", "then"],
}


def output_schema(outputs: tuple[str, ...]) -> dict[str, Any]:
    return {
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
                    for name in outputs
                },
                "required": list(outputs),
            }
        },
        "required": ["outputs"],
    }


OUTPUT_SCHEMA: dict[str, Any] = output_schema(OUTPUTS)


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
    return TIME_OFF.rows(data_dir)


_HEADING = re.compile(r"^[^.!?。]{1,60}:?$")
_SECTION_NUMBER = re.compile(r"^\d+(?:\.\d+)*\.?\s+")


def is_heading(line: str) -> bool:
    """A section title: a short line without a sentence end, or a line that ends in a colon
    ("Vacation", "Credit Score:", "4. Checked Baggage Allowance"). A bullet is content unless
    it ends in a colon."""
    line = line.strip()
    bullet = line.startswith(("*", "-", "•"))
    text = line.lstrip("*-• ").strip()
    if not text or text.endswith(":"):
        return bool(text)
    text = _SECTION_NUMBER.sub("", text)  # "4. Checked ...", "2.2 Bonuses ..."
    return not bullet and bool(_HEADING.match(text)) and len(text.split()) <= 8 and "=" not in text


def policy_transcript(text: str, doc_id: str = "policy", headings: bool = True) -> Any:
    """One segment per sentence (lines split at sentence ends). With ``headings``, a section
    title becomes the interviewer's question for the sentences under it (as a hearing's
    question gives the context of the answer) and is not itself an element."""
    from pipeline.models import Language, Segment, Transcript
    from pipeline.speakers import INTERVIEWER

    sentences: list[tuple[str, str]] = []
    for line in text.splitlines():
        if headings and is_heading(line):
            sentences.append((INTERVIEWER, line.strip().lstrip("*-• ").strip()))
            continue
        line = line.strip().lstrip("*").strip()
        if line:
            sentences += [
                ("author", s.strip())
                for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", line)
                if s.strip()
            ]
    segs = [
        Segment(id=f"s{i + 1:04d}", start=i * 5.0, end=i * 5.0 + 4.5, text=s, speaker=who)
        for i, (who, s) in enumerate(sentences)
    ]
    return Transcript(
        interview_id=doc_id, language=Language.EN, segments=segs, duration=len(segs) * 5.0
    )


def section_of(el: Any, transcript: Any) -> str:
    """The heading (interviewer's question) last before the element's first quoted segment."""
    from pipeline.speakers import INTERVIEWER

    ids = [i for ev in el.evidence for i in ev.segment_ids]
    heading = ""
    for seg in transcript.segments:
        if ids and seg.id == ids[0]:
            return heading
        if seg.speaker == INTERVIEWER:
            heading = seg.text
    return ""


def rule_elements(elements: list[Any]) -> list[Any]:
    from pipeline.models import Exception_, Judgment

    return [el for el in elements if isinstance(el, Judgment | Exception_)]


def task_states_a_value(el: Any, outputs: dict[str, str]) -> bool:
    """A task element worth asking about: its text states a number or names an output (a word
    of four letters or more of the output's name), e.g. "X employees receive 10 days"."""
    from eval.policy_rows import stated_numbers
    from pipeline.models import element_text

    text = element_text(el)
    words = {w for name in outputs for w in name.lower().split("_") if len(w) >= 4}
    return bool(stated_numbers(text)) or any(
        re.search(rf"\b{re.escape(w)}", text, re.I) for w in words
    )


def rules_text(elements: list[Any]) -> str:
    """The extracted rules as the compile step sees them: judgments and exceptions only,
    rendered as the assistant sees them (``element_text``: summary, conditions, quote)."""
    from pipeline.models import element_text

    return "\n\n".join(element_text(el) for el in rule_elements(elements))


def field_descriptions(rows: list[dict[str, Any]], inputs: dict[str, str] = INPUTS) -> str:
    out = []
    for name, kind in inputs.items():
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


def compile_condition(expr: str, names: Any = INPUTS) -> Any:
    """Compile a model-written condition; only comparisons/logic over the row's fields."""
    tree = ast.parse(expr.strip() or "False", mode="eval")
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ValueError(f"not allowed in a condition: {type(node).__name__}")
        if isinstance(node, ast.Name) and node.id not in names and node.id not in ("True", "False"):
            raise ValueError(f"unknown field {node.id!r}")
    return compile(tree, "<condition>", "eval")


@dataclass
class RuleSet:
    cases: dict[str, list[tuple[Any, float, str]]] = field(default_factory=dict)
    defaults: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    inputs: tuple[str, ...] = tuple(INPUTS)
    outputs: tuple[str, ...] = OUTPUTS

    def decide(self, row: dict[str, Any]) -> dict[str, float]:
        env = {k: row[k] for k in self.inputs}
        out = {}
        for name in self.outputs:
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


def parse_ruleset(text: str, table: Table = TIME_OFF) -> RuleSet:
    s = text.strip()
    start, end = s.find("{"), s.rfind("}")
    data = json.loads(s[start : end + 1]) if start >= 0 else {}
    outputs = data.get("outputs", {}) if isinstance(data, dict) else {}
    rs = RuleSet(inputs=tuple(table.inputs), outputs=tuple(table.outputs))
    for name in rs.outputs:
        spec = outputs.get(name) or {}
        rs.defaults[name] = float(spec.get("default", 0) or 0)
        rs.cases[name] = []
        for case in spec.get("cases", []) or []:
            src = str(case.get("if", ""))
            try:
                code = compile_condition(src, table.inputs)
                rs.cases[name].append((code, float(case.get("then", 0)), src))
            except (SyntaxError, ValueError, TypeError) as exc:
                rs.errors.append(f"{name}: {src!r}: {exc}")
    return rs


def compile_rules(
    llm: Any, rules: str, rows: list[dict[str, Any]], table: Table = TIME_OFF
) -> tuple[RuleSet, str]:
    """The ``python`` design: one call compiles all rules into Python conditions."""
    prompt = load_eval_prompt()
    messages = prompt.render(
        rules=rules or "(no rules were extracted)",
        inputs=field_descriptions(rows, table.inputs),
        outputs="\n".join(f"- {o}" for o in table.outputs),
    )
    out = llm.complete(messages, schema=output_schema(tuple(table.outputs)), max_tokens=800)
    try:
        return parse_ruleset(out.text, table), out.text
    except (ValueError, json.JSONDecodeError) as exc:
        rs = RuleSet(
            defaults=dict.fromkeys(table.outputs, 0.0),
            errors=[f"unparseable: {exc}"],
            inputs=tuple(table.inputs),
            outputs=tuple(table.outputs),
        )
        return rs, out.text


def compile_structured(
    llm: Any,
    pieces: list[tuple[str, str]],
    table: Table,
    rows: list[dict[str, Any]],
    design: str = "rows",
) -> tuple[Any, dict[str, Any]]:
    """Each rule (text, source) -> validated rows; scope and defaults chosen by
    log-probabilities. Returns the decider and what it was made of (``variants``: other
    deciders made of the same answers, scored beside it).

    ``rows``: every rule is compiled against every output. ``pick``: the model first chooses
    which output the rule sets (log-probabilities over the output names and "none of them",
    calibrated against a content-free rule); a rule that sets none gives no rows, the others
    are compiled against the chosen outputs only, and a number the rule does not state is
    refused (re-asked once)."""
    from dataclasses import replace

    from eval import policy_rows as pr

    cats = pr.categories(table, rows)
    all_rules = "\n\n".join(text for text, _ in pieces) or "(no rules were extracted)"
    prompt = load_eval_prompt(PROMPTS / "policy_rows.md")
    compiled, errors, raws = [], [], []
    picks: list[dict[str, Any]] = []
    if design == "pick":
        from pipeline.choose import CONTENT_FREE, calibrated

        out_prompt = load_eval_prompt(PROMPTS / "policy_output.md")
        outputs = list(table.outputs)
        prior = pr.output_probs(llm, out_prompt, CONTENT_FREE, outputs)
    for text, source in pieces:
        target, stated = table, None
        if design == "pick":
            probs = calibrated(pr.output_probs(llm, out_prompt, text, outputs), prior)
            chosen = pr.pick_outputs(probs, outputs)
            picks.append(
                {"from": source[:80], "chosen": chosen} | {k: round(v, 3) for k, v in probs.items()}
            )
            if not chosen:
                continue
            target = replace(table, outputs={k: table.outputs[k] for k in chosen})
            stated = pr.stated_numbers(text)
        got, errs, raw = pr.compile_rule(llm, prompt, text, target, rows, cats, source, 1, stated)
        compiled += got
        errors += [f"{source[:60]}: {e}" for e in errs]
        raws += raw
    scope, scope_p = pr.choose_scope(
        llm, load_eval_prompt(PROMPTS / "policy_scope.md"), all_rules, cats
    )
    defaults = pr.choose_defaults(
        llm, load_eval_prompt(PROMPTS / "policy_default.md"), all_rules, table
    )
    outs = tuple(table.outputs)
    decider = pr.Decider(compiled, defaults, scope, outs)
    row_scope = pr.scope_from_rows(compiled, defaults, cats)
    both = {k: v & row_scope.get(k, set()) for k, v in scope.items() if v & row_scope.get(k, set())}
    variants = {
        "scope by rows": pr.Decider(compiled, defaults, row_scope, outs),
        "scope by both": pr.Decider(compiled, defaults, both, outs),
        "no scope": pr.Decider(compiled, defaults, {}, outs),
        "narrowest": pr.Decider(compiled, defaults, scope, outs, narrowest=True),
        "scope calibrated": pr.Decider(
            compiled, defaults, pr.scope_calibrated(scope_p, cats), outs
        ),
    }
    details = {
        "rows": [
            {
                "output": r.output,
                "value": r.value,
                "when": [f"{c.field} {c.op} {c.value}" for c in r.checks],
                "from": r.source[:80],
            }
            for r in compiled
        ],
        "picks": picks,
        "scope_p_covered": scope_p,
        "out_of_scope": {k: sorted(v) for k, v in scope.items()},
        "out_of_scope_by_rows": {k: sorted(v) for k, v in row_scope.items()},
        "defaults": defaults,
        "errors": errors,
        "raw": [r[:600] for r in raws],
        "variants": variants,
    }
    return decider, details


def score(
    decide: Any, rows: list[dict[str, Any]], outputs: tuple[str, ...] = OUTPUTS
) -> tuple[float, dict[str, float]]:
    correct, per = 0, Counter[str]()
    for r in rows:
        pred = decide(r)
        ok = {k: abs(pred[k] - r["gold"][k]) < 0.01 for k in outputs}
        per.update(k for k, v in ok.items() if v)
        correct += all(ok.values())
    n = len(rows) or 1
    return correct / n, {k: per[k] / n for k in outputs}


def majority(rows: list[dict[str, Any]], outputs: tuple[str, ...] = OUTPUTS) -> Any:
    top = Counter(tuple(r["gold"][k] for k in outputs) for r in rows).most_common(1)[0][0]
    decision = dict(zip(outputs, top, strict=True))
    return lambda _row: decision


# --------------------------------------------------------------------------- run


def _llm(ctx: EvalContext) -> Any:
    if "llm" in ctx.options:
        return ctx.options["llm"]
    from pipeline.adapters.llm import chat_model
    from pipeline.settings import load_settings

    ctx.options["llm"] = chat_model(load_settings(ctx.work_dir / "workspace"))
    return ctx.options["llm"]


class CachedChat:
    """A chat model whose answers are kept in the run's answer cache (``cache_get`` /
    ``cache_put``, the store extraction caches in), keyed by everything the call sends: a
    re-run of the compile step with the same prompts costs nothing."""

    def __init__(self, llm: Any, cache: Any):
        self.llm, self.cache = llm, cache
        self.name: str = llm.name
        self.structured: str = getattr(llm, "structured", "json_object")

    def complete(
        self,
        messages: list[Any],
        schema: dict[str, Any] | None = None,
        max_tokens: int = 2048,
        top_logprobs: int = 0,
    ) -> Any:
        from pipeline.adapters.llm import Completion
        from pipeline.calls import cache_key

        sent = json.dumps([messages, schema, max_tokens, top_logprobs], sort_keys=True)
        key = cache_key(self.name, "eval-policy-compile", sent)
        hit = self.cache.cache_get(key)
        if hit is not None:
            d = json.loads(hit)
            return Completion(text=d["text"], top_logprobs=d["top_logprobs"])
        out = self.llm.complete(
            messages, schema=schema, max_tokens=max_tokens, top_logprobs=top_logprobs
        )
        self.cache.cache_put(key, json.dumps({"text": out.text, "top_logprobs": out.top_logprobs}))
        return out


def _log(msg: str) -> None:
    print(f"[policy] {msg}", file=sys.stderr, flush=True)


def evaluate_table(
    ctx: EvalContext, table: Table, designs: tuple[str, ...] = ("pick", "rows", "python")
) -> dict[str, Any]:
    """Extract, compile with each design, score. Everything measured goes into the result."""
    from eval.pet import ensure_interview
    from pipeline.extract import extract
    from pipeline.models import element_text

    text = (ctx.data_dir / "policy_corpus" / table.policy).read_text(encoding="utf-8")
    rows = table.rows(ctx.data_dir)
    if ctx.smoke:
        rows = rows[:SMOKE_ROWS]
    outputs = tuple(table.outputs)
    llm = _llm(ctx)
    t0 = time.perf_counter()
    doc_id = "policy" if table is TIME_OFF else f"policy-{table.name}"
    ensure_interview(ctx.options.get("store"), doc_id, f"policy_corpus {table.name}")
    transcript = policy_transcript(text, doc_id, headings=HEADINGS)
    result = extract(
        transcript,
        llm,
        store=ctx.options.get("store"),
        business_area=table.business_area,
        embedder=product_embedder(),  # the product's path: labels and remarks by meaning
    )
    elements = list(result.elements)
    seconds: dict[str, float] = {"extract": round(time.perf_counter() - t0, 1)}
    _log(f"{table.name}: extracted {len(elements)} elements in {seconds['extract']}s")
    rules = rules_text(elements)
    from pipeline.models import Task

    def piece(el: Any) -> tuple[str, str]:
        section = section_of(el, transcript)
        return (f"Section: {section}\n" if section else "") + element_text(el), el.summary

    pieces = [piece(el) for el in rule_elements(elements)]
    # the pick design also reads the tasks that state a number or name an output: a sentence
    # that grants something is often labelled a task; its "none of them" pick drops the rest
    pick_pieces = [
        piece(el)
        for el in elements
        if el in rule_elements(elements)
        or (isinstance(el, Task) and task_states_a_value(el, table.outputs))
    ]
    res: dict[str, Any] = {
        "table": table,
        "rows": len(rows),
        "majority": score(majority(rows, outputs), rows, outputs),
        "design": getattr(result, "design", "?"),
        "extracted": {
            k: sum(1 for e in elements if e.kind == k)
            for k in ("task", "judgment", "exception", "finding")
        },
        "rules": rules,
        "scores": {},
        "details": {},
        "seconds": seconds,
    }
    store = ctx.options.get("store")
    cllm = CachedChat(llm, store) if store is not None else llm
    sources = {"extracted": (rules, pieces)}
    if not ctx.quick and not ctx.smoke:
        sources["policy text"] = (text, [(text, "policy text")])
    for src, (rule_text, rule_pieces) in sources.items():
        for design in designs:
            use = pick_pieces if design == "pick" and src == "extracted" else rule_pieces
            t0 = time.perf_counter()
            if design == "python":
                rs, raw = compile_rules(cllm, rule_text, rows, table)
                decide = rs.decide
                det: dict[str, Any] = {
                    "compiled": {k: [(c, t) for _x, t, c in v] for k, v in rs.cases.items()},
                    "defaults": rs.defaults,
                    "errors": rs.errors,
                    "raw": raw[:4000],
                }
            else:
                decider, det = compile_structured(cllm, use, table, rows, design)
                decide = decider.decide
            key = f"{design} / {src}"
            seconds[key] = round(time.perf_counter() - t0, 1)
            res["scores"][key] = score(decide, rows, outputs)
            for name, variant in det.pop("variants", {}).items():
                res["scores"][f"{key} [{name}]"] = score(variant.decide, rows, outputs)
            res["details"][key] = det
            _log(f"{table.name}: {key}: {res['scores'][key][0]:.3f} in {seconds[key]}s")
    return res


def _metrics(res: dict[str, Any]) -> list[Metric]:
    table: Table = res["table"]
    base_acc, base_fields = res["majority"]
    label = "time-off" if table is TIME_OFF else f"{table.name} (tuning)"
    headline = f"{HEADLINE} / extracted"
    metrics = []
    if headline in res["scores"]:
        acc, per_field = res["scores"][headline]
        name = (
            f"{label} decision accuracy (all {len(table.outputs)} outputs)"
            if len(table.outputs) > 1
            else f"{label} decision accuracy"
        )
        metrics.append(
            Metric(
                name,
                round(acc, 3),
                round(base_acc, 3),
                "majority decision (same run)",
                n=res["rows"],
            )
        )
        if len(table.outputs) > 1:
            metrics += [
                Metric(
                    f"  {k} accuracy",
                    round(per_field[k], 3),
                    round(base_fields[k], 3),
                    "majority decision (same run)",
                    n=res["rows"],
                )
                for k in table.outputs
            ]
    for key, (acc, _per) in res["scores"].items():
        if key != headline:
            metrics.append(Metric(f"  {label}, design {key}", round(acc, 3), n=res["rows"]))
    return metrics


def run(ctx: EvalContext) -> Section:
    tables = (
        [TIME_OFF] if ctx.smoke else [TIME_OFF, *[t for t in TABLES.values() if t is not TIME_OFF]]
    )
    results = [evaluate_table(ctx, t) for t in tables]
    metrics = [m for res in results for m in _metrics(res)]
    test = results[0]
    details: dict[str, Any] = {
        res["table"].name: {
            "extracted": res["extracted"],
            "rules": res["rules"],
            "designs": res["details"],
            "seconds": res["seconds"],
        }
        for res in results
    }
    base_acc = test["majority"][0]
    notes = [
        "Rules come from the extracted judgments/exceptions only (as the assistant sees them: "
        "summary, condition -> outcome, quote), never from the whole policy text; no model call "
        "per table row.",
        f"Headline design: {HEADLINE} (per extracted rule, and per task that states a number or "
        "names an output, the model chooses by log-probabilities which output it sets or 'none "
        "of them'; the rule is then compiled into structured rows for the chosen outputs only, "
        "validated by pydantic, and a number or date the rule does not state is refused; scope "
        "and defaults chosen by log-probabilities; rows evaluated deterministically). 'rows' is "
        "the earlier structured design (every rule against every output, any number); "
        "'python' the first one (the model writes Python conditions).",
        "The majority baseline predicts the most frequent gold decision of the evaluated rows "
        f"({base_acc:.0%} of the time-off rows).",
        "Tuning tables: loan and pilot-pay (generated from the pilot compensation policy, gold "
        "read from its text); prompts and code were tuned on them; the time-off table is the "
        "test.",
    ]
    if not ctx.quick and not ctx.smoke:
        notes.append(
            "Rows 'policy text' skip extraction: the gap to 'extracted' is what extraction loses."
        )
    return Section(
        task="extraction/policy",
        metrics=metrics,
        datasets=[t.dataset for t in tables],
        config={
            "llm": getattr(_llm(ctx), "name", "?"),
            "prompts": [
                load_eval_prompt(PROMPTS / f"{n}.md").id
                for n in (
                    "policy_rules",
                    "policy_rows",
                    "policy_output",
                    "policy_scope",
                    "policy_default",
                )
            ],
            "extraction_design": test["design"],
            "rows": test["rows"],
            "policy": POLICY,
        },
        notes=notes,
        details=details,
    )


def main(argv: list[str] | None = None) -> None:
    """Development entry: one table, chosen designs, details to a JSON file."""
    import argparse

    from eval.common import eval_data_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", default="loan", choices=sorted(TABLES))
    ap.add_argument("--designs", default="pick,rows,python")
    ap.add_argument("--full", action="store_true", help="also compile from the policy text")
    ap.add_argument("--no-headings", action="store_true", help="section titles as sentences")
    ap.add_argument("--work-dir", type=Path, default=Path("/tmp/policy/work"))
    ap.add_argument("--out", type=Path, default=Path("/tmp/policy/out.json"))
    args = ap.parse_args(argv)
    from pipeline.store import Store

    global HEADINGS
    HEADINGS = not args.no_headings
    args.work_dir.mkdir(parents=True, exist_ok=True)
    ctx = EvalContext(
        data_dir=eval_data_dir(),
        quick=not args.full,
        work_dir=args.work_dir,
        options={"store": Store(f"sqlite:///{args.work_dir / 'cache.db'}")},
    )
    res = evaluate_table(ctx, TABLES[args.table], tuple(args.designs.split(",")))
    res["table"] = res["table"].name
    args.out.write_text(json.dumps(res, indent=1, ensure_ascii=False, default=str))
    for key, (acc, per) in res["scores"].items():
        print(f"{key}: {acc:.3f} {per} (majority {res['majority'][0]:.3f})")


if __name__ == "__main__":
    main()
