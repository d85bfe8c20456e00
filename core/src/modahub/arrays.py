"""Numpy arrays inside pydantic models, in an exact JSON form.

JSON form: ``{"dtype": "float32", "shape": [2, 3], "data": "<base64 of C-order bytes>"}``
(little-endian), so a round trip gives back the identical array. Bulk arrays on disk (an index's
vectors) use numpy's own format: ``np.save(..., allow_pickle=False)`` and ``np.load(..., allow_pickle=False)``.
"""

from __future__ import annotations

import base64
import binascii
import math
from typing import Annotated, Any

import numpy as np
from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

ALLOWED_DTYPES = frozenset(
    {"bool", "uint8", "int8", "uint16", "int16", "int32", "int64", "uint32", "float16", "float32", "float64"}
)
MAX_NDIM = 32


def _check_dtype(dtype: np.dtype) -> None:
    if dtype.name not in ALLOWED_DTYPES:
        raise ValueError(f"dtype {dtype.name!r} is not allowed; use one of {sorted(ALLOWED_DTYPES)}")


def array_to_json(array: np.ndarray) -> dict[str, Any]:
    """Encode an array as a JSON-safe dict that decodes back to the identical array."""
    _check_dtype(array.dtype)
    little = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    return {
        "dtype": array.dtype.name,
        "shape": list(array.shape),
        "data": base64.b64encode(little.tobytes()).decode("ascii"),
    }


def _shape(shape_list: Any) -> tuple[int, ...]:
    """A shape from a header: at most MAX_NDIM non-negative ints (checked before any allocation)."""
    if not isinstance(shape_list, (list, tuple)) or len(shape_list) > MAX_NDIM:
        raise ValueError(f"bad array shape: expected a list of at most {MAX_NDIM} non-negative integers")
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape_list):
        raise ValueError("bad array shape: every dimension must be a non-negative integer")
    return tuple(shape_list)


def _from_bytes(dtype_name: Any, shape_list: Any, raw: bytes) -> np.ndarray:
    try:
        dtype = np.dtype(dtype_name)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bad array header: dtype {str(dtype_name)[:40]!r}") from exc
    _check_dtype(dtype)
    shape = _shape(shape_list)
    expected = math.prod(shape) * dtype.itemsize  # exact (Python ints): a huge shape cannot overflow
    if len(raw) != expected:
        raise ValueError(f"array data has {len(raw)} bytes, shape {list(shape)} of {dtype.name} needs {expected}")
    return np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype, copy=True).reshape(shape)


def array_from_json(obj: dict[str, Any]) -> np.ndarray:
    """Decode the dict made by :func:`array_to_json`."""
    try:
        raw = base64.b64decode(obj["data"], validate=True)
        return _from_bytes(obj["dtype"], obj["shape"], raw)
    except (KeyError, TypeError, binascii.Error) as exc:
        raise ValueError("an encoded array needs 'dtype', 'shape' (list of ints) and 'data' (base64)") from exc


def coerce_array(value: Any) -> np.ndarray:
    """Accept an ndarray, a JSON-encoded array or a nested list; refuse object arrays and NaN/infinities."""
    if isinstance(value, np.ndarray):
        array = value
    elif isinstance(value, dict):
        array = array_from_json(value)
    elif isinstance(value, (list, tuple)):
        array = np.asarray(value)
    else:
        raise ValueError(f"expected an array (numpy array, nested list or encoded dict), got {type(value).__name__}")
    _check_dtype(array.dtype)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError("the array holds NaN or infinite values; only finite numbers are accepted")
    return array


NDArray = Annotated[
    np.ndarray,
    BeforeValidator(coerce_array),
    PlainSerializer(lambda a: array_to_json(a), when_used="json"),
    WithJsonSchema(
        {
            "type": "object",
            "properties": {
                "dtype": {"type": "string", "enum": sorted(ALLOWED_DTYPES)},
                "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}, "maxItems": MAX_NDIM},
                "data": {"type": "string", "contentEncoding": "base64"},
            },
            "required": ["dtype", "shape", "data"],
        }
    ),
]
"""A numpy array field: validated from arrays, lists or the JSON form; dumped exactly to JSON."""
