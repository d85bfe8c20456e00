"""Data files in a plugin wheel must not run code when they are loaded: no pickle, in any disguise.

Code (Python source, extension modules) and the wheel's own ``.dist-info`` are not data. Every other
file is checked by what it claims to be, then for pickles whatever it claims:

- ``.safetensors``: a valid header (8-byte size, a JSON object of tensors whose offsets fit the file);
- ``.npy``: a numpy header whose dtype holds no objects (``np.load(allow_pickle=False)`` would refuse
  it); ``.npz``: a zip of such ``.npy`` files only;
- ``.json``: parses; text formats (``.txt``, ``.md``, ``.yaml``, ``.toml``…): UTF-8;
- the pickle file endings (``.pkl``, ``.pt``, ``.pth``, ``.ckpt``, ``.joblib``, ``.pickle``) are refused;
- everything (ONNX and any other file included) must hold no pickle stream of any protocol (0-5,
  read with the standard library's opcode reader, which never executes one), nor a pickle prefix that
  imports and calls something before garbage (``pickle.load`` would run it), also after gzip, bz2,
  xz/lzma or zlib decompression and inside zip and tar archives; binary files must also pass
  picklescan, which names the imports a pickle would run.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import logging
import lzma
import pickletools
import struct
import tarfile
import zipfile
import zlib
from pathlib import PurePosixPath

from modahub.weights import PICKLE_SUFFIXES

CODE_SUFFIXES = frozenset({".py", ".pyi", ".so", ".pyd", ".dylib", ".dll", ".typed"})
TEXT_SUFFIXES = frozenset({".txt", ".md", ".rst", ".toml", ".cfg", ".ini", ".yaml", ".yml", ".html", ".htm", ".css", ".js",
                           ".csv", ".tsv", ".j2", ".jinja", ".jinja2", ".svg", ".xml"})
REFUSED_SUFFIXES = PICKLE_SUFFIXES - {".bin"}
"""Core's pickle file endings but ``.bin``, which plugin data also uses for native formats (checked by its bytes)."""
MAX_UNPACKED = 256 << 20
"""Bytes a compressed or archived data file may expand to; beyond that it cannot be scanned and is refused."""
_FIX = "ship weights as safetensors, ONNX or .npy/.npz without object arrays"

logging.getLogger("picklescan").addHandler(logging.NullHandler())
logging.getLogger("picklescan").propagate = False  # its warnings are ours to report, in one line


class UnsafeData(ValueError):
    """A data file that could run code when loaded, or that cannot be checked."""


_IMPORTS = frozenset({"GLOBAL", "STACK_GLOBAL", "INST"})
_CALLS = frozenset({"REDUCE", "OBJ", "NEWOBJ", "NEWOBJ_EX", "BUILD", "INST"})


def _pickle_risk(data: bytes) -> str | None:
    """Why ``data`` read as a pickle is dangerous: a complete stream (any protocol), or a prefix that imports
    something and then calls it (``pickle.load`` runs those opcodes before it meets the bytes that do not parse)."""
    imported = False
    try:
        for opcode, _, _ in pickletools.genops(io.BytesIO(data)):
            if opcode.name == "STOP":
                break
            if imported and opcode.name in _CALLS:
                return "starts with pickle opcodes that import and call code"
            imported = imported or opcode.name in _IMPORTS
    except Exception:  # noqa: BLE001 - a parse error ends the pickle reading here
        return None
    try:  # the standard library's disassembler also checks the stack and memo: a loadable stream passes
        pickletools.dis(io.BytesIO(data), out=io.StringIO())
    except Exception:  # noqa: BLE001 - not a loadable pickle
        return None
    return "is a Python pickle"


