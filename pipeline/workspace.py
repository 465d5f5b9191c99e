"""One workspace (database, index, uploads) and the stages wired together.

The CLI and the app call this; it is the only place that knows how the stages connect:
import audio -> transcribe -> extract -> review -> index -> ask.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import suppress
from datetime import date
from functools import cached_property
from pathlib import Path

from .adapters.embeddings import Embedder, embedder
from .adapters.llm import ChatModel, chat_model
from .adapters.lm_scorer import LazyScorer
from .adapters.vectorstore import ChromaVectorStore
from .adapters.whisper import SpeechToText, speech_to_text
from .assistant import Assistant
from .audio import keep_upload, probe, sha256_of
from .auth import User, knowledge_filters
from .correction import SentenceScorer
from .documents import SUFFIXES as DOCUMENT_SUFFIXES
from .documents import document_terms
from .errors import AudioError, ShikumiError
from .extract import ExtractionRun, extract, link
from .handover.assemble import Handover
from .index import KnowledgeIndex
from .inventory import Decisions
from .learning import engagement_terms, learn_from_edit
from .models import (
    AnyElement,
    ChunkStatus,
    Engagement,
    Interview,
    InterviewStatus,
    Job,
    JobStatus,
    Language,
    OpenQuestion,
    ReviewStatus,
    Segment,
    Transcript,
    element_text,
)
from .retrieve import Filters, Retriever
from .review import Reviewer
from .settings import EMBEDDED, Settings
from .store import Store
from .transcribe import transcribe_file, vocabulary_options

Progress = Callable[[str, float], None]  # (stage message, fraction 0..1)


def _same_as(el: AnyElement) -> tuple[str, str, str]:
    """What makes a re-extracted element the same proposal: its kind, its quote and its fields."""
    quote = el.evidence[0].quote if el.evidence else ""
    return el.kind, quote, element_text(el)


def _noop(_msg: str, _frac: float) -> None:
    pass


log = logging.getLogger(__name__)


class Workspace:
    def __init__(
        self,
        settings: Settings,
        llm: ChatModel | None = None,
        stt: SpeechToText | None = None,
        embed: Embedder | None = None,
        scorer: SentenceScorer | None = None,
    ):
        self.settings = settings
        settings.workspace.mkdir(parents=True, exist_ok=True)
        self.store = Store(settings.db_url)
        self._llm = llm
        self._stt = stt
        self._embed = embed
        self._scorer = scorer

    # ------------------------------------------------------------------ lazy components

    def llm(self) -> ChatModel:
        if self._llm is None:
            self._llm = chat_model(self.settings)
        return self._llm

    def stt(self) -> SpeechToText:
        if self._stt is None:
            self._stt = speech_to_text(self.settings)
        return self._stt

    def scorer(self) -> SentenceScorer | None:
        """The language model that scores transcript corrections (None with an injected chat
        model that has none, or with OpenAI's chat models)."""
        if self._scorer is None and self._llm is None:
            self._scorer = LazyScorer(self.settings)
        return self._scorer

    def attach_documents(self, interview_id: str, paths: list[Path]) -> list[Path]:
        """Keep documents uploaded beside the audio (規程, マニュアル, 帳票: PDF, DOCX, XLSX,
        TXT); their terms feed the transcript correction."""
        folder = self.settings.uploads_dir / interview_id / "documents"
        folder.mkdir(parents=True, exist_ok=True)
        kept = []
        for p in paths:
            if p.suffix.lower() in DOCUMENT_SUFFIXES:
                target = folder / p.name
                target.write_bytes(p.read_bytes())
                kept.append(target)
        return kept

    @cached_property
    def embedder(self) -> Embedder:
        return self._embed or embedder(self.settings)

    @cached_property
    def vectors(self) -> ChromaVectorStore:
        s = self.settings
        return ChromaVectorStore(
            s.index_dir, host=s.chroma_host, port=s.chroma_port, embed=self.embedder
        )

    @cached_property
    def index(self) -> KnowledgeIndex:
        keyword_copy = self.settings.index_dir / f"keyword-{self.vectors.name}.pkl"
        return KnowledgeIndex(self.vectors, self.store, keyword_path=keyword_copy)

    @cached_property
    def reviewer(self) -> Reviewer:
        return Reviewer(self.store, on_change=self.index.sync)

    @cached_property
    def assistant(self) -> Assistant:
        self.index.ensure_built()  # new workspace, or a switched embedder: build from the DB
        return Assistant(
            self.store, Retriever(self.index), self.llm, mode=self.settings.answer_mode
        )

    # ------------------------------------------------------------------ stage 0: upload

    def import_audio(
        self,
        path: Path,
        title: str = "",
        business_area: str = "",
        interviewee_roles: list[str] | None = None,
        language: str | None = None,
        interview_date: date | None = None,
    ) -> Interview:
        """Keep the original upload and register the interview; checks run before anything else."""
        path = Path(path)
        if not path.exists():
            raise AudioError(f"File not found: {path}", "Check the path and try again.")
        interview = Interview(
            title=title or path.stem,
            business_area=business_area,
            interviewee_roles=interviewee_roles or [],
            interview_date=interview_date,
            language=Language(language) if language in ("ja", "en") else None,
        )
        stored = keep_upload(path, self.settings.uploads_dir, interview.id)
        interview.audio_path = str(stored.relative_to(self.settings.workspace))
        interview.audio_sha256 = sha256_of(stored)
        self.store.add_interview(interview)
        try:
            probe(stored)
        except AudioError as exc:
            self.store.set_interview_status(interview.id, InterviewStatus.FAILED, str(exc))
            raise
        return interview

    def audio_file(self, interview: Interview) -> Path:
        if not interview.audio_path:
            raise ShikumiError(f"Interview {interview.id} has no audio.", "Upload one.")
        return self.settings.workspace / interview.audio_path

    # ------------------------------------------------------------------ stage 1: transcribe

    def transcribe(
        self, interview_id: str, progress: Progress = _noop, *, restart: bool = False
    ) -> Transcript:
        """Transcribe; an interrupted run resumes from its checkpoint unless ``restart``."""
        interview = self.store.get_interview(interview_id)
        self.store.set_interview_status(interview_id, InterviewStatus.TRANSCRIBING)
        language = (interview.language.value if interview.language else None) or (
            None if self.settings.language == "auto" else self.settings.language
        )
        checkpoint = self.settings.uploads_dir / interview_id / "transcript.partial.jsonl"
        if restart:
            checkpoint.unlink(missing_ok=True)
        engagement = self.store.get_engagement(interview.engagement_id)
        docs = self.settings.uploads_dir / interview_id / "documents"
        sources = {
            "engagement": engagement_terms(self.store, engagement.id, exclude=interview_id),
            "documents": document_terms(sorted(docs.glob("*"))) if docs.is_dir() else [],
        }
        try:
            transcript = transcribe_file(
                self.audio_file(interview),
                interview_id,
                self.stt(),
                language=language,
                progress=lambda done, total: progress(
                    f"transcribing {done / 60:.1f}/{total / 60:.1f} min", done / max(total, 1e-9)
                ),
                checkpoint=checkpoint,
                scorer=self.scorer() if self.settings.glossary_correction else None,
                sources=sources,
                **vocabulary_options(self.settings, engagement.glossary),
            )
        except ShikumiError as exc:
            self.store.set_interview_status(interview_id, InterviewStatus.FAILED, str(exc))
            raise
        except Exception as exc:
            self.store.set_interview_status(interview_id, InterviewStatus.FAILED, repr(exc))
            raise
        self.store.save_transcript(transcript)
        checkpoint.unlink(missing_ok=True)  # the database now holds the result
        interview = self.store.get_interview(interview_id)
        interview.language = transcript.language
        interview.status, interview.error = InterviewStatus.TRANSCRIBED, None
        self.store.save_interview(interview)
        return transcript

    # ------------------------------------------------------------------ stage 2: extract

    def extract(
        self, interview_id: str, progress: Progress = _noop, retry_failed_only: bool = False
    ) -> ExtractionRun:
        """Extract elements; on retry only the failed chunks run again. Reviewed work is kept."""
        interview = self.store.get_interview(interview_id)
        transcript = self.store.get_transcript(interview_id)
        if transcript is None:
            raise ShikumiError(
                f"Interview {interview_id} has no transcript yet.",
                f"Run `shikumi transcribe {interview_id}` first.",
            )
        only = None
        if retry_failed_only:
            only = {c.index for c in self.store.list_chunks(interview_id, ChunkStatus.FAILED)}
        else:
            self.store.clear_chunks(interview_id)
        self.store.set_interview_status(interview_id, InterviewStatus.EXTRACTING)
        try:
            run = extract(
                transcript,
                self.llm(),
                self.store,
                business_area=interview.business_area,
                only_chunks=only,
                progress=lambda done, total: progress(
                    f"extracting chunk {done}/{total}", done / max(total, 1)
                ),
                default_actor=interview.interviewee_roles[0] if interview.interviewee_roles else "",
                glossary=self._glossary(interview),
                embedder=self._meaning_embedder(),
                concurrency=self.settings.llm_concurrency
                or (1 if self.settings.resolved_llm_provider == EMBEDDED else 4),
            )
        except ShikumiError as exc:
            self.store.set_interview_status(interview_id, InterviewStatus.FAILED, str(exc))
            raise
        # the extraction stage writes nothing itself: its chunk records and elements are saved here
        for record in run.chunks:
            self.store.save_chunk(record)
        if not retry_failed_only:
            # a fresh run replaces earlier drafts; approved/rejected/retired stay untouched
            self.store.replace_elements(interview_id, [])
        # an element a reviewer already decided on, found again unchanged, is not proposed again
        reviewed = {
            _same_as(e)
            for e in self.store.list_elements(interview_id)
            if e.status != ReviewStatus.DRAFT
        }
        run.elements = [e for e in run.elements if _same_as(e) not in reviewed]
        saved = self.store.add_elements(run.elements)  # ids assigned
        link(saved, transcript)
        for el in saved:
            self.store.save_element(el)
        failed = self.store.list_chunks(interview_id, ChunkStatus.FAILED)
        if failed:
            self.store.set_interview_status(
                interview_id,
                InterviewStatus.FAILED,
                f"{len(failed)} chunk(s) failed: {failed[0].error}. "
                f"Retry them with `shikumi extract {interview_id} --retry-failed`.",
            )
        else:
            self.store.set_interview_status(interview_id, InterviewStatus.EXTRACTED)
        return run

    def _meaning_embedder(self) -> Embedder | None:
        """The knowledge base's embedder, which also reads labels and remarks by meaning during
        extraction; None (labels from the model, findings from the lexicon and the model) when
        it cannot be set up: the extraction's work is not lost for a setting only the knowledge
        base needs."""
        try:
            return self.embedder
        except ShikumiError as exc:
            log.warning("Labels and findings are not read by meaning: %s", exc)
            return None

    def _glossary(self, interview: Interview) -> list[str]:
        """The vocabulary extraction looks for system names in: settings + the engagement's."""
        terms = list(self.settings.glossary)
        with suppress(ShikumiError):
            terms += self.store.get_engagement(interview.engagement_id).glossary
        return terms

    def process(self, interview_id: str, progress: Progress = _noop) -> list[AnyElement]:
        self.transcribe(interview_id, lambda m, f: progress(m, 0.5 * f))
        self.extract(interview_id, lambda m, f: progress(m, 0.5 + 0.5 * f))
        return self.store.list_elements(interview_id)

    # ------------------------------------------------------------------ jobs

    def enqueue(self, interview_id: str, kind: str = "process") -> Job:
        from . import jobs

        return jobs.enqueue(self.store, interview_id, kind)

    def cancel_job(self, job_id: str) -> Job:
        return self.store.cancel_job(job_id)

    def retry_job(self, job_id: str) -> Job:
        from . import jobs

        return jobs.retry(self.store, job_id)

    def recover_jobs(self) -> int:
        """Jobs whose worker died go back to the queue (see ``jobs.recover_stale``)."""
        from . import jobs

        return jobs.recover_stale(self.store, self.settings.job_lease_s)

    # ------------------------------------------------------------------ reads for the UI
    # The app goes through the workspace, never into the store: these are what its pages read.

    def list_interviews(self) -> list[Interview]:
        return self.store.list_interviews()

    def get_interview(self, interview_id: str) -> Interview:
        return self.store.get_interview(interview_id)

    def inventory_decisions(self, engagement_id: str) -> Decisions:
        from .inventory_store import get_decisions

        return get_decisions(self.store, engagement_id)

    def learn_from_edit(self, interview_id: str, old: Segment, new: Segment) -> int:
        """A reviewer's transcript fix: proposed across the engagement, kept in its glossary."""
        return learn_from_edit(self.store, interview_id, old, new)

    def list_engagements(self) -> list[Engagement]:
        return self.store.list_engagements()

    def engagements_with_hearings(self) -> list[Engagement]:
        """The engagements that hold at least one hearing (the ones a package can be built for)."""
        return [
            e for e in self.store.list_engagements() if self.store.list_engagement_interviews(e.id)
        ]

    def save_engagement(self, engagement: Engagement, hearings: list[str] | None = None) -> None:
        """Save ``engagement``; with ``hearings``, exactly those hearings belong to it (the ones
        taken out go back to the default engagement)."""
        from .models import DEFAULT_ENGAGEMENT

        self.store.save_engagement(engagement)
        if hearings is None:
            return
        for iv in self.store.list_interviews():
            if iv.id in hearings and iv.engagement_id != engagement.id:
                iv.engagement_id = engagement.id
                self.store.save_interview(iv)
            elif iv.id not in hearings and iv.engagement_id == engagement.id:
                iv.engagement_id = DEFAULT_ENGAGEMENT
                self.store.save_interview(iv)

    def load_sample_engagement(self) -> None:
        from .sample_engagement import load_into

        load_into(self.store)

    def handover(self, engagement_id: str, include_drafts: bool = False) -> Handover:
        """The engagement's inventory, differences, workload and package contents."""
        from .handover.assemble import from_store

        return from_store(self.store, engagement_id, include_drafts=include_drafts)

    def save_inventory_decisions(self, engagement_id: str, decisions: Decisions) -> None:
        from .inventory_store import save_decisions

        save_decisions(self.store, engagement_id, decisions)

    def get_transcript(self, interview_id: str) -> Transcript | None:
        return self.store.get_transcript(interview_id)

    def update_segment(self, interview_id: str, segment: Segment) -> None:
        self.store.update_segment(interview_id, segment)

    def list_elements(
        self,
        interview_id: str | None = None,
        kind: str | None = None,
        status: ReviewStatus | str | None = None,
    ) -> list[AnyElement]:
        return self.store.list_elements(interview_id, kind, status)

    def get_element(self, element_id: str) -> AnyElement:
        return self.store.get_element(element_id)

    def count_elements(self, status: ReviewStatus | None = None) -> int:
        return self.store.count_elements(status)

    def list_jobs(self, status: JobStatus | None = None) -> list[Job]:
        return self.store.list_jobs(status)

    def list_open_questions(self, include_resolved: bool = False) -> list[OpenQuestion]:
        return self.store.list_open_questions(include_resolved)

    def resolve_open_question(self, question_id: int) -> None:
        self.store.resolve_open_question(question_id)

    def get_user(self, name: str) -> User | None:
        return self.store.get_user(name)

    def knowledge_scope(self, user: User) -> Filters | None:
        """What ``user`` may be answered from (operators: their engagements' approved rules)."""
        return knowledge_filters(user, self.store)

    def has_users(self) -> bool:
        """False for the embedded single-user default: no login."""
        return self.store.count_users() > 0

    # ------------------------------------------------------------------ review and index

    def approve_all(self, interview_id: str | None = None, who: str = "") -> list[AnyElement]:
        drafts = self.store.list_elements(interview_id, status=ReviewStatus.DRAFT)
        who = who or self.settings.reviewer
        return [self.reviewer.approve(e.id, who) for e in drafts]

    def rebuild_index(self) -> int:
        return self.index.rebuild()

    def close(self) -> None:
        if "vectors" in self.__dict__:  # opened: release the Chroma client
            self.vectors.close()
        self.store.close()
