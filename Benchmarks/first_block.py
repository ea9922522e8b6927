#!/usr/bin/python3
"""Time from TCP connect to the first block, against a libtorrent seeder, encrypted and not.

A relay on 127.0.0.1 sits between the leecher and the seeder and stamps two moments of each
connection: when the leecher's TCP connect reaches it, and when 16 KiB + 1 KiB of the seeder's
bytes have passed back (the first block and the few messages before it; the stream may be
encrypted, so bytes are counted, not parsed). The leecher is Shoal or libtorrent, dialling the
relay; the seeder is libtorrent with MSE forced (RC4 only, both ways) or off. Prints the median
of N runs per pairing, in milliseconds.

usage: /usr/bin/python3 Benchmarks/first_block.py SHOAL_BINARY [--runs 5] [--mib 64]
"""
import argparse, os, shutil, socket, statistics, subprocess, sys, tempfile, threading, time

from loopback import TMPFS, free_port, make_payload, wait_text

HERE = os.path.dirname(os.path.abspath(__file__))
LT = os.path.join(HERE, "..", "Tests", "InteropTests", "Scripts", "lt_peer.py")
FIRST_BLOCK = 16 * 1024 + 1024


class Relay:
    """Forwards one or more connections from a port to the seeder; records (connect, first block) times."""

    def __init__(self, target_port):
        self.target = target_port
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.times = []
        self.done = threading.Event()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while not self.done.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            connected = time.perf_counter()
            server = socket.create_connection(("127.0.0.1", self.target))
            # Forward each write at once: with Nagle's algorithm the relay itself would hold
            # small messages back for a delayed ACK (40 ms).
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            state = {"back": 0, "stamped": False}
            threading.Thread(target=self.pipe, args=(client, server, None, connected), daemon=True).start()
            threading.Thread(target=self.pipe, args=(server, client, state, connected), daemon=True).start()

    def pipe(self, source, sink, state, connected):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
                if state is not None and not state["stamped"]:
                    state["back"] += len(data)
                    if state["back"] >= FIRST_BLOCK:
                        state["stamped"] = True
                        self.times.append(time.perf_counter() - connected)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.done.set()
        self.listener.close()


def run_once(leecher, encrypted, shoal, torrent, content, work):
    seed_port = free_port()
    seed_log = os.path.join(work, "seed.log")
    mode = "forced" if encrypted else "plaintext"
    seeder = subprocess.Popen(["/usr/bin/python3", LT, "seed", torrent, content, str(seed_port), "--timeout", "120",
                               "--encryption", mode], stdout=open(seed_log, "w"), stderr=subprocess.STDOUT)
    try:
        if not wait_text(seed_log, "complete", 120):
            sys.exit(f"seeder not ready: {open(seed_log).read()[-1000:]}")
        relay = Relay(seed_port)
        dest = os.path.join(work, "dest")
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(dest)
        if leecher == "shoal":
            cmd = [shoal, "--headless", "--no-utp", "--bind", "127.0.0.1", "--port", str(free_port()), "--download-dir", dest,
                   "--state-dir", os.path.join(work, "state"), "--exit-when-done", "--peer", f"127.0.0.1:{relay.port}",
                   "--encryption", "require" if encrypted else "disable", torrent]
        else:
            cmd = ["/usr/bin/python3", LT, "leech", torrent, dest, str(free_port()), "--peer", f"127.0.0.1:{relay.port}",
                   "--timeout", "120", "--encryption", mode]
        shutil.rmtree(os.path.join(work, "state"), ignore_errors=True)
        log = os.path.join(work, "leech.log")
        status = subprocess.run(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT, timeout=180).returncode
        relay.close()
        if status != 0 or not relay.times:
            sys.exit(f"{leecher} leecher failed ({status}): {open(log).read()[-1000:]}")
        return relay.times[0] * 1000
    finally:
        seeder.terminate()
        seeder.wait(timeout=30)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("shoal")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--mib", type=int, default=64)
    a = p.parse_args()
    work = tempfile.mkdtemp(prefix="shoal-first-block-", dir=TMPFS)
    try:
        content, _, torrent = make_payload(a.shoal, work, a.mib)
        samples = {}
        for _ in range(a.runs):
            for encrypted in (True, False):
                for leecher in ("shoal", "libtorrent"):
                    samples.setdefault((leecher, encrypted), []).append(run_once(leecher, encrypted, a.shoal, torrent, content, work))
        print(f"time from TCP connect to the first block from a libtorrent seeder, {a.runs} runs, 127.0.0.1")
        for (leecher, encrypted), times in samples.items():
            runs = " ".join(f"{t:.1f}" for t in times)
            print(f"{leecher:>10} leecher, {'MSE (RC4)' if encrypted else 'plaintext':9}: median {statistics.median(times):7.1f} ms   runs {runs}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
