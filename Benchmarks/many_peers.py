#!/usr/bin/python3
"""Many peers: one seeder, COUNT leecher connections from several processes on 127.0.0.1
(Benchmarks/wire_leechers.py), for a bounded time. Prints, for a Shoal seeder and a libtorrent
seeder on the same load, the per-connection download rate over the measuring window (min,
median, max, and how many connections got nothing), how long the seeder took to answer a
handshake and to send a first block, and the seeder's CPU time.

usage: /usr/bin/python3 Benchmarks/many_peers.py SHOAL_BINARY [--peers 200] [--processes 4] [--seconds 40]
       [--mib 256] [--up-kib 0] [--dir /dev/shm]
--up-kib caps the seeder's upload (both clients), which makes the slots take turns.
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile

import libtorrent as lt

from loopback import TMPFS, cpu_seconds, free_port, make_payload, wait_text

HERE = os.path.dirname(os.path.abspath(__file__))
LT = os.path.join(HERE, "..", "Tests", "InteropTests", "Scripts", "lt_peer.py")


def start_seeder(kind, a, torrent, content, port, work):
    log = os.path.join(work, f"seed-{kind}.log")
    if kind == "shoal":
        cmd = [a.shoal, "--headless", "--no-utp", "--bind", "127.0.0.1", "--port", str(port), "--download-dir", content,
               "--state-dir", os.path.join(work, "state-seed"), "--max-peers", str(a.peers + 50),
               "--max-peers-total", str(a.peers + 50), "--interval", "5"]
        if a.up_kib:
            cmd += ["--up-kib", str(a.up_kib)]
        cmd.append(torrent)
        ready = "completed:"
    else:
        cmd = ["/usr/bin/python3", LT, "seed", torrent, content, str(port), "--timeout", str(a.seconds + 300)]
        if a.up_kib:
            cmd += ["--up-kib", str(a.up_kib)]
        ready = "complete"
    proc = subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    if not wait_text(log, ready, 300):
        proc.kill()
        sys.exit(f"{kind} seeder did not become ready: {open(log).read()[-2000:]}")
    return proc


def run(kind, a, info, torrent, content, work):
    port = free_port()
    seeder = start_seeder(kind, a, torrent, content, port, work)
    cpu_before = cpu_seconds(seeder.pid)
    per_process = [a.peers // a.processes + (1 if i < a.peers % a.processes else 0) for i in range(a.processes)]
    loads = [subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "wire_leechers.py"), str(port), info["hash"],
                               str(info["pieces"]), str(info["piece_length"]), str(info["total"]), str(count),
                               str(a.seconds), "--warmup", str(a.warmup)], stdout=subprocess.PIPE, text=True)
             for count in per_process]
    stats = []
    for load in loads:
        out, _ = load.communicate(timeout=a.seconds + 120)
        stats += [json.loads(line) for line in out.splitlines() if line.strip()]
    cpu = cpu_seconds(seeder.pid) - cpu_before
    seeder.terminate()
    seeder.wait(timeout=30)
    window = a.seconds - a.warmup
    rates = sorted(s["bytes"] / window / 1024 for s in stats)
    handshakes = sorted(s["handshake"] for s in stats if s["handshake"] is not None)
    firsts = [s["first_block"] for s in stats if s["first_block"] is not None]
    errors = [s["error"] for s in stats if s["error"]]
    return {
        "kind": kind, "connections": len(stats), "answered": len(handshakes), "errors": errors,
        "min": rates[0], "median": statistics.median(rates), "max": rates[-1], "total": sum(rates) / 1024,
        "starved": sum(1 for r in rates if r == 0), "served": len(firsts),
        "handshake_median": statistics.median(handshakes) if handshakes else None,
        "handshake_max": handshakes[-1] if handshakes else None,
        "first_block_max": max(firsts) if firsts else None, "cpu": cpu,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("shoal")
    p.add_argument("--peers", type=int, default=200)
    p.add_argument("--processes", type=int, default=4)
    p.add_argument("--seconds", type=float, default=40)
    p.add_argument("--warmup", type=float, default=10)
    p.add_argument("--mib", type=int, default=256)
    p.add_argument("--up-kib", type=int, default=0)
    p.add_argument("--dir", default=TMPFS)
    a = p.parse_args()
    work = tempfile.mkdtemp(prefix="shoal-peers-", dir=a.dir)
    try:
        content, path, torrent = make_payload(a.shoal, work, a.mib)
        ti = lt.torrent_info(torrent)
        info = {"hash": str(ti.info_hash()), "pieces": ti.num_pieces(), "piece_length": ti.piece_length(),
                "total": ti.total_size()}
        rows = [run(kind, a, info, torrent, content, work) for kind in ("shoal", "libtorrent")]
        cap = f", seeder capped at {a.up_kib} KiB/s" if a.up_kib else ", no upload cap"
        print(f"{a.peers} leecher connections from {a.processes} processes, {a.seconds - a.warmup:.0f} s measured "
              f"after {a.warmup:.0f} s{cap}, 127.0.0.1")
        print(f"{'seeder':11} {'KiB/s per connection: min':>25} {'median':>8} {'max':>8} {'starved':>8} {'total MiB/s':>12} "
              f"{'handshake med/max s':>20} {'1st block max s':>16} {'CPU s':>6}")
        for r in rows:
            hs = f"{r['handshake_median']:.3f}/{r['handshake_max']:.3f}" if r["handshake_max"] is not None else "-"
            fb = f"{r['first_block_max']:.2f}" if r["first_block_max"] is not None else "-"
            print(f"{r['kind']:11} {r['min']:25.1f} {r['median']:8.1f} {r['max']:8.1f} {r['starved']:8d} {r['total']:12.1f} "
                  f"{hs:>20} {fb:>16} {r['cpu']:6.1f}")
            if r["answered"] < r["connections"] or r["errors"]:
                print(f"  {r['kind']}: {r['answered']}/{r['connections']} handshakes answered; errors: {r['errors'][:3]}")
        shoal, libtorrent = rows
        if libtorrent["median"] > 0:
            print(f"Shoal / libtorrent: median {shoal['median'] / libtorrent['median']:.2f}, "
                  f"min/median Shoal {shoal['min'] / max(shoal['median'], 1e-9):.2f} vs libtorrent "
                  f"{libtorrent['min'] / max(libtorrent['median'], 1e-9):.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
