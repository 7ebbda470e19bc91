"""A station's WebSocket connection: messages go straight to its link, replies straight out.

`websockets` queues each message, wakes the reader's task through a future, and writes each
reply through an async context manager: about a third of the gateway's CPU per message.
Here a complete message is handed to the link's handler from `data_received`; the handler
runs at once (`app.gateway.eager`) and only one that has to wait becomes a task, while the
messages behind it wait their turn (and, past a few, the socket stops being read). A reply
is written at once when the connection is open and its write buffer has room.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode, Frame, Opcode, apply_mask
from websockets.protocol import State

log = logging.getLogger(__name__)

# Messages waiting behind one being handled: past HIGH the socket is not read until LOW
# (websockets' own receive queue has the same bounds).
QUEUE_HIGH, QUEUE_LOW = 16, 4
MAX_FRAGMENTS = 1024  # a message in more pieces than this is a flood of tiny frames

Message = str | bytes
# A handler returns None once the message is handled, or the future that finishes it.
Handler = Callable[[Message], "asyncio.Future[Any] | None"]


class StationConnection(ServerConnection):
    """websockets' server connection with complete messages delivered to one handler in order."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_heard = self.loop.time()  # when the station last sent anything (pongs too)
        self._handler: Handler | None = None
        self._queue: deque[Message] = deque()
        self._busy: asyncio.Future[Any] | None = None  # the message being handled in a task
        self._fragments: list[bytes] | None = None
        self._text = False
        self._reading_paused = False
        self._drained: asyncio.Future[None] | None = None
        self._closing: asyncio.Task[None] | None = None

    async def serve_messages(self, handler: Handler) -> None:
        """Hand every message to `handler` in order until the connection closes, then wait
        until the messages received before the close have been handled."""
        self._handler = handler
        if self._queue:
            self._feed(self._queue.popleft())
        await asyncio.shield(self.connection_lost_waiter)
        while self._busy is not None or self._queue:
            self._drained = self.loop.create_future()
            await self._drained

    def send_now(self, message: str) -> bool:
        """Write a text message at once if the connection is open and has room; else False
        (then `send` waits for room, or raises ConnectionClosed)."""
        return self._write_now(self.protocol.send_text, message.encode())

    def send_ping(self, data: bytes) -> bool:
        """Write a ping at once if the connection is open and has room; else False."""
        return self._write_now(self.protocol.send_ping, data)

    def _write_now(self, frame: Callable[[bytes], None], data: bytes) -> bool:
        if self.protocol.state is not State.OPEN or self.paused:
            return False
        frame(data)
        try:
            self.send_data()
        except Exception as error:  # the socket broke: connection_lost follows
            self.set_connection_exc(error)
            self.transport.abort()
        return True

    def data_received(self, data: bytes) -> None:
        self.last_heard = self.loop.time()
        payload = self._one_text_frame(data)
        if payload is None:
            super().data_received(data)
        else:
            self._text = True
            self._received(payload)

    def _one_text_frame(self, data: bytes) -> bytes | None:
        """The payload when `data` is exactly one whole, masked, unfragmented text frame under
        64 KiB and the parser sits between messages (how stations send); else None, and
        `websockets` parses it. Its parser is a generator stepped per frame part: this is
        a tenth of the CPU for the frame every OCPP message is."""
        protocol = self.protocol
        if (
            len(data) < 6
            or data[0] != 0x81  # FIN, no RSV bits, TEXT
            or not data[1] & 0x80  # masked, as a client must
            or protocol.state is not State.OPEN
            or protocol.expect_continuation_frame
            or protocol.reader.buffer
        ):
            return None
        length, start = data[1] & 0x7F, 2
        if length == 126:
            length, start = int.from_bytes(data[2:4], "big"), 4
        elif length == 127:
            return None
        limit = protocol.max_message_size
        if (limit is not None and length > limit) or len(data) != start + 4 + length:
            return None
        return apply_mask(data[start + 4 :], data[start : start + 4])

    def process_event(self, event: Any) -> None:
        if self.request is None or not isinstance(event, Frame):
            super().process_event(event)  # the handshake
            return
        opcode = event.opcode
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
            self._text = opcode is Opcode.TEXT
            if event.fin:
                self._received(bytes(event.data))
            else:
                self._fragments = [bytes(event.data)]
        elif opcode is Opcode.CONT and self._fragments is not None:
            self._fragments.append(bytes(event.data))
            if event.fin:
                data, self._fragments = b"".join(self._fragments), None
                self._received(data)
            elif len(self._fragments) > MAX_FRAGMENTS:
                self._fragments = None
                self._fail(CloseCode.MESSAGE_TOO_BIG, "too many fragments")
        else:
            super().process_event(event)  # pongs

    def _received(self, data: bytes) -> None:
        message: Message = data
        if self._text:
            try:
                message = data.decode()
            except UnicodeDecodeError as error:
                self._fail(CloseCode.INVALID_DATA, f"{error.reason} at position {error.start}")
                return
        if self._handler is None or self._busy is not None or self._queue:
            self._queue.append(message)
            if len(self._queue) >= QUEUE_HIGH and not self._reading_paused:
                self._reading_paused = True
                self.transport.pause_reading()
            return
        self._feed(message)

    def _feed(self, message: Message) -> None:
        """Handle messages until one has to wait (it then resumes the rest when done)."""
        assert self._handler is not None
        while True:
            pending = self._handler(message)
            if pending is not None:
                self._busy = pending
                pending.add_done_callback(self._resume)
                break
            if not self._queue:
                break
            message = self._queue.popleft()
        if self._reading_paused and len(self._queue) <= QUEUE_LOW:
            self._reading_paused = False
            if not self.transport.is_closing():
                self.transport.resume_reading()
        drained = self._drained
        if self._busy is None and not self._queue and drained is not None and not drained.done():
            drained.set_result(None)

    def _resume(self, task: asyncio.Future[Any]) -> None:
        self._busy = None
        if self._queue:
            self._feed(self._queue.popleft())
        elif self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def _fail(self, code: CloseCode, reason: str) -> None:
        """Close the connection for a message that breaks the WebSocket protocol, as
        `websockets` does: a close frame, then the socket aborted after close_timeout."""
        if self._closing is None:
            self._closing = self.loop.create_task(self._fail_async(code, reason))

    async def _fail_async(self, code: CloseCode, reason: str) -> None:
        try:
            async with self.send_context():
                self.protocol.fail(code, reason)
        except ConnectionClosed:
            pass