def _unpack(data: bytes) -> bytes | None:
    """``data`` decompressed when it is a gzip, bz2, xz/lzma or zlib stream, else None."""
    decoders = [
        (b"\x1f\x8b", lambda: gzip.GzipFile(fileobj=io.BytesIO(data))),
        (b"BZh", lambda: bz2.BZ2File(io.BytesIO(data))),
        (b"\xfd7zXZ\x00", lambda: lzma.LZMAFile(io.BytesIO(data))),
        (b"\x5d\x00\x00", lambda: lzma.LZMAFile(io.BytesIO(data), format=lzma.FORMAT_ALONE)),
    ]
    for magic, opener in decoders:
        if data.startswith(magic):
            try:
                with opener() as stream:
                    out = stream.read(MAX_UNPACKED + 1)
            except (OSError, EOFError, lzma.LZMAError):
                return None
            return _capped(out)
    if len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0:
        try:
            return _capped(zlib.decompressobj().decompress(data, MAX_UNPACKED + 1))
        except zlib.error:
            return None
    return None


def _capped(out: bytes) -> bytes:
    if len(out) > MAX_UNPACKED:
        raise UnsafeData(f"expands beyond {MAX_UNPACKED >> 20} MiB and cannot be scanned for pickles")
    return out


def _members(data: bytes) -> list[tuple[str, bytes]] | None:
    """The files of a zip or tar archive, else None."""
    buffer = io.BytesIO(data)
    if zipfile.is_zipfile(buffer):
        try:
            with zipfile.ZipFile(buffer) as zf:
                if sum(i.file_size for i in zf.infolist()) > MAX_UNPACKED:
                    raise UnsafeData(f"expands beyond {MAX_UNPACKED >> 20} MiB and cannot be scanned for pickles")
                return [(i.filename, zf.read(i)) for i in zf.infolist() if not i.is_dir()]
        except (zipfile.BadZipFile, OSError, NotImplementedError) as exc:
            raise UnsafeData(f"is a zip archive that cannot be read ({exc})") from None
    if len(data) > 262 and data[257:262] == b"ustar":
        try:
            with tarfile.open(fileobj=io.BytesIO(data)) as tf:
                files = [m for m in tf.getmembers() if m.isfile()]
                if sum(m.size for m in files) > MAX_UNPACKED:
                    raise UnsafeData(f"expands beyond {MAX_UNPACKED >> 20} MiB and cannot be scanned for pickles")
                return [(m.name, tf.extractfile(m).read()) for m in files]  # type: ignore[union-attr]
        except tarfile.TarError as exc:
            raise UnsafeData(f"is a tar archive that cannot be read ({exc})") from None
    return None


def _scan(name: str, data: bytes, depth: int = 0) -> None:
    """Refuse ``data`` when it is, holds or unpacks to a pickle."""
    if depth > 4:
        raise UnsafeData("nests archives or compression too deeply to be scanned")
    risk = _pickle_risk(data)
    if risk:
        raise UnsafeData(f"{risk}{_imports(data, name)}")
    if len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5:
        raise UnsafeData("starts like a pickle (protocol header) but does not parse as one; it cannot be cleared")
    if data.startswith(b"\x93NUMPY"):  # np.load reads it whatever its name
        _check_npy(data)
        return
    unpacked = _unpack(data)
    if unpacked is not None:
        try:
            _scan(name, unpacked, depth + 1)
        except UnsafeData as exc:
            raise UnsafeData(f"is compressed and {exc}") from None
        return
    members = _members(data)
    for member, content in members or []:
        try:
            _scan(member, content, depth + 1)
        except UnsafeData as exc:
            raise UnsafeData(f"holds {member!r}, which {exc}") from None
    if members is None and not _is_text(data):
        _picklescan(name, data)  # text is read by the rules above: picklescan's lenient reading flags plain words


def _is_text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _imports(data: bytes, name: str) -> str:
    from picklescan.scanner import scan_pickle_bytes

    found = sorted({f"{g.module}.{g.name}" for g in scan_pickle_bytes(io.BytesIO(data), name).globals})
    return f" importing {', '.join(found[:3])}" if found else ""


