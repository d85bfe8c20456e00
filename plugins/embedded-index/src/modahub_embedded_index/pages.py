"""Huge pages for an HNSW graph's memory (Linux).

A graph search jumps between vectors and neighbour lists all over the graph's memory, so most
reads miss the CPU's address-translation cache; with 4 KiB pages each miss walks the page tables,
and in a virtual machine it walks two sets of them. Backing the same memory with 2 MiB pages made
the same faiss graph answer 2.1–2.4× faster on the project's VM (docs/indexes.md). Linux gives
huge pages to ordinary allocations only where a program asks (``transparent_hugepage=madvise``,
a common default), and faiss does not ask, so :func:`use_huge_pages` does: ``MADV_HUGEPAGE`` on
the graph's buffers, then ``MADV_COLLAPSE`` (Linux 6.1+) to move their pages now instead of
waiting for the kernel's background scan. Elsewhere, or when the kernel refuses, nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable

import faiss

_HUGE = 1 << 21
_MADV_HUGEPAGE, _MADV_COLLAPSE = 14, 25


def _madvise() -> Callable[[int, int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    call = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True).madvise
    call.argtypes, call.restype = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int], ctypes.c_int
    return call


_CALL = _madvise()


def _advise(address: int, size: int) -> None:
    """Ask for huge pages on the whole 2 MiB pages inside ``[address, address + size)`` (best effort)."""
    start, end = -(-address // _HUGE) * _HUGE, (address + size) // _HUGE * _HUGE
    if _CALL is not None and end > start:
        for advice in (_MADV_HUGEPAGE, _MADV_COLLAPSE):
            _CALL(start, end - start, advice)


def buffers(graph: faiss.IndexHNSWFlat) -> tuple[tuple[int, int], ...]:
    """(address, bytes) of the graph's two large buffers: the stored vectors and the neighbour lists."""
    parts = (faiss.downcast_index(graph.storage).codes, graph.hnsw.neighbors)
    return tuple((int(part.data()), int(part.byte_size())) for part in parts)


def use_huge_pages(graph: faiss.IndexHNSWFlat) -> tuple[tuple[int, int], ...]:
    """Back ``graph``'s buffers with huge pages where the OS allows; returns the buffers advised.

    Call again after the graph grows: a buffer that moved is advised anew, and pages already
    huge cost the kernel almost nothing to pass over.
    """
    found = buffers(graph)
    for address, size in found:
        _advise(address, size)
    return found
