#!/usr/bin/python3
"""uTP pair throughput, end to end (start-up and the dial included): one seeder, one leecher,
one file, N runs each of Shoal -> Shoal over uTP, libtorrent -> libtorrent over uTP (its TCP
off both ways) and Shoal -> Shoal over TCP, in the same run. Prints median MiB/s and the two
ratios the uTP issue sets goals for: Shoal uTP / libtorrent uTP (>= 2) and Shoal uTP / Shoal
TCP (>= 0.6). With --relay-delay-ms the uTP and TCP traffic goes through Benchmarks/impair_relay.py
(delay each way, --relay-loss, --relay-reorder), as on a path that is not perfect.

usage: /usr/bin/python3 Benchmarks/utp_throughput.py SHOAL_BINARY [--mib 1024] [--runs 3] [--dir /dev/shm]
       [--relay-delay-ms 25 --relay-loss 0.005 --relay-reorder 0] [--timeout 600]
Everything listens on 127.0.0.1 only; encryption is off on both sides (plaintext pairs).
"""
import argparse, os, shutil, statistics, subprocess, sys, tempfile, time

from loopback import TMPFS, free_port, make_payload, stop, wait_text, warm_up

HERE = os.path.dirname(os.path.abspath(__file__))
LT = os.path.join(HERE, "..", "Tests", "InteropTests", "Scripts", "lt_peer.py")
RELAY = os.path.join(HERE, "impair_relay.py")


def start_seed(kind, a, torrent, content, port, work):
    log = os.path.join(work, f"seed-{kind}.log")
    if kind.startswith("shoal"):
        cmd = [a.shoal, "--headless", "--bind", "127.0.0.1", "--port", str(port), "--download-dir", content,
               "--state-dir", os.path.join(work, "state-seed"), "--encryption", "disable", torrent]
        cmd += ["--utp"] if kind == "shoal-utp" else ["--no-utp"]
        ready = "completed:"
    else:
        cmd = ["/usr/bin/python3", LT, "seed", torrent, content, str(port), "--timeout", str(a.timeout), "--plaintext", "--utp-only"]
        ready = "complete"
    proc = subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    if not wait_text(log, ready, 300):
        stop(proc)
        sys.exit(f"{kind} seeder did not become ready: {open(log).read()[-2000:]}")
    return proc


def leech(kind, a, torrent, dest, peer_port, work):
    log = os.path.join(work, f"leech-{kind}.log")
    if kind.startswith("shoal"):
        cmd = [a.shoal, "--headless", "--bind", "127.0.0.1", "--port", str(free_port()), "--download-dir", dest,
               "--state-dir", os.path.join(work, "state-leech"), "--exit-when-done", "--encryption", "disable",
               "--peer", f"127.0.0.1:{peer_port}", torrent]
        cmd += ["--utp"] if kind == "shoal-utp" else ["--no-utp"]
    else:
        cmd = ["/usr/bin/python3", LT, "leech", torrent, dest, str(free_port()), "--peer", f"127.0.0.1:{peer_port}",
               "--timeout", str(a.timeout), "--plaintext", "--utp-only"]
    start = time.time()
    proc = subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    try:
        status = proc.wait(timeout=a.timeout)
    except subprocess.TimeoutExpired:
        stop(proc)
        sys.exit(f"{kind} leecher timed out: {open(log).read()[-2000:]}")
    if status != 0:
        sys.exit(f"{kind} leecher failed: {open(log).read()[-2000:]}")
    return time.time() - start


def main():
    p = argparse.ArgumentParser()
    p.add_argument("shoal")
    p.add_argument("--mib", type=int, default=1024)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--dir", default=TMPFS)
    p.add_argument("--relay-delay-ms", type=float, default=0)
    p.add_argument("--relay-loss", type=float, default=0)
    p.add_argument("--relay-reorder", type=float, default=0)
    p.add_argument("--timeout", type=int, default=600)
    a = p.parse_args()
    work = tempfile.mkdtemp(prefix="shoal-utp-bench-", dir=a.dir)
    kinds = ["libtorrent-utp", "shoal-utp", "shoal-tcp"]
    samples = {kind: [] for kind in kinds}
    try:
        content, path, torrent = make_payload(a.shoal, work, a.mib)
        warm_up(work, 2 * a.mib)
        for _ in range(a.runs):
            # Round the kinds, so none always meets the machine first.
            for kind in kinds:
                port = free_port()
                seeder = start_seed(kind, a, torrent, content, port, work)
                relay, peer_port = None, port
                if a.relay_delay_ms > 0:
                    peer_port = free_port()
                    relay_log = os.path.join(work, "relay.log")
                    relay = subprocess.Popen(["/usr/bin/python3", RELAY, str(peer_port), str(port), "--delay-ms", str(a.relay_delay_ms),
                                              "--loss", str(a.relay_loss), "--reorder", str(a.relay_reorder),
                                              "--timeout", str(a.timeout + 60)], stdout=open(relay_log, "w"), stderr=subprocess.STDOUT)
                    if not wait_text(relay_log, "relaying", 30):
                        sys.exit("the relay did not start")
                dest = os.path.join(work, "dest")
                shutil.rmtree(dest, ignore_errors=True)
                os.makedirs(dest)
                try:
                    elapsed = leech(kind, a, torrent, dest, peer_port, work)
                finally:
                    if relay:
                        stop(relay, 10)
                    stop(seeder, 30)
                if subprocess.run(["cmp", "-s", path, os.path.join(dest, "payload.bin")]).returncode != 0:
                    sys.exit(f"{kind}: data differs")
                samples[kind].append(a.mib / elapsed)
                shutil.rmtree(dest)
        med = {kind: statistics.median(rates) for kind, rates in samples.items()}
        path_note = (f"through impair_relay.py: {a.relay_delay_ms:g} ms each way, {a.relay_loss * 100:g} % loss, "
                     f"{a.relay_reorder * 100:g} % reordering" if a.relay_delay_ms > 0 else "127.0.0.1 direct")
        print(f"{a.mib} MiB file, 1 MiB pieces, {a.runs} runs each, {path_note}, {os.cpu_count()} cores, end to end")
        print(f"{'seeder -> leecher':34} {'median MiB/s':>12}  runs")
        for kind, rates in samples.items():
            label = {"libtorrent-utp": "libtorrent -> libtorrent (uTP)", "shoal-utp": "Shoal -> Shoal (uTP)",
                     "shoal-tcp": "Shoal -> Shoal (TCP)"}[kind]
            print(f"{label:34} {med[kind]:12.1f}  " + " ".join(f"{r:.1f}" for r in rates))
        goal = 1.5 if a.relay_delay_ms > 0 else 2.0
        print(f"Shoal uTP / libtorrent uTP: {med['shoal-utp'] / med['libtorrent-utp']:.2f} (goal >= {goal:g})")
        print(f"Shoal uTP / Shoal TCP: {med['shoal-utp'] / med['shoal-tcp']:.2f}" + ("" if a.relay_delay_ms > 0 else " (goal >= 0.6)"))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
