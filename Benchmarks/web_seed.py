#!/usr/bin/python3
"""Web seed throughput (BEP 19) on loopback: a file whose only source is an HTTP server (the
tests' Python http.server with byte ranges, Tests/InteropTests/Scripts/web_seed_server.py), fetched
by Shoal and by aria2 from the same torrent in the same run, with curl's plain GET of the whole
file as the server's ceiling. Times are end to end (process start to exit, torrent loaded, every
piece verified). Prints the median of N runs each, MiB/s, and Shoal's ratio to each.

usage: /usr/bin/python3 Benchmarks/web_seed.py SHOAL_BINARY [--mib 256] [--runs 3] [--dir /dev/shm]
"""
import argparse, os, shutil, statistics, subprocess, sys, tempfile, time

from loopback import TMPFS, free_port, make_payload, stop, warm_up

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "..", "Tests", "InteropTests", "Scripts", "web_seed_server.py")


def timed(cmd, log, check_file, expected_size):
    start = time.time()
    with open(log, "w") as out:
        status = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, timeout=900).returncode
    elapsed = time.time() - start
    if status != 0 or os.path.getsize(check_file) != expected_size:
        sys.exit(f"{cmd[0]} failed ({status}): {open(log).read()[-2000:]}")
    return elapsed


def main():
    p = argparse.ArgumentParser()
    p.add_argument("shoal")
    p.add_argument("--mib", type=int, default=256)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--dir", default=TMPFS)
    a = p.parse_args()
    work = tempfile.mkdtemp(prefix="shoal-webseed-", dir=a.dir)
    server = None
    try:
        warm_up(work, a.mib * 3)
        content, path, _ = make_payload(a.shoal, work, a.mib)
        server_log = os.path.join(work, "server.log")
        server = subprocess.Popen(["/usr/bin/python3", SERVER, "--root", content], stdout=subprocess.PIPE,
                                  stderr=open(server_log, "w"), text=True)
        port = int(server.stdout.readline().split()[1])
        url = f"http://127.0.0.1:{port}/payload.bin"
        torrent = os.path.join(work, "webseed.torrent")
        subprocess.run([a.shoal, "create", path, "--piece-size", str(1 << 20), "-w", url, "-o", torrent, "--force"],
                       check=True, stdout=subprocess.DEVNULL)
        size = os.path.getsize(path)
        times = {"shoal": [], "aria2": [], "curl": []}
        for run in range(a.runs):
            for kind in times:
                dest = os.path.join(work, f"{kind}-{run}")
                os.makedirs(dest)
                log = os.path.join(work, f"{kind}-{run}.log")
                if kind == "shoal":
                    cmd = [a.shoal, "--headless", "--no-utp", "--bind", "127.0.0.1", "--port", str(free_port()), "--download-dir", dest,
                           "--state-dir", os.path.join(work, f"state-{run}"), "--exit-when-done", torrent]
                elif kind == "aria2":
                    cmd = ["aria2c", "-d", dest, "--seed-time=0", "--enable-dht=false", "--enable-dht6=false",
                           "--bt-enable-lpd=false", "--enable-peer-exchange=false", "--listen-port", str(free_port()),
                           "--file-allocation=none", "--summary-interval=0", "--console-log-level=warn", torrent]
                else:
                    cmd = ["curl", "-sS", "-o", os.path.join(dest, "payload.bin"), url]
                times[kind].append(timed(cmd, log, os.path.join(dest, "payload.bin"), size))
                shutil.rmtree(dest)
        med = {kind: statistics.median(values) for kind, values in times.items()}
        print(f"web seed, {a.mib} MiB from Python's http.server on 127.0.0.1, median of {a.runs} (end to end):")
        for kind in times:
            print(f"  {kind:6} {med[kind]:7.2f} s  {a.mib / med[kind]:8.1f} MiB/s   runs {' '.join(f'{t:.2f}' for t in times[kind])}")
        print(f"  Shoal / aria2: {med['aria2'] / med['shoal']:.2f}x   Shoal / curl (the server's ceiling): {med['curl'] / med['shoal']:.2f}x")
    finally:
        if server:
            stop(server, timeout=5)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
