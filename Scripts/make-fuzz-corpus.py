#!/usr/bin/env python3
"""Writes the seed corpora for the fuzz targets into Fuzz/Corpus/TARGET/ (committed).

Small valid and near-valid inputs for each parser: libFuzzer mutates from these.
usage: python3 Scripts/make-fuzz-corpus.py
"""
import glob, os, struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Fuzz", "Corpus")


def bencode(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(bencode(x) for x in v) + b"e"
    return b"d" + b"".join(bencode(k) + bencode(v[k]) for k in sorted(v)) + b"e"


def write(target, name, data):
    os.makedirs(os.path.join(OUT, target), exist_ok=True)
    with open(os.path.join(OUT, target, name), "wb") as f:
        f.write(data)


def frame(msg_id, payload=b""):
    return struct.pack(">IB", 1 + len(payload), msg_id) + payload


fixtures = sorted(glob.glob(os.path.join(ROOT, "Tests", "ShoalCoreTests", "Fixtures", "*.torrent")))[:6]
for path in fixtures:
    data = open(path, "rb").read()
    write("metainfo", os.path.basename(path), data)
    write("bencode", os.path.basename(path), data)
for i, v in enumerate([0, -7, b"", b"spam", [], {}, [1, [2, [3]]], {"a": {"b": [b"c", 4]}}]):
    write("bencode", "value-%d" % i, bencode(v))

for i, uri in enumerate([
    "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=ubuntu.iso&tr=http%3A%2F%2F127.0.0.1%3A6969%2Fannounce",
    "magnet:?xt=urn:btih:CEK6DQDLUIWUVHOJ6UM3GNNKPQJWPKEK&so=0,2,4-6&x.pe=127.0.0.1:6881",
    "magnet:?dn=no+hash",
]):
    write("magnet", "uri-%d" % i, uri.encode())

handshake = b"\x13BitTorrent protocol" + b"\x00" * 5 + b"\x10\x00\x05" + b"\xaa" * 20 + b"-SH0100-abcdefghijkl"
stream = (struct.pack(">I", 0) + frame(0) + frame(1) + frame(2) + frame(3) + frame(4, struct.pack(">I", 7))
          + frame(5, b"\xff\xe0") + frame(6, struct.pack(">III", 1, 16384, 16384))
          + frame(7, struct.pack(">II", 2, 0) + bytes(range(64))) + frame(8, struct.pack(">III", 1, 0, 16384))
          + frame(9, b"\x1a\xe1") + frame(13, struct.pack(">I", 3)) + frame(14) + frame(15)
          + frame(16, struct.pack(">III", 1, 0, 16384)) + frame(17, struct.pack(">I", 9))
          + frame(20, b"\x00" + bencode({"m": {"ut_metadata": 1, "ut_pex": 2}, "p": 6881})))
write("peerwire", "stream", b"\x00" + stream)
write("peerwire", "handshake", handshake)

write("announce", "compact", bencode({"interval": 1800, "complete": 3, "incomplete": 4, "peers": b"\x7f\x00\x00\x01\x1a\xe1"}))
write("announce", "dictionary", bencode({"interval": 60, "peers": [{"ip": "10.0.0.1", "port": 6881, "peer id": b"x" * 20}]}))
write("announce", "failure", bencode({"failure reason": "unregistered torrent"}))
write("announce", "scrape", bencode({"files": {b"\xaa" * 20: {"complete": 1, "downloaded": 2, "incomplete": 3}}}))

magic = struct.pack(">Q", 0x41727101980)
write("udp-server", "connect", magic + struct.pack(">II", 0, 77))
write("udp-server", "announce", struct.pack(">QII", 5, 1, 77) + b"\xaa" * 20 + b"-SH0100-abcdefghijkl"
      + struct.pack(">QQQIIIiH", 0, 100, 0, 2, 0, 9, 50, 6881))
write("udp-server", "scrape", struct.pack(">QII", 5, 2, 77) + b"\xaa" * 40)
write("udp-client", "connect", struct.pack(">IIQ", 0, 77, 12345))
write("udp-client", "announce", struct.pack(">IIIII", 1, 77, 1800, 2, 3) + b"\x7f\x00\x00\x01\x1a\xe1")
write("udp-client", "scrape", struct.pack(">IIIII", 2, 77, 1, 2, 3))
write("udp-client", "error", struct.pack(">II", 3, 77) + b"bad torrent")

node = b"abcdefghij0123456789"
for i, text in enumerate([
    b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
    b"d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re",
    b"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
    b"d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe",
    b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe",
    b"d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
    bencode({"t": b"aa", "y": "r", "r": {"id": node, "nodes": node + b"\x7f\x00\x00\x01\x1a\xe1", "token": b"tok",
                                          "values": [b"\x7f\x00\x00\x01\x1a\xe1"]}}),
]):
    write("krpc", "message-%d" % i, text)

write("extensions", "handshake", bencode({"m": {"ut_metadata": 1, "ut_pex": 2}, "v": "Shoal 0.1.0", "p": 6881, "reqq": 250,
                                          "metadata_size": 31235, "yourip": b"\x7f\x00\x00\x01"}))
write("extensions", "metadata-request", bencode({"msg_type": 0, "piece": 0}))
write("extensions", "metadata-data", bencode({"msg_type": 1, "piece": 0, "total_size": 40}) + bytes(40))
write("extensions", "pex", bencode({"added": b"\x0a\x00\x00\x01\x1a\xe1", "added.f": b"\x02", "dropped": b""}))
print("corpora written to", OUT)
