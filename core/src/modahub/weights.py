"""Model weights: fetch at a pinned revision, verify by sha256, refuse pickle.

A weights source is either a local folder (used as is) or a Hugging Face Hub repo id fetched with
``huggingface_hub.snapshot_download`` at a 40-hex commit. The Hub cache is honoured
(``HF_HOME`` / ``HF_HUB_CACHE``), and ``HF_HUB_OFFLINE=1`` serves from it without network.
Every file named in ``sha256`` must match, and no file may hold pickled data (safetensors only).
huggingface_hub is imported only when a repo id is resolved (extra ``modahub-core[hub]``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from modahub.errors import ModahubInputError
from modahub.files import sha256_file

if TYPE_CHECKING:
    from modahub.documents import WeightsPin

PICKLE_SUFFIXES = frozenset({".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib"})
"""File endings of pickle-based weight formats (PyTorch, joblib); refused whatever they hold."""

_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_REPO_ID = re.compile(r"^(?:[A-Za-z0-9][\w.-]*/)?[A-Za-z0-9][\w.-]*$")


class WeightsError(ModahubInputError):
    """Weights are missing, unpinned, altered, or in a refused (pickle-based) format."""


def _is_pickle_stream(head: bytes) -> bool:
    # Protocols 2-5 open with PROTO (0x80) and the protocol number; torch.save's legacy format uses them.
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def _check_safetensors(path: Path, head: bytes) -> None:
    if len(head) < 8:
        raise WeightsError(f"{path}: not a valid safetensors file (only {len(head)} bytes)")
    (size,) = struct.unpack("<Q", head[:8])
    if size > path.stat().st_size - 8:
        kind = "a pickle" if _is_pickle_stream(head) else "not safetensors"
        raise WeightsError(f"{path}: not a valid safetensors file (header size {size} exceeds the file; looks {kind})")
    with open(path, "rb") as fh:
        fh.seek(8)
        header = fh.read(size)
    try:
        parsed = json.loads(header)
    except (UnicodeDecodeError, json.JSONDecodeError):
        parsed = None
    if not isinstance(parsed, dict):
        raise WeightsError(f"{path}: not a valid safetensors file (its header is not a JSON object)")


def refuse_pickle(path: str | Path, *, by_suffix: bool = True) -> None:
    """Raise :class:`WeightsError` when ``path`` holds pickle-based weights.

    Refused: the pickle file endings in :data:`PICKLE_SUFFIXES` (unless ``by_suffix`` is false), any file whose bytes are a pickle
    stream, and zip archives holding a pickle (``torch.save``'s ``data.pkl``). ``.safetensors`` files
    must have a valid safetensors header. Other files (ONNX, JSON, text) pass.
    """
    path = Path(path)
    fix = "convert the weights to safetensors (safetensors.torch.save_file) and remove this file"
    if by_suffix and path.suffix.lower() in PICKLE_SUFFIXES:
        raise WeightsError(f"{path}: pickle-based weights ({path.suffix}) are refused; {fix}")
    with open(path, "rb") as fh:
        head = fh.read(16)
    if path.suffix.lower() == ".safetensors":
        _check_safetensors(path, head)
        return
    if _is_pickle_stream(head):
        raise WeightsError(f"{path}: the file holds a Python pickle, which is refused; {fix}")
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                pickled = [n for n in archive.namelist() if n.endswith((".pkl", ".pickle"))]
        except zipfile.BadZipFile:
            return
        if pickled:
            raise WeightsError(f"{path}: a zip holding pickled data ({pickled[0]}; a torch.save file) is refused; {fix}")


def _files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def packaged_folder(module: str, *parts: str, install: str) -> Path:
    """The folder ``parts`` inside the installed package ``module`` (weights that ship in a wheel), located
    without importing it; ``install`` is the pip requirement named in the error when it is missing."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(f"package {module} is not installed; pip install {install!r}")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)


def verify_folder(folder: str | Path, sha256: Mapping[str, str] | None = None, *, native: bool = False) -> Path:
    """Check the files of a weights folder: each one in ``sha256`` matches, none holds pickle.

    ``native``: the folder is read by a native library, not by Python (e.g. pocketsphinx's ``.lm.bin``
    language model), so file endings such as ``.bin`` are not taken for pickle; the bytes still are checked.
    """
    folder = Path(folder)
    for name, want in (sha256 or {}).items():
        path = folder / name
        if not path.is_file():
            raise WeightsError(f"missing weights file {name!r} in {folder} (it is pinned by sha256)")
        got = sha256_file(path)
        if got != want.lower():
            raise WeightsError(
                f"{path}: sha256 {got} does not match the pinned {want.lower()}; the file was altered or the pin is wrong"
            )
    for path in _files(folder):
        refuse_pickle(path, by_suffix=not native)
    return folder


def _hub_cache_dir() -> str | None:
    # Read at call time: huggingface_hub reads these once, at its own import.
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return str(Path(os.environ["HF_HOME"]) / "hub")
    return None


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _download(repo: str, revision: str, allow_patterns: Sequence[str] | None) -> Path:
    try:
        import huggingface_hub
        from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError
    except ImportError:
        raise WeightsError(
            f"fetching {repo!r} from the Hugging Face Hub needs huggingface_hub: pip install 'modahub-core[hub]'"
        ) from None
    where = f"{repo}@{revision}"
    try:
        folder = huggingface_hub.snapshot_download(
            repo,
            revision=revision,
            cache_dir=_hub_cache_dir(),
            local_files_only=_offline(),
            allow_patterns=list(allow_patterns) if allow_patterns else None,
        )
    except LocalEntryNotFoundError:
        raise WeightsError(
            f"weights {where} are not in the Hugging Face cache ({_hub_cache_dir() or 'default location'}) and "
            "cannot be downloaded (offline or unreachable); fetch them on a connected machine with "
            f"'hf download {repo} --revision {revision}' or pass a local folder"
        ) from None
    except HfHubHTTPError as exc:
        raise WeightsError(f"cannot fetch weights {where}: {exc}") from None
    return Path(folder)


def resolve_weights(
    source: str | Path,
    *,
    revision: str | None = None,
    sha256: Mapping[str, str] | None = None,
    allow_patterns: Sequence[str] | None = None,
) -> Path:
    """The verified local folder holding the weights of ``source``.

    ``source`` is a local folder, or a Hugging Face repo id fetched at the 40-hex commit
    ``revision`` (branch and tag names are refused: they move). Every file named in ``sha256``
    (path relative to the folder -> hex digest) is verified and no file may hold pickle.
    """
    path = Path(source).expanduser()
    if path.is_dir():
        return verify_folder(path, sha256)
    text = str(source)
    if path.exists() or text.startswith(("/", ".", "~")) or not _REPO_ID.match(text):
        raise WeightsError(f"weights source {text!r} is neither an existing folder nor a Hugging Face repo id (owner/name)")
    if revision is None:
        raise WeightsError(f"{text}: pin a revision (the 40-hex commit id) so that the weights cannot change under you")
    if not _COMMIT.match(revision):
        raise WeightsError(
            f"{text}: revision {revision!r} is not a 40-hex commit id; branch and tag names move, "
            "so pin the commit (see the repo's 'Files and versions' history or HfApi().model_info(...).sha)"
        )
    return verify_folder(_download(text, revision, allow_patterns), sha256)


def weights_pin(folder: str | Path, repo: str, revision: str, filename: str) -> WeightsPin:
    """The :class:`~modahub.WeightsPin` of ``filename`` in ``folder`` (for generator provenance)."""
    from modahub.documents import WeightsPin  # here: documents imports numpy, which `modahub install` never needs

    path = Path(folder) / filename
    if not path.is_file():
        raise WeightsError(f"missing weights file {filename!r} in {folder}")
    return WeightsPin(repo=repo, revision=revision, sha256=sha256_file(path))


def folder_pin(folder: str | Path, repo: str, revision: str, pattern: str = "*.safetensors") -> WeightsPin:
    """The :class:`~modahub.WeightsPin` of a model saved as several files (e.g. a diffusers pipeline): its
    sha256 is that of the lines ``<relative path> <file sha256>`` of every file matching ``pattern``, sorted."""
    from modahub.documents import WeightsPin  # here, as in weights_pin

    folder = Path(folder)
    files = sorted(p for p in folder.rglob(pattern) if p.is_file())
    if not files:
        raise WeightsError(f"no weights file matching {pattern!r} in {folder}")
    lines = "".join(f"{p.relative_to(folder).as_posix()} {sha256_file(p)}\n" for p in files)
    return WeightsPin(repo=repo, revision=revision, sha256=hashlib.sha256(lines.encode("utf-8")).hexdigest())

