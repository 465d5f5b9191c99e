"""A tiny smoke of the evaluation harness, so it cannot rot (the real evaluation never runs here).

The data are written by these tests (a three-sentence process text in PET's format and a
five-row time-off table): nothing is copied from the external evaluation data. The chat model is
a fake that answers with raw text, so the real extraction, grounding, projection, scoring,
rule compilation and report code all run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from eval import pet, policy
from eval import report as rep
from eval.__main__ import TASKS, run_harness
from tests.conftest import FakeChat, echo_fields

# --------------------------------------------------------------------------- fixtures

PROCESS = [  # (token, POS) per sentence
    [
        ("The", "DT"),
        ("clerk", "NN"),
        ("checks", "VBZ"),
        ("the", "DT"),
        ("invoice", "NN"),
        (".", "."),
    ],
    [
        ("If", "IN"),
        ("the", "DT"),
        ("amount", "NN"),
        ("is", "VBZ"),
        ("high", "JJ"),
        (",", ","),
        ("the", "DT"),
        ("manager", "NN"),
        ("approves", "VBZ"),
        ("it", "PRP"),
        (".", "."),
    ],
    [
        ("Otherwise", "RB"),
        ("the", "DT"),
        ("clerk", "NN"),
        ("pays", "VBZ"),
        ("the", "DT"),
        ("invoice", "NN"),
        (".", "."),
    ],
]
MENTIONS = [
    ("Actor", [0, 1]),
    ("Activity", [2]),
    ("XOR Gateway", [6]),
    ("Condition Specification", [7, 8, 9, 10]),
    ("Actor", [12, 13]),
    ("Activity", [14]),
    ("XOR Gateway", [17]),
    ("Actor", [18, 19]),
    ("Activity", [20]),
]
FLOWS = [(1, 2), (2, 5), (2, 6), (6, 8)]


def pet_doc(doc_id: str) -> dict[str, Any]:
    tokens = [
        {"text": t, "indexInDocument": 0, "posTag": p, "sentenceIndex": s}
        for s, sent in enumerate(PROCESS)
        for t, p in sent
    ]
    for i, t in enumerate(tokens):
        t["indexInDocument"] = i
    return {
        "id": doc_id,
        "name": doc_id,
        "category": "",
        "text": " ".join(t["text"] for t in tokens),
        "tokens": tokens,
        "mentions": [{"type": k, "tokenDocumentIndices": ix} for k, ix in MENTIONS],
        "entities": [],
        "relations": [
            {"headMentionIndex": h, "tailMentionIndex": t, "type": "flow"} for h, t in FLOWS
        ],
    }


POLICY_TEXT = (
    "Holidays\n"
    "Regular full-time employees receive eight fixed holidays per year.\n"
    "Employees on other contracts receive no fixed holidays.\n"
)
TABLE_HEADER = (
    "name,employment_type,hire_date,supplemental,request_date,years_of_service,fixed_holidays,"
    "personal_choice_holidays,vacation_weeks,pst_hours,total_time_off_days"
)
TABLE_ROWS = [
    "A,regular full-time,2010-01-01,False,2024-01-01,14,8,0,0,0.0,8.0",
    "B,regular full-time,2020-01-01,False,2024-01-01,4,8,0,0,0.0,8.0",
    "C,part-time,2020-01-01,False,2024-01-01,4,0,0,0,0.0,0.0",
    "D,contractor,2020-01-01,False,2024-01-01,4,0,0,0,0.0,0.0",
    "E,regular full-time,2023-06-01,False,2024-01-01,0,8,0,0,48.0,14.0",
]


@pytest.fixture
def eval_data(tmp_path: Path) -> Path:
    root = tmp_path / "eval-data"
    (root / "pet").mkdir(parents=True)
    docs = [pet_doc("doc-train-1"), pet_doc("doc-train-2"), pet_doc("doc-test")]
    (root / "pet" / "all.new.jsonl").write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    folds = [{"train": ["doc-train-1", "doc-train-2"], "test": ["doc-test"]}]
    (root / "pet" / "folds.json").write_text(json.dumps(folds))
    (root / "pet" / "SOURCE.txt").write_text("Dataset: tiny test process\nLicense: test only\n")
    hr = root / "policy_corpus" / "human-resources"
    hr.mkdir(parents=True)
    (hr / "acme_time_off.txt").write_text(POLICY_TEXT)
    (hr / "acme_time_off_decisions_1000.csv").write_text(
        "\n".join([TABLE_HEADER, *TABLE_ROWS]) + "\n"
    )
    return root


COMPILED = json.dumps(
    {
        "outputs": {
            "fixed_holidays": {
                "cases": [
                    {"if": "__import__('os').system('echo pwned')", "then": 99},
                    {"if": "employment_type == 'regular full-time'", "then": 8},
                ],
                "default": 0,
            },
            "personal_choice_holidays": {"cases": [], "default": 0},
            "vacation_weeks": {"cases": [], "default": 0},
            "pst_hours": {"cases": [], "default": 0},
        }
    }
)
ROWS = json.dumps(
    {
        "rows": [
            {
                "output": "fixed_holidays",
                "value": 8,
                "when": [{"field": "employment_type", "op": "==", "value": "regular"}],
            }
        ]
    }
)
ROWS_BAD = ROWS.replace('"=="', '">"')
LABELS = {  # sentence start -> the label a good model would give
    "The clerk checks": "task",
    "If the amount": "judgment",
    "Otherwise the clerk pays": "task",
    "Regular full-time employees": "judgment",
}


class RoutingChat(FakeChat):
    """Answers by what is asked: a sentence label for extraction, or the compiled rules."""

    def complete(
        self, messages: Any, schema: Any = None, max_tokens: int = 2048, top_logprobs: int = 0
    ) -> Any:
        last = messages[-1]["content"]
        system = messages[0]["content"]
        if "executable decision logic" in system:
            self.responses = [COMPILED]
        elif "into decision rows" in system:
            # the first answer compares a categorical field with ">": refused, then re-asked
            self.responses = [ROWS_BAD if len(messages) == 2 else ROWS]
        elif "which output of a decision table" in system:
            self.responses = ["A"]
        elif "cover a kind of request" in system:
            self.responses = ["A" if "is 'regular full-time'" in last else "B"]
        elif (schema or {}).get("title", "Label") != "Label":  # a fields call
            self.responses = [echo_fields(schema["title"], last.split("Quote: ")[-1])]
        elif "Sentence:" in last:
            sentence = last.split("Sentence:", 1)[1].strip()
            label = next((v for k, v in LABELS.items() if sentence.startswith(k)), "none")
            answer = json.dumps({"label": label})
            # the first label is malformed once, so the re-ask path runs too
            self.responses = ["label: task"] if not self.calls else [answer]
            if self.responses == ["label: task"]:
                self.responses.append(answer)
        return super().complete(messages, schema, max_tokens)


def metric(section: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in section["metrics"] if m["name"] == name)


# --------------------------------------------------------------------------- tests


def test_harness_smoke_scores_pet_and_policy_and_writes_reports(
    eval_data: Path, tmp_path: Path
) -> None:
    chat = RoutingChat()
    out = tmp_path / "reports"
    report = run_harness("smoke", eval_data, "pet,policy", out, tmp_path / "work", {"llm": chat})

    by_task = {s["task"]: s for s in report["sections"]}
    assert by_task["extraction/pet"]["status"] == "ok"
    pet_s = by_task["extraction/pet"]
    # all three gold activities, exact: the two tasks, and "approves" on the judgment's branch
    # (its row read off "If ..., ..." where the model gave none, ``structure.grammar_rows``)
    assert metric(pet_s, "activity->task F1 (strict)")["value"] == pytest.approx(1.0)
    assert metric(pet_s, "activity->task F1 (strict)")["baseline"] == pet.PUBLISHED_F1["Activity"]
    for name in (
        "actor->role F1 (strict)",
        "XOR gateway->judgment F1 (strict)",
        "flow->task order F1 (strict)",
    ):
        value = metric(pet_s, name)["value"]
        assert value is None or 0.0 <= value <= 1.0
    assert pet_s["config"]["documents"] == ["doc-test"]  # held-out fold only

    pol = by_task["extraction/policy"]
    acc = metric(pol, "time-off decision accuracy (all 4 outputs)")
    assert acc["value"] == pytest.approx(0.8)  # the pro-rated sick-time row is missed
    assert acc["baseline"] == pytest.approx(0.4)  # majority decision
    designs = pol["details"]["time-off"]["designs"]
    assert any("Call" in e for e in designs["python / extracted"]["errors"])  # unsafe: refused
    assert metric(pol, "  time-off, design python / extracted")["value"] == pytest.approx(0.8)
    rows = designs["rows / extracted"]
    assert rows["rows"][0]["when"] == ["employment_type == regular full time"]  # re-asked
    assert rows["out_of_scope"] == {"employment_type": ["contractor", "part time"]}
    rows_call = next(c for c in chat.calls if "into decision rows" in c[0]["content"])
    assert "Section: Holidays" in rows_call[-1]["content"]  # the rule with its section title
    compile_call = next(c for c in chat.calls if "executable" in c[0]["content"])
    assert "Regular full-time employees receive" in compile_call[-1]["content"]
    assert "Employees on other contracts" not in compile_call[-1]["content"]  # rules, not text

    jpath, mpath = (Path(p) for p in report["paths"])
    saved = json.loads(jpath.read_text())
    assert saved["environment"]["machine"]["cores"]
    assert any("tiny test process" in d for d in saved["datasets"])
    md = mpath.read_text()
    assert (
        "| extraction/policy | time-off decision accuracy (all 4 outputs) | 0.800 | 0.400 |" in md
    )
    assert "activity->task F1 (strict)" in rep.console_table(report)
    summary = rep.summary_markdown(saved)
    assert summary.startswith("## Summary")
    assert "| extraction/pet | activity->task F1 (strict) | 1.000 | 0.822 |" in summary


def test_pet_strict_rule_and_lenient_overlap_on_known_elements(eval_data: Path) -> None:
    """Scoring alone, on hand-made elements: the PET rule counts exact token spans only."""
    from pipeline.models import Alignment, Evidence, Judgment, RuleRow, Task

    docs = pet.load_pet(eval_data)
    doc = docs["doc-test"]
    text = pet.to_transcript(doc).text

    def ev(quote: str) -> list[Evidence]:
        start = text.index(quote)
        return [
            Evidence(
                quote=quote,
                char_start=start,
                char_end=start + len(quote),
                alignment=Alignment.EXACT,
            )
        ]

    elements = [
        Task(
            summary="Check the invoice",
            action="Check the invoice",
            actor="the clerk",
            evidence=ev("The clerk checks the invoice"),
        ),
        Task(
            summary="Pay the invoice",
            action="Pay the invoice",
            actor="clerk",
            evidence=ev("Otherwise the clerk pays the invoice"),
        ),
        Judgment(
            summary="Manager approves high amounts",
            decider="the manager",
            rules=[RuleRow(condition="the amount is high", outcome="manager approves")],
            evidence=ev("If the amount is high , the manager approves it"),
        ),
    ]
    cues = pet.gateway_cues([docs["doc-train-1"], docs["doc-train-2"]])
    scores = pet.score_doc(doc, pet.project(doc, elements, cues))
    f1 = {k: round(v["strict"].f1, 3) for k, v in scores.items()}
    assert f1 == {
        "Activity": 1.0,  # "approves", the judgment's outcome, is the third activity
        "Actor": 0.667,
        "XOR Gateway": 0.667,
        "Condition Specification": 1.0,
        "flow": 0.667,
    }
    # "clerk" is not the gold span "the clerk": wrong when strict, right when overlapping
    assert round(scores["Actor"]["lenient"].f1, 3) == 1.0


def _pet_doc(doc_id: str, words: str, activities: list[tuple[int, ...]]) -> pet.PetDoc:
    """A one-sentence PET document; tags: VB* for words ending in -s, RP for 'up', else NN."""
    tokens = words.split()
    pos = [
        "RP" if w == "up" else "VBZ" if w.endswith("s") and i > 1 else "NN"
        for i, w in enumerate(tokens)
    ]
    return pet.PetDoc(
        id=doc_id,
        tokens=tokens,
        pos=pos,
        sentence=[0] * len(tokens),
        mentions=[("Activity", a) for a in activities],
        relations=[],
    )


def test_pet_phrasal_verb_particles_are_learned_from_training_gold_only() -> None:
    # in training gold "backs up" is one activity three times of three: the particle joins
    train = [_pet_doc(f"t{i}", "the clerk backs up the file", [(2, 3)]) for i in range(3)]
    particles = pet.verb_particles(train)
    assert "pos:RP" in particles
    # seen only twice: not enough to learn from
    assert pet.verb_particles(train[:2]) == frozenset()
    # a particle that training gold keeps outside the mention is not joined
    apart = [_pet_doc(f"a{i}", "the clerk backs up the file", [(2,)]) for i in range(3)]
    assert pet.verb_particles(apart) == frozenset()
    doc = _pet_doc("d", "the clerk backs up the file", [(2, 3)])
    assert pet._mention_at(doc, 2, particles) == (2, 3)
    assert pet._mention_at(doc, 2, frozenset()) == (2,)
    # the same-run verb baseline is projected the same way
    assert pet.verb_baseline(doc, particles).items["Activity"][0][0] == (2, 3)


def test_pet_actor_openers_are_learned_from_training_gold_and_open_the_located_role() -> None:
    from pipeline.models import Task

    def actor_doc(doc_id: str, actor: tuple[int, ...]) -> pet.PetDoc:
        doc = _pet_doc(doc_id, "the clerk files the form", [(2,)])
        doc.pos[0] = doc.pos[3] = "DT"
        doc.mentions.append(("Actor", actor))
        return doc

    # training gold opens the actor mention with its article three times of three
    openers = pet.actor_openers([actor_doc(f"t{i}", (0, 1)) for i in range(3)])
    assert {"pos:DT", "word:the"} <= openers
    # gold that leaves the article outside the mention teaches nothing
    assert pet.actor_openers([actor_doc(f"a{i}", (1,)) for i in range(3)]) == frozenset()
    # the task's role ("clerk") is located, then opened with the learned article
    doc = actor_doc("d", (0, 1))
    task = Task(id="T0001", summary="files the form", actor="clerk")
    opened = pet.project(doc, [task], [], openers=openers).items["Actor"]
    assert [m for m, _ in opened] == [(0, 1)]
    assert [m for m, _ in pet.project(doc, [task], []).items["Actor"]] == [(1,)]


def test_pet_an_exception_is_a_branch_its_trigger_a_condition() -> None:
    from pipeline.models import Evidence, Exception_

    doc = _pet_doc("x", "if the form is late the clerk calls", [(6,)])
    text = pet.to_transcript(doc).segments[0].text  # also sets the tokens' character spans
    evidence = [Evidence(quote=text, char_start=0, char_end=len(text), alignment="exact")]
    exc = Exception_(
        id="X0001", summary="late", trigger="the form is late", handling="calls", evidence=evidence
    )
    pred = pet.project(doc, [exc], [("if",)])
    assert [m for m, _ in pred.items["XOR Gateway"]] == [(0,)]
    assert [m for m, _ in pred.items["Condition Specification"]] == [(1, 2, 3, 4)]
    # a handling of two steps is two activities on the branch
    doc = _pet_doc("y", "if the form is late the clerk calls and writes", [(6,), (8,)])
    text = pet.to_transcript(doc).segments[0].text
    evidence = [Evidence(quote=text, char_start=0, char_end=len(text), alignment="exact")]
    exc = exc.model_copy(update={"handling": "calls and writes", "evidence": evidence})
    pred = pet.project(doc, [exc], [("if",)])
    assert sorted(m for m, _ in pred.items["Activity"]) == [(7,), (9,)]


def test_a_failing_or_missing_task_does_not_stop_the_report(
    eval_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "boom_task.py").write_text(
        "def run(ctx):\n    raise RuntimeError('model endpoint unreachable')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "mods"))
    tasks = {"boom": "boom_task", "later": "eval_task_not_written_yet", "policy": "eval.policy"}
    report = run_harness(
        "smoke", eval_data, None, tmp_path / "r", tmp_path / "w", {"llm": RoutingChat()}, tasks
    )
    status = {s["task"]: (s["status"], s.get("error", "")) for s in report["sections"]}
    assert status["boom"] == ("error", "RuntimeError: model endpoint unreachable")
    assert status["later"][0] == "not present"
    assert status["extraction/policy"][0] == "ok"
    md = Path(report["paths"][1]).read_text()
    assert "model endpoint unreachable" in md


def test_every_present_task_module_exposes_run() -> None:
    import importlib

    for name, module in TASKS.items():
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name == module:
                continue  # not written yet
            raise
        assert callable(getattr(mod, "run", None)), f"{name}: {module}.run is missing"


def test_policy_conditions_reject_anything_but_comparisons() -> None:
    with pytest.raises(ValueError):
        policy.compile_condition("open('/etc/passwd').read()")
    with pytest.raises(ValueError):
        policy.compile_condition("salary > 3")  # not an input field
    code = policy.compile_condition("hire_date < '2004-01-01' and years_of_service >= 20")
    row = {
        "employment_type": "x",
        "supplemental": False,
        "hire_date": "2003-05-01",
        "request_date": "2024-01-01",
        "years_of_service": 21,
    }
    assert eval(code, {"__builtins__": {}}, row) is True


def test_bench_extraction_speed_and_first_token_on_the_smoke_sample(tmp_path: Path) -> None:
    from eval import bench
    from eval.common import EvalContext

    ctx = EvalContext(data_dir=tmp_path, quick=True, smoke=True, work_dir=tmp_path)
    chat = FakeChat(default=json.dumps({"label": "task"}))
    metrics, details = bench.extraction_speed(ctx, chat)
    assert details["ja_smoke"]["audio_minutes"] > 0.5  # the 35-second sample
    assert details["ja_smoke"]["elements"] > 0
    assert metrics[0].value is not None and metrics[0].value >= 0
    metrics, details = bench.first_token(ctx, FakeChat(default="基本は課長が承認します。[T3]"))
    assert metrics[0].name.startswith("assistant time to first answer token")
    assert 0 <= details["ttft_s"][0] <= details["total_s"][0]
    assert bench.proc_hwm_mib(os.getpid()) is not None


def test_cached_rerun_costs_no_model_calls(eval_data: Path, tmp_path: Path) -> None:
    from pipeline.store import Store

    store = Store(f"sqlite:///{tmp_path / 'cache.db'}")
    first = RoutingChat()
    run_harness("smoke", eval_data, "pet", None, tmp_path / "w", {"llm": first, "store": store})
    again = RoutingChat()
    report = run_harness(
        "smoke", eval_data, "pet", None, tmp_path / "w", {"llm": again, "store": store}
    )
    assert first.calls and not again.calls
    pet_s = report["sections"][0]
    assert metric(pet_s, "activity->task F1 (strict)")["value"] == pytest.approx(1.0)
    store.close()
