#!/usr/bin/python3
"""Memory while downloading: one leecher fetches a large file (4 GiB by default) from 20
libtorrent seeders on 127.0.0.1; the peak resident memory (the kernel's ru_maxrss for the
process) of a Shoal leecher is printed next to a libtorrent leecher's (a Python process, whose
interpreter is counted too) and the goal of 64 MiB. Files go to tmpfs (/dev/shm) by default.

usage: /usr/bin/python3 Benchmarks/memory_swarm.py SHOAL_BINARY [--gib 4] [--peers 20] [--dir /dev/shm]
"""
import argparse, os, shutil, subprocess, sys, tempfile, time

from loopback import TMPFS, free_port, make_payload, wait_text, warm_up

HERE = os.path.dirname(os.path.abspath(__file__))
LT = os.path.join(HERE, "..", "Tests", "InteropTests", "Scripts", "lt_peer.py")
GOAL_MIB = 64


def leech(kind, shoal, torrent, dest, ports, work):
    peers = [arg for port in ports for arg in ("--peer", f"127.0.0.1:{port}")]
    if kind == "shoal":
        cmd = [shoal, "--headless", "--no-utp", "--bind", "127.0.0.1", "--port", str(free_port()), "--download-dir", dest,
               "--state-dir", os.path.join(work, "state-leech"), "--exit-when-done", "--interval", "5"] + peers + [torrent]
    else:
        cmd = ["/usr/bin/python3", LT, "leech", torrent, dest, str(free_port()), "--timeout", "900"] + peers
    log = os.path.join(work, f"leech-{kind}.log")
    start = time.time()
    proc = subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.time() - start
    if status != 0:
        sys.exit(f"{kind} leecher failed: {open(log).read()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def main():
    p = argparse.ArgumentParser()
    p.add_argument("shoal")
    p.add_argument("--gib", type=int, default=4)
    p.add_argument("--peers", type=int, default=20)
    p.add_argument("--dir", default=TMPFS)
    a = p.parse_args()
    work = tempfile.mkdtemp(prefix="shoal-memory-", dir=a.dir)
    seeders = None
    try:
        content, path, torrent = make_payload(a.shoal, work, a.gib * 1024)
        log = os.path.join(work, "seeders.log")
        seeders = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "lt_seeders.py"), torrent, content,
                                    str(a.peers), "--timeout", "1800"], stdout=open(log, "w"), stderr=subprocess.STDOUT)
        if not wait_text(log, "ports ", 120):
            sys.exit(f"seeders did not start: {open(log).read()[-2000:]}")
        ports = open(log).read().split("ports ", 1)[1].split()
        rows = []
        for kind in ("shoal", "libtorrent"):
            warm_up(work, a.gib * 1024)
            dest = os.path.join(work, "dest")
            os.makedirs(dest)
            elapsed, peak, cpu = leech(kind, a.shoal, torrent, dest, ports, work)
            if subprocess.run(["cmp", "-s", path, os.path.join(dest, "payload.bin")]).returncode != 0:
                sys.exit(f"{kind}: data differs")
            shutil.rmtree(dest)
            rows.append((kind, peak, elapsed, cpu))
        print(f"{a.gib} GiB file, 1 MiB pieces, {a.peers} libtorrent seeders, 127.0.0.1, files in {work}")
        print(f"{'leecher':12} {'peak RSS MiB':>12} {'vs 64 MiB':>9} {'seconds':>8} {'MiB/s':>7} {'CPU s':>6}")
        for kind, peak, elapsed, cpu in rows:
            print(f"{kind:12} {peak:12.1f} {peak / GOAL_MIB:9.2f} {elapsed:8.1f} {a.gib * 1024 / elapsed:7.0f} {cpu:6.1f}")
        print(f"Shoal / libtorrent peak memory: {rows[0][1] / rows[1][1]:.2f}")
    finally:
        if seeders:
            seeders.terminate()
            seeders.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
