"""The project's own sample hearings (``data/samples``): scripts, gold annotations, audio."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "data" / "samples"
# Held out for extraction tuning (data/samples/README.md): not loaded into the demo app, so
# nobody tuning extraction reads them there, and `samples load` stays a three-hearing job.
HELD_OUT = frozenset(
    {
        "ja_payroll",
        "en_accounts_payable",
        "ja_general_affairs",
        # the blind sets (data/samples/BLIND.md): reported separately, never read while tuning
        *(p.name for p in SAMPLES_DIR.glob("*_blind*") if p.is_dir()),
        # dev set 3: evaluation data for extraction, not demo material
        *(p.name for p in SAMPLES_DIR.glob("*_dev3_*") if p.is_dir()),
        # new-user trials: audio and operator questions without gold
        *(p.name for p in SAMPLES_DIR.glob("trial_*") if p.is_dir()),
    }
)


@dataclass(frozen=True)
class Sample:
    slug: str
    folder: Path
    script: dict[str, Any]

    @property
    def audio(self) -> Path:
        return self.folder / "audio.ogg"

    @property
    def title(self) -> str:
        return str(self.script.get("title", self.slug))

    @property
    def language(self) -> str:
        return str(self.script.get("language", "ja"))

    @property
    def business_area(self) -> str:
        return str(self.script.get("business_area", ""))

    @property
    def roles(self) -> list[str]:
        return list(self.script.get("interviewee_roles", []))

    @property
    def interview_date(self) -> date | None:
        raw = self.script.get("date")
        return date.fromisoformat(raw) if raw else None

    def gold(self) -> dict[str, Any]:
        return dict(json.loads((self.folder / "gold.json").read_text(encoding="utf-8")))

    def reference(self) -> str:
        return (self.folder / "reference.txt").read_text(encoding="utf-8")


def list_samples(
    root: Path = SAMPLES_DIR, include_smoke: bool = False, include_held_out: bool = False
) -> list[Sample]:
    out = []
    for script in sorted(root.glob("*/script.json")):
        slug = script.parent.name
        if slug.endswith("smoke") and not include_smoke:
            continue
        if slug in HELD_OUT and not include_held_out:
            continue
        if (script.parent / "audio.ogg").exists():
            out.append(Sample(slug, script.parent, json.loads(script.read_text(encoding="utf-8"))))
    return out


def get_sample(slug: str, root: Path = SAMPLES_DIR) -> Sample:
    folder = root / slug
    return Sample(slug, folder, json.loads((folder / "script.json").read_text(encoding="utf-8")))
