"""Speakers: interviewer vs interviewee, offline, with numpy only; renaming afterwards.

Method (measured on the sample hearings, see docs/benchmarks.md):
1. Whisper segments are cut at pauses between words (>= 0.3 s), because one Whisper segment
   often holds the end of a question and the start of the answer; and at pauses of >= 0.3 s
   found in the audio (20 dB below the speech level), because batched Whisper stretches words
   over pauses, so a turn change may leave no gap between words.
2. Each piece gets a voice print: median pitch (autocorrelation) and mean MFCCs.
3. Two-means clustering of the pieces; the cluster that asks more questions (?, ～ですか,
   ～ますか) is the interviewer; on a tie, the one that speaks less.
4. Adjacent pieces of one segment with the same speaker are joined again, so a segment is
   split only where the speaker changes.
Without audio, or when the two clusters do not separate (one voice), the turn heuristic alone
labels questions as the interviewer.
"""

from __future__ import annotations

import bisect
import re
from typing import TYPE_CHECKING

import numpy as np

from .audio import frame_rms, speech_level
from .models import Segment, Word

if TYPE_CHECKING:
    from .store import Store

INTERVIEWER, INTERVIEWEE = "interviewer", "interviewee"
SR = 16_000
MIN_GAP = 0.3
_QUESTION = re.compile(
    r"(\?|？|か[。．、]?|ですか.?|ますか.?|でしょうか.?|でしょう.?|ください.?|くれますか.?)$"
)


# an assertion Whisper wrote with a question mark for its rising tone (「…バラバラなんですよ?」):
# the particle よ asserts, it does not ask
_ASSERTED = re.compile(r"よ[?？]$")


def is_question(text: str) -> bool:
    text = text.strip()
    return _QUESTION.search(text) is not None and _ASSERTED.search(text) is None


# --------------------------------------------------------------------------- voice features


