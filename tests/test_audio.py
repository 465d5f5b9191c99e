"""Audio in: every common format decodes; every bad input gives a clear AudioError with a hint,
keeps the original upload, marks only that interview as failed, and can be retried."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from pipeline import audio as audio_mod
from pipeline.audio import SAMPLE_RATE, decode, probe, sha256_of
from pipeline.errors import AudioError, TranscriptionError
from pipeline.models import InterviewStatus
from tests.conftest import FakeSTT

CODECS = {
    "wav": "pcm_s16le",
    "mp3": "libmp3lame",
    "m4a": "aac",
    "ogg": "libopus",
    "flac": "flac",
    "webm": "libopus",
    "mp4": "aac",
}


def tone(seconds: float, rate: int, freq: float = 220.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write_audio(
    path: Path, signal: np.ndarray, rate: int, channels: int = 1, video: bool = False
) -> Path:
    """Encode ``signal`` (mono float32) with PyAV in the container/codec the suffix implies."""
    codec = CODECS[path.suffix.lstrip(".")]
    rate_out = 48_000 if codec == "libopus" else rate
    if rate_out != rate:
        idx = np.arange(int(len(signal) * rate_out / rate)) * rate / rate_out
        signal = np.interp(idx, np.arange(len(signal)), signal).astype(np.float32)
    layout = "mono" if channels == 1 else "stereo"
    pcm = (np.clip(signal, -1, 1) * 32767).astype(np.int16)
    interleaved = np.repeat(pcm, channels)[None, :]
    with av.open(str(path), "w") as c:
        if video:
            v = c.add_stream("mpeg4", rate=10)
            v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        s = c.add_stream(codec, rate=rate_out)
        s.layout = layout
        frame = av.AudioFrame.from_ndarray(interleaved, format="s16", layout=layout)
        frame.sample_rate = rate_out
        for pkt in s.encode(frame):
            c.mux(pkt)
        for pkt in s.encode(None):
            c.mux(pkt)
        if video:
            img = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
            for pkt in v.encode(img):
                c.mux(pkt)
            for pkt in v.encode(None):
                c.mux(pkt)
    return path


@pytest.mark.parametrize(
    ("name", "rate", "channels"),
    [
        ("a.wav", 44_100, 2),
        ("a.wav", 8_000, 1),
        ("a.mp3", 22_050, 1),
        ("a.mp3", 44_100, 2),
        ("a.m4a", 48_000, 2),
        ("a.ogg", 16_000, 1),
        ("a.flac", 96_000, 2),
        ("a.webm", 24_000, 2),
        ("a.mp4", 32_000, 1),
    ],
)
def test_formats_rates_and_channels_decode_to_16k_mono(
    tmp_path: Path, name: str, rate: int, channels: int
) -> None:
    path = write_audio(tmp_path / name, tone(2.0, rate), rate, channels)
    info = probe(path)
    audio = decode(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) / SAMPLE_RATE - 2.0) < 0.15
    assert info.channels == channels
    # the tone survives: its frequency dominates the spectrum
    spectrum = np.abs(np.fft.rfft(audio[:SAMPLE_RATE]))
    assert abs(np.argmax(spectrum) - 220) <= 3


def test_audio_track_of_a_video_decodes(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "meeting.mp4", tone(2.0, 44_100), 44_100, 2, video=True)
    assert abs(len(decode(path)) / SAMPLE_RATE - 2.0) < 0.15


# --------------------------------------------------------------------------- bad input


def _corrupt(tmp: Path) -> Path:
    p = tmp / "broken.mp3"
    p.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    return p


def _empty(tmp: Path) -> Path:
    p = tmp / "empty.m4a"
    p.write_bytes(b"")
    return p


def _unsupported(tmp: Path) -> Path:
    p = tmp / "notes.docx"
    p.write_bytes(b"PK\x03\x04 not audio")
    return p


def _no_audio_track(tmp: Path) -> Path:
    p = tmp / "screen.mp4"
    with av.open(str(p), "w") as c:
        v = c.add_stream("mpeg4", rate=10)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        for _ in range(5):
            img = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
            for pkt in v.encode(img):
                c.mux(pkt)
        for pkt in v.encode(None):
            c.mux(pkt)
    return p


REJECTED_AT_UPLOAD = {
    "corrupt": (_corrupt, "cannot be decoded"),
    "empty": (_empty, "empty"),
    "unsupported": (_unsupported, "unsupported type"),
    "no audio track": (_no_audio_track, "no audio track"),
}


@pytest.mark.parametrize("case", list(REJECTED_AT_UPLOAD))
def test_bad_upload_is_rejected_kept_and_recorded(
    case: str, tmp_path: Path, make_workspace
) -> None:
    make, expected = REJECTED_AT_UPLOAD[case]
    src = make(tmp_path)
    ws = make_workspace(stt=FakeSTT([(0.0, 1.5, "はい")]))
    good = ws.import_audio(write_audio(tmp_path / "ok.wav", tone(3.0, 16_000), 16_000))
    ws.transcribe(good.id)
    original = sha256_of(src)

    with pytest.raises(AudioError) as err:
        ws.import_audio(src)
    assert expected in err.value.message
    assert err.value.hint  # says what to do

    failed = [i for i in ws.store.list_interviews() if i.id != good.id]
    assert len(failed) == 1
    assert failed[0].status == InterviewStatus.FAILED
    assert expected in (failed[0].error or "")
    kept = ws.audio_file(failed[0])
    assert kept.exists() and sha256_of(kept) == original  # the original upload is kept
    # nothing else is affected
    assert ws.store.get_interview(good.id).status == InterviewStatus.TRANSCRIBED
    assert ws.store.get_transcript(good.id) is not None


def test_oversized_upload_is_rejected(tmp_path: Path, make_workspace, monkeypatch) -> None:
    monkeypatch.setattr(audio_mod, "MAX_BYTES", 10_000)
    src = write_audio(tmp_path / "long.wav", tone(2.0, 16_000), 16_000)
    ws = make_workspace(stt=FakeSTT([]))
    with pytest.raises(AudioError) as err:
        ws.import_audio(src)
    assert "limit" in err.value.message and "Split" in err.value.hint
    [iv] = ws.store.list_interviews()
    assert iv.status == InterviewStatus.FAILED and ws.audio_file(iv).exists()


def test_too_long_recording_is_rejected_while_decoding(tmp_path: Path) -> None:
    src = write_audio(tmp_path / "a.flac", tone(3.0, 16_000), 16_000)
    with pytest.raises(AudioError, match="longer than"):
        decode(src, max_seconds=1.0)


@pytest.mark.parametrize(
    ("case", "signal", "expected"),
    [
        ("silent", np.zeros(3 * 16_000, np.float32), "silent"),
        ("nearly silent", tone(3.0, 16_000, amp=0.0003), "silent"),
        ("too short", tone(0.4, 16_000), "only 0.4 s"),
    ],
)
def test_unusable_audio_fails_at_transcription_and_can_be_retried(
    case: str, signal: np.ndarray, expected: str, tmp_path: Path, make_workspace
) -> None:
    src = write_audio(tmp_path / "rec.wav", signal, 16_000)
    ws = make_workspace(stt=FakeSTT([(0.0, 1.0, "はい")]))
    iv = ws.import_audio(src)
    for _ in range(2):  # a retry gives the same clear answer, nothing half-written
        with pytest.raises(AudioError) as err:
            ws.transcribe(iv.id)
        assert expected in err.value.message and err.value.hint
        stored = ws.store.get_interview(iv.id)
        assert stored.status == InterviewStatus.FAILED and expected in (stored.error or "")
        assert ws.store.get_transcript(iv.id) is None
        assert ws.audio_file(stored).exists()


def test_quiet_speaker_in_a_long_recording_is_not_silence() -> None:
    audio = np.zeros(60 * 16_000, np.float32)
    audio[30 * 16_000 : 31 * 16_000] = tone(1.0, 16_000, amp=0.01)
    audio_mod.check_speech(audio)  # no error


class FlakySTT(FakeSTT):
    """Fails on the first call (e.g. out of memory), works on the next."""

    def __init__(self, *a, **kw) -> None:
        super().__init__(*a, **kw)
        self.calls = 0

    def transcribe(self, audio, language, hotwords=None, initial_prompt=None):
        self.calls += 1
        if self.calls == 1:
            raise TranscriptionError("Whisper ran out of memory.", "Close other programs.")
        return super().transcribe(audio, language, hotwords, initial_prompt)


def test_failed_transcription_is_recorded_and_retry_succeeds(tmp_path: Path, make_workspace):
    src = write_audio(tmp_path / "rec.wav", tone(3.0, 16_000), 16_000)
    ws = make_workspace(stt=FlakySTT([(0.0, 2.0, "経費精算の流れを教えてください。")]))
    iv = ws.import_audio(src)
    with pytest.raises(TranscriptionError):
        ws.transcribe(iv.id)
    assert ws.store.get_interview(iv.id).status == InterviewStatus.FAILED
    tr = ws.transcribe(iv.id)
    assert tr.segments[0].text == "経費精算の流れを教えてください。"
    stored = ws.store.get_interview(iv.id)
    assert stored.status == InterviewStatus.TRANSCRIBED and stored.error is None
