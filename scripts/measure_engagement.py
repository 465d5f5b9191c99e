"""Consolidation and differences on *extracted* elements of the sample engagement.

    flock /tmp/shikumi-cpu.lock .venv/bin/python scripts/measure_engagement.py [--model-check]

Runs the configured extraction (embedded local LLM by default) on the two hearings' reference
transcripts (no ASR: this isolates extraction + consolidation), consolidates, and scores against
``data/samples/engagement_minato/consolidation.json``: an extracted element stands for the gold
element of the same kind whose quote it overlaps most (character overlap ≥ 0.3 of the shorter
quote, the rule of data/samples/README.md); pairwise precision / recall over gold-id pairs;
a gold difference is found when a difference of the same kind sits on the item holding one of
its two elements.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

from pipeline import sample_engagement as se
from pipeline.differences import find_differences
from pipeline.inventory import consolidate, model_check
from pipeline.models import AnyElement
from pipeline.settings import load_settings
from pipeline.workspace import Workspace


def overlap(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    short, long_ = sorted((a, b), key=len)
    best = 0
    for i in range(len(short)):  # longest common substring, small strings
        for j in range(i + best + 1, len(short) + 1):
            if short[i:j] in long_:
                best = j - i
            else:
                break
    return best / len(short)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-check", action="store_true")
    args = ap.parse_args()
    engagement, interviews, transcripts, gold_els = se.load()
    gold = se.consolidation_gold()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(load_settings(str(Path(tmp) / "ws")))
        ws.store.save_engagement(engagement)
        started = time.perf_counter()
        for iid, iv in interviews.items():
            ws.store.add_interview(iv)
            ws.store.save_transcript(transcripts[iid])
            ws.extract(iid)
        extracted: list[AnyElement] = ws.store.list_elements()
        seconds = time.perf_counter() - started
        same = model_check(ws.llm()) if args.model_check else None
        inv = consolidate(extracted, interviews, engagement, None, transcripts, same_step=same)
        diffs = find_differences(inv, extracted)
    by_gold: dict[str, str] = {}  # extracted id -> gold id
    for el in extracted:
        if el.kind == "finding" or not el.evidence:
            continue
        q = el.evidence[0].quote
        cands = [(overlap(q, g.evidence[0].quote), g.id) for g in gold_els
                 if g.kind == el.kind and g.interview_id == el.interview_id]  # fmt: skip
        score, gid = max(cands, default=(0.0, ""))
        if score >= 0.3:
            by_gold[el.id] = gid
    gold_pairs = {
        p for it in gold["items"] for p in itertools.combinations(sorted(it["members"]), 2)
    }
    pred_pairs = set()
    for item in inv.items:
        gids = sorted({by_gold[m] for m in item.members if m in by_gold})
        pred_pairs |= set(itertools.combinations(gids, 2))
    tp = len(gold_pairs & pred_pairs)
    item_of = inv.item_of()
    found = 0
    for g in gold["differences"]:
        items = {item_of[e] for e, gid in by_gold.items() if gid in (g["a"], g["b"])}
        found += any(d.item_id in items and d.kind == g["kind"] for d in diffs)
    matched = len(set(by_gold.values()))
    print(
        f"extracted {len(extracted)} elements ({seconds:.0f} s), {matched}/{len(gold_els)} gold "
        f"elements matched; items {len(inv.items)}; pairs gold {len(gold_pairs)} pred "
        f"{len(pred_pairs)} tp {tp}: precision {tp / max(1, len(pred_pairs)):.2f} recall "
        f"{tp / max(1, len(gold_pairs)):.2f}; differences {found}/{len(gold['differences'])} "
        f"(predicted {len(diffs)}); model calls {inv.model_calls}"
    )
    for d in diffs:
        print("  ", d.kind, d.aspect, d.summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
