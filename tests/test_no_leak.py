"""The sample hearings are evaluation data: none of their sentences may be a prompt's few-shot
example, a cue phrasing or a cue test's input (issue 13: a rule written to fit a sample sentence
makes that sample no check of the rule)."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# where a sample sentence must not appear: prompts (product and eval), the cue lexicon, cue tests
GUARDED = [
    *sorted((ROOT / "prompts").glob("*.md")),
    *sorted((ROOT / "eval" / "prompts").glob("*.md")),
    *sorted((ROOT / "pipeline" / "lexicon").glob("*.toml")),
    ROOT / "tests" / "test_diagnose.py",
    ROOT / "tests" / "test_remarks.py",
    ROOT / "tests" / "test_labels.py",
]
MIN_CHARS_JA = 12  # shorter sentences (「はい、そうです。」) are common to any hearing
MIN_WORDS_EN = 6


def _norm(text: str) -> str:
    return re.sub(r"[\s、。,.!?！？「」\"'’]+", "", unicodedata.normalize("NFKC", text)).lower()


def sample_sentences() -> list[tuple[str, str]]:
    out = []
    for script in sorted((ROOT / "data" / "samples").glob("*/script.json")):
        data = json.loads(script.read_text(encoding="utf-8"))
        for turn in data.get("turns", []):
            for s in re.split(r"(?<=[。！？!?])|(?<=\.)\s+", turn.get("text", "")):
                s = s.strip()
                long_enough = (
                    len(s.split()) >= MIN_WORDS_EN
                    if re.fullmatch(r"[\x00-\x7f]+", s)
                    else len(_norm(s)) >= MIN_CHARS_JA
                )
                if s and long_enough:
                    out.append((script.parent.name, s))
    return out


def test_the_guard_sees_the_samples_and_would_catch_a_copied_sentence() -> None:
    sentences = sample_sentences()
    assert len(sentences) > 200  # every sample hearing's sentences are read
    assert {f for f, _ in sentences} >= {"ja_smoke", "en_month_end_close", "ja_blind_long"}
    # a copy with other punctuation, spacing or width is still caught
    _, sentence = next(x for x in sentences if "、" in x[1])
    copied = unicodedata.normalize("NFKC", sentence).replace("、", " , ")
    assert _norm(sentence) in _norm(f"### user\nQuote: {copied}\n")


def test_no_sample_sentence_is_a_prompt_example_a_cue_or_a_cue_test() -> None:
    guarded = {
        p.relative_to(ROOT).as_posix(): _norm(p.read_text(encoding="utf-8")) for p in GUARDED
    }
    leaks = [
        f"{folder}: {sentence!r} in {name}"
        for folder, sentence in sample_sentences()
        for name, text in guarded.items()
        if _norm(sentence) in text
    ]
    assert leaks == []
