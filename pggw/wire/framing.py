"""Message framing for the frontend side of the PostgreSQL v3 protocol (sans-IO).

Feed raw socket bytes with :meth:`MessageReader.feed`, then pull complete messages
with :meth:`MessageReader.next_message` until it returns ``None``.

The reader keeps one ``bytearray`` and a read offset; consumed bytes are dropped
only occasionally (``del buf[:off]``), so both many small pipelined messages and one
huge message arriving in small reads cost amortised O(1) per byte.

Message bodies are returned as ``memoryview`` objects that do **not** pin the
reader's buffer: a small body is copied out (``bytes``), a large body that ends
exactly at the end of the buffer is handed over without a copy (the reader
switches to a fresh buffer). Callers may keep a body as long as they like.
"""

from __future__ import annotations

import struct

from pggw.wire.errors import PROTOCOL_VIOLATION, PgError

__all__ = ["MAX_STARTUP_PACKET_SIZE", "MessageReader"]

_I = struct.Struct("!i")
_BI = struct.Struct("!Bi")

#: PostgreSQL rejects startup packets longer than this (``MAX_STARTUP_PACKET_LENGTH``).
MAX_STARTUP_PACKET_SIZE = 10000

# Drop consumed bytes from the front of the buffer once this many have accumulated.
_COMPACT_AT = 1 << 16
# Bodies at least this big are handed over without copying when possible.
_HANDOVER_AT = 1 << 16


class MessageReader:
    """Split a client byte stream into protocol messages.

    ``startup`` is True while the next message is an untyped startup-phase packet
    (SSLRequest, GSSENCRequest, CancelRequest or StartupMessage). The owner sets it
    to False once the StartupMessage has been read (and back to True after
    answering SSLRequest/GSSENCRequest it stays True, since another untyped packet
    follows).
    """

    __slots__ = ("_buf", "_off", "max_message_size", "startup")

    def __init__(self, max_message_size: int = 256 * 2**20) -> None:
        self._buf = bytearray()
        self._off = 0
        self.max_message_size = max_message_size
        self.startup = True

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append bytes received from the socket."""
        buf = self._buf
        off = self._off
        if off:
            if off == len(buf):
                buf.clear()
                self._off = 0
            elif off >= _COMPACT_AT:
                del buf[:off]
                self._off = 0
        buf += data

    def buffered(self) -> int:
        """Bytes received but not yet returned as messages."""
        return len(self._buf) - self._off

    def next_message(self) -> tuple[int, memoryview] | None:
        """Return ``(type_byte, body)`` for the next complete message, or None.

        For the untyped startup-phase packet the type byte is 0. The body excludes
        the type byte and the length word. Raises :class:`PgError` (08P01, FATAL)
        on an impossible length; the stream cannot be resynchronised after that.
        """
        buf = self._buf
        off = self._off
        avail = len(buf) - off
        if self.startup:
            if avail < 4:
                return None
            (length,) = _I.unpack_from(buf, off)
            if length < 8 or length > MAX_STARTUP_PACKET_SIZE:
                raise PgError(
                    PROTOCOL_VIOLATION, f"invalid length of startup packet: {length}",
                    severity="FATAL",
                )
            if avail < length:
                return None
            start = off + 4
            end = off + length
            mtype = 0
        else:
            if avail < 5:
                return None
            mtype, length = _BI.unpack_from(buf, off)
            if length < 4 or length > self.max_message_size:
                raise PgError(
                    PROTOCOL_VIOLATION,
                    f"invalid message length {length} for message type {_show(mtype)}",
                    severity="FATAL",
                )
            if avail < length + 1:
                return None
            start = off + 5
            end = off + 1 + length
        if end == len(buf) and end - start >= _HANDOVER_AT:
            # Hand the whole buffer over; no copy of a large body.
            self._buf = bytearray()
            self._off = 0
            return mtype, memoryview(buf)[start:end]
        self._off = end
        return mtype, memoryview(buf[start:end])

    def take_all(self) -> bytes:
        """Remove and return every buffered byte (e.g. to inspect leftovers)."""
        data = bytes(self._buf[self._off:])
        self._buf = bytearray()
        self._off = 0
        return data


def _show(mtype: int) -> str:
    if 32 < mtype < 127:
        return repr(chr(mtype))
    return str(mtype)
