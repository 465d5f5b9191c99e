"""The assistant on our own sample hearings: key facts right, decisions right, out-of-scope refused.

Knowledge base: the gold elements of all seven sample hearings (data/samples/*/gold.json),
approved, indexed by the production code — as a consultant who approved every element would
have it; this isolates the assistant from extraction quality. Questions:
``eval/data/assistant_questions_{dev,heldout}.json``, written by a team member who did not read
the assistant's code or prompts. The dev set is for tuning; the held-out set is reported
separately and must not be read while tuning.

Per question:
* key facts right: every fact (each a list of alternatives) appears in the answer; amounts
  count when the same quantity appears in another spelling (8万円 = 80,000円);
* decision right: the expected kind of reply (yes / no / inquire = follow-up question /
  answer / not_covered) equals ``pipeline.assistant.decision_of`` ("answer" accepts any covered
  reply that is not a follow-up);
* a gold element cited (for in-scope questions).

Run alone (hold the CPU lock):
    flock /tmp/shikumi-cpu.lock .venv/bin/python -m eval.assistant_samples --set dev
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from eval.common import REPO, EvalContext, LazyChat, Metric, Section

SAMPLES = REPO / "data" / "samples"
QUESTIONS = REPO / "eval" / "data"
HEARINGS = [
    "ja_expense",
    "ja_order_to_revenue",
    "en_month_end_close",
    "ja_smoke",
    "ja_payroll",
    "en_accounts_payable",
    "ja_general_affairs",
]


def gold_elements(name: str, interview_id: str) -> list[Any]:
    """The hearing's gold elements as approved domain elements (ids ``<hearing>:<gold id>``
    are kept in a side map by the caller)."""
    from pipeline.models import (
        CriterionStatus,
        Evidence,
        Exception_,
        Judgment,
        ReviewStatus,
        RuleRow,
        Task,
    )

    gold = json.loads((SAMPLES / name / "gold.json").read_text("utf-8"))
    out: list[Any] = []
    for g in gold["elements"]:
        common: dict[str, Any] = {
            "interview_id": interview_id,
            "summary": g.get("summary", ""),
            "evidence": [Evidence(quote=g.get("quote", ""))],
            "status": ReviewStatus.APPROVED,
        }
        if g["kind"] == "task":
            el: Any = Task(
                **common,
                action=g.get("action") or g.get("summary", ""),
                actor=g.get("actor") or "",
                inputs=g.get("inputs") or [],
                outputs=g.get("outputs") or [],
                systems=g.get("systems") or [],
                frequency=g.get("frequency") or "",
            )
        elif g["kind"] == "judgment":
            el = Judgment(
                **common,
                decision=g.get("decision") or "",
                rules=[RuleRow(**r) for r in g.get("rules") or []],
                decider=g.get("decider") or "",
                criterion=CriterionStatus(g.get("criterion") or "stated"),
            )
        else:
            el = Exception_(
                **common,
                trigger=g.get("trigger") or "",
                handling=g.get("handling") or "",
                owner=g.get("owner") or "",
                frequency=g.get("frequency") or "",
                is_routine=bool(g.get("is_routine")),
            )
        out.append((g["id"], el))
    return out


def build(work: Path) -> tuple[Any, dict[str, str], Any, dict[str, str]]:
    """A workspace-like assistant over all sample hearings; returns (assistant parts, id map,
    the index, hearing -> its interview id)."""
    from pipeline.adapters.embeddings import embedder_for
    from pipeline.adapters.vectorstore import ChromaVectorStore
    from pipeline.index import KnowledgeIndex
    from pipeline.models import Interview
    from pipeline.retrieve import Retriever
    from pipeline.store import Store

    work.mkdir(parents=True, exist_ok=True)
    db = work / "samples.db"
    db.unlink(missing_ok=True)
    store = Store(f"sqlite:///{db}")
    to_gold: dict[str, str] = {}
    interviews: dict[str, str] = {}  # hearing -> its interview id
    for name in HEARINGS:
        script = json.loads((SAMPLES / name / "script.json").read_text("utf-8"))
        # each sample hearing is another fictional company: its own engagement
        interview = store.add_interview(
            Interview(
                title=script.get("title", name),
                business_area=script.get("area", ""),
                engagement_id=f"eng_{name}",
            )
        )
        interviews[name] = interview.id
        pairs = gold_elements(name, interview.id)
        saved = store.add_elements([el for _, el in pairs])
        for (gid, _), el in zip(pairs, saved, strict=True):
            to_gold[el.id] = f"{name}:{gid}"
    vectors = ChromaVectorStore(work / "index", embed=embedder_for("embedded"))
    index = KnowledgeIndex(vectors, store)
    index.rebuild()
    return (store, Retriever(index)), to_gold, index, interviews


def has_fact(text: str, alternatives: list[str]) -> bool:
    from pipeline.quantities import parse_quantities

    low = text.lower()
    if any(a.lower() in low for a in alternatives):
        return True
    want = {(q.value, q.unit) for a in alternatives for q in parse_quantities(a) if q.unit}
    got = {(q.value, q.unit) for q in parse_quantities(text) if q.unit}
    return bool(want & got)


def decision_ok(expect: str, got: str) -> bool:
    if expect == "answer":
        return got in ("answer", "yes", "no")
    if expect == "inquire":
        return got == "follow_up"
    return expect == got


def run_set(ctx: EvalContext, which: str) -> Section:
    from pipeline.assistant import Assistant, decision_of
    from pipeline.retrieve import Filters
    from pipeline.settings import load_settings

    (store, retriever), to_gold, _, interviews = build(ctx.work_dir / "assistant_samples")
    # "operator": each question asked as an operator of its hearing's company, who sees only
    # that engagement's approved rules (``auth.knowledge_filters``); "all": as a consultant,
    # over every company's rules at once (the design of the figures before session 8)
    scope = ctx.options.get("scope", "all")
    settings = load_settings(ctx.work_dir / "assistant_samples" / "ws")
    factory = LazyChat(settings)

    mode = ctx.options.get("mode", "structured")
    assistant = Assistant(store, retriever, factory, mode=mode, max_tokens=300)
    qs = json.loads((QUESTIONS / f"assistant_questions_{which}.json").read_text("utf-8"))
    questions = qs["questions"][: (3 if ctx.smoke else None)]
    cases = []
    for q in questions:
        t0 = time.perf_counter()
        first = None
        final = None
        filters = Filters(interviews=[interviews[q["hearing"]]]) if scope == "operator" else None
        for item in assistant.ask_stream(q["question"], filters=filters):
            if first is None:
                first = time.perf_counter() - t0
            if not isinstance(item, str):
                final = item
        assert final is not None
        got = decision_of(final)
        cited = {to_gold.get(c.element_id, "") for c in final.citations}
        gold_ids = {f"{q['hearing']}:{g}" for g in q["gold_ids"]}
        facts = [has_fact(final.text, alts) for alts in q["key_facts"]]
        print(f"[{len(cases) + 1}/{len(questions)}] {q['id']} {got}", file=sys.stderr, flush=True)
        cases.append(
            {
                "id": q["id"],
                "hearing": q["hearing"],
                "expect": q["expect"],
                "got": got,
                "question": q["question"],
                "answer": final.text,
                "facts": facts,
                "facts_ok": all(facts),
                "decision_ok": decision_ok(q["expect"], got),
                "gold_cited": bool(cited & gold_ids),
                "first_line_s": round(first or 0.0, 2),
                "seconds": round(time.perf_counter() - t0, 2),
                "warnings": final.warnings,
            }
        )
    store.close()
    inscope = [c for c in cases if c["expect"] != "not_covered"]
    oos = [c for c in cases if c["expect"] == "not_covered"]
    firsts = sorted(c["first_line_s"] for c in cases)

    def share(xs: list[bool]) -> float | None:
        return sum(xs) / len(xs) if xs else None

    return Section(
        task=f"assistant/samples-{which}" + ("-operator" if scope == "operator" else ""),
        metrics=[
            Metric(
                "key facts right (in-scope)",
                share([c["facts_ok"] for c in inscope]),
                target=">= 0.85",
                n=len(inscope),
            ),
            Metric(
                "decision right (in-scope)",
                share([c["decision_ok"] for c in inscope]),
                n=len(inscope),
            ),
            Metric(
                "gold element cited (in-scope)",
                share([c["gold_cited"] for c in inscope]),
                n=len(inscope),
            ),
            Metric(
                "out-of-scope refused",
                share([c["got"] == "not_covered" for c in oos]),
                target=">= 0.95",
                n=len(oos),
            ),
            Metric(
                "time to first line, median s",
                firsts[len(firsts) // 2] if firsts else None,
                target="< 5",
                n=len(firsts),
            ),
        ],
        config={
            "mode": mode,
            "chat_model": factory.name,
            "threshold": retriever.threshold,
        },
        details={"cases": cases},
    )


def retrieval_baseline(ctx: EvalContext, which: str) -> dict[str, float]:
    """No model: the answer is the first retrieved element's whole indexed text (summary, every
    field, the quote), or "not covered" below the threshold — what a search box would show."""
    (store, retriever), _, _, _ = build(ctx.work_dir / "assistant_samples_baseline")
    qs = json.loads((QUESTIONS / f"assistant_questions_{which}.json").read_text("utf-8"))
    facts, refused, n_in, n_out = 0, 0, 0, 0
    for q in qs["questions"]:
        rs = retriever.search(q["question"], k=5)
        covered = retriever.covered(rs)
        if q["expect"] == "not_covered":
            n_out += 1
            refused += not covered
            continue
        n_in += 1
        text = rs[0].text if rs and covered else ""
        facts += all(has_fact(text, alts) for alts in q["key_facts"])
    store.close()
    return {
        "key facts right": facts / max(n_in, 1),
        "out-of-scope refused": refused / max(n_out, 1),
    }


def run(ctx: EvalContext) -> Section:
    return run_set(ctx, ctx.options.get("set", "dev"))


def main() -> None:
    import argparse

    from eval.common import eval_data_dir

    p = argparse.ArgumentParser()
    p.add_argument("--set", default="dev", choices=["dev", "heldout"])
    p.add_argument("--mode", default="structured", choices=["structured", "generate"])
    p.add_argument("--smoke", action="store_true")
    p.add_argument(
        "--scope",
        default="all",
        choices=["all", "operator"],
        help="all: every company's rules at once; operator: only the question's engagement",
    )
    p.add_argument("--work", default="/tmp/shikumi-eval")
    p.add_argument("--baseline", action="store_true", help="only the no-model retrieval baseline")
    a = p.parse_args()
    if a.baseline:
        ctx = EvalContext(eval_data_dir(), quick=True, work_dir=Path(a.work))
        print(retrieval_baseline(ctx, a.set))
        return
    ctx = EvalContext(
        eval_data_dir(),
        quick=True,
        smoke=a.smoke,
        work_dir=Path(a.work),
        options={"set": a.set, "mode": a.mode, "scope": a.scope},
    )
    sec = run(ctx)
    for m in sec.metrics:
        v = "-" if m.value is None else f"{m.value:.3f}"
        print(f"{m.name:45} {v}  n={m.n}")
    out = Path(a.work) / f"assistant_samples_{a.set}_{a.mode}_{a.scope}.json"
    out.write_text(json.dumps(sec.details, ensure_ascii=False, indent=1))
    print("details:", out)


if __name__ == "__main__":
    main()
