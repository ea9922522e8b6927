#!/usr/bin/python3
"""Flash crowd on loopback: 1 seeder + N leechers start together, every peer capped at U KiB/s
upload. Prints the time until the last leecher completes and its ratio to the lower bound
T_min = max(F/u_seed, N*F/(u_seed + sum u_leechers)). Runs Shoal's swarm and, with --libtorrent,
libtorrent's swarm on the same file and tracker. Everything listens on 127.0.0.1 only.

usage: /usr/bin/python3 Benchmarks/flash_crowd.py SHOAL_BINARY [--leechers 8] [--mib 64] [--up-kib 1024] [--libtorrent] [--super-seed]
"""
import argparse, os, shutil, subprocess, sys, tempfile, time

from loopback import free_port, wait_text as wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
LT = os.path.join(HERE, "..", "Tests", "InteropTests", "Scripts", "lt_peer.py")


def peer_command(kind, shoal, mode, torrent, directory, port, up_kib, work, name):
    if kind.startswith("shoal"):
        cmd = [shoal, "--headless", "--no-utp", "--bind", "127.0.0.1", "--port", str(port), "--download-dir", directory,
               "--state-dir", os.path.join(work, "state-" + name), "--up-kib", str(up_kib), torrent]
        if mode == "leech":
            cmd.insert(-1, "--exit-when-done")
        if mode == "seed" and kind == "shoal-super":
            cmd.insert(-1, "--super-seed")
        return cmd
    return ["/usr/bin/python3", LT, mode, torrent, directory, str(port), "--up-kib", str(up_kib), "--timeout", "900"]


def swarm(kind, a, shoal, torrent, content, work):
    procs = []
    logs = os.path.join(work, kind + "-logs")
    os.makedirs(logs, exist_ok=True)
    seed_log = os.path.join(logs, "seed.log")
    seeder = subprocess.Popen(peer_command(kind, shoal, "seed", torrent, content, free_port(), a.up_kib, work, kind + "-seed"),
                              stdout=open(seed_log, "w"), stderr=subprocess.STDOUT)
    procs.append(seeder)
    try:
        if not wait_for(seed_log, "complete", 120):
            sys.exit(f"{kind} seeder not ready: {open(seed_log).read()[-1500:]}")
        time.sleep(1.5)  # let the seeder's first announce land
        start = time.time()
        leechers = []
        for n in range(a.leechers):
            directory = os.path.join(work, f"{kind}-leech{n}")
            os.makedirs(directory)
            log = open(os.path.join(logs, f"leech{n}.log"), "w")
            leechers.append(subprocess.Popen(
                peer_command(kind, shoal, "leech", torrent, directory, free_port(), a.up_kib, work, f"{kind}-leech{n}"),
                stdout=log, stderr=subprocess.STDOUT))
        procs += leechers
        finish = []
        deadline = start + a.timeout
        pending = set(range(a.leechers))
        while pending and time.time() < deadline:
            for n in list(pending):
                if leechers[n].poll() is not None:
                    if leechers[n].returncode != 0:
                        sys.exit(f"{kind} leecher {n} failed: {open(os.path.join(logs, f'leech{n}.log')).read()[-1500:]}")
                    finish.append(time.time() - start)
                    pending.discard(n)
            time.sleep(0.1)
        if pending:
            sys.exit(f"{kind}: {len(pending)} leechers unfinished after {a.timeout} s")
        src = os.path.join(content, "payload.bin")
        for n in range(a.leechers):
            if subprocess.run(["cmp", "-s", src, os.path.join(work, f"{kind}-leech{n}", "payload.bin")]).returncode:
                sys.exit(f"{kind} leecher {n}: data differs")
        return sorted(finish)
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("shoal")
    p.add_argument("--leechers", type=int, default=8)
    p.add_argument("--mib", type=int, default=64)
    p.add_argument("--up-kib", type=int, default=1024)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--libtorrent", action="store_true")
    p.add_argument("--super-seed", action="store_true", help="also run Shoal's swarm with a super-seeding (BEP 16) seeder")
    a = p.parse_args()
    work = tempfile.mkdtemp(prefix="shoal-flash-")
    tracker = None
    try:
        content = os.path.join(work, "content")
        os.makedirs(content)
        with open(os.path.join(content, "payload.bin"), "wb") as f:
            f.write(os.urandom(a.mib << 20))
        tracker_log = os.path.join(work, "tracker.log")
        tracker = subprocess.Popen([a.shoal, "tracker", "--bind", "127.0.0.1", "--http-port", "0", "--interval", "10"],
                                   stdout=open(tracker_log, "w"), stderr=subprocess.STDOUT)
        if not wait_for(tracker_log, "tracker: http://", 10):
            sys.exit("tracker did not start")
        url = open(tracker_log).read().split()[-1]
        torrent = os.path.join(work, "payload.torrent")
        subprocess.run([a.shoal, "create", os.path.join(content, "payload.bin"), "-t", url, "-o", torrent],
                       check=True, stdout=subprocess.DEVNULL)
        size = a.mib * 1024 * 1024
        u = a.up_kib * 1024
        t_min = max(size / u, a.leechers * size / (u + a.leechers * u))
        kinds = ["shoal"] + (["shoal-super"] if a.super_seed else []) + (["libtorrent"] if a.libtorrent else [])
        print(f"{a.leechers} leechers + 1 seeder, {a.mib} MiB, every peer capped at {a.up_kib} KiB/s up; T_min = {t_min:.1f} s")
        for kind in kinds:
            times = swarm(kind, a, a.shoal, torrent, content, work)
            print(f"{kind:11} last leecher done after {times[-1]:6.1f} s  ratio {times[-1] / t_min:.2f}  "
                  f"(first {times[0]:.1f} s, median {times[len(times) // 2]:.1f} s)")
    finally:
        if tracker:
            tracker.terminate()
            tracker.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
