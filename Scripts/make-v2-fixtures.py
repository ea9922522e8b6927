#!/usr/bin/python3
"""Regenerates Tests/ShoalCoreTests/Fixtures/v2: BitTorrent v2 and hybrid torrents (BEP 52) made by
libtorrent, variants broken in the ways libtorrent's own corpus is (mismatching halves, a file out
of alignment, an invalid file tree, bad piece layers, no power-of-two piece length, a missing
pieces root), and manifest.json with libtorrent's verdict on each: its info-hashes, or that it
refused the file.

Run with Debian's python3 (python3-libtorrent): /usr/bin/python3 Scripts/make-v2-fixtures.py
"""
import hashlib, json, os, random, shutil, tempfile
import libtorrent as lt

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "ShoalCoreTests", "Fixtures", "v2")


def content(root):
    rng = random.Random(52)
    def blob(path, size):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(bytes(rng.getrandbits(8) for _ in range(size)))
    blob(os.path.join(root, "multi", "big.bin"), 100_000)       # four pieces of 32 KiB: a piece layer
    blob(os.path.join(root, "multi", "sub", "small.txt"), 5_000)  # under a piece: its root is its hash
    blob(os.path.join(root, "multi", "empty"), 0)                 # no pieces root
    blob(os.path.join(root, "multi", "exact.bin"), 65_536)       # two whole pieces
    blob(os.path.join(root, "single.bin"), 70_000)
    blob(os.path.join(root, "tiny.txt"), 300)
    return {"multi": os.path.join(root, "multi"), "single": os.path.join(root, "single.bin"),
            "tiny": os.path.join(root, "tiny.txt")}


def create(path, flags, piece=32768):
    fs = lt.file_storage()
    lt.add_files(fs, path)
    ct = lt.create_torrent(fs, piece, flags=flags)
    ct.add_tracker("http://127.0.0.1:6969/announce")
    lt.set_piece_hashes(ct, os.path.dirname(path))
    entry = ct.generate()
    entry.pop(b"creation date", None)
    return entry


def verdict(data):
    try:
        ti = lt.torrent_info(lt.bdecode(data))
    except Exception as error:  # libtorrent refuses it
        return {"accepted": False, "error": str(error)}
    hashes = ti.info_hashes()
    files = ti.files()
    return {"accepted": True,
            "v1": str(hashes.v1) if hashes.has_v1() else None,
            "v2": str(hashes.v2) if hashes.has_v2() else None,
            "pieceCount": ti.num_pieces(),
            "files": [files.file_path(i) for i in range(files.num_files()) if not files.file_flags(i) & lt.file_storage.flag_pad_file],
            "sizes": [files.file_size(i) for i in range(files.num_files()) if not files.file_flags(i) & lt.file_storage.flag_pad_file]}


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    root = tempfile.mkdtemp()
    sets = content(root)
    made = {}
    for key, path in sets.items():
        made[f"v2-{key}"] = create(path, lt.create_torrent.v2_only)
        made[f"hybrid-{key}"] = create(path, 0)

    def broken(base, change):
        entry = lt.bdecode(lt.bencode(made[base]))
        change(entry)
        return entry

    def first_layer(entry):
        return next(iter(entry[b"piece layers"]))

    def mismatching(entry):  # the v1 half says another length
        entry[b"info"][b"files"][0][b"length"] += 1
    def misaligned(entry):  # the v1 half without the pad file after the first file
        del entry[b"info"][b"files"][1]
    def invalid_file(entry):  # a file node whose "" is not a dictionary
        entry[b"info"][b"file tree"][b"big.bin"][b""] = b"not a dict"
    def negative_length(entry):
        entry[b"info"][b"file tree"][b"big.bin"][b""][b"length"] = -1
    def bad_layer_hash(entry):  # one byte of a piece layer flipped: it no longer hashes to the root
        key = first_layer(entry)
        layer = bytearray(entry[b"piece layers"][key]); layer[0] ^= 1
        entry[b"piece layers"][key] = bytes(layer)
    def layer_not_multiple(entry):
        key = first_layer(entry)
        entry[b"piece layers"][key] = entry[b"piece layers"][key][:-1]
    def layer_too_short(entry):
        key = first_layer(entry)
        entry[b"piece layers"][key] = entry[b"piece layers"][key][:-32]
    def layer_unknown_root(entry):
        entry[b"piece layers"][hashlib.sha256(b"nobody").digest()] = bytes(64)
    def no_layers(entry):
        del entry[b"piece layers"]
    def no_root(entry):
        del entry[b"info"][b"file tree"][b"big.bin"][b""][b"pieces root"]
    def piece_length_3(entry):
        entry[b"info"][b"piece length"] = 3 * 16384
    def meta_version_3(entry):
        entry[b"info"][b"meta version"] = 3

    variants = {
        "v2-mismatching-halves": ("hybrid-multi", mismatching),
        "v2-bad-file-alignment": ("hybrid-multi", misaligned),
        "v2-invalid-file": ("v2-multi", invalid_file),
        "v2-negative-length": ("v2-multi", negative_length),
        "v2-bad-piece-layer-hash": ("v2-multi", bad_layer_hash),
        "v2-piece-layer-not-multiple": ("v2-multi", layer_not_multiple),
        "v2-piece-layer-too-short": ("v2-multi", layer_too_short),
        "v2-unknown-piece-layer": ("v2-multi", layer_unknown_root),
        "v2-no-piece-layers": ("v2-multi", no_layers),
        "v2-missing-pieces-root": ("v2-multi", no_root),
        "v2-no-power2-piece": ("v2-multi", piece_length_3),
        "v2-meta-version-3": ("v2-multi", meta_version_3),
    }
    for name, (base, change) in variants.items():
        made[name] = broken(base, change)

    manifest = []
    for name, entry in sorted(made.items()):
        data = lt.bencode(entry)
        with open(os.path.join(OUT, name + ".torrent"), "wb") as f:
            f.write(data)
        manifest.append({"file": name + ".torrent", **verdict(data)})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    shutil.rmtree(root)
    for item in manifest:
        print(item["file"], "accepted" if item["accepted"] else "refused: " + item["error"])


if __name__ == "__main__":
    main()
