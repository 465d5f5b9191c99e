"""Audio in: check an upload, keep the original, decode to 16 kHz mono for Whisper.

Every rejection says what is wrong and what to do; the original file is always kept so a
failed upload can be retried once the cause is fixed.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from .errors import AudioError

SAMPLE_RATE = 16_000
SUPPORTED = {".wav", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".flac", ".mp4", ".webm", ".oga"}
MAX_BYTES = 2 * 1024**3  # 2 GiB
MAX_SECONDS = 6 * 3600
MIN_SECONDS = 1.0
SILENCE_RMS = 3e-4  # about -70 dBFS (quiet FLEURS recordings peak near -60 dBFS)


@dataclass(frozen=True)
class AudioInfo:
    duration: float
    sample_rate: int
    channels: int
    codec: str


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def keep_upload(src: Path, uploads_dir: Path, interview_id: str) -> Path:
    """Copy the original upload into the workspace before anything else touches it."""
    dest_dir = uploads_dir / interview_id
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / src.name
    if src.resolve() != dest.resolve():
        shutil.copyfile(src, dest)
    return dest


def probe(path: Path) -> AudioInfo:
    """Check that the file is a usable audio recording; raise AudioError saying why not."""
    if not path.exists():
        raise AudioError(f"File not found: {path}", "Check the path and try again.")
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise AudioError(
            f"'{path.name}' has an unsupported type ({ext or 'no extension'}).",
            "Upload wav, mp3, m4a/aac, ogg/opus, flac, or an mp4/webm video with sound.",
        )
    size = path.stat().st_size
    if size == 0:
        raise AudioError(f"'{path.name}' is empty (0 bytes).", "Upload the recording again.")
    if size > MAX_BYTES:
        raise AudioError(
            f"'{path.name}' is {size / 1024**3:.1f} GB; the limit is {MAX_BYTES / 1024**3:.0f} GB.",
            "Split the recording into parts or export it as compressed audio (mp3/m4a).",
        )
    try:
        with av.open(str(path)) as container:
            streams = container.streams.audio
            if not streams:
                raise AudioError(
                    f"'{path.name}' has no audio track.",
                    "Upload a file that contains the interview's sound.",
                )
            stream = streams[0]
            duration = 0.0
            if container.duration:
                duration = container.duration / av.time_base
            elif stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
            info = AudioInfo(
                duration=duration,
                sample_rate=stream.codec_context.sample_rate or 0,
                channels=stream.codec_context.channels or 0,
                codec=stream.codec_context.name or "",
            )
            # sniff: the first frames must decode (catches files that are not audio inside)
            decoded = 0
            for frame in container.decode(audio=0):
                decoded += frame.samples
                if decoded >= 2 * (info.sample_rate or SAMPLE_RATE):
                    break
            if decoded == 0:
                raise AudioError(
                    f"'{path.name}' contains no decodable sound.",
                    "The recording is empty or damaged: export it again and re-upload.",
                )
    except AudioError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise AudioError(
            f"'{path.name}' cannot be decoded as audio ({type(exc).__name__}).",
            "The file may be corrupt or truncated: export it again from the recorder and "
            "re-upload. The original has been kept.",
            cause=exc,
        ) from exc
    if info.duration and info.duration > MAX_SECONDS:
        raise AudioError(
            f"'{path.name}' is {info.duration / 3600:.1f} h long; the limit is "
            f"{MAX_SECONDS // 3600} h.",
            "Split the recording into parts of a few hours.",
        )
    return info


def _decode_error(path: Path, exc: BaseException) -> AudioError:
    return AudioError(
        f"'{path.name}' stopped decoding part-way ({type(exc).__name__}).",
        "The file is probably truncated or corrupt: export it again from the recorder and "
        "re-upload. The original has been kept.",
        cause=exc,
    )


def decode(path: Path, max_seconds: float | None = None) -> np.ndarray:
    """Decode any supported file to 16 kHz mono float32; reject too-short or silent audio.

    Memory stays near the size of the result (4 bytes per sample: about 230 MB per hour):
    decoded blocks are int16 and are moved into the float32 output one by one.
    """
    limit = MAX_SECONDS if max_seconds is None else max_seconds
    chunks: list[np.ndarray] = []
    n = 0
    try:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise AudioError(
                    f"'{path.name}' has no audio track.",
                    "Upload a file that contains the interview's sound.",
                )
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    block = out.to_ndarray().reshape(-1)
                    chunks.append(block)
                    n += len(block)
                if n > limit * SAMPLE_RATE:
                    raise AudioError(
                        f"'{path.name}' is longer than {limit / 3600:.0f} h.",
                        "Split the recording into parts of a few hours.",
                    )
            for out in resampler.resample(None):
                block = out.to_ndarray().reshape(-1)
                chunks.append(block)
                n += len(block)
    except AudioError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        if not chunks:
            raise AudioError(
                f"'{path.name}' cannot be decoded as audio ({type(exc).__name__}).",
                "The file may be corrupt or not audio at all: export it again from the recorder "
                "and re-upload. The original has been kept.",
                cause=exc,
            ) from exc
        raise _decode_error(path, exc) from exc
    audio = np.empty(n, dtype=np.float32)
    pos = 0
    chunks.reverse()
    while chunks:  # move blocks into the output, freeing each as we go
        block = chunks.pop()
        audio[pos : pos + len(block)] = block
        pos += len(block)
    audio *= 1.0 / 32768.0
    check_speech(audio, path.name)
    return audio


def check_speech(audio: np.ndarray, name: str = "the recording") -> None:
    """Reject audio that is too short or silent (loudest second below about -70 dBFS)."""
    seconds = len(audio) / SAMPLE_RATE
    if seconds < MIN_SECONDS:
        raise AudioError(
            f"'{name}' holds only {seconds:.1f} s of audio.",
            f"Upload a recording of at least {MIN_SECONDS:.0f} s.",
        )
    if loudest_rms(audio) < SILENCE_RMS:
        raise AudioError(
            f"'{name}' is silent ({seconds:.0f} s with no sound above -70 dBFS).",
            "Check that the microphone was on and that the right track was exported, "
            "then upload again. The original has been kept.",
        )


def frame_rms(audio: np.ndarray, hop: int, dtype: type = np.float32) -> np.ndarray:
    """RMS of consecutive ``hop``-sample frames (a trailing partial frame is left out), computed
    a block at a time so that no full-length squared copy of a long recording is made."""
    n = len(audio) // hop
    frames = audio[: n * hop].reshape(n, hop)
    step = max(1, 60 * SAMPLE_RATE // hop)  # a minute of frames at a time
    parts = [
        np.sqrt(np.mean(np.square(frames[k : k + step], dtype=dtype), axis=1))
        for k in range(0, n, step)
    ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


def speech_level(rms: np.ndarray) -> float | None:
    """The recording's typical speech level: the 75th percentile of the frames with sound."""
    loud = rms[rms > 1e-4]
    return float(np.percentile(loud, 75)) if len(loud) else None


def loudest_rms(audio: np.ndarray, window: int = SAMPLE_RATE) -> float:
    """RMS of the loudest one-second window (a quiet speaker in a long file is not silence)."""
    if len(audio) == 0:
        return 0.0
    rms = frame_rms(audio, window, np.float64)
    if len(rms) == 0:
        return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    return float(rms.max())
