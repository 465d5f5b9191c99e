"""The Streamlit app, page by page, through streamlit.testing.v1.AppTest.

The app runs on a tmp workspace built on the honest fakes (FakeSTT, ScriptedChat,
FakeEmbedder); the background worker is replaced by the same job loop run in-process, so
every button below goes through the real pipeline and changes the real database.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

import ui.state
from pipeline import jobs
from pipeline.errors import LLMError
from pipeline.models import InterviewStatus, JobStatus, ReviewStatus, SegmentFlag, utcnow
from pipeline.workspace import Workspace
from tests.app_support import (
    ScriptedChat,
    fake_stt,
    processed_workspace,
    run_worker_inline,
)
from tests.conftest import SAMPLES, FakeEmbedder

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def app_env(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Point the app at a tmp workspace on fakes; return a factory for the workspace."""
    monkeypatch.setenv("SHIKUMI_WORKSPACE", str(settings.workspace))
    made: list[Workspace] = []
    started: list[Workspace] = []

    def make(chat: ScriptedChat | None = None, worker: bool = True) -> Workspace:
        ws = Workspace(settings, llm=chat or ScriptedChat(), stt=fake_stt(), embed=FakeEmbedder())
        made.append(ws)
        monkeypatch.setattr(ui.state, "WORKSPACE_OVERRIDE", ws)

        def start(w: Workspace) -> None:
            started.append(w)
            if worker:
                run_worker_inline(w)

        monkeypatch.setattr(ui.state, "start_worker", start)
        return ws

    make.started = started  # type: ignore[attr-defined]
    yield make
    for ws in made:
        ws.close()


def open_page(name: str, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    if name != "hearings":
        at.switch_page(f"ui/pages/{name}.py")
    at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for e in at.error] + [i.value for i in at.info]
    parts += [w.value for w in at.warning] + [s.value for s in at.success]
    return "\n".join(str(p) for p in parts)


def button(at: AppTest, label: str, nth: int = 0) -> Any:
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r} in {[b.label for b in at.button]}"
    return matches[nth]


# --------------------------------------------------------------------------- hearings


def test_hearings_page_shows_processed_hearing(app_env: Any) -> None:
    ws = app_env()
    processed_workspace(ws)
    at = open_page("hearings")
    assert at.title[0].value == "ヒアリング"
    assert "経費精算ヒアリング" in texts(at)
    assert re.search(r"要素 [1-9]\d* 件", texts(at))
    assert any(b.label == "文字起こしを開く" for b in at.button)