def _mel_filters(n_fft: int = 512, n_mels: int = 26) -> np.ndarray:
    def hz_to_mel(f: np.ndarray) -> np.ndarray:
        return 2595 * np.log10(1 + f / 700)

    mels = np.linspace(hz_to_mel(np.array(60.0)), hz_to_mel(np.array(7600.0)), n_mels + 2)
    hz = 700 * (10 ** (mels / 2595) - 1)
    bins = np.floor((n_fft + 1) * hz / SR).astype(int)
    fb = np.zeros((n_mels, n_fft // 2 + 1))
    for m in range(1, n_mels + 1):
        a, b, c = bins[m - 1], bins[m], bins[m + 1]
        for k in range(a, b):
            fb[m - 1, k] = (k - a) / max(b - a, 1)
        for k in range(b, c):
            fb[m - 1, k] = (c - k) / max(c - b, 1)
    return fb


_FB = _mel_filters()
_DCT = np.cos(np.pi / 26 * (np.arange(26)[None, :] + 0.5) * np.arange(13)[:, None])


def voice_print(audio: np.ndarray) -> np.ndarray | None:
    """[log pitch, MFCC 1..12] averaged over the voiced frames of a piece of speech."""
    frame, hop = 400, 160
    if len(audio) < frame * 4:
        return None
    n = 1 + (len(audio) - frame) // hop
    idx = np.arange(frame)[None, :] + hop * np.arange(n)[:, None]
    frames = audio[idx] * np.hamming(frame)
    energy = np.mean(frames**2, axis=1)
    loud = energy > 0.1 * np.median(energy[energy > 0]) if np.any(energy > 0) else energy > 0
    if loud.sum() < 5:
        return None
    spec = np.abs(np.fft.rfft(frames[loud], 512)) ** 2
    mfcc = (np.log(spec @ _FB.T + 1e-10)) @ _DCT.T
    # pitch: autocorrelation peak between 70 and 400 Hz on 40 ms windows
    pitches = []
    lo, hi = SR // 400, SR // 70
    for i in np.flatnonzero(loud)[::2]:
        seg = audio[i * hop : i * hop + 640]
        if len(seg) < 640:
            continue
        seg = seg - seg.mean()
        ac = np.correlate(seg, seg, "full")[639:]
        if ac[0] <= 0:
            continue
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] / ac[0] > 0.4:
            pitches.append(SR / lag)
    pitch = float(np.log(np.median(pitches))) if len(pitches) >= 3 else np.nan
    return np.concatenate([[pitch], mfcc[:, 1:].mean(axis=0)])


# --------------------------------------------------------------------------- labelling


def _silences(audio: np.ndarray) -> list[tuple[float, float]]:
    """Pauses of MIN_GAP or more in the audio: 20 ms frames 20 dB below the speech level."""
    rms = frame_rms(audio, SR // 50, np.float64)
    if len(rms) == 0:
        return []
    level = speech_level(rms) or 0.0
    quiet = np.concatenate([[False], rms < 0.1 * level, [False]])
    edges = np.flatnonzero(np.diff(quiet.astype(int)))
    return [
        (a / 50, b / 50)
        for a, b in zip(edges[::2], edges[1::2], strict=True)
        if b - a >= MIN_GAP * 50
    ]


def _pieces(seg: Segment, silences: list[tuple[float, float]] | None = None) -> list[list[Word]]:
    """Words cut where they leave a gap of MIN_GAP, or where the audio holds such a pause:
    batched Whisper stretches words over pauses, so a turn change may leave no word gap."""
    if not seg.words:
        return [[]]
    words = seg.words
    cuts = {i for i in range(1, len(words)) if words[i].start - words[i - 1].end >= MIN_GAP}
    for a, b in silences or []:
        mid = (a + b) / 2
        # a pause that ends just inside the first word (or starts inside the last) lies before
        # (after) the segment's speech: cutting there would split off its first (last) word
        if mid <= words[0].start or mid >= words[-1].end or len(words) < 2:
            continue
        # the cut goes before the first word not heard before the pause: Whisper stretches a
        # word over a pause from either side (「ですか？……」 forward, 「……課長」 back), and a
        # word with (almost) nothing of it before the pause is spoken after it
        k = next(
            (
                i
                for i in range(1, len(words))
                if words[i].end > a and min(words[i].end, a) - words[i].start < 0.05
            ),
            len(words) - 1,
        )
        cuts.add(k)
    out: list[list[Word]] = [[words[0]]]
    for i in range(1, len(words)):
        if i in cuts:
            out.append([])
        out[-1].append(words[i])
    return out


def _text(words: list[Word]) -> str:
    return "".join(w.word for w in words).strip()


def _farthest_pair(x: np.ndarray, block: int = 64) -> tuple[int, int]:
    """The two rows of ``x`` farthest apart, in blocks of rows: the full distance matrix of a
    60-minute hearing's ~3,000 pieces (n x n x dims float64) would take 1.7 GB."""
    best, pair = -1.0, (0, 0)
    for a in range(0, len(x), block):
        d = np.linalg.norm(x[a : a + block, None] - x[None], axis=2)
        k = int(np.argmax(d))
        if d.flat[k] > best:
            best, pair = float(d.flat[k]), (a + k // len(x), k % len(x))
    return pair


def _two_means(x: np.ndarray) -> tuple[np.ndarray, float]:
    """Labels 0/1 and the separation (centroid distance / mean within-cluster spread)."""
    i, j = _farthest_pair(x)
    c = np.stack([x[i], x[j]])
    labels = np.zeros(len(x), dtype=int)
    for _ in range(50):
        new = np.argmin(np.linalg.norm(x[:, None] - c[None], axis=2), axis=1)
        if np.array_equal(new, labels) and _ > 0:
            break
        labels = new
        for k in (0, 1):
            if np.any(labels == k):
                c[k] = x[labels == k].mean(axis=0)
    spread = np.mean(np.linalg.norm(x - c[labels], axis=1)) or 1e-9
    return labels, float(np.linalg.norm(c[0] - c[1]) / spread)


MIN_AGREEMENT = 0.6  # speech time on which voice clusters and the turn heuristic must agree


def _agreement(
    pieces: list[tuple[int, list[Word], float, float]], labels: np.ndarray, asker: int
) -> float:
    """Share of speech time where the clusters say what the turn heuristic says (questions:
    the asking cluster; anything else: the answering one). Interviewers also speak without
    asking, so agreement is never 1, but clusters that do not follow the voices fall to ~0.3."""
    same = total = 0.0
    for (_, words, start, end), lab in zip(pieces, labels, strict=True):
        total += end - start
        same += (end - start) * ((lab == asker) == is_question(_text(words)))
    return same / total if total else 0.0


_SENTENCE_END = re.compile(
    r"(?:[。．！!.]|ます|ました|ません|です|でした|ですね|ますね|ですよ|んです|んですよ|ってます)$"
)


def _by_turns(
    segments: list[Segment], silences: list[tuple[float, float]] | None = None
) -> list[Segment]:
    """The turn heuristic: a question is the interviewer's, anything else the interviewee's.
    One Whisper segment often holds the end of an answer and the next question (「…在庫数を
    調整します課長に見てもらうものには、基準があるんですか」): it is cut at the last pause after
    a finished sentence, the answer before it, the question after it."""
    out: list[Segment] = []
    for seg in segments:
        if not is_question(seg.text):
            seg.speaker = INTERVIEWEE
            out.append(seg)
            continue
        pieces = _pieces(seg, silences)
        cut = next(
            (
                k
                for k in range(len(pieces) - 1, 0, -1)
                if _SENTENCE_END.search(_text([w for p in pieces[:k] for w in p]))
            ),
            None,
        )
        if cut is None:
            seg.speaker = INTERVIEWER
            out.append(seg)
            continue
        for words, who in (
            ([w for p in pieces[:cut] for w in p], INTERVIEWEE),
            ([w for p in pieces[cut:] for w in p], INTERVIEWER),
        ):
            part = seg.model_copy(deep=True)
            part.words, part.speaker = words, who
            part.start, part.end = round(words[0].start, 2), round(words[-1].end, 2)
            part.text = _text(words)
            out.append(part)
    return out


def label_speakers(segments: list[Segment], audio: np.ndarray | None = None) -> list[Segment]:
    """Label each segment interviewer/interviewee; segments may be split at speaker changes."""
    if not segments:
        return []
    if audio is None:
        return _by_turns(segments)
    pieces: list[tuple[int, list[Word], float, float]] = []  # (segment index, words, start, end)
    silences = _silences(audio)  # in time order, not overlapping: their ends are sorted too
    starts, ends = [a for a, _ in silences], [b for _, b in silences]
    for si, seg in enumerate(segments):
        # the pauses that end after the segment starts and start before it ends
        first = bisect.bisect_right(ends, seg.start)
        inside = silences[first : bisect.bisect_left(starts, seg.end, lo=first)]
        for words in _pieces(seg, inside):
            start = words[0].start if words else seg.start
            end = words[-1].end if words else seg.end
            pieces.append((si, words, start, end))
    prints = [voice_print(audio[int(p[2] * SR) : int(p[3] * SR)]) for p in pieces]
    usable = [k for k, v in enumerate(prints) if v is not None and not np.isnan(v).any()]
    labels = np.full(len(pieces), -1)
    separation = 0.0
    if len(usable) >= 4:
        x = np.stack([p for p in prints if p is not None and not np.isnan(p).any()])
        x = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-9)
        x[:, 0] *= 3.0  # pitch separates voices best; weigh it like three MFCCs
        lab, separation = _two_means(x)
        labels[usable] = lab
        smallest = min(int((lab == 0).sum()), int((lab == 1).sum()))
        if smallest < max(2, 0.05 * len(lab)):
            separation = 0.0
    if separation < 1.5:  # one voice or no usable audio: turn heuristic
        return _by_turns(segments, silences)
    # pieces too short to measure take their neighbour's voice
    for k in range(len(labels)):
        if labels[k] < 0:
            labels[k] = labels[k - 1] if k > 0 and labels[k - 1] >= 0 else 0
    for k in range(len(labels) - 1, -1, -1):  # leading unknowns from the right
        if labels[k] < 0:
            labels[k] = labels[k + 1]
    questions = [0.0, 0.0]
    talk = [0.0, 0.0]
    for (_, words, start, end), lab in zip(pieces, labels, strict=True):
        talk[lab] += end - start
        if is_question(_text(words)):
            questions[lab] += 1
    if questions[0] != questions[1]:
        asker = 0 if questions[0] > questions[1] else 1
    else:
        asker = 0 if talk[0] < talk[1] else 1
    if _agreement(pieces, labels, asker) < MIN_AGREEMENT:
        # the voices did not split the interview into an asking and an answering side (two
        # similar voices): the turn heuristic is more reliable than such clusters
        return _by_turns(segments, silences)
    names = {asker: INTERVIEWER, 1 - asker: INTERVIEWEE}
    out: list[Segment] = []
    k = 0
    for si, seg in enumerate(segments):
        group: list[tuple[list[Word], float, float, str]] = []
        while k < len(pieces) and pieces[k][0] == si:
            _, words, start, end = pieces[k]
            who = names[int(labels[k])]
            if group and group[-1][3] == who:
                w0, s0, _e, _who = group[-1]
                group[-1] = (w0 + words, s0, end, who)
            else:
                group.append((list(words), start, end, who))
            k += 1
        if len(group) <= 1:
            seg.speaker = group[0][3] if group else INTERVIEWEE
            out.append(seg)
            continue
        for words, start, end, who in group:
            part = seg.model_copy(deep=True)
            part.words, part.speaker = words, who
            part.start, part.end = round(start, 2), round(end, 2)
            part.text = _text(words)
            out.append(part)
    return out


# --------------------------------------------------------------------------- renaming


def rename_speaker(store: Store, interview_id: str, old: str, new: str) -> int:
    """Rename a speaker label across an interview's segments; returns how many changed."""
    from .errors import NotFoundError, ShikumiError

    new = new.strip()
    if not new:
        raise ShikumiError("The new speaker name is empty.", "Give a name, e.g. 経理担当 田中.")
    transcript = store.get_transcript(interview_id)
    if transcript is None:
        raise NotFoundError(
            f"Interview {interview_id} has no transcript yet.",
            f"Run `shikumi transcribe {interview_id}` first.",
        )
    changed = 0
    for seg in transcript.segments:
        if seg.speaker == old:
            seg.speaker = new
            store.update_segment(interview_id, seg)
            changed += 1
    if not changed:
        known = sorted({s.speaker for s in transcript.segments})
        raise ShikumiError(
            f"No segment of {interview_id} has the speaker '{old}'.",
            f"Speakers in this transcript: {', '.join(known) or '(none)'}.",
        )
    return changed