def _picklescan(name: str, data: bytes) -> None:
    from picklescan.scanner import scan_bytes

    try:
        result = scan_bytes(io.BytesIO(data), name, PurePosixPath(name).suffix.lower())
    except Exception as exc:  # noqa: BLE001 - a file the scanner chokes on is not cleared
        raise UnsafeData(f"cannot be scanned for pickles ({type(exc).__name__})") from None
    if result.globals or result.infected_files:
        found = sorted({f"{g.module}.{g.name}" for g in result.globals})
        raise UnsafeData(f"holds pickled code (picklescan: {', '.join(found[:3]) or 'infected'})")


def _check_npy(data: bytes) -> None:
    import numpy as np

    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            _, _, dtype = np.lib.format.read_array_header_1_0(stream)  # the header only, no data
        elif version == (2, 0):
            _, _, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"format version {version[0]}.{version[1]} is not accepted (np.save writes 1.0)")
    except (ValueError, OSError, SyntaxError, TypeError) as exc:
        raise UnsafeData(f"is not a valid .npy file ({str(exc).splitlines()[0][:80]})") from None
    if dtype.hasobject:
        raise UnsafeData(f"is an object array ({dtype}), which only loads with allow_pickle=True")


def _check_npz(data: bytes) -> None:
    members = _members(data)
    if members is None:
        raise UnsafeData("is not a zip of .npy files")
    for member, content in members:
        if not member.endswith(".npy"):
            raise UnsafeData(f"holds {member!r}, not a .npy file")
        try:
            _check_npy(content)
        except UnsafeData as exc:
            raise UnsafeData(f"holds {member!r}, which {exc}") from None


def _check_safetensors(data: bytes) -> None:
    if len(data) < 8:
        raise UnsafeData("is not a valid safetensors file (too short)")
    (size,) = struct.unpack("<Q", data[:8])
    body = len(data) - 8 - size
    try:
        if body < 0:
            raise ValueError
        header = json.loads(data[8 : 8 + size])
        if not isinstance(header, dict):
            raise ValueError
        for key, tensor in header.items():
            if key == "__metadata__":
                continue
            start, end = tensor["data_offsets"]
            if not (isinstance(tensor["dtype"], str) and all(isinstance(d, int) for d in tensor["shape"])
                    and 0 <= start <= end <= body):
                raise ValueError
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise UnsafeData("is not a valid safetensors file (its header does not describe its tensors)") from None


def check_data_file(name: str, data: bytes) -> None:
    """Raise :class:`UnsafeData` (its message completes '<name> …') when wheel file ``name`` could run code when loaded."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in CODE_SUFFIXES:
        return
    if suffix in REFUSED_SUFFIXES:
        raise UnsafeData(f"is a pickle-based format ({suffix})")
    if suffix == ".safetensors":
        _check_safetensors(data)
        return  # a valid header and tensors that fit: the rest is raw numbers
    if suffix == ".npy":
        _check_npy(data)
        return
    if suffix == ".npz":
        _check_npz(data)
        return
    if suffix == ".json":
        try:
            json.loads(data)
        except (ValueError, RecursionError):
            raise UnsafeData("is not valid JSON") from None
    elif suffix in TEXT_SUFFIXES:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise UnsafeData(f"is not UTF-8 text, as a {suffix} file must be") from None
    _scan(name, data)


def check_wheel_data(zf: zipfile.ZipFile, *, where: str) -> None:
    """Check every data file of an open wheel; :class:`HubError` names the first offenders and the fix."""
    from modahub_hub.hub import HubError

    problems = []
    for info in zf.infolist():
        top = PurePosixPath(info.filename).parts[0] if info.filename else ""
        if info.is_dir() or top.endswith(".dist-info"):
            continue
        if info.file_size > MAX_UNPACKED:
            problems.append(f"{info.filename} is larger than {MAX_UNPACKED >> 20} MiB and cannot be scanned")
            continue
        try:
            check_data_file(info.filename, zf.read(info))
        except UnsafeData as exc:
            problems.append(f"{info.filename} {exc}")
    if problems:
        raise HubError(f"{where}: data that could run code when loaded is refused: {'; '.join(problems[:3])}; {_FIX}")
