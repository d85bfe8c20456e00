"""The torch export of a BERT-like sentence model to ONNX (mean pooling and L2 norm inside the graph).

The reference that :mod:`modahub_text.graph` (no torch) is checked against; imports torch and transformers.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

from modahub_text.graph import INPUTS, OPSET, OUTPUT

log = logging.getLogger(__name__)


def export_mean_pooled(model_dir: Path, dest: Path) -> None:
    """Write ``dest`` (and its weights beside it): ``INPUTS`` (int64, batch × tokens) -> normalised mean-pooled ``OUTPUT``.

    The graph is exported with eager attention so that ONNX Runtime's transformer optimizer can
    fuse attention, layer norms and GELU; the vectors stay those of the torch model.
    """
    import torch
    from onnxruntime.transformers import optimizer
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    class MeanPooled(torch.nn.Module):
        def __init__(self, encoder: torch.nn.Module) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001, ANN202
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    log.info("exporting %s to ONNX in %s (once)", model_dir, dest)
    hf_logging.disable_progress_bar()
    try:
        model = AutoModel.from_pretrained(model_dir, attn_implementation="eager", use_safetensors=True).eval()
    finally:
        hf_logging.enable_progress_bar()
    dummy = torch.ones(2, 8, dtype=torch.long)
    raw = dest.with_suffix(".raw.onnx")
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            MeanPooled(model), (dummy, dummy, torch.zeros_like(dummy)), str(raw),
            input_names=list(INPUTS), output_names=[OUTPUT], dynamic_axes={**axes, OUTPUT: {0: "batch"}},
            opset_version=OPSET, dynamo=False,
        )
    config = model.config
    fused = optimizer.optimize_model(
        str(raw), model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size
    )
    # Weights in a side file (model.onnx.data): ONNX Runtime maps it instead of parsing it, 3x faster to load.
    fused.save_model_to_file(str(dest), use_external_data_format=True)
    raw.unlink()
