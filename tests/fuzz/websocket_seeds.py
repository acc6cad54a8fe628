#!/usr/bin/env python3
"""Writes the seed corpus of tests/fuzz/websocket_fuzz.cc into corpus/websocket/.

Each seed is: a flags byte (bit 0: server frames; bits 1-3: message limit, 0 the default), the
size of the pieces the stream is fed in, then frames as RFC 6455 5.2 lays them out.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "websocket")
MASK = b"\x37\xfa\x21\x3d"  # the example key of RFC 6455 5.7


def frame(opcode, payload=b"", fin=True, mask=MASK, rsv=0, length=None):
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload) if length is None else length
    masked = 0x80 if mask is not None else 0
    if n <= 125:
        header = bytes([first, masked | n])
    elif n <= 0xFFFF:
        header = bytes([first, masked | 126]) + struct.pack(">H", n)
    else:
        header = bytes([first, masked | 127]) + struct.pack(">Q", n)
    if mask is None:
        return header + payload
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + mask + body


CLIENT, SERVER = 0, 1
SEEDS = {
    "text_hello": (CLIENT, 0, frame(0x1, b"Hello")),
    "text_in_pieces_of_3": (CLIENT, 3, frame(0x1, b"Hello") + frame(0x1, b"again")),
    "fragmented_with_ping": (CLIENT, 5, frame(0x1, b"Hel", fin=False) + frame(0x9, b"ping")
                             + frame(0x0, b"lo", fin=False) + frame(0x0, b"!")),
    "binary_16bit_length": (CLIENT, 64, frame(0x2, bytes(range(256)) * 2)),
    "close_normal": (CLIENT, 2, frame(0x8, struct.pack(">H", 1000) + b"bye")),
    "close_empty": (CLIENT, 1, frame(0x8)),
    "pong": (CLIENT, 7, frame(0xA, b"keepalive")),
    "server_text_unmasked": (SERVER, 4, frame(0x1, b"{\"seq\":1}", mask=None)),
    "server_frame_masked": (SERVER, 0, frame(0x1, b"x")),
    "client_frame_unmasked": (CLIENT, 0, frame(0x1, b"x", mask=None)),
    "rsv_bits": (CLIENT, 0, frame(0x1, b"x", rsv=4)),
    "reserved_opcode": (CLIENT, 0, frame(0x3, b"x")),
    "continuation_of_nothing": (CLIENT, 0, frame(0x0, b"x")),
    "new_message_inside_fragment": (CLIENT, 0, frame(0x1, b"a", fin=False) + frame(0x1, b"b")),
    "fragmented_ping": (CLIENT, 0, frame(0x9, b"p", fin=False)),
    "control_over_125": (CLIENT, 0, frame(0x9, b"p" * 126)),
    "close_one_byte": (CLIENT, 0, frame(0x8, b"\x03")),
    "length_top_bit": (CLIENT, 0, frame(0x2, b"", length=1 << 63)[:10] + MASK),
    "too_big_limit_16": (CLIENT | (1 << 1), 0, frame(0x1, b"x" * 17)),
    "too_big_fragments_limit_32": (CLIENT | (2 << 1), 9, frame(0x1, b"x" * 20, fin=False)
                                   + frame(0x0, b"y" * 20)),
    "header_announces_64bit": (CLIENT, 0, frame(0x2, b"", length=1 << 40)[:10] + MASK),
    "truncated_payload": (CLIENT, 1, frame(0x1, b"Hello")[:-2]),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, (flags, piece, stream) in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(bytes([flags, piece]) + stream)


if __name__ == "__main__":
    main()