def test_live_progress_cancel_and_retry(app_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = app_env(worker=False)
    monkeypatch.setattr(jobs, "worker_alive", lambda _workspace: True)  # a worker is busy
    iv = ws.import_audio(SAMPLES / "ja_smoke" / "audio.ogg", "進行中のヒアリング")
    job = jobs.enqueue(ws.store, iv.id)
    job.status, job.started_at = JobStatus.RUNNING, utcnow()
    job.progress, job.message = 0.2, "transcribing 1.0/3.0 min"
    ws.store.save_job(job)

    at = open_page("hearings")
    progress = at.get("progress")[0].proto
    assert "文字起こし中 1.0/3.0 分" in progress.text and "残り約" in progress.text
    button(at, "中止").click().run()
    assert ws.store.get_job(job.id).status == JobStatus.CANCELLED

    button(at, "再試行").click().run()
    assert not at.exception
    queued = ws.store.list_jobs(JobStatus.QUEUED)
    assert len(queued) == 1 and queued[0].interview_id == iv.id
    assert app_env.started, "retrying must make sure a worker runs"


def test_bad_upload_is_kept_explained_and_retryable(app_env: Any) -> None:
    from ui.actions import import_uploads

    ws = app_env()

    class Up:
        def __init__(self, name: str, data: bytes):
            self.name, self.data = name, data

        def getvalue(self) -> bytes:
            return self.data

    good = Up("smoke.ogg", (SAMPLES / "ja_smoke" / "audio.ogg").read_bytes())
    bad = Up("broken.wav", b"RIFF not really audio")
    queued, errors = import_uploads(ws, [good, bad], "月次", "経費精算", ["経理担当"])
    assert [i.title for i in queued] == ["月次 (1)"]
    assert errors[0][0] == "broken.wav" and "broken.wav" in errors[0][1].message
    failed = [i for i in ws.store.list_interviews() if i.status == InterviewStatus.FAILED]
    assert len(failed) == 1
    assert ws.audio_file(failed[0]).read_bytes() == bad.data  # the original is kept

    at = open_page("hearings")
    shown = texts(at)
    assert "broken.wav" in shown and "対処方法" in shown  # the message and what to do
    before = len(ws.store.list_jobs())
    button(at, "再試行").click().run()
    assert len(ws.store.list_jobs()) == before + 1  # retried (and failed again, with the reason)
    assert ws.store.list_jobs()[-1].status == JobStatus.FAILED
    assert "broken.wav" in (ws.store.list_jobs()[-1].error or "")


# --------------------------------------------------------------------------- transcript


def test_transcript_play_rename_and_reextract(app_env: Any) -> None:
    ws = app_env()
    iid = processed_workspace(ws)
    at = open_page("transcript")
    assert at.title[0].value == "文字起こし"
    assert "5万円を超える場合は部長の承認が必要です。" in texts(at)
    button(at, "0:15").click().run()
    audio = at.get("audio")[0].proto
    assert audio.start_time == 15

    at.toggle(key="tr_edit").set_value(True).run()
    at.text_input(key="rn_new").set_value("経理の佐藤さん")
    button(at, "変更").click().run()
    assert not at.exception
    segs = ws.store.get_transcript(iid).segments  # type: ignore[union-attr]
    renamed = [s for s in segs if s.speaker == "経理の佐藤さん"]
    assert renamed and all(SegmentFlag.EDITED in s.flags for s in renamed)

    # a text correction (made in the editor; the same function the page calls), then re-extract
    from ui.actions import save_corrections

    tr = ws.store.get_transcript(iid)
    assert tr is not None
    rows = [{"id": x.id, "speaker": x.speaker, "text": x.text} for x in tr.segments]
    rows[3]["text"] = "10万円を超える場合は部長の承認が必要です。"
    assert save_corrections(ws, tr, rows) == 1
    at.run()
    button(at, "修正を反映して再抽出").click().run()
    assert not at.exception
    prompts = json.dumps(ws.llm().calls, ensure_ascii=False)  # type: ignore[attr-defined]
    assert "10万円を超える場合" in prompts  # the model saw the corrected transcript
    quotes = [ev.quote for e in ws.store.list_elements(iid) for ev in e.evidence]
    assert any("10万円" in q for q in quotes)


def test_save_corrections_marks_segments_edited(app_env: Any) -> None:
    from ui.actions import save_corrections

    ws = app_env()
    iid = processed_workspace(ws)
    tr = ws.store.get_transcript(iid)
    assert tr is not None
    rows = [{"id": s.id, "speaker": s.speaker, "text": s.text} for s in tr.segments]
    rows[3]["text"] = "5万円を超える場合は部長の決裁が必要です。"
    rows[4]["text"] = ""  # emptied: ignored, it would shift later evidence spans
    assert save_corrections(ws, tr, rows) == 1
    seg = ws.store.get_transcript(iid).segments[3]  # type: ignore[union-attr]
    assert seg.text.endswith("決裁が必要です。") and SegmentFlag.EDITED in seg.flags


# --------------------------------------------------------------------------- review


def test_review_approve_edit_and_history(app_env: Any) -> None:
    ws = app_env()
    processed_workspace(ws)
    at = open_page("review", element="J0001")
    assert at.title[0].value == "レビュー"
    assert at.selectbox(key="detail_id").value == "J0001"
    assert "5万円を超える場合は部長の承認が必要です" in texts(at)  # evidence in context
    assert at.get("audio")[0].proto.start_time == 15  # the player starts at the evidence

    button(at, "承認", nth=1).click().run()  # the element's own approve (the first is bulk)
    el = ws.store.get_element("J0001")
    assert el.status == ReviewStatus.APPROVED and el.history[-1].action == "approved"

    at.text_area(key="ed_J0001_decider").set_value("経理部長")
    button(at, "編集を保存").click().run()
    el = ws.store.get_element("J0001")
    assert el.decider == "経理部長" and el.version == 3
    assert "保存しました(v3)" in texts(at)
    history = at.dataframe[-1].value
    assert list(history["操作"]) == ["approved", "edited"]
    # follow-up questions for the next hearing are listed (pipeline.followups)
    assert at.subheader[-1].value == "次回ヒアリングでの確認事項"
    assert "確認事項の生成機能はまだ利用できません" not in texts(at)
    assert "受け取って始めますか" in texts(at)  # e.g. a task with no stated input


def test_concurrent_edit_is_kept_and_can_be_reapplied(app_env: Any) -> None:
    ws = app_env()
    processed_workspace(ws)
    at = open_page("review", element="T0001")
    original = ws.store.get_element("T0001").summary
    ws.reviewer.edit("T0001", {"actor": "別の人"}, "someone")  # meanwhile, elsewhere
    at.text_area(key="ed_T0001_summary").set_value("楽楽精算で経費を申請する")
    button(at, "編集を保存").click().run()
    assert not at.exception
    el = ws.store.get_element("T0001")
    assert el.actor == "別の人" and el.summary == original  # nothing overwritten
    shown = texts(at)
    assert "あなたの編集は適用されていません" in shown
    kept = json.loads(at.json[0].value)
    assert kept == {"summary": "楽楽精算で経費を申請する"}  # only what the user changed

    button(at, "最新版に自分の編集を適用").click().run()
    el = ws.store.get_element("T0001")
    assert el.summary == "楽楽精算で経費を申請する" and el.actor == "別の人"


def test_review_filters_and_bulk_approve(app_env: Any) -> None:
    ws = app_env()
    processed_workspace(ws)
    at = open_page("review")
    at.multiselect(key="f_kind").set_value(["task"]).run()
    assert button(at, "表示中の下書き 3 件をすべて承認")
    button(at, "表示中の下書き 3 件をすべて承認").click().run()
    approved = ws.store.list_elements(status=ReviewStatus.APPROVED)
    assert sorted(e.id for e in approved) == ["T0001", "T0002", "T0003"]
    at.toggle(key="f_attention").set_value(True).run()
    assert "条件に合う要素がありません" in texts(at)  # every sample element is grounded


# --------------------------------------------------------------------------- flow


def test_flow_page_draws_the_procedure_and_opens_elements(app_env: Any) -> None:
    ws = app_env()
    processed_workspace(ws)
    at = open_page("flow")
    html = at.get("iframe")[0].proto.srcdoc  # the swimlanes, same layout as the BPMN export
    assert "shikumi-swimlane" in html and "<svg" in html
    assert "<polygon" in html and "部長" in html  # the judgment's diamond with its branch label
    assert "出金伝票" in html  # the exception's handling, under the step it interrupts
    at.selectbox(key="flow_pick").set_value("X0001")
    button(at, "レビュー画面で開く").click().run()
    assert not at.exception
    assert at.title[0].value == "レビュー"
    assert at.selectbox(key="detail_id").value == "X0001"


def test_flow_dot_is_readable_for_many_elements() -> None:
    from pipeline.models import Interview, Judgment, Task
    from ui.flowgraph import build_dot

    ivs = {f"i{n}": Interview(id=f"i{n}", title=f"ヒアリング{n}") for n in range(2)}
    els: list[Any] = []
    for n in range(40):
        iid = f"i{n % 2}"
        if n % 5 == 4:
            els.append(Judgment(id=f"J{n:04d}", interview_id=iid, summary=f"判断 {n}" * 5))
        else:
            els.append(Task(id=f"T{n:04d}", interview_id=iid, summary=f"作業 {n}", order=n))
    dot = build_dot(els, ivs)
    assert dot.count("subgraph cluster_") == 2 and "rankdir=TB" in dot
    assert dot.count("shape=diamond") == 8
    labels = re.findall(r'label="([^"]*)", shape=diamond', dot)
    assert all(len(line) <= 17 for lab in labels for line in lab.split("\\n")[1:])


# --------------------------------------------------------------------------- assistant


def test_assistant_without_approved_rules_says_so(app_env: Any) -> None:
    ws = app_env()
    processed_workspace(ws)
    at = open_page("assistant")
    assert "承認済みのルールがまだありません" in texts(at)
    at.chat_input[0].set_value("5万円を超える経費の承認は誰ですか？").run()
    assert not at.exception
    assert "承認済みのルールには、この質問に答えるものがありません" in texts(at)
    assert [q.question for q in ws.store.list_open_questions()] == [
        "5万円を超える経費の承認は誰ですか？"
    ]
    button(at, "解決済み").click().run()
    assert ws.store.list_open_questions() == []
    # the next message follows an answer that asked nothing: it is asked as it is
    at.chat_input[0].set_value("出張の日当はいくらですか？").run()
    assert not at.exception
    assert [q.question for q in ws.store.list_open_questions()] == ["出張の日当はいくらですか？"]


def test_a_reply_to_the_assistants_follow_up_is_asked_with_that_question(app_env: Any) -> None:
    from pipeline.models import Answer

    ws = app_env()
    asked: list[str] = []

    def fake_stream(question: str, **_: Any) -> Any:
        asked.append(question)
        text = "金額はいくらですか？ [J0001]" if len(asked) == 1 else "はい。 [J0001]"
        yield text
        yield Answer(question=question, text=text, covered=True)

    ws.assistant.ask_stream = fake_stream  # type: ignore[method-assign]
    at = open_page("assistant")
    at.chat_input[0].set_value("この経費、部長の承認は必要ですか？").run()
    at.chat_input[0].set_value("8万円です").run()
    assert not at.exception
    assert asked == [
        "この経費、部長の承認は必要ですか？",
        "金額はいくらですか？ 8万円です。\nこの経費、部長の承認は必要ですか？",
    ]
    # the answer that decided asked nothing: the next message is a new question
    at.chat_input[0].set_value("日当はいくらですか？").run()
    assert asked[-1] == "日当はいくらですか？"


def test_assistant_answers_with_clickable_citation(app_env: Any) -> None:
    ws = app_env()
    processed_workspace(ws)
    ws.approve_all(who="test")
    at = open_page("assistant")
    question = "5万円を超える経費の承認は誰ですか"
    if not ws.assistant.retriever.covered(ws.assistant.retrieve(question)):
        pytest.skip("the fake embedder does not find the rule close enough to answer")
    at.chat_input[0].set_value(question).run()
    assert not at.exception
    shown = texts(at)
    assert "部長の承認が必要です" in shown and "[J0001]" in shown
    links = [link.proto for link in at.get("page_link")]
    assert any("element=J0001" in (p.query_string or "") for p in links) or links
    button(at, "▶").click().run()
    assert at.get("audio")[0].proto.start_time == 15


def test_assistant_shows_llm_failure_with_hint(app_env: Any) -> None:
    down = LLMError("The LLM call failed: connection refused", "Check the endpoint.")
    ws = app_env(chat=ScriptedChat(fail=down))
    processed_workspace_on_other(ws)
    at = open_page("assistant")
    question = "5万円を超える経費の承認は誰ですか"
    if not ws.assistant.retriever.covered(ws.assistant.retrieve(question)):
        pytest.skip("the fake embedder does not find the rule close enough to reach the LLM")
    at.chat_input[0].set_value(question).run()
    assert not at.exception
    assert "connection refused" in texts(at) and "Check the endpoint." in texts(at)


def processed_workspace_on_other(ws: Workspace) -> None:
    """Process with a working model, then keep the failing one for the assistant."""
    failing = ws._llm
    ws._llm = ScriptedChat()
    processed_workspace(ws)
    ws.approve_all(who="test")
    ws._llm = failing


# --------------------------------------------------------------------------- settings, i18n


def test_settings_page_saves_and_refuses_invalid(app_env: Any) -> None:
    ws = app_env()
    at = open_page("settings")
    assert "内蔵モデル Qwen2.5-Coder-1.5B" in json.dumps(
        at.table[0].value.to_dict(), ensure_ascii=False
    )
    at.text_area[0].set_value("楽楽精算\nfreee\n出金伝票")
    button(at, "保存").click().run()
    assert not at.exception
    saved = json.loads((ws.settings.workspace / "settings.json").read_text("utf-8"))
    assert saved["glossary"] == ["楽楽精算", "freee", "出金伝票"]

    at.selectbox[0].set_value("openai_compatible")  # no endpoint given: cannot run
    button(at, "保存").click().run()
    assert not at.exception
    assert "SHIKUMI_LLM_BASE_URL" in texts(at)
    again = json.loads((ws.settings.workspace / "settings.json").read_text("utf-8"))
    assert again.get("llm_provider", "auto") == "auto"


def test_english_switch(app_env: Any) -> None:
    ws = app_env()
    processed_workspace(ws)
    at = open_page("review")
    at.radio(key="lang").set_value("en").run()
    assert at.title[0].value == "Review"
    assert any(b.label == "Approve" for b in at.button)


def test_every_string_exists_in_both_languages() -> None:
    from ui.i18n import EN, JA

    assert set(JA) == set(EN)
    root = Path(__file__).resolve().parent.parent
    sources = [root / "app.py", *sorted((root / "ui").rglob("*.py"))]
    used = set()
    for path in sources:
        used |= set(re.findall(r"\bt\(\s*\"([a-z_]+)\"\s*[,)]", path.read_text("utf-8")))
    assert used and not used - set(JA), sorted(used - set(JA))


def test_transcript_shows_corrections_with_revert_and_proposals_with_apply(app_env: Any) -> None:
    from pipeline.correction import Candidate, apply
    from pipeline.learning import propose

    ws = app_env()
    iid = processed_workspace(ws)
    tr = ws.store.get_transcript(iid)
    assert tr is not None
    seg = tr.segments[3]  # 5万円を超える場合は部長の承認が必要です。
    k = seg.text.index("承認")
    fixed = apply(seg, [Candidate(k, k + 2, "商人", "承認", "team", 0)], [4.2])
    ws.store.update_segment(iid, fixed)
    proposal = propose(tr.segments[5], "課長", "部長")  # as if learned from another review
    assert proposal is not None
    ws.store.update_segment(iid, proposal)

    at = open_page("transcript")
    shown = texts(at)
    assert any("自動修正 1 件・提案 1 件" in e.label for e in at.expander)
    assert "「商人」→「承認」" in shown and "業務辞書" in shown and "4" in shown
    button(at, "元に戻す").click().run()
    assert not at.exception
    back = ws.store.get_transcript(iid).segments[3]  # type: ignore[union-attr]
    assert "部長の商人が必要です" in back.text and not back.corrections
    button(at, "適用").click().run()
    applied = ws.store.get_transcript(iid).segments[5]  # type: ignore[union-attr]
    assert "部長が振込を承認" in applied.text and applied.corrections[0].status == "applied"


def test_a_reviewer_sees_what_found_a_finding_and_which_fields_came_from_phrasings() -> None:
    from pipeline.models import Finding, FindingKind, Task
    from ui.components import element_flags
    from ui.i18n import JA

    def finding(by: str) -> Finding:
        return Finding(
            interview_id="i", summary="s", finding=FindingKind.PERSON_DEPENDENCY, filled_by=by
        )

    assert JA["found_by_meaning"] in element_flags(finding("meaning"))
    assert JA["found_by_meaning"] not in element_flags(finding("cues"))
    assert JA["filled_by_cues"] not in element_flags(finding("cues"))
    assert JA["filled_by_cues"] in element_flags(
        Task(interview_id="i", summary="s", filled_by="cues")
    )
    assert element_flags(Task(interview_id="i", summary="s", filled_by="model")).count("📋") == 0
