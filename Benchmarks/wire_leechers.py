#!/usr/bin/python3
"""A load of minimal BitTorrent leechers for the many-peers benchmark: COUNT connections to one
seeder on 127.0.0.1, each handshaking, saying it is interested and, while unchoked, keeping
DEPTH requests for 16 KiB blocks of random pieces in flight. Data is counted, not kept or
checked. After SECONDS it prints one JSON line per connection: bytes received in the measuring
window (after WARMUP seconds), seconds to the handshake answer, to the first unchoke and to the
first block (null if never).

usage: wire_leechers.py PORT INFO_HASH_HEX PIECES PIECE_LENGTH TOTAL COUNT SECONDS [--depth 4] [--warmup 5]
"""
import argparse, asyncio, json, os, random, struct, time

BLOCK = 16384


async def leecher(a, info_hash, start, stats):
    stat = {"bytes": 0, "handshake": None, "unchoke": None, "first_block": None, "error": None}
    stats.append(stat)
    window_open = start + a.warmup
    window_close = start + a.seconds
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", a.port), 10)
    except (OSError, asyncio.TimeoutError) as error:
        stat["error"] = f"connect: {error}"
        return
    try:
        began = time.monotonic()
        writer.write(bytes([19]) + b"BitTorrent protocol" + bytes(8) + info_hash + os.urandom(20))
        await writer.drain()
        answer = await asyncio.wait_for(reader.readexactly(68), 30)
        if answer[28:48] != info_hash:
            stat["error"] = "wrong info-hash"
            return
        stat["handshake"] = time.monotonic() - began
        writer.write(struct.pack(">IB", 1, 2))  # interested
        await writer.drain()
        unchoked = False
        outstanding = 0
        piece, offset = None, 0

        def request_more():
            nonlocal outstanding, piece, offset
            out = bytearray()
            while outstanding < a.depth:
                if piece is None:
                    piece, offset = random.randrange(a.pieces), 0
                length = min(a.piece_length, a.total - piece * a.piece_length)
                size = min(BLOCK, length - offset)
                out += struct.pack(">IBIII", 13, 6, piece, offset, size)
                outstanding += 1
                offset += size
                if offset >= length:
                    piece = None
            writer.write(bytes(out))

        while time.monotonic() < window_close:
            remaining = window_close - time.monotonic()
            header = await asyncio.wait_for(reader.readexactly(4), max(remaining, 0.01))
            (length,) = struct.unpack(">I", header)
            if length == 0:
                continue
            body = await asyncio.wait_for(reader.readexactly(length), 30)
            kind = body[0]
            now = time.monotonic()
            if kind == 1:  # unchoke
                unchoked = True
                if stat["unchoke"] is None:
                    stat["unchoke"] = now - began
                outstanding = 0
                request_more()
            elif kind == 0:  # choke: the seeder drops what we asked
                unchoked = False
                outstanding = 0
            elif kind == 7:
                if stat["first_block"] is None:
                    stat["first_block"] = now - began
                if window_open <= now <= window_close:
                    stat["bytes"] += length - 9
                outstanding = max(0, outstanding - 1)
                if unchoked:
                    request_more()
    except asyncio.TimeoutError:
        pass  # the window closed while waiting
    except (OSError, asyncio.IncompleteReadError) as error:
        stat["error"] = f"{type(error).__name__}: {error}"
    finally:
        writer.close()


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("info_hash")
    p.add_argument("pieces", type=int)
    p.add_argument("piece_length", type=int)
    p.add_argument("total", type=int)
    p.add_argument("count", type=int)
    p.add_argument("seconds", type=float)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--warmup", type=float, default=5)
    a = p.parse_args()
    info_hash = bytes.fromhex(a.info_hash)
    start = time.monotonic()
    stats = []
    await asyncio.gather(*(leecher(a, info_hash, start, stats) for _ in range(a.count)))
    for stat in stats:
        print(json.dumps(stat))


if __name__ == "__main__":
    asyncio.run(main())
