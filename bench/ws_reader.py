"""A minimal WebSocket client for the benchmark's readers: cheap per frame, so the clients are not the bottleneck.

The ``websockets`` client costs tens of microseconds per frame; ten of them reading 2,000 frames/s
each would measure the clients, not the servers. This one parses frames straight off an asyncio
stream (server frames are unmasked), answers protocol pings, and nothing else. Both the hub and the
bare relay are read through it, so the comparison stays fair.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from urllib.parse import urlsplit


class Reader:
    """One connection: ``send`` text, ``recv`` the payload of the next text frame."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._r = reader
        self._w = writer

    @classmethod
    async def open(cls, url: str, rcvbuf: int | None = None) -> Reader:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        if rcvbuf is None:
            reader, writer = await asyncio.open_connection(host, port)
        else:
            import socket

            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.connect((host, port))
            reader, writer = await asyncio.open_connection(sock=sock)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(f"no WebSocket upgrade: {head[:80]!r}")
        return cls(reader, writer)

    def _frame(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self._w.write(head + mask + masked)

    async def send(self, text: str) -> None:
        self._frame(0x1, text.encode())
        await self._w.drain()

    async def recv(self) -> bytes:
        """Return the next text or binary message; control frames are handled on the way."""
        read = self._r.readexactly
        while True:
            b0, b1 = await read(2)
            n = b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", await read(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", await read(8))
            payload = await read(n)
            opcode = b0 & 0x0F
            if opcode == 0x9:
                self._frame(0xA, payload)
            elif opcode == 0x8:
                raise ConnectionError("closed by the server")
            elif opcode in (0x1, 0x2):
                return payload

    def close(self) -> None:
        self._w.close()
