"""Every prompt file renders; a missing or unused variable fails loudly."""

from __future__ import annotations

import pytest

from pipeline.errors import ShikumiError
from pipeline.prompts import available, load_prompt


@pytest.mark.parametrize("name", available())
def test_every_prompt_renders(name: str) -> None:
    prompt = load_prompt(name)
    assert prompt.version and prompt.version != "0", f"{name} has no version"
    messages = prompt.render(**{v: f"<{v}>" for v in prompt.variables})
    assert messages[0]["role"] == "system"
    assert messages[-1]["role"] == "user"
    for m in messages:
        assert m["role"] in ("system", "user", "assistant")
        assert m["content"].strip()
        assert "{{" not in m["content"], f"{name}: placeholder left in {m['content'][:80]}"
    for v in prompt.variables:
        assert any(f"<{v}>" in m["content"] for m in messages)


def test_missing_variable_is_an_error_that_names_it() -> None:
    prompt = load_prompt("extract_classify")
    with pytest.raises(ShikumiError, match="sentence"):
        prompt.render(context="")


def test_classify_prompt_examples_are_valid_labels() -> None:
    from pipeline.extract import Label

    prompt = load_prompt("extract_classify")
    answers = [t for role, t in prompt.messages if role == "assistant"]
    assert len(answers) >= 8
    labels = {Label.model_validate_json(a).label for a in answers}
    assert labels == {"task", "judgment", "exception", "none"}


def test_a_prompt_text_changes_only_with_its_version() -> None:
    """Model answers are cached by prompt name and version: an edited text must get a new
    version, or the old text's answers are served for it."""
    import json

    from pipeline.prompts import PROMPTS_DIR

    recorded = json.loads((PROMPTS_DIR / "versions.json").read_text("utf-8"))
    for name in available():
        p = load_prompt(name)
        assert p.id in recorded, (
            f'{p.id} is not in prompts/versions.json: add "{p.id}": "{p.fingerprint}" '
            "(and drop the old version's line)"
        )
        assert recorded[p.id] == p.fingerprint, (
            f"prompts/{name}.md changed but kept version {p.version}: raise its version, "
            "then record the new fingerprint in prompts/versions.json"
        )
