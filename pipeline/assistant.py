"""Stage 6: answer an operator's question from approved rules only, with checked citations.

When nothing approved covers the question, the assistant says so plainly, names who to ask
if the knowledge base knows, and records the question as an open question for the consultant.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .adapters.llm import ChatModel
from .models import Answer, Citation
from .prompts import load_prompt
from .retrieve import Retrieved, Retriever
from .store import Store

CITATION = re.compile(r"\[([TJXF]\d{4})\]")
NO_RULE = "NO_RULE"
MESSAGES = {
    "ja": {
        "none": "承認済みのルールには、この質問に答えるものがありません。",
        "ask": "{who}に確認してください。",
        "ask_unknown": "担当のコンサルタントに確認してください(未解決の質問として記録しました)。",
        "uncited": "回答の根拠を確認できなかったため、該当しそうなルールをそのまま示します。",
    },
    "en": {
        "none": "No approved rule covers this question.",
        "ask": "Please ask {who}.",
        "ask_unknown": "Please ask your consultant (recorded as an open question).",
        "uncited": "The answer could not be checked against its sources, so here is the closest rule as written.",
    },
}


def question_language(text: str) -> str:
    return "ja" if re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text) else "en"


def format_rules(results: list[Retrieved]) -> str:
    return "\n\n".join(f"[{r.id}] {r.text}" for r in results)


class Assistant:
    def __init__(self, store: Store, retriever: Retriever, llm_factory: object, k: int = 5):
        self.store = store
        self.retriever = retriever
        self._llm_factory = llm_factory  # callable returning a ChatModel, so no LLM starts for "not covered"
        self.k = k

    def _llm(self) -> ChatModel:
        return self._llm_factory()  # type: ignore[operator,no-any-return]

    def not_covered(self, question: str, results: list[Retrieved]) -> Answer:
        lang = question_language(question)
        msg = MESSAGES[lang]
        contact = next((r.metadata.get("contact", "") for r in results if r.metadata.get("contact")), "")
        self.store.record_open_question(question)
        text = msg["none"] + " " + (msg["ask"].format(who=contact) if contact else msg["ask_unknown"])
        return Answer(question=question, text=text, covered=False, contact=contact,
                      retrieved_ids=[r.id for r in results])  # fmt: skip

    def citations(self, ids: list[str], results: list[Retrieved]) -> list[Citation]:
        by_id = {r.id: r for r in results}
        out = []
        for eid in dict.fromkeys(ids):
            r = by_id[eid]
            el = self.store.get_element(eid)
            ev = el.evidence[0] if el.evidence else None
            out.append(
                Citation(
                    element_id=eid,
                    interview_id=el.interview_id,
                    interview_title=str(r.metadata.get("interview_title", "")),
                    summary=el.summary,
                    quote=ev.quote if ev else "",
                    audio_start=ev.audio_start if ev else None,
                    audio_end=ev.audio_end if ev else None,
                )
            )
        return out

    def check(self, question: str, text: str, results: list[Retrieved]) -> Answer:
        """Validate the model's answer: citations must name retrieved rules; otherwise fall back."""
        lang = question_language(question)
        if NO_RULE in text and not CITATION.search(text):
            return self.not_covered(question, results)
        retrieved = {r.id for r in results}
        cited = CITATION.findall(text)
        bad = sorted({c for c in cited if c not in retrieved})
        good = [c for c in cited if c in retrieved]
        warnings = [f"removed citation to unknown rule {b}" for b in bad]
        clean = CITATION.sub(lambda m: m.group(0) if m.group(1) in retrieved else "", text).strip()
        if not good:
            top = results[0]
            clean = f"{MESSAGES[lang]['uncited']}\n{top.text} [{top.id}]"
            good = [top.id]
            warnings.append("answer had no valid citation; showing the top rule verbatim")
        return Answer(
            question=question,
            text=clean,
            covered=True,
            citations=self.citations(good, results),
            retrieved_ids=[r.id for r in results],
            warnings=warnings,
        )

    def retrieve(self, question: str) -> list[Retrieved]:
        return self.retriever.search(question, k=self.k)

    def ask(self, question: str) -> Answer:
        results = self.retrieve(question)
        if not self.retriever.covered(results):
            return self.not_covered(question, results)
        messages = load_prompt("answer").render(rules=format_rules(results), question=question)
        out = self._llm().complete(messages, max_tokens=600)
        return self.check(question, out.text, results)

    def ask_stream(self, question: str) -> Iterator[str | Answer]:
        """Yield text pieces as they come, then the checked Answer as the last item."""
        results = self.retrieve(question)
        if not self.retriever.covered(results):
            yield self.not_covered(question, results)
            return
        messages = load_prompt("answer").render(rules=format_rules(results), question=question)
        pieces: list[str] = []
        for piece in self._llm().stream(messages, max_tokens=600):
            pieces.append(piece)
            yield piece
        yield self.check(question, "".join(pieces), results)
