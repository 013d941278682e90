"""A bounded memory of values that are cheap to make again, shared by a worker's threads."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class Memo(Generic[V]):
    """At most ``size`` values by key; when full it starts again empty.

    For rendered pieces and loaded rows whose keys name everything they depend on (the
    database, the version of what they show, the language...): a value is never stale,
    only forgotten, so emptying it all at once is as correct as any eviction and cheaper.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: dict[Hashable, V] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            return self._values.get(key)

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            if len(self._values) >= self.size:
                self._values.clear()
            self._values[key] = value

    def __len__(self) -> int:
        return len(self._values)

    def copy(self) -> dict[Hashable, V]:
        with self._lock:
            return dict(self._values)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
