"""Let the model choose: one of a few labelled options, scored by token log-probabilities.

Small models are good at picking and poor at writing; a pick is also cheap (one generated
token, the prompt prefix reused by llama.cpp's cache). The caller lays out the options with
single-character labels (A, B, C … or 1, 2, 3); the model writes one label; its probability
distribution over the labels is read from the log-probabilities of that first token. A backend
that returns no log-probabilities still works: the written label gets probability 1.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .adapters.llm import ChatModel, Message

LETTERS = "ABCDEFGHIJ"
TOP_LOGPROBS = 10


@dataclass
class Choice:
    label: str  # the most probable label ("" when the model wrote none of them)
    probs: dict[str, float]  # label -> probability (sums to 1 over the labels seen)

    def p(self, label: str) -> float:
        return self.probs.get(label, 0.0)


def scores_from(top_logprobs: list[dict[str, float]], labels: Sequence[str]) -> dict[str, float]:
    """The distribution over ``labels`` at the first token position that holds most of them."""
    wanted = {lab.lower(): lab for lab in labels}
    for alts in top_logprobs[:4]:
        probs = dict.fromkeys(labels, 0.0)
        for token, logprob in alts.items():
            t = token.strip().strip("\"'()[]*.:").lower()
            if t in wanted:
                probs[wanted[t]] += math.exp(logprob)
        total = sum(probs.values())
        if total >= 0.3:
            return {k: v / total for k, v in probs.items()}
    return {}


def value_scores(
    top_logprobs: list[dict[str, float]], names: Sequence[str], last: bool = False
) -> dict[str, float]:
    """The distribution over ``names`` where a JSON answer writes one of them as a value: the
    first token position (``last``: the last) whose alternatives put at least half their
    probability on tokens that begin a name (two characters at least; a token that begins
    several names is shared among them). {} when there are no log-probabilities."""
    positions = reversed(top_logprobs) if last else iter(top_logprobs)
    for alts in positions:
        probs = dict.fromkeys(names, 0.0)
        for token, logprob in alts.items():
            t = token.strip().strip('"').lower()
            hits = [n for n in names if len(t) >= 2 and n.startswith(t)]
            for n in hits:
                probs[n] += math.exp(logprob) / len(hits)
        total = sum(probs.values())
        if total >= 0.5:  # the value's position, not a key or the braces
            return {k: round(v / total, 4) for k, v in probs.items()}
    return {}


PRIOR_FLOOR = 1e-3  # a label the model never gives for the content-free input
CONTENT_FREE = "N/A"  # an input that says nothing: what the model picks for it is its lean


def calibrated(
    probs: dict[str, float], prior: dict[str, float], floor: float = PRIOR_FLOOR
) -> dict[str, float]:
    """Each label's probability over its probability for a content-free input (the model's lean
    whatever it reads; at least ``floor``), renormalised."""
    if not prior:
        return dict(probs)
    raw = {k: v / max(prior.get(k, 0.0), floor) for k, v in probs.items()}
    total = sum(raw.values())
    return {k: v / total for k, v in raw.items()} if total else dict(probs)


def choose(llm: ChatModel, messages: list[Message], labels: Sequence[str]) -> Choice:
    """Ask for one label; the probabilities come from the first token's log-probabilities."""
    out = llm.complete(messages, max_tokens=2, top_logprobs=TOP_LOGPROBS)
    probs = scores_from(out.top_logprobs, labels)
    if not probs:
        written = re.findall(r"[A-Za-z0-9]", out.text)
        hit = next((lab for lab in labels for w in written[:1] if w.lower() == lab.lower()), "")
        probs = {lab: float(lab == hit) for lab in labels} if hit else {}
    label = max(probs, key=lambda k: probs[k]) if probs and max(probs.values()) > 0 else ""
    return Choice(label=label, probs=probs)
