"""Run a coroutine's first step at once; only one that has to wait becomes a task.

Most OCPP messages are handled without waiting (a port that never blocks, a reply written
to a socket with room): for those a task per message costs a loop turn and its bookkeeping
for nothing. Python 3.12's eager tasks do this; the gateway runs on 3.11 too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any


def step(coro: Coroutine[Any, Any, Any]) -> asyncio.Future[Any] | None:
    """Run `coro` until it first waits: None when it has finished, else a task finishing it.

    An exception raised before the first wait propagates to the caller.
    """
    try:
        waiting_on = coro.send(None)
    except StopIteration:
        return None
    return asyncio.ensure_future(_Resumed(coro, waiting_on))


class _Resumed(Coroutine[Any, Any, Any]):
    """A started coroutine handed to a task: the task's first step gets the future the
    coroutine already waits on; every later step goes to the coroutine itself."""

    __slots__ = ("_coro", "_handed", "_waiting_on")

    def __init__(self, coro: Coroutine[Any, Any, Any], waiting_on: Any) -> None:
        self._coro = coro
        self._waiting_on = waiting_on  # a future (or None from a bare yield: sleep(0))
        self._handed = False

    def send(self, value: Any) -> Any:
        if not self._handed:
            self._handed = True
            return self._waiting_on
        return self._coro.send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        self._handed = True
        if val is None and tb is None:
            return self._coro.throw(typ)
        return self._coro.throw(typ, val, tb)  # pragma: no cover - the old 3-argument form

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Generator[Any, None, Any]:
        return self  # type: ignore[return-value]

    def __next__(self) -> Any:
        return self.send(None)

    def __iter__(self) -> _Resumed:
        return self
