"""Results remembered per warehouse: counts (``metrics``) and suppression decisions
(``privacy``).

A warehouse never changes (a new load opens a new one), so what was computed from it stays
true for as long as it lives; the memory is keyed weakly on it and goes with it. Each memory
is bounded, least recently used first out. A page's panels run in parallel and often ask the
same thing at once (five cards of one population): the first thread makes it while the
others wait for it, instead of all making it.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ccgi_dash.store import Warehouse

MISSING: Any = object()
"""What ``WarehouseMemo.get`` returns for a key it does not hold."""


class WarehouseMemo:
    """A bounded memory of values per warehouse, with waiting for values being made."""

    def __init__(self, capacity: int, wait_seconds: float = 60.0) -> None:
        self.capacity = capacity
        self.wait_seconds = wait_seconds
        """How long a thread waits for another making the same value, then makes it itself.
        The values made here wait only on values they are built from, never on themselves,
        so waits cannot go round in a circle: the bound is a safety net, not a path taken."""
        self._memos: weakref.WeakKeyDictionary[Warehouse, OrderedDict[Hashable, Any]] = (
            weakref.WeakKeyDictionary())
        self._lock = threading.Lock()
        self._pending: dict[tuple[int, Hashable], threading.Lock] = {}

    def get(self, wh: Warehouse, key: Hashable) -> Any:
        """The value held under ``key`` (now the most recently used), or ``MISSING``."""
        with self._lock:
            memo = self._memos.get(wh)
            if memo is None or key not in memo:
                return MISSING
            memo.move_to_end(key)
            return memo[key]

    def put(self, wh: Warehouse, key: Hashable, value: Any) -> None:
        with self._lock:
            memo = self._memos.setdefault(wh, OrderedDict())
            memo[key] = value
            memo.move_to_end(key)
            while len(memo) > self.capacity:
                memo.popitem(last=False)

    def get_or_make(self, wh: Warehouse, key: Hashable, make: Callable[[], Any]) -> Any:
        """The value under ``key``, made by ``make()`` and kept if not held yet; a thread
        asking while another makes it waits for that one."""
        value = self.get(wh, key)
        if value is not MISSING:
            return value
        slot = (id(wh), key)
        with self._lock:
            pending = self._pending.setdefault(slot, threading.Lock())
        got = pending.acquire(timeout=self.wait_seconds)
        try:
            value = self.get(wh, key)
            if value is MISSING:
                value = make()
                self.put(wh, key, value)
            return value
        finally:
            if got:
                pending.release()
            with self._lock:
                if self._pending.get(slot) is pending and not pending.locked():
                    del self._pending[slot]

    def forget(self, wh: Warehouse) -> None:
        """Drop everything held for ``wh``."""
        with self._lock:
            self._memos.pop(wh, None)
