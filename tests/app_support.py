"""Shared set-up for the app tests: a workspace on fakes, processed through the real pipeline."""

from __future__ import annotations

import json
from typing import Any

from pipeline import jobs
from pipeline.adapters.llm import Completion, Message
from pipeline.workspace import Workspace
from tests.conftest import SAMPLES, FakeChat, FakeSTT

SEGMENTS = [
    (0.0, 4.5, "経費精算の流れを教えてください。"),
    (5.0, 9.5, "申請者は楽楽精算で申請し、領収書の画像を添付します。"),
    (10.0, 14.5, "経理担当が毎朝、申請内容と領収書を照合します。"),
    (15.0, 19.5, "5万円を超える場合は部長の承認が必要です。"),
    (20.0, 24.5, "領収書をなくした場合は出金伝票を書いてもらいます。"),
    (25.0, 29.5, "最後に課長が振込を承認します。"),
]

EXTRACTION = {
    "items": [
        {"type": "task", "summary": "楽楽精算で申請する", "quote": "申請者は楽楽精算で申請し",
         "actor": "申請者"},
        {"type": "task", "summary": "申請内容と領収書を照合する",
         "quote": "経理担当が毎朝、申請内容と領収書を照合します", "actor": "経理担当",
         "frequency": "毎朝"},
        {"type": "judgment", "summary": "5万円を超える経費は部長承認",
         "quote": "5万円を超える場合は部長の承認が必要です", "condition": "5万円を超える",
         "outcome": "部長の承認", "decider": "部長"},
        {"type": "exception", "summary": "領収書紛失時は出金伝票",
         "quote": "領収書をなくした場合は出金伝票を書いてもらいます", "trigger": "領収書紛失",
         "handling": "出金伝票を書く"},
        {"type": "task", "summary": "課長が振込を承認する", "quote": "課長が振込を承認します",
         "actor": "課長"},
    ],
    "findings": [],
}  # fmt: skip

ANSWER = "5万円を超える経費は部長の承認が必要です。[J0001]"


class ScriptedChat(FakeChat):
    """Extraction calls (with a schema) get the extraction JSON; free-text calls the answer."""

    def __init__(self, answer: str = ANSWER, fail: Exception | None = None):
        super().__init__()
        self.answer = answer
        self.fail = fail

    def complete(
        self,
        messages: list[Message],
        schema: dict[str, Any] | None = None,
        max_tokens: int = 2048,
        top_logprobs: int = 0,
    ) -> Completion:
        if self.fail is not None:
            raise self.fail
        self.calls.append(messages)
        self.schemas.append(schema)
        if schema is None:
            text = self.answer
        elif schema.get("title") == "Label":
            sentence = messages[-1]["content"].rpartition("Sentence:")[2].strip()
            text = json.dumps({"label": label_of(sentence)})
        else:
            text = json.dumps(EXTRACTION, ensure_ascii=False)
        return Completion(text=text, prompt_tokens=10, completion_tokens=len(text))


def label_of(sentence: str) -> str:
    """The labels a careful annotator gives the sample sentences (classify design)."""
    if "なくした" in sentence or "紛失" in sentence:
        return "exception"
    if "場合" in sentence and ("超える" in sentence or "以上" in sentence):
        return "judgment"
    if sentence.endswith(("ます。", "します")) and "ください" not in sentence:
        return "task"
    return "none"


def fake_stt() -> FakeSTT:
    return FakeSTT(SEGMENTS)


def run_worker_inline(ws: Workspace) -> None:
    """What the detached worker does, in this process, on the fakes."""
    jobs.work(ws, idle_exit_s=0, poll_s=0)


def processed_workspace(ws: Workspace) -> str:
    """Import the smoke sample's audio and process it through the real stages on fakes."""
    iv = ws.import_audio(
        SAMPLES / "ja_smoke" / "audio.ogg", "経費精算ヒアリング", "経費精算", ["経理担当"], "ja"
    )
    jobs.enqueue(ws.store, iv.id)
    run_worker_inline(ws)
    return iv.id
