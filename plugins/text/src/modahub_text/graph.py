"""A BERT sentence encoder written as an ONNX graph straight from its safetensors weights (no torch).

The graph computes what ``transformers``' ``BertModel`` followed by sentence-transformers' mean
pooling and L2 normalisation computes: token, position and segment embeddings, then per layer
self-attention and a GELU (erf) feed-forward, each with a residual and a layer norm; then the
attention-masked mean over tokens, divided by its norm. ONNX Runtime's transformer optimizer
then fuses attention, layer norms and GELU as it does for a torch export. A test proves parity
with the torch export (``plugins/text/tests/torch_export.py``).
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "embedding"
OPSET = 17


class _Graph:
    """Nodes and initializers with generated names."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.initializers: list = []
        self._count = 0

    def const(self, value: np.ndarray, name: str | None = None) -> str:
        from onnx import numpy_helper

        name = name or self._name("const")
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def _name(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def op(self, op_type: str, *inputs: str, **attrs: object) -> str:
        from onnx import helper

        out = self._name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out


def _linear(g: _Graph, x: str, weights: dict[str, np.ndarray], prefix: str) -> str:
    """``x @ W.T + b`` of a torch ``Linear`` (W stored out × in)."""
    w = g.const(np.ascontiguousarray(weights[f"{prefix}.weight"].T), f"{prefix}.weight")
    return g.op("Add", g.op("MatMul", x, w), g.const(weights[f"{prefix}.bias"], f"{prefix}.bias"))


def _layer_norm(g: _Graph, x: str, weights: dict[str, np.ndarray], prefix: str, eps: float) -> str:
    scale = g.const(weights[f"{prefix}.weight"], f"{prefix}.weight")
    return g.op("LayerNormalization", x, scale, g.const(weights[f"{prefix}.bias"], f"{prefix}.bias"), axis=-1, epsilon=eps)


def _attention(g: _Graph, h: str, mask_add: str, weights: dict[str, np.ndarray], prefix: str, heads: int, size: int) -> str:
    head = size // heads
    split = g.const(np.array([0, 0, heads, head], dtype=np.int64))  # 0 keeps batch and tokens

    def project(name: str, perm: list[int]) -> str:
        return g.op("Transpose", g.op("Reshape", _linear(g, h, weights, f"{prefix}.self.{name}"), split), perm=perm)

    q, k, v = project("query", [0, 2, 1, 3]), project("key", [0, 2, 3, 1]), project("value", [0, 2, 1, 3])
    scores = g.op("Div", g.op("MatMul", q, k), g.const(np.array(math.sqrt(head), dtype=np.float32)))
    probs = g.op("Softmax", g.op("Add", scores, mask_add), axis=-1)
    context = g.op("Transpose", g.op("MatMul", probs, v), perm=[0, 2, 1, 3])
    merged = g.op("Reshape", context, g.const(np.array([0, 0, size], dtype=np.int64)))
    return _linear(g, merged, weights, f"{prefix}.output.dense")


def _gelu(g: _Graph, x: str) -> str:
    """The exact (erf) GELU of BERT: x · ½ · (1 + erf(x / √2))."""
    erf = g.op("Erf", g.op("Div", x, g.const(np.array(math.sqrt(2.0), dtype=np.float32))))
    return g.op("Mul", g.op("Mul", x, g.op("Add", erf, g.const(np.array(1.0, dtype=np.float32)))),
                g.const(np.array(0.5, dtype=np.float32)))


def build_mean_pooled(model_dir: Path):
    """The ONNX model (``onnx.ModelProto``): ``INPUTS`` (int64, batch × tokens) -> L2-normalised mean-pooled ``OUTPUT``."""
    from onnx import TensorProto, helper
    from safetensors.numpy import load_file

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") != "bert" or config.get("hidden_act", "gelu") != "gelu":
        raise ValueError(f"{model_dir}: a BERT model with GELU is expected, found {config.get('model_type')!r}")
    weights = {k.removeprefix("bert."): v for k, v in load_file(model_dir / "model.safetensors").items()}
    size, heads, eps = config["hidden_size"], config["num_attention_heads"], float(config["layer_norm_eps"])
    g = _Graph()
    ids, mask, segments = INPUTS
    tokens = g.op("Gather", g.op("Shape", ids), g.const(np.array(1, dtype=np.int64)), axis=0)
    positions = g.op("Range", g.const(np.array(0, dtype=np.int64)), tokens, g.const(np.array(1, dtype=np.int64)))
    embedded = g.op("Add", g.op("Add", g.op("Gather", g.const(weights["embeddings.word_embeddings.weight"],
                                                              "embeddings.word_embeddings.weight"), ids),
                                g.op("Gather", g.const(weights["embeddings.token_type_embeddings.weight"],
                                                       "embeddings.token_type_embeddings.weight"), segments)),
                    g.op("Gather", g.const(weights["embeddings.position_embeddings.weight"],
                                           "embeddings.position_embeddings.weight"), positions))
    h = _layer_norm(g, embedded, weights, "embeddings.LayerNorm", eps)
    # masked keys get the lowest float added to their scores, as transformers does (the same node
    # order as its export, so that the optimizer recognises the attention mask and fuses attention)
    expanded = g.op("Unsqueeze", g.op("Unsqueeze", mask, g.const(np.array([1], dtype=np.int64))),
                    g.const(np.array([2], dtype=np.int64)))
    blocked = g.op("Sub", g.const(np.array(1.0, dtype=np.float32)), g.op("Cast", expanded, to=TensorProto.FLOAT))
    mask_add = g.op("Mul", blocked, g.const(np.array(np.finfo(np.float32).min, dtype=np.float32)))
    mask_f = g.op("Cast", mask, to=TensorProto.FLOAT)
    for i in range(config["num_hidden_layers"]):
        prefix = f"encoder.layer.{i}"
        attended = _attention(g, h, mask_add, weights, f"{prefix}.attention", heads, size)
        h = _layer_norm(g, g.op("Add", attended, h), weights, f"{prefix}.attention.output.LayerNorm", eps)
        inner = _gelu(g, _linear(g, h, weights, f"{prefix}.intermediate.dense"))
        h = _layer_norm(g, g.op("Add", _linear(g, inner, weights, f"{prefix}.output.dense"), h), weights,
                        f"{prefix}.output.LayerNorm", eps)
    token_mask = g.op("Unsqueeze", mask_f, g.const(np.array([-1], dtype=np.int64)))
    axis1 = g.const(np.array([1], dtype=np.int64))
    summed = g.op("ReduceSum", g.op("Mul", h, token_mask), axis1, keepdims=0)
    counted = g.op("Max", g.op("ReduceSum", token_mask, axis1, keepdims=0), g.const(np.array(1e-9, dtype=np.float32)))
    pooled = g.op("Div", summed, counted)
    norm = g.op("Sqrt", g.op("ReduceSum", g.op("Mul", pooled, pooled), g.const(np.array([-1], dtype=np.int64)), keepdims=1))
    out = g.op("Div", pooled, g.op("Max", norm, g.const(np.array(1e-12, dtype=np.float32))))
    g.nodes.append(helper.make_node("Identity", [out], [OUTPUT]))
    graph = helper.make_graph(
        g.nodes, "mean_pooled_bert",
        [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"]) for name in INPUTS],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", size])],
        g.initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="modahub-text")


def export_mean_pooled(model_dir: Path, dest: Path) -> None:
    """Write ``dest`` (and its weights beside it, ``dest.data``), fused by ONNX Runtime's transformer optimizer."""
    import onnx
    from onnxruntime.transformers import optimizer

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    raw = dest.with_suffix(".raw.onnx")
    onnx.save_model(build_mean_pooled(model_dir), str(raw), save_as_external_data=True, location=raw.name + ".data")
    quiet = logging.getLogger(optimizer.__name__)
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # it warns that the producer is not "pytorch": this graph is ours
    try:
        fused = optimizer.optimize_model(  # opt_level 0: the fusions only (a higher level imports torch)
            str(raw), model_type="bert", num_heads=config["num_attention_heads"], hidden_size=config["hidden_size"],
            opt_level=0,
        )
    finally:
        quiet.setLevel(level)
    # Weights in a side file (model.onnx.data): ONNX Runtime maps it instead of parsing it, 3x faster to load.
    fused.save_model_to_file(str(dest), use_external_data_format=True)
    raw.unlink()
    raw.with_name(raw.name + ".data").unlink()
