"""Warm objects kept between jobs (ONNX Runtime sessions, the language model) under a memory limit.

Sizes are estimates given by the caller (the model file's size: ONNX weights and GGUF files are
held in memory about as large as on disk). When a new entry would pass the limit, the least recently
used entries are dropped first; an entry larger than the whole limit is used once and not kept.

Loading runs outside the lock that guards the entries, so ``summary()`` (answered to ``ping``) and
``clear()`` never wait for a model that takes minutes to load; loads themselves run one at a time.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

log = logging.getLogger(__name__)


class WarmCache:
    """A thread-safe least-recently-used cache bounded by estimated bytes."""

    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.RLock()  # guards _entries; held for bookkeeping only
        self._load_lock = threading.Lock()  # one load at a time, so two jobs never load the same model twice

    def get_or_load(self, key: Hashable, load: Callable[[], Any], size_bytes: int) -> Any:
        """The cached value for ``key``, else ``load()`` kept under ``size_bytes`` (estimate)."""
        with self._load_lock:
            with self._lock:
                if key in self._entries:
                    self._entries.move_to_end(key)
                    return self._entries[key][0]
                keep = size_bytes <= self.limit_bytes
                evicted = self._make_room(size_bytes) if keep else False
            if evicted:  # give the dropped models' memory back before loading the new one
                _release_memory()
            if not keep:
                log.info("not keeping %s warm: %d MB is above the cache limit", key, size_bytes // 2**20)
            value = load()
            if keep:
                with self._lock:
                    self._entries[key] = (value, size_bytes)
            return value

    def _make_room(self, size_bytes: int) -> bool:
        """Drop least recently used entries until ``size_bytes`` fit; whether any was dropped."""
        evicted = False
        while self._entries and self.used_bytes + size_bytes > self.limit_bytes:
            key, _ = self._entries.popitem(last=False)
            log.info("dropped %s from the warm cache (memory limit %d MB)", key, self.limit_bytes // 2**20)
            evicted = True
        return evicted

    @property
    def used_bytes(self) -> int:
        with self._lock:
            return sum(size for _, size in self._entries.values())

    def clear(self) -> list[str]:
        """Drop every entry and give memory back (GPU memory too); returns the dropped keys as text.

        A load in progress is not interrupted: its entry is kept when it finishes.
        """
        with self._lock:
            dropped = [str(key) for key in self._entries]
            self._entries.clear()
        _release_memory()
        return dropped

    def summary(self) -> dict:
        with self._lock:
            return {
                "entries": [str(key) for key in self._entries],
                "used_mb": round(self.used_bytes / 2**20, 1),
                "limit_mb": round(self.limit_bytes / 2**20, 1),
            }


def _release_memory() -> None:
    gc.collect()
    torch = sys.modules.get("torch")  # only if a job already loaded it
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
