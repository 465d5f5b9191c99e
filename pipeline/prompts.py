"""Prompts are files in ``prompts/``; this is the one loader.

A prompt file has a header (``name``, ``version``) between ``---`` lines, then sections
``### system`` and ``### user`` (optionally ``### assistant`` for few-shot turns, repeated).
``{{variable}}`` placeholders are filled by :func:`render`, which fails loudly on a missing or
unused variable, so a prompt and its caller cannot drift apart silently.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .errors import ShikumiError

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
_VAR = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
_SECTION = re.compile(r"^### (system|user|assistant)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    messages: tuple[tuple[str, str], ...]  # (role, template)

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def fingerprint(self) -> str:
        """A short hash of the prompt's text. Answers are cached under :attr:`id`, so a text
        edited without a new version would be answered from the old text's cache
        (``prompts/versions.json`` records each version's fingerprint; a test compares)."""
        text = json.dumps(self.messages, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def variables(self) -> set[str]:
        return {v for _, t in self.messages for v in _VAR.findall(t)}

    def render(self, **values: str) -> list[dict[str, str]]:
        missing = self.variables - set(values)
        extra = set(values) - self.variables
        if missing or extra:
            raise ShikumiError(
                f"Prompt {self.id}: missing variables {sorted(missing)}, unused {sorted(extra)}.",
                "Fix the caller or the prompt file so that they agree.",
            )
        return [
            {"role": role, "content": _VAR.sub(lambda m: str(values[m.group(1)]), text).strip()}
            for role, text in self.messages
        ]


def available() -> list[str]:
    return sorted(p.stem for p in PROMPTS_DIR.glob("*.md") if p.stem.upper() != "README")


@cache
def load_prompt(name: str) -> Prompt:
    path = PROMPTS_DIR / f"{name}.md"
    if not path.exists():
        raise ShikumiError(f"Prompt file {path} not found.", f"Available: {', '.join(available())}")
    raw = path.read_text(encoding="utf-8")
    m = re.match(r"^---\n(.*?)\n---\n", raw, re.DOTALL)
    if not m:
        raise ShikumiError(
            f"{path} has no '---' header.", "Add name and version between --- lines."
        )
    header = dict(line.split(":", 1) for line in m.group(1).splitlines() if ":" in line)
    body = raw[m.end() :]
    parts = _SECTION.split(body)
    messages = tuple((parts[i], parts[i + 1]) for i in range(1, len(parts) - 1, 2))
    if not messages:
        raise ShikumiError(f"{path} has no ### system / ### user sections.", "Add them.")
    return Prompt(
        name=header.get("name", name).strip(),
        version=header.get("version", "0").strip(),
        messages=messages,
    )
