"""Output folders: refusing foreign folders, recording what was generated, writing files atomically.

Why atomic writes: a generation killed half-way must not leave a truncated wav under its final
name, where a loader would read it as a short clip. Every file is written to a hidden temporary
name in the same folder and renamed (``os.replace``, atomic on POSIX) once complete.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import soundfile as sf

from nas.data.synth._audio import SAMPLE_RATE, to_pcm16
from nas.errors import DatasetError

MANIFEST = "generation.json"


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def write_audio(path: Path, audio: np.ndarray, sample_rate: int, file_format: str) -> int:
    """Write mono 16-bit PCM (``file_format`` "WAV" or "FLAC") atomically; returns the file's size in bytes."""
    temporary = _temporary(path)
    try:
        sf.write(temporary, to_pcm16(audio), sample_rate, format=file_format, subtype="PCM_16")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path.stat().st_size


def write_text(path: Path, text: str) -> None:
    """Write a UTF-8 text file atomically."""
    temporary = _temporary(path)
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_lines(path: Path, lines: Iterable[str]) -> None:
    """Write one entry per line (with a final newline) atomically."""
    body = "".join(f"{line}\n" for line in lines)
    write_text(path, body)


def _read_manifest(out: Path) -> dict[str, object] | None:
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def prepare_output(out: Path, generator: str, entries: Iterable[str], overwrite: bool) -> None:
    """Make ``out`` ready for a fresh corpus, refusing a non-empty folder another tool wrote.

    A folder holding a previous output of the same ``generator`` (its generation.json says so,
    finished or not) is regenerated in place; any other non-empty folder needs ``overwrite``.
    Either way only the top-level ``entries`` this generator writes (and those the previous run
    recorded) are deleted; unrelated files are left alone.
    """
    if out.exists() and not out.is_dir():
        raise DatasetError(f"output folder {out} exists and is not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()):
        previous = _read_manifest(out)
        same = previous is not None and previous.get("generator") == generator
        if not same and not overwrite:
            raise DatasetError(
                f"output folder {out} is not empty and is not a previous `{generator}` output "
                f"(no {MANIFEST} from it); choose an empty or new folder, or pass --overwrite (overwrite=True) "
                "to write into it anyway"
            )
        names = set(entries)
        recorded = None if previous is None else previous.get("entries")
        if isinstance(recorded, list):
            names |= {str(name) for name in recorded if "/" not in str(name) and str(name) not in ("", ".", "..")}
        for name in sorted(names):
            target = out / name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
        for leftover in out.glob(".*.tmp"):
            leftover.unlink()
    out.mkdir(parents=True, exist_ok=True)


def write_manifest(out: Path, manifest: dict[str, object]) -> None:
    """generation.json: generator, settings, seed, and (once finished) the summary; no timestamps, so reruns match."""
    write_text(out / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def begin_manifest(out: Path, generator: str, layout: str, config: object, entries: list[str]) -> dict[str, object]:
    """Write the ``complete: False`` manifest a generator starts with (so an interrupted run is recognised
    as ours and may be overwritten) and return it for the generator to complete."""
    manifest: dict[str, object] = {
        "generator": generator,
        "layout": layout,
        "complete": False,
        "config": asdict(config),  # type: ignore[call-overload]
        "entries": entries,
        "sample_rate": SAMPLE_RATE,
        "versions": espeak_versions(),
    }
    write_manifest(out, manifest)
    return manifest


def espeak_versions() -> dict[str, str]:
    """Versions that decide the audio (recorded so a corpus can be traced to its synthesiser)."""
    from importlib.metadata import PackageNotFoundError, version

    versions: dict[str, str] = {}
    for package in ("espeakng-loader", "torch", "torchaudio", "numpy", "soundfile"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "missing"
    versions["libsndfile"] = sf.__libsndfile_version__
    return versions
