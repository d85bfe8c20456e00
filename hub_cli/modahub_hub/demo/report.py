"""The demo's HTML report: one self-contained file with thumbnails, audio players and recipes."""

from __future__ import annotations

import base64
import html
import io
import struct
import wave
import zlib
from pathlib import Path
from typing import Any

import numpy as np


def png(pixels: np.ndarray, scale: int = 6) -> bytes:
    """A PNG of an H×W×C uint8 image (C = 1, 3 or 4), enlarged ``scale`` times (nearest neighbour)."""
    img = np.repeat(np.repeat(np.asarray(pixels, dtype=np.uint8), scale, axis=0), scale, axis=1)
    height, width, channels = img.shape
    color = {1: 0, 3: 2, 4: 6}[channels]
    rows = b"".join(b"\x00" + img[y].tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def wav(samples: np.ndarray, rate: int) -> bytes:
    """16-bit mono WAV bytes of float samples in [-1, 1]."""
    mono = samples if samples.ndim == 1 else samples.mean(axis=1)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(rate))
        w.writeframes(np.round(np.clip(mono, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def _data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def render(doc: Any, scale: int = 6) -> str:
    """HTML for a document: a thumbnail (enlarged ``scale`` times), an audio player or quoted text."""
    if doc is None:
        return ""
    payload = doc.payload
    if doc.modality == "image" and payload.pixels is not None:
        return f'<img src="{_data_uri("image/png", png(payload.pixels, scale))}" alt="{html.escape(doc.id)}">'
    if doc.modality == "audio" and payload.samples is not None:
        return f'<audio controls src="{_data_uri("audio/wav", wav(payload.samples, payload.sample_rate))}"></audio>'
    if doc.modality == "text":
        return f"<q>{html.escape(payload.text or '')}</q>"
    return html.escape(doc.id)


STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin:1rem 0}
td,th{border:1px solid #ccc;padding:.35rem .5rem;vertical-align:middle;text-align:left}th{background:#f3f3f3}
img{image-rendering:pixelated;border:1px solid #999}audio{width:12rem}.ok{color:#080;font-weight:bold}
.bad{color:#b00;font-weight:bold}
.hit{display:inline-block;margin-right:1rem;vertical-align:top}small{color:#666}code{background:#f3f3f3;padding:0 .2rem}
"""


def _read(doc: Any) -> str:
    """What a reading encoder (OCR, speech recognition) read from ``doc``, when it read anything."""
    if doc is None or doc.modality == "text" or "text" not in doc.tags:
        return ""
    return f"<br><small>read: <q>{html.escape(str(doc.tags['text']))}</q></small>"


def _sentences(scene: Any) -> list[str]:
    out = ["<h2>Real sentences: texts, images of text and speech</h2>",
           "<p>Each sentence is indexed as text (<code>minilm-text</code>), as an image read by <code>ocr-image</code> "
           "(PP-OCR) and as speech transcribed by <code>speech-audio</code> (pocketsphinx), all in one space; every item "
           "searches the other kinds. Measured here: " + " · ".join(f"{html.escape(k)}: {v}" for k, v in scene.accuracy.items())
           + ". Figures on 600 held-out news sentences: <code>docs/quality.md</code>.</p>",
           "<table><tr><th>direction</th><th>query</th><th>best matches</th><th></th></tr>"]
    for row in scene.rows:
        hits = "".join(f"<div class=hit>{render(h['document'], scale=1)}{_read(h['document'])}<br><small>"
                       f"{html.escape(h['id'])} · {h['score']:.3f}</small></div>" for h in row["hits"][:2])
        mark = "<span class='ok'>✓</span>" if row["correct"] else "<span class='bad'>✗</span>"
        out.append(f"<tr><td>{html.escape(row['direction'])}</td><td>{render(row['query'], scale=1)}{_read(row['query'])}"
                   f"</td><td>{hits}</td><td>{mark}</td></tr>")
    out.append("</table>")
    return out


def write(path: Path, *, summary: dict[str, Any], rows: list[dict[str, Any]], generated: list[dict[str, Any]],
          notes: list[str], sentences: Any = None) -> Path:
    """Write the report to ``path`` (HTML, self-contained) and return it."""
    out = [f"<!doctype html><meta charset='utf-8'><title>modahub demo</title><style>{STYLE}</style>",
           "<h1>modahub demo: one space for text, images and sounds</h1>",
           f"<p>Index: <code>{html.escape(summary['index'])}</code> in space <code>{html.escape(summary['space'])}</code> "
           f"(dim {summary['dim']}) holding {summary['indexed']} documents: "
           + ", ".join(f"{n} {html.escape(k)}" for k, n in summary["by_kind"].items())
           + f" from the corpus, and {summary['generated']} generated.</p>"]
    out += [f"<p><small>{html.escape(n)}</small></p>" for n in notes]
    out.append("<h2>Cross-modal search</h2><table><tr><th>direction</th><th>query</th><th>best matches</th><th></th></tr>")
    for row in rows:
        hits = "".join(f"<div class=hit>{render(h['document'])}<br> <small>{html.escape(h['id'])} · digit {h['digit']} · "
                       f"{h['score']:.3f}</small></div>" for h in row["hits"])
        mark = "<span class='ok'>✓</span>" if row["correct"] else "<span class='bad'>✗</span>"
        out.append(f"<tr><td>{html.escape(row['direction'])}</td><td>{render(row['query'])}<br><small>digit "
                   f"{row['digit']}</small></td><td>{hits}</td><td>{mark}</td></tr>")
    out.append("</table><p>" + " · ".join(f"{html.escape(k)}: {v}" for k, v in summary["accuracy"].items()) + "</p>")
    out.append("<h2>Generated, then found again</h2><table><tr><th>prompt</th><th>generated</th><th>recipe</th>"
               "<th>found by a text query</th><th>found by BM25 over recipes</th><th>regenerated</th></tr>")
    for g in generated:
        recipe = html.escape(f"{g['recipe']['executor']} {g['recipe']['plugin_version']}, seed {g['recipe']['seed']}")
        out.append(f"<tr><td><q>{html.escape(g['prompt'])}</q></td><td>{render(g['document'])}</td><td><small>{recipe}"
                   f"</small></td><td>rank {g['vector_rank'] or '—'}</td><td>rank {g['bm25_rank'] or '—'}</td>"
                   f"<td>{'<span class=ok>byte for byte</span>' if g['regenerated'] else '<span class=bad>differs</span>'}"
                   "</td></tr>")
    out.append("</table>")
    if sentences is not None:
        out += _sentences(sentences)
    path.write_text("\n".join(out), encoding="utf-8")
    return path
