"""Gossip datagrams as the daemons make them (src/gossip/codec.h, version 2),
for tests that forge, seal, capture and replay them.

A datagram: a 44-byte header (magic, version, flags, count, sender,
incarnation, sent_ms, key id, counter), 21-byte entries (id, incarnation,
heartbeat, state 1 alive / 2 failed), then a 16-byte MAC: HMAC-SHA-512
truncated to 16 bytes, under the cluster key's gossip subkey
(libsodium's crypto_kdf_derive_from_key(32, 1, "ftgossip", key), which is
BLAKE2b keyed with the cluster key, salt = subkey id, personal = context).
The key id is lib/keyring.c's: BLAKE2b-128 of "ftcluster key id v1" keyed
with the cluster key, first 8 bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
import time
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

MAGIC = b"FTGS"
VERSION = 2
HEADER = 44
ENTRY = 21
MAC = 16
OVERHEAD = HEADER + MAC
ALIVE, FAILED = 1, 2

Entry = Tuple[int, int, int, int]  # id, incarnation, heartbeat, state


def read_key(path: Path) -> bytes:
    """A key file's 32 bytes (raw, or 64 hex digits and a newline)."""
    data = Path(path).read_bytes()
    if len(data) == 32:
        return data
    return bytes.fromhex(data.strip().decode())


def key_id(key: bytes) -> bytes:
    return hashlib.blake2b(b"ftcluster key id v1", digest_size=16, key=key).digest()[:8]


def gossip_key(key: bytes) -> bytes:
    return hashlib.blake2b(b"", digest_size=32, key=key, salt=struct.pack("<Q", 1) + bytes(8),
                           person=b"ftgossip" + bytes(8)).digest()


def mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(gossip_key(key), body, hashlib.sha512).digest()[:MAC]


def now_ms() -> int:
    return int(time.time() * 1000)


def body(sender: int, inc: int, entries: Iterable[Entry], counter: int = 1,
         kid: bytes = b"\0" * 8, sent_ms: Optional[int] = None, version: int = VERSION,
         flags: int = 0, count: Optional[int] = None) -> bytes:
    """Everything the MAC covers."""
    entries = list(entries)
    n = len(entries) if count is None else count
    head = MAGIC + struct.pack(">BBHIQQ", version, flags, n, sender, inc,
                               now_ms() if sent_ms is None else sent_ms)
    return head + kid + struct.pack(">Q", counter) + b"".join(
        struct.pack(">IQQB", *e) for e in entries)


def sealed(key: bytes, sender: int, inc: int, entries: Iterable[Entry], counter: int = 1,
           **kw) -> bytes:
    """A datagram a holder of key would send."""
    b = body(sender, inc, entries, counter, kid=key_id(key), **kw)
    return b + mac(key, b)


def forged(kid: bytes, sender: int, inc: int, entries: Iterable[Entry], counter: int = 1,
           tag: Optional[bytes] = None, **kw) -> bytes:
    """A datagram from someone without the key: right format, the key id
    copied (it is no secret), a MAC it cannot make (random unless given)."""
    b = body(sender, inc, entries, counter, kid=kid, **kw)
    return b + (tag if tag is not None else os.urandom(MAC))


def parse(d: bytes) -> Dict:
    """The fields of a version-2 datagram (MAC not checked)."""
    if len(d) < OVERHEAD or d[:4] != MAGIC:
        raise ValueError("not a gossip datagram")
    version, flags, n, sender, inc, sent = struct.unpack(">BBHIQQ", d[4:28])
    kid = d[28:36]
    (counter,) = struct.unpack(">Q", d[36:44])
    entries: List[Entry] = [struct.unpack(">IQQB", d[HEADER + ENTRY * i:HEADER + ENTRY * (i + 1)])
                            for i in range(n)]
    return {"version": version, "flags": flags, "sender": sender, "incarnation": inc,
            "sent_ms": sent, "key_id": kid, "counter": counter, "entries": entries,
            "mac": d[-MAC:]}


def verify(key: bytes, d: bytes) -> bool:
    return len(d) >= OVERHEAD and hmac.compare_digest(mac(key, d[:-MAC]), d[-MAC:])
