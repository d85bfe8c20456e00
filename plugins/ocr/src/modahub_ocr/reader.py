"""Text read from an image by PP-OCR: the detection, orientation and recognition ONNX models that ship
inside the ``rapidocr-onnxruntime`` wheel, run on ONNX Runtime (no torch, nothing downloaded).

The models are verified against the sha256 pins below before they are loaded, so an upgrade of
rapidocr-onnxruntime that changes them fails loudly instead of silently moving the space.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from modahub.weights import packaged_folder, verify_folder

MODELS = {
    "det": "ch_PP-OCRv4_det_infer.onnx",
    "cls": "ch_ppocr_mobile_v2.0_cls_infer.onnx",
    "rec": "ch_PP-OCRv4_rec_infer.onnx",
}
PINS = {
    "ch_PP-OCRv4_det_infer.onnx": "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9",
    "ch_ppocr_mobile_v2.0_cls_infer.onnx": "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c",
    "ch_PP-OCRv4_rec_infer.onnx": "48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b",
}
"""sha256 of the PP-OCRv4 models in rapidocr-onnxruntime 1.4.x."""


@dataclass(frozen=True)
class Reading:
    """What was read from one image: the lines top to bottom joined by spaces, and the mean line confidence."""

    text: str
    score: float
    lines: int


def to_bgr(pixels: np.ndarray) -> np.ndarray:
    """H×W×C uint8 (C = 1, 3, 4) in modahub's RGB order → what rapidocr expects: grey, or BGR with alpha
    composited over white."""
    if pixels.shape[2] == 1:
        return np.ascontiguousarray(pixels[..., 0])
    rgb = pixels[..., :3].astype(np.float32)
    if pixels.shape[2] == 4:
        alpha = pixels[..., 3:].astype(np.float32) / 255.0
        rgb = rgb * alpha + 255.0 * (1.0 - alpha)
    return np.ascontiguousarray(np.round(rgb[..., ::-1]).astype(np.uint8))


class PPOCR:
    """PP-OCR on ONNX Runtime: detect text lines, recognise each, join them in reading order.

    ``max_side``: the detector sees the image scaled so its longer side is at most this many pixels
    (larger is slower and finds smaller print); ``threads``: ONNX Runtime intra-op threads (default:
    one per core); ``min_score``: lines recognised with a lower confidence are dropped;
    ``upside_down``: run the orientation classifier that turns lines read as upside down (off by
    default: it flips some upright lines, which then read as garbage).
    """

    def __init__(
        self, max_side: int = 960, threads: int | None = None, min_score: float = 0.5, upside_down: bool = False
    ) -> None:
        from rapidocr_onnxruntime import RapidOCR

        folder = verify_folder(packaged_folder("rapidocr_onnxruntime", "models", install="rapidocr-onnxruntime>=1.4,<1.5"), PINS)
        self._engine = RapidOCR(
            det_model_path=str(folder / MODELS["det"]),
            cls_model_path=str(folder / MODELS["cls"]),
            rec_model_path=str(folder / MODELS["rec"]),
            det_limit_side_len=int(max_side),
            det_limit_type="max",
            text_score=float(min_score),
            intra_op_num_threads=int(threads) if threads else -1,
            inter_op_num_threads=1,
        )
        self._upside_down = bool(upside_down)

    def read(self, pixels: np.ndarray) -> Reading:
        """Read an H×W×C uint8 image. When the detector finds no line (a tight crop of one word, a tiny
        image), the whole image is recognised as one line."""
        bgr = to_bgr(pixels)
        found, _ = self._engine(bgr, use_cls=self._upside_down)
        if found:
            texts = [str(line[1]).strip() for line in found]
            scores = [float(line[2]) for line in found]
        else:
            whole, _ = self._engine(bgr, use_det=False, use_cls=False, use_rec=True)
            texts = [str(line[0]).strip() for line in whole or []]
            scores = [float(line[1]) for line in whole or []]
        kept = [(t, s) for t, s in zip(texts, scores, strict=True) if t]
        if not kept:
            return Reading("", 0.0, 0)
        return Reading(" ".join(t for t, _ in kept), float(np.mean([s for _, s in kept])), len(kept))
