"""Encoders over one tower of a Hugging Face model whose weights you provide (CLIP, CLAP, ...).

Weights come from a local folder or a Hugging Face repo id at a pinned 40-hex revision, through
:func:`modahub.weights.resolve_weights` (sha256 pins verified, pickled files refused). The folder
holds ``config.json``, one or more ``*.safetensors`` files and the model's processor files. The
space is named after the model family, the model and the revision, so only towers of the same
model share it; the dimension is the model's ``projection_dim``. Needs torch and transformers
(imported on first use only).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from modahub.executors import Encoder
from modahub.weights import WeightsError, resolve_weights


def model_space(family: str, model: str | Path, revision: str | None) -> str:
    """The space of a model: ``<family>:<repo id or folder name>@<revision or 'local'>``."""
    source = Path(model).expanduser()
    name = source.resolve().name if source.is_dir() else str(model)
    return f"{family}:{name}@{revision or 'local'}"


class PretrainedTower(Encoder):
    """What the towers of a two-tower model share: verified weights folder, space named after the model,
    dim from its config, and loading the tower's tensors out of the full model's safetensors.

    Subclasses set ``family`` (the space prefix), ``_config_types`` (accepted ``model_type`` values)
    and implement ``_load`` with :meth:`_tower`.
    """

    family: ClassVar[str]
    _config_types: ClassVar[tuple[str, ...]]

    def __init__(
        self,
        model: str | Path,
        revision: str | None = None,
        sha256: Mapping[str, str] | None = None,
        space: str | None = None,
        batch_size: int = 16,
        device: str = "cpu",
    ) -> None:
        self.model_source, self.revision = str(model), revision
        self.sha256 = dict(sha256 or {})
        self.space = space or model_space(self.family, model, revision)
        self.batch_size, self.device = batch_size, device
        self._folder: Path | None = None
        self._dim: int | None = None
        self._model: Any = None
        self._processor: Any = None

    def folder(self) -> Path:
        """The verified local folder of the weights (fetched once; no torch import)."""
        if self._folder is None:
            folder = resolve_weights(self.model_source, revision=self.revision, sha256=self.sha256)
            if not (folder / "config.json").is_file():
                raise WeightsError(f"{self.name}: {folder} has no config.json; save the model with save_pretrained()")
            if not any(folder.glob("*.safetensors")):
                raise WeightsError(
                    f"{self.name}: no *.safetensors weights file in {folder}; save the model with "
                    "save_pretrained(..., safe_serialization=True)"
                )
            self._folder = folder
        return self._folder

    def _config(self) -> dict[str, Any]:
        return json.loads((self.folder() / "config.json").read_text(encoding="utf-8"))

    @property  # type: ignore[override]
    def dim(self) -> int:
        """The model's ``projection_dim`` (read from config.json)."""
        if self._dim is None:
            config = self._config()
            if config.get("model_type") not in self._config_types or "projection_dim" not in config:
                raise WeightsError(
                    f"{self.name}: {self.folder()}/config.json is not a {self.family.upper()} config with a "
                    f"projection_dim (model_type {config.get('model_type')!r})"
                )
            self._dim = int(config["projection_dim"])
        return self._dim

    def _tower(self, prefixes: tuple[str, ...], model: Any) -> Any:
        """``model`` (a tower of the full model) with the weights under ``prefixes`` loaded from the folder, in eval mode."""
        from safetensors.torch import load_file

        folder, state = self.folder(), {}
        for path in sorted(folder.glob("*.safetensors")):
            state.update({k: v for k, v in load_file(str(path)).items() if k.startswith(prefixes)})
        missing, _ = model.load_state_dict(state, strict=False)
        if missing:
            raise WeightsError(
                f"{self.name}: weights in {folder} lack {len(missing)} tensors of the "
                f"{self.family.upper()} {prefixes[0][:-1]}, e.g. {missing[0]}"
            )
        return model.eval().to(self.device)
