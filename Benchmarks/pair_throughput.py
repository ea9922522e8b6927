#!/usr/bin/python3
"""Pair throughput on loopback: one seeder, one leecher, one file, for each pairing of Shoal and
libtorrent, N runs each. Prints median MiB/s, the ratio to libtorrent -> libtorrent, and the CPU
seconds (user+sys) each side spent per GiB. Everything listens on 127.0.0.1 only.

Plaintext pairs run both sides with encryption off (Shoal `--encryption disable`, libtorrent
`--plaintext`); the encrypted pairs (`-rc4`) run both sides with RC4 required (Shoal `--encryption
require`, libtorrent MSE forced with RC4 only), and print their ratio to the encrypted
libtorrent pair and to Shoal's plaintext pair as well.

usage: /usr/bin/python3 Benchmarks/pair_throughput.py SHOAL_BINARY [--mib 1024] [--runs 3] [--dir /dev/shm] [--pair shoal-shoal ...]

--dir picks where the files go: on tmpfs (the default when /dev/shm exists) every client writes
into memory at ~2.5 GB/s; on this machine's ext4 a new file takes ~470 MB/s for `dd` alone, so
the disk, not the client, sets the pace there.
"""
import argparse, os, shutil, statistics, subprocess, sys, tempfile, time

from loopback import TMPFS, cpu_seconds, free_port, make_payload, warm_up

HERE = os.path.dirname(os.path.abspath(__file__))
LT = os.path.join(HERE, "..", "Tests", "InteropTests", "Scripts", "lt_peer.py")


def wait_for(proc, log, text, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in open(log).read():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def encryption(kind, rc4):
    if kind == "shoal":
        return ["--encryption", "require" if rc4 else "disable"]
    return ["--encryption", "forced" if rc4 else "plaintext"]


def start_seed(kind, shoal, torrent, content_dir, port, work, rc4):
    log = os.path.join(work, f"seed-{kind}.log")
    if kind == "shoal":
        cmd = [shoal, "--headless", "--no-utp", "--bind", "127.0.0.1", "--port", str(port), "--download-dir", content_dir,
               "--state-dir", os.path.join(work, "state-seed"), torrent] + encryption(kind, rc4)
        ready = "completed:"
    else:
        cmd = ["/usr/bin/python3", LT, "seed", torrent, content_dir, str(port), "--timeout", "600"] + encryption(kind, rc4)
        ready = "complete"
    proc = subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    if not wait_for(proc, log, ready, 300):
        proc.kill()
        sys.exit(f"{kind} seeder did not become ready: {open(log).read()[-2000:]}")
    return proc


def leech(kind, shoal, torrent, dest, seed_port, work, rc4):
    log = os.path.join(work, f"leech-{kind}.log")
    if kind == "shoal":
        cmd = [shoal, "--headless", "--no-utp", "--bind", "127.0.0.1", "--port", str(free_port()), "--download-dir", dest,
               "--state-dir", os.path.join(work, "state-leech"), "--exit-when-done",
               "--peer", f"127.0.0.1:{seed_port}", torrent] + encryption(kind, rc4)
    else:
        cmd = ["/usr/bin/python3", LT, "leech", torrent, dest, str(free_port()),
               "--peer", f"127.0.0.1:{seed_port}", "--timeout", "600"] + encryption(kind, rc4)
    start = time.time()
    proc = subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.time() - start
    if status != 0:
        sys.exit(f"{kind} leecher failed: {open(log).read()[-2000:]}")
    return elapsed, usage.ru_utime + usage.ru_stime


def main():
    p = argparse.ArgumentParser()
    p.add_argument("shoal")
    p.add_argument("--mib", type=int, default=1024)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--dir", default=TMPFS)
    p.add_argument("--pair", action="append",
                   choices=["shoal-shoal", "libtorrent-shoal", "shoal-libtorrent", "libtorrent-libtorrent-rc4", "shoal-shoal-rc4"],
                   help="run only these pairings (repeatable); libtorrent -> libtorrent always runs, as the base")
    a = p.parse_args()
    work = tempfile.mkdtemp(prefix="shoal-bench-", dir=a.dir)
    try:
        content, path, torrent = make_payload(a.shoal, work, a.mib)
        pairs = [("libtorrent", "libtorrent", False), ("shoal", "shoal", False), ("libtorrent", "shoal", False),
                 ("shoal", "libtorrent", False), ("libtorrent", "libtorrent", True), ("shoal", "shoal", True)]
        name = lambda pair: "-".join(pair[:2]) + ("-rc4" if pair[2] else "")
        if a.pair:
            pairs = [pairs[0]] + [pair for pair in pairs[1:] if name(pair) in a.pair]
        warm_up(work, 2 * a.mib)
        # Runs go round the pairs (run 1 of each, then run 2 of each, ...), so no pairing
        # always meets the machine first: the first transfers after a warm-up still run slower.
        samples = {pair: ([], [], []) for pair in pairs}
        for run in range(a.runs):
            for seed_kind, leech_kind, rc4 in pairs:
                rates, seed_cpu, leech_cpu = samples[(seed_kind, leech_kind, rc4)]
                port = free_port()
                seeder = start_seed(seed_kind, a.shoal, torrent, content, port, work, rc4)
                dest = os.path.join(work, "dest")
                shutil.rmtree(dest, ignore_errors=True)
                os.makedirs(dest)
                subprocess.run(["sync"])
                before = cpu_seconds(seeder.pid)
                elapsed, cpu = leech(leech_kind, a.shoal, torrent, dest, port, work, rc4)
                seed_cpu.append((cpu_seconds(seeder.pid) - before) * 1024 / a.mib)
                leech_cpu.append(cpu * 1024 / a.mib)
                seeder.terminate()
                seeder.wait(timeout=30)
                if subprocess.run(["cmp", "-s", path, os.path.join(dest, "payload.bin")]).returncode != 0:
                    sys.exit(f"{seed_kind} -> {leech_kind}: data differs")
                rates.append(a.mib / elapsed)
                shutil.rmtree(dest)
        results = {pair: (statistics.median(r), statistics.median(s), statistics.median(l), r)
                   for pair, (r, s, l) in samples.items()}
        base = results[("libtorrent", "libtorrent", False)][0]
        print(f"{a.mib} MiB file, 1 MiB pieces, {a.runs} runs each, 127.0.0.1, {os.cpu_count()} cores, files in {work}")
        print(f"{'seeder -> leecher':28} {'median MiB/s':>12} {'ratio':>6} {'seed CPU s/GiB':>15} {'leech CPU s/GiB':>16}  runs")
        for (s, l, rc4), (rate, scpu, lcpu, rates) in results.items():
            runs = " ".join(f"{r:.0f}" for r in rates)
            label = s + " -> " + l + (" (RC4)" if rc4 else "")
            print(f"{label:28} {rate:12.1f} {rate / base:6.2f} {scpu:15.2f} {lcpu:16.2f}  {runs}")
        encrypted = results.get(("shoal", "shoal", True))
        if encrypted:
            lt = results.get(("libtorrent", "libtorrent", True))
            plain = results.get(("shoal", "shoal", False))
            if lt:
                print(f"encrypted Shoal pair / encrypted libtorrent pair: {encrypted[0] / lt[0]:.2f} (goal >= 2.0)")
            if plain:
                print(f"encrypted Shoal pair / plaintext Shoal pair: {encrypted[0] / plain[0]:.2f} (goal >= 0.75)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
