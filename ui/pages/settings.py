"""Settings: the LLM endpoint and model, Whisper, language, glossary; which defaults are in use."""

from __future__ import annotations

import os

import streamlit as st

from pipeline.errors import ShikumiError
from pipeline.local_models import QWEN_CODER_1_5B, WHISPER_BASE, model_dir
from pipeline.settings import EMBEDDED, save_settings_file
from ui import state
from ui.i18n import t

ws = state.workspace()
s = ws.settings
st.title(t("nav_settings"))

env_set = sorted(k for k in os.environ if k.startswith("SHIKUMI_") or k == "OPENAI_API_KEY")

# ----------------------------------------------------------------------------- what is in use

st.subheader(t("in_use"))
provider = s.resolved_llm_provider
qwen = model_dir(QWEN_CODER_1_5B, s.cache_dir) / QWEN_CODER_1_5B.target
whisper_dir = model_dir(WHISPER_BASE, s.cache_dir)
rows = {
    t("llm"): (
        t("embedded_llm", path=qwen, ok="✅" if qwen.exists() else "⏳")
        if provider == EMBEDDED
        else f"{provider}: {s.llm_model or '(default)'} {s.llm_base_url}"
    ),
    t("whisper"): (
        t("embedded_whisper", path=whisper_dir, ok="✅" if whisper_dir.exists() else "⏳")
        if s.whisper_model == EMBEDDED
        else s.whisper_model
    ),
    t("embedding"): t("embedded_embedding") if s.embedding == EMBEDDED else s.embedding,
    t("vector_store"): f"chroma {s.chroma_host}:{s.chroma_port}"
    if s.chroma_host
    else str(s.index_dir),
    t("database"): s.db_url.split("@")[-1],
    t("workspace"): str(s.workspace),
}
st.table({t("component"): list(rows), t("value"): [str(v) for v in rows.values()]})
if env_set:
    st.caption(t("env_overrides", names=", ".join(env_set)))

# ----------------------------------------------------------------------------- the form

st.subheader(t("change_settings"))
providers = ["auto", "embedded", "openai", "openai_compatible"]
with st.form("settings"):
    c1, c2 = st.columns(2)
    llm_provider = c1.selectbox(t("llm_provider"), providers, providers.index(s.llm_provider),
                                format_func=lambda p: t("provider_" + p))  # fmt: skip
    llm_model = c2.text_input(t("llm_model"), s.llm_model, placeholder="gpt-4o-mini")
    llm_base_url = c1.text_input(t("llm_base_url"), s.llm_base_url,
                                 placeholder="http://127.0.0.1:8080/v1")  # fmt: skip
    llm_api_key = c2.text_input(t("llm_api_key"), "", type="password",
                                help=t("api_key_help"))  # fmt: skip
    whisper_model = c1.text_input(t("whisper_model"), s.whisper_model, help=t("whisper_help"))
    languages = ["auto", "ja", "en"]
    language = c2.selectbox(t("audio_language"), languages, languages.index(s.language),
                            format_func=lambda x: t("lang_" + x))  # fmt: skip
    ui_languages = ["ja", "en"]
    ui_language = c1.selectbox(t("ui_language"), ui_languages, ui_languages.index(s.ui_language),
                               format_func=lambda x: t("lang_" + x))  # fmt: skip
    glossary = st.text_area(t("glossary"), "\n".join(s.glossary), help=t("glossary_help"),
                            height=120)  # fmt: skip
    saved = st.form_submit_button(t("save"), type="primary")

if saved:
    fields = {
        "llm_provider": llm_provider,
        "llm_model": llm_model.strip(),
        "llm_base_url": llm_base_url.strip(),
        "whisper_model": whisper_model.strip() or EMBEDDED,
        "language": language,
        "ui_language": ui_language,
        "glossary": [g.strip() for g in glossary.replace("、", "\n").splitlines() if g.strip()],
    }
    if llm_api_key.strip():
        fields["llm_api_key"] = llm_api_key.strip()
    try:
        s.model_copy(update=fields).check()  # refuse a combination that could not run
        path = save_settings_file(s, fields)
    except ShikumiError as exc:
        state.show_error(exc)
    except ValueError as exc:
        st.error(t("settings_invalid", error=str(exc).splitlines()[0]), icon="⚠️")
    else:
        st.session_state["lang_request"] = ui_language
        st.session_state["settings_saved"] = str(path)
        st.rerun()
if path := st.session_state.pop("settings_saved", None):
    st.success(t("settings_saved", path=path), icon="💾")
    st.caption(t("settings_worker_note"))
