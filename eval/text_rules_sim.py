"""Text rules alone: OR-ShARC decisions from the gold rule snippet, no retrieval, no model.

What ``pipeline.compose`` does for a rule that has only text (``text_rules.text_rule`` and
``conditions.text_verdicts``), run on utterances whose gold answer is yes / no / a follow-up
question ("Irrelevant" is retrieval's business and is left out). It isolates the reading of a
rule's grammar and of the operator's case from retrieval and from the model's choices, and
takes seconds, so rule-grammar changes are designed and checked on it before the whole
assistant is run (``eval.assistant_eval``).

Sets (``--set``):
- ``pool``: dev utterances whose snippets are not the fixed 100's (``assistant_eval``'s pool);
- ``fixed``: the fixed 100 (the reported sample; do not tune on it);
- ``A`` / ``B``: test-split utterances whose snippets no dev utterance uses, split by snippet
  id (even ids: A, for tuning; odd ids: B, the held-out check, read only as an aggregate).

Run: ``python -m eval.text_rules_sim --set A`` (reads ``$SHIKUMI_EVAL_DATA/or_sharc``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
from collections import Counter
from pathlib import Path
from typing import Any

from eval.assistant_eval import SEED, development_pool, gold_label, operator_message


def _rows(root: Path, split: str) -> list[dict[str, Any]]:
    text = (root / f"open_retrieval_sharc_{split}.json").read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def utterances(root: Path, which: str) -> list[dict[str, Any]]:
    dev = _rows(root, "dev")
    if which == "fixed":
        return random.Random(SEED).sample(dev, 100)
    if which == "pool":
        return development_pool(dev, 100)
    seen = {r["gold_snippet_id"] for r in dev}
    half = 0 if which == "A" else 1
    return [
        r
        for r in _rows(root, "test")
        if r["gold_snippet_id"] not in seen and int(r["gold_snippet_id"]) % 2 == half
    ]


def decide(snippet: str, message: str) -> str:
    """yes / no / follow_up, as the assistant renders a text-only rule."""
    from pipeline.conditions import text_verdicts
    from pipeline.text_rules import text_rule

    rule = text_rule(snippet)
    verdict = rule.decide_from_answers(text_verdicts(rule, message))
    return "follow_up" if verdict is None else ("yes" if verdict else "no")


def run(root: Path, which: str) -> dict[str, Any]:
    snippets = json.loads((root / "id2snippet.json").read_text(encoding="utf-8"))
    confusion: Counter[tuple[str, str]] = Counter()
    for r in utterances(root, which):
        want = gold_label(r["answer"])
        if want == "not_covered":
            continue
        got = decide(snippets[str(r["gold_snippet_id"])], operator_message(r))
        confusion[(want, got)] += 1
    n = sum(confusion.values())
    right = sum(v for (want, got), v in confusion.items() if want == got)
    by_gold = Counter(w for (w, _), v in confusion.items() for _ in range(v))
    return {
        "set": which,
        "n": n,
        "accuracy": round(right / n, 3) if n else None,
        "majority": round(max(by_gold.values()) / n, 3) if n else None,
        "confusion": {f"{w}->{g}": v for (w, g), v in sorted(confusion.items())},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="A", choices=["pool", "fixed", "A", "B"])
    ap.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("SHIKUMI_EVAL_DATA", "../shared/eval-data")),
    )
    args = ap.parse_args(argv)
    print(json.dumps(run(args.data / "or_sharc", args.set), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
