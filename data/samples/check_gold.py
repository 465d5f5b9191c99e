"""Validate the sample hearings: script.json, gold.json and (if generated) reference.txt/turns.json.

    python data/samples/check_gold.py            # all folders; exit status 1 on any error

Standard library only. Checks that every gold ``quote`` is an exact substring of exactly one
turn's text, that ids are unique and ``concerns`` point at existing elements, that the fields
of each kind are present with allowed values, and that each hearing covers what it is meant to
(tasks, stated and unstated/absent judgments, a routine exception, several finding kinds).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEAKERS = {"interviewer", "interviewee"}
FINDING_KINDS = {
    "unnecessary_task",
    "routine_exception",
    "judgment_without_rule",
    "person_dependency",
    "approval_route_varies",
    "oral_only_criterion",
    "precedent_following",
}
FIELDS = {
    "task": {
        "id",
        "kind",
        "summary",
        "quote",
        "actor",
        "inputs",
        "outputs",
        "systems",
        "frequency",
        "order",
    },
    "judgment": {"id", "kind", "summary", "quote", "decision", "rules", "decider", "criterion"},
    "exception": {
        "id",
        "kind",
        "summary",
        "quote",
        "trigger",
        "handling",
        "owner",
        "frequency",
        "is_routine",
    },
}
FINDING_FIELDS = {"id", "kind", "summary", "quote", "concerns"}
# minimum content per hearing; "smoke" is the short end-to-end excerpt
MINIMUM = {
    "full": {"task": 5, "judgment": 3, "exception": 3, "finding_kinds": 3},
    "smoke": {"task": 1, "judgment": 1, "exception": 1, "finding_kinds": 0},
}


def check_folder(folder: Path) -> list[str]:
    errors: list[str] = []
    err = errors.append
    script = json.loads((folder / "script.json").read_text(encoding="utf-8"))
    for key in (
        "title",
        "business_area",
        "language",
        "interviewee_roles",
        "date",
        "speakers",
        "turns",
    ):
        if key not in script:
            err(f"script.json: missing {key}")
    if script.get("language") not in ("ja", "en"):
        err("script.json: language must be ja or en")
    texts = [t["text"] for t in script["turns"]]
    for i, t in enumerate(script["turns"]):
        if t.get("speaker") not in SPEAKERS:
            err(f"script.json: turn {i} has speaker {t.get('speaker')!r}")
        if "\n" in t["text"]:
            err(f"script.json: turn {i} contains a newline")

    gold = json.loads((folder / "gold.json").read_text(encoding="utf-8"))
    elements, findings = gold["elements"], gold["findings"]
    ids = [e["id"] for e in elements] + [f["id"] for f in findings]
    if len(ids) != len(set(ids)):
        err(f"gold.json: duplicate ids {sorted({i for i in ids if ids.count(i) > 1})}")
    element_ids = {e["id"] for e in elements}

    def check_quote(item: dict) -> None:
        q = item.get("quote", "")
        hits = [i for i, t in enumerate(texts) if q and q in t]
        if len(hits) != 1:
            err(f"gold.json: {item['id']} quote found in {len(hits)} turns: {q!r}")
        elif q == texts[hits[0]] and len(q) > 60:
            err(f"gold.json: {item['id']} quote is a whole long turn; quote the clause")

    for e in elements:
        kind = e.get("kind")
        if kind not in FIELDS:
            err(f"gold.json: {e.get('id')} has kind {kind!r}")
            continue
        if set(e) != FIELDS[kind]:
            err(
                f"gold.json: {e['id']} fields differ: missing {sorted(FIELDS[kind] - set(e))}, "
                f"extra {sorted(set(e) - FIELDS[kind])}"
            )
        check_quote(e)
        if kind == "judgment":
            if e["criterion"] not in ("stated", "unstated", "absent"):
                err(f"gold.json: {e['id']} criterion {e['criterion']!r}")
            if e["criterion"] == "stated" and not e["rules"]:
                err(f"gold.json: {e['id']} is stated but has no rules")
            for r in e["rules"]:
                if set(r) != {"condition", "outcome"}:
                    err(f"gold.json: {e['id']} rule fields {sorted(r)}")
        if kind == "exception" and not isinstance(e["is_routine"], bool):
            err(f"gold.json: {e['id']} is_routine must be a boolean")
    for f in findings:
        if set(f) != FINDING_FIELDS:
            err(f"gold.json: {f['id']} fields {sorted(f)}")
        if f.get("kind") not in FINDING_KINDS:
            err(f"gold.json: {f['id']} has finding kind {f.get('kind')!r}")
        check_quote(f)
        for c in f.get("concerns", []):
            if c not in element_ids:
                err(f"gold.json: {f['id']} concerns unknown element {c}")

    # coverage
    need = MINIMUM["smoke" if folder.name.endswith("smoke") else "full"]
    count = {k: sum(e["kind"] == k for e in elements) for k in FIELDS}
    for k in FIELDS:
        if count[k] < need[k]:
            err(f"coverage: {count[k]} {k}s < {need[k]}")
    judgments = [e for e in elements if e["kind"] == "judgment"]
    if not any(j["criterion"] == "stated" for j in judgments):
        err("coverage: no judgment with a stated criterion")
    if need["finding_kinds"]:
        if not any(j["criterion"] in ("unstated", "absent") for j in judgments):
            err("coverage: no judgment with an unstated/absent criterion")
        if not any(e["kind"] == "exception" and e["is_routine"] for e in elements):
            err("coverage: no routine exception")
        kinds = {f["kind"] for f in findings}
        if len(kinds) < need["finding_kinds"]:
            err(f"coverage: only {len(kinds)} finding kinds")

    # generated files, when present
    ref = folder / "reference.txt"
    if ref.exists() and ref.read_text(encoding="utf-8").splitlines() != texts:
        err("reference.txt does not match the turn texts (re-run synthesize.py)")
    tj = folder / "turns.json"
    if tj.exists():
        turns = json.loads(tj.read_text(encoding="utf-8"))
        if [t["speaker"] for t in turns] != [t["speaker"] for t in script["turns"]]:
            err("turns.json speakers do not match script.json (re-run synthesize.py)")
        last = 0.0
        for t in turns:
            if not last <= t["start"] < t["end"]:
                err(f"turns.json: bad times {t}")
            last = t["end"]
    if not (folder / "audio.ogg").exists():
        err("audio.ogg missing (run synthesize.py)")
    return errors


def main(argv: list[str] | None = None) -> int:
    names = argv if argv is not None else sys.argv[1:]
    folders = (
        [HERE / n for n in names] if names else sorted(p.parent for p in HERE.glob("*/gold.json"))
    )
    failed = False
    for folder in folders:
        errors = check_folder(folder)
        gold = json.loads((folder / "gold.json").read_text(encoding="utf-8"))
        kinds = [e["kind"] for e in gold["elements"]]
        print(
            f"{folder.name}: {kinds.count('task')} tasks, {kinds.count('judgment')} judgments, "
            f"{kinds.count('exception')} exceptions, {len(gold['findings'])} findings "
            f"({len({f['kind'] for f in gold['findings']})} kinds) - "
            f"{'OK' if not errors else 'ERRORS'}"
        )
        for e in errors:
            print(f"  {e}")
        failed |= bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
