#!/usr/bin/python3
"""Makes a torrent with libtorrent for Shoal's interop tests: v2-only, hybrid or v1.

usage: lt_create.py PATH OUT --kind v2|hybrid|v1 [--piece BYTES] [--tracker URL]
Prints the info-hashes libtorrent computes: 'v1 HEX' (if any) and 'v2 HEX' (if any)."""
import argparse, os
import libtorrent as lt

p = argparse.ArgumentParser()
p.add_argument("path")
p.add_argument("out")
p.add_argument("--kind", choices=["v2", "hybrid", "v1"], required=True)
p.add_argument("--piece", type=int, default=32768)
p.add_argument("--tracker")
a = p.parse_args()
fs = lt.file_storage()
lt.add_files(fs, a.path)
flags = {"v2": lt.create_torrent.v2_only, "hybrid": 0, "v1": lt.create_torrent.v1_only}[a.kind]
ct = lt.create_torrent(fs, a.piece, flags=flags)
if a.tracker:
    ct.add_tracker(a.tracker)
lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(a.path)))
entry = ct.generate()
entry.pop(b"creation date", None)
with open(a.out, "wb") as f:
    f.write(lt.bencode(entry))
hashes = lt.torrent_info(a.out).info_hashes()
if hashes.has_v1():
    print("v1", hashes.v1)
if hashes.has_v2():
    print("v2", hashes.v2)
