"""A member's side of a sealed link (src/lib/seal.h), in Python over the
system's libsodium (ctypes): for tests that play a member holding the key
(a deposed leader, say), which Python's standard library alone cannot (it
has no X25519 nor ChaCha20-Poly1305).

    m = SealedMember(("127.0.0.1", port), key)   # handshake as initiator
    m.send(FT_FRAME_HELLO, {"role": "leader", "id": 9, "epoch": 7})
    frame_type, meta, blob = m.recv(timeout=5)    # None once closed
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import hmac
import json
import socket
import struct
import time
from typing import Optional, Tuple

# src/lib/frame.h
FT_FRAME_HELLO, FT_FRAME_INVENTORY, FT_FRAME_REJECT, FT_FRAME_PING = 1, 7, 9, 12
MAGIC = b"FTS\x01"

_lib = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
if _lib.sodium_init() < 0:
    raise RuntimeError("libsodium cannot start")


def key_id(key: bytes) -> bytes:
    return hashlib.blake2b(b"ftcluster key id v1", digest_size=16, key=key).digest()[:8]


def handshake_mac(key: bytes, who: bytes, th: bytes) -> bytes:
    """mac_R (who b"R") or mac_I (b"I"): HMAC-SHA-512-256, HMAC-SHA-512 cut
    to 32 bytes, over the transcript hash th."""
    return hmac.new(key, b"ftcluster " + who + th, hashlib.sha512).digest()[:32]


def _nonce(n: int) -> bytes:
    return b"\0" * 4 + struct.pack(">Q", n)


class SealedMember:
    def __init__(self, addr: Tuple[str, int], key: bytes, timeout: float = 5.0):
        self.sock = socket.create_connection(addr, timeout=timeout)
        self.sock.settimeout(timeout)
        pk, sk = ctypes.create_string_buffer(32), ctypes.create_string_buffer(32)
        _lib.crypto_kx_keypair(pk, sk)
        hello1 = MAGIC + key_id(key) + pk.raw
        self.sock.sendall(hello1)
        hello2 = self._exact(len(hello1) + 32)
        th = hashlib.blake2b(hello1 + hello2[:44], digest_size=32).digest()
        if not hmac.compare_digest(hello2[44:], handshake_mac(key, b"R", th)):
            raise ConnectionError("the node does not hold this key")
        rx, tx = ctypes.create_string_buffer(32), ctypes.create_string_buffer(32)
        if _lib.crypto_kx_client_session_keys(rx, tx, pk, sk, hello2[12:44]) != 0:
            raise ConnectionError("unusable ephemeral key")
        self.tx = hashlib.blake2b(tx.raw + th, digest_size=32, key=key).digest()
        self.rx = hashlib.blake2b(rx.raw + th, digest_size=32, key=key).digest()
        self.tx_n = self.rx_n = 0
        self.sock.sendall(handshake_mac(key, b"I", th))
        self.plain = b""

    def _exact(self, n: int) -> bytes:
        got = b""
        while len(got) < n:
            chunk = self.sock.recv(n - len(got))
            if not chunk:
                raise ConnectionError("closed after %d of %d bytes" % (len(got), n))
            got += chunk
        return got

    def send(self, ftype: int, meta: dict, blob: bytes = b"") -> None:
        m = json.dumps(meta).encode()
        frame = b"FT" + bytes([1, ftype]) + struct.pack(">II", len(m), len(blob)) + m + blob
        head = struct.pack(">I", len(frame) + 16)
        out = ctypes.create_string_buffer(len(frame) + 16)
        _lib.crypto_aead_chacha20poly1305_ietf_encrypt(
            out, None, frame, ctypes.c_ulonglong(len(frame)), head, ctypes.c_ulonglong(4),
            None, _nonce(self.tx_n), self.tx)
        self.tx_n += 1
        self.sock.sendall(head + out.raw)

    def recv(self, timeout: float = 5.0) -> Optional[Tuple[int, dict, bytes]]:
        """The next frame but the link's PINGs, or None if the peer closed
        the connection; socket.timeout after `timeout` seconds in all."""
        deadline = time.monotonic() + timeout
        while True:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            if len(self.plain) >= 12:
                ml, bl = struct.unpack(">II", self.plain[4:12])
                if len(self.plain) >= 12 + ml + bl:
                    ftype = self.plain[3]
                    meta = json.loads(self.plain[12:12 + ml] or b"{}")
                    blob = self.plain[12 + ml:12 + ml + bl]
                    self.plain = self.plain[12 + ml + bl:]
                    if ftype != FT_FRAME_PING:
                        return ftype, meta, blob
                    continue
            try:
                head = self._exact(4)
            except (ConnectionError, ConnectionResetError):
                return None
            clen = struct.unpack(">I", head)[0]
            body = self._exact(clen)
            out = ctypes.create_string_buffer(clen - 16)
            outlen = ctypes.c_ulonglong()
            if _lib.crypto_aead_chacha20poly1305_ietf_decrypt(
                    out, ctypes.byref(outlen), None, body, ctypes.c_ulonglong(clen), head,
                    ctypes.c_ulonglong(4), _nonce(self.rx_n), self.rx) != 0:
                raise ConnectionError("a record from the node does not open")
            self.rx_n += 1
            self.plain += out.raw[:outlen.value]

    def close(self) -> None:
        self.sock.close()
