#!/usr/bin/python3
"""Regenerates Tests/ShoalCoreTests/Fixtures: torrents made by mktorrent, transmission-create and
libtorrent, plus manifest.json with what each tool itself reports (info-hash, sizes, tiers).

Run with Debian's python3 (python3-libtorrent): /usr/bin/python3 Scripts/make-fixtures.py
"""
import json, os, random, shutil, subprocess, sys, tempfile
import libtorrent as lt

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "ShoalCoreTests", "Fixtures")
TRACKER = "http://127.0.0.1:6969/announce"
TRACKER2 = "udp://127.0.0.1:6969/announce"


def content(root):
    """Content sets: each a (name, builder) making a file or directory under root."""
    rng = random.Random(7)
    def blob(path, size):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(bytes(rng.getrandbits(8) for _ in range(size)))
    sets = {}
    p = os.path.join(root, "single.bin"); blob(p, 100_000); sets["single"] = p
    p = os.path.join(root, "one-byte.txt"); blob(p, 1); sets["onebyte"] = p
    d = os.path.join(root, "multi")
    blob(os.path.join(d, "a.dat"), 40_000); blob(os.path.join(d, "b.dat"), 16_384)
    blob(os.path.join(d, "c", "one"), 1); sets["multi"] = d
    d = os.path.join(root, "nested")
    blob(os.path.join(d, "x", "y", "z", "deep.bin"), 70_001); blob(os.path.join(d, "top.bin"), 5)
    blob(os.path.join(d, "x", "mid.bin"), 33_333); sets["nested"] = d
    d = os.path.join(root, "Grüße 日本")
    blob(os.path.join(d, "café.txt"), 2_000); blob(os.path.join(d, "ελληνικά", "файл.bin"), 50_000)
    sets["unicode"] = d
    return sets


def libtorrent_create(path, out, piece, private=False, tiers=((TRACKER,),)):
    fs = lt.file_storage()
    if os.path.isfile(path):
        fs.add_file(os.path.basename(path), os.path.getsize(path))
    else:
        # Same stable order as mktorrent and Shoal: full path, byte by byte.
        base = os.path.basename(path)
        entries = []
        for dirpath, _, names in os.walk(path):
            for n in names:
                full = os.path.join(dirpath, n)
                rel = os.path.relpath(full, os.path.dirname(path))
                entries.append((rel.encode(), rel, os.path.getsize(full)))
        for _, rel, size in sorted(entries):
            fs.add_file(rel, size)
    ct = lt.create_torrent(fs, piece, flags=lt.create_torrent.v1_only)
    for tier, urls in enumerate(tiers):
        for url in urls:
            ct.add_tracker(url, tier)
    ct.set_priv(private)
    lt.set_piece_hashes(ct, os.path.dirname(path))
    with open(out, "wb") as f:
        f.write(lt.bencode(ct.generate()))


def main():
    if os.path.isdir(OUT):
        for n in os.listdir(OUT):
            if n.endswith(".torrent") or n == "manifest.json":
                os.remove(os.path.join(OUT, n))
    os.makedirs(OUT, exist_ok=True)
    root = tempfile.mkdtemp()
    sets = content(root)
    made = []
    for key, path in sets.items():
        for piece_exp in (15, 16) if key != "onebyte" else (15,):
            piece = 1 << piece_exp
            out = os.path.join(OUT, f"mktorrent-{key}-{piece // 1024}k.torrent")
            subprocess.run(["mktorrent", "-a", TRACKER, "-l", str(piece_exp), "-o", out, path],
                           check=True, stdout=subprocess.DEVNULL)
            made.append((out, path, piece))
        out = os.path.join(OUT, f"transmission-{key}.torrent")
        subprocess.run(["transmission-create", "-t", TRACKER, "-s", "32", "-o", out, path],
                       check=True, stdout=subprocess.DEVNULL)
        made.append((out, path, 32 * 1024))
        out = os.path.join(OUT, f"libtorrent-{key}.torrent")
        libtorrent_create(path, out, 32 * 1024)
        made.append((out, path, 32 * 1024))
    # Private and multi-tier variants.
    out = os.path.join(OUT, "mktorrent-private-multitier.torrent")
    subprocess.run(["mktorrent", "-p", "-a", TRACKER + "," + TRACKER2, "-a", "http://127.0.0.2:80/announce",
                    "-c", "a comment", "-o", out, sets["multi"]], check=True, stdout=subprocess.DEVNULL)
    made.append((out, sets["multi"], 1 << 18))
    out = os.path.join(OUT, "transmission-private.torrent")
    subprocess.run(["transmission-create", "-p", "-t", TRACKER, "-t", TRACKER2, "-o", out, sets["nested"]],
                   check=True, stdout=subprocess.DEVNULL)
    made.append((out, sets["nested"], None))
    out = os.path.join(OUT, "libtorrent-private-multitier.torrent")
    libtorrent_create(sets["unicode"], out, 16 * 1024, private=True,
                      tiers=((TRACKER, TRACKER2), ("http://127.0.0.3/announce",)))
    made.append((out, sets["unicode"], 16 * 1024))

    manifest = []
    for out, _, _ in made:
        ti = lt.torrent_info(out)
        fs = ti.files()
        tiers = {}
        for t in ti.trackers():
            tiers.setdefault(t.tier, []).append(t.url)
        manifest.append({
            "file": os.path.basename(out),
            "infoHash": str(ti.info_hash()),
            "name": ti.name(),
            "totalSize": ti.total_size(),
            "pieceLength": ti.piece_length(),
            "pieceCount": ti.num_pieces(),
            "private": ti.priv(),
            "files": [fs.file_path(i) for i in range(fs.num_files()) if not (fs.file_flags(i) & lt.file_storage.flag_pad_file)],
            "tiers": [tiers[k] for k in sorted(tiers)],
        })
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
    shutil.rmtree(root)
    print(f"{len(manifest)} fixtures in {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
