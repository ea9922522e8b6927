#!/usr/bin/python3
"""Soak: Shoal over a long run on loopback, with the troubles of real swarms.

A `shoal tracker` with a 5 s interval; one Shoal seeder (few slots, capped upload); six Shoal
leechers that are killed (SIGKILL) and restarted at random, and once complete are checked byte
for byte, wiped and started afresh; a first tracker tier that is dead (connection refused); a
liar that claims every piece and answers with random bytes; and a handful of connections that
only handshake and send keep-alives. It runs for the given time and then checks:

  - regular announces per client per interval <= 1.2 (from the tracker's per-client ledger; the
    events started, completed and stopped may come early and are counted apart);
  - the seeder's and the tracker's resident memory and open descriptors flat over the last two
    thirds of the run: the mean of the last third is within 5 % of the middle third's (sockets,
    which come and go with peers, are shown apart); memory that grew more than that fails only
    if it still rises within the last third (a leak keeps growing; a slow warm-up does not);
  - every leecher finishing, every finished copy identical to the original;
  - the liar banned by the leechers it reached (each session drops it after a few pieces);
  - no process dead but those the soak killed.

Everything listens on 127.0.0.1 only; DHT and LSD stay off.

usage: /usr/bin/python3 Benchmarks/soak.py SHOAL_BINARY [--minutes 30] [--seed 1]
"""
import argparse, hashlib, json, os, random, shutil, socket, struct, subprocess, sys, tempfile, threading, time, urllib.parse, urllib.request

from loopback import free_port, status_kib, wait_text

INTERVAL = 5


def fd_counts(pid):
    """(all descriptors, sockets) the process has open."""
    total = sockets = 0
    for name in os.listdir(f"/proc/{pid}/fd"):
        total += 1
        try:
            if os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
                sockets += 1
        except OSError:
            pass
    return total, sockets


class Liar(threading.Thread):
    """A peer that claims every piece and answers each request with random bytes; it announces
    itself to the tracker like a seed."""

    def __init__(self, info_hash, pieces, tracker_url, stop):
        super().__init__(daemon=True)
        self.info_hash, self.pieces, self.tracker_url, self.stop = info_hash, pieces, tracker_url, stop
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.server.settimeout(0.5)
        self.port = self.server.getsockname()[1]
        self.peer_id = b"-XX0001-" + os.urandom(6).hex().encode()
        self.lock = threading.Lock()
        self.connections = 0  # that got past the plaintext handshake
        self.refused = 0  # openings that were not one (the leechers' MSE first tries), closed by the liar
        self.closed_by_peer = 0
        self.blocks = []  # blocks served per finished connection

    def announce(self):
        query = urllib.parse.urlencode({"info_hash": self.info_hash, "peer_id": self.peer_id, "port": self.port,
                                        "uploaded": 0, "downloaded": 0, "left": 0, "compact": 1})
        try:
            urllib.request.urlopen(self.tracker_url + "?" + query, timeout=5).read()
        except OSError:
            pass

    def serve(self, conn):
        served = 0
        handshaken = False
        try:
            conn.settimeout(300)
            data = b""
            while len(data) < 68:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            if data[:20] != b"\x13BitTorrent protocol" or data[28:48] != self.info_hash:
                # A plaintext-only peer: it closes at an encrypted opening (the leecher then
                # retries in plaintext), as a real one does.
                with self.lock:
                    self.refused += 1
                return
            handshaken = True
            with self.lock:
                self.connections += 1
            bitfield = bytearray((self.pieces + 7) // 8)
            for i in range(self.pieces):
                bitfield[i // 8] |= 0x80 >> (i % 8)
            hello = b"\x13BitTorrent protocol" + bytes(8) + self.info_hash + self.peer_id
            conn.sendall(hello + struct.pack(">IB", 1 + len(bitfield), 5) + bytes(bitfield) + struct.pack(">IB", 1, 1))
            buffer = data[68:]
            while not self.stop.is_set():
                while len(buffer) >= 4:
                    length = struct.unpack(">I", buffer[:4])[0]
                    if len(buffer) < 4 + length:
                        break
                    message, buffer = buffer[4:4 + length], buffer[4 + length:]
                    if length == 13 and message[0] == 6:
                        index, begin, size = struct.unpack(">III", message[1:])
                        conn.sendall(struct.pack(">IBII", 9 + size, 7, index, begin) + os.urandom(size))
                        served += 1
                chunk = conn.recv(65536)
                if not chunk:
                    with self.lock:
                        self.closed_by_peer += 1
                    return
                buffer += chunk
        except OSError:
            if handshaken:
                with self.lock:
                    self.closed_by_peer += 1
        finally:
            if handshaken:
                with self.lock:
                    self.blocks.append(served)
            conn.close()

    def run(self):
        last = 0
        while not self.stop.is_set():
            if time.time() - last >= INTERVAL:
                self.announce()
                last = time.time()
            try:
                conn, _ = self.server.accept()
            except socket.timeout:
                continue
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()


class Hoggers(threading.Thread):
    """Connections to the seeder that handshake and then only send keep-alives; each one the
    seeder closes is opened again."""

    def __init__(self, port, info_hash, count, stop):
        super().__init__(daemon=True)
        self.port, self.info_hash, self.count, self.stop = port, info_hash, count, stop
        self.closed = 0

    def open(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        s.sendall(b"\x13BitTorrent protocol" + bytes(8) + self.info_hash + b"-HG0001-" + os.urandom(6).hex().encode())
        s.setblocking(False)
        return s

    def run(self):
        sockets = []
        while not self.stop.is_set():
            while len(sockets) < self.count:
                try:
                    sockets.append(self.open())
                except OSError:
                    break
            for s in list(sockets):
                try:
                    s.send(bytes(4))
                    while s.recv(65536):
                        pass
                    self.closed += 1  # recv returned b"": closed by the seeder
                    sockets.remove(s)
                    s.close()
                except BlockingIOError:
                    pass
                except OSError:
                    self.closed += 1
                    sockets.remove(s)
                    s.close()
            self.stop.wait(10)
        for s in sockets:
            s.close()


class Leecher:
    """One leecher slot: a Shoal process restarted after each kill, wiped after each round."""

    def __init__(self, n, shoal, torrent, work, original):
        self.n, self.shoal, self.torrent, self.work, self.original = n, shoal, torrent, work, original
        self.directory = os.path.join(work, f"leech{n}")
        self.state = os.path.join(work, f"leech{n}-state")
        self.log_path = os.path.join(work, f"leech{n}.log")
        self.process = None
        self.rounds = 0
        self.kills = 0
        self.bad_copies = 0
        self.failures = []
        self.ban_lines = 0

    def start(self):
        os.makedirs(self.directory, exist_ok=True)
        log = open(self.log_path, "a")
        self.process = subprocess.Popen(
            [self.shoal, "--headless", "--exit-when-done", "--bind", "127.0.0.1", "--port", str(free_port()),
             "--download-dir", self.directory, "--state-dir", self.state, "--up-kib", "384", "--min-announce-interval", "1",
             "--interval", "5", self.torrent], stdout=log, stderr=subprocess.STDOUT)

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
            self.kills += 1

    def check(self):
        """After the process ended by itself: a round done (verify, wipe, start again) or a failure."""
        code = self.process.returncode
        if code != 0:
            self.failures.append(f"leecher {self.n} exited with {code}: {open(self.log_path).read()[-800:]}")
            self.start()
            return
        copy = os.path.join(self.directory, "payload.bin")
        if not os.path.exists(copy) or hashlib.sha1(open(copy, "rb").read()).digest() != self.original:
            self.bad_copies += 1
        self.rounds += 1
        self.ban_lines += open(self.log_path).read().count("banned: payload.bin")
        shutil.rmtree(self.directory, ignore_errors=True)
        shutil.rmtree(self.state, ignore_errors=True)
        open(self.log_path, "w").close()
        self.start()


def median(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("shoal")
    p.add_argument("--minutes", type=float, default=30)
    p.add_argument("--mib", type=int, default=16)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--series", help="write every sample (seconds, process, resident KiB, descriptors, sockets) to this CSV file")
    a = p.parse_args()
    rng = random.Random(a.seed)
    shoal = os.path.abspath(a.shoal)
    work = tempfile.mkdtemp(prefix="shoal-soak-")
    stop = threading.Event()
    procs = []
    leechers = []
    problems = []
    try:
        tracker_log = os.path.join(work, "tracker.log")
        tracker = subprocess.Popen([shoal, "tracker", "--bind", "127.0.0.1", "--http-port", "0", "--interval", str(INTERVAL)],
                                   stdout=open(tracker_log, "w"), stderr=subprocess.STDOUT)
        procs.append(tracker)
        if not wait_text(tracker_log, "tracker: http://", 30):
            sys.exit("tracker did not start: " + open(tracker_log).read())
        live = [w for w in open(tracker_log).read().split() if w.startswith("http://")][0]
        stats_url = live.replace("/announce", "/stats?format=json&peers=1")
        dead = f"http://127.0.0.1:{free_port()}/announce"  # nobody listens there
        content = os.path.join(work, "content")
        os.makedirs(content)
        payload = os.path.join(content, "payload.bin")
        with open(payload, "wb") as f:
            for _ in range(a.mib):
                f.write(os.urandom(1 << 20))
        original = hashlib.sha1(open(payload, "rb").read()).digest()
        torrent = os.path.join(work, "payload.torrent")
        # Tier 1 is dead, tier 2 is the tracker: every announce falls through.
        subprocess.run([shoal, "create", payload, "-t", dead, "-t", live, "--piece-size", str(256 << 10), "-o", torrent],
                       check=True, stdout=subprocess.DEVNULL)
        info = subprocess.run([shoal, "info", "--json", torrent], check=True, capture_output=True, text=True).stdout
        meta = json.loads(info)
        info_hash = bytes.fromhex(meta["infoHash"])
        seed_log = os.path.join(work, "seed.log")
        seed_port = free_port()
        seeder = subprocess.Popen([shoal, "--headless", "--bind", "127.0.0.1", "--port", str(seed_port), "--download-dir", content,
                                   "--state-dir", os.path.join(work, "seed-state"), "--up-kib", "1024", "--max-peers", "10",
                                   "--min-announce-interval", "1", "--interval", "5", torrent],
                                  stdout=open(seed_log, "w"), stderr=subprocess.STDOUT)
        procs.append(seeder)
        if not wait_text(seed_log, "completed: payload.bin", 60):
            sys.exit("seeder did not start: " + open(seed_log).read()[-1500:])
        liar = Liar(info_hash, meta["pieceCount"], live, stop)
        liar.start()
        hoggers = Hoggers(seed_port, info_hash, 5, stop)
        hoggers.start()
        leechers = [Leecher(n, shoal, torrent, work, original) for n in range(6)]
        for leecher in leechers:
            leecher.start()

        duration = a.minutes * 60
        start = time.time()
        samples = []  # (t, pid name, rss KiB, fds, sockets)
        next_sample = start
        next_kill = start + rng.uniform(10, 40)
        while time.time() - start < duration:
            now = time.time()
            for leecher in leechers:
                if leecher.process.poll() is not None:
                    leecher.check()
            if now >= next_kill:
                victim = rng.choice(leechers)
                if victim.process.poll() is None:  # one that just finished is checked above, next round
                    victim.kill()
                    victim.start()
                next_kill = now + rng.uniform(10, 40)
            if now >= next_sample:
                for name, proc in (("seeder", seeder), ("tracker", tracker)):
                    if proc.poll() is None:
                        total, sockets = fd_counts(proc.pid)
                        samples.append((now - start, name, status_kib(proc.pid, "VmRSS"), total - sockets, sockets))
                next_sample = now + 5
            for name, proc in (("seeder", seeder), ("tracker", tracker)):
                if proc.poll() is not None:
                    problems.append(f"the {name} died with status {proc.returncode}")
            if problems:
                break
            time.sleep(0.2)
        elapsed = time.time() - start
        # Leechers still under way get a last chance to finish their round.
        deadline = time.time() + max(60, a.mib * 4)
        while time.time() < deadline and any(l.rounds == 0 for l in leechers):
            for leecher in leechers:
                if leecher.process.poll() is not None:
                    leecher.check()
            time.sleep(0.2)
        stats = json.loads(urllib.request.urlopen(stats_url, timeout=10).read())
    finally:
        stop.set()
        for leecher in leechers:
            if leecher.process and leecher.process.poll() is None:
                leecher.process.terminate()
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs + [l.process for l in leechers if l.process]:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()

    if a.series:
        with open(a.series, "w") as f:
            f.write("seconds,process,rss_kib,descriptors,sockets\n")
            for row in samples:
                f.write(f"{row[0]:.1f},{row[1]},{row[2]},{row[3]},{row[4]}\n")
    # Announces: per Shoal client (peer ids start with -SH), regular announces per interval of
    # its life. Clients that lived under three intervals say little and are left out of the
    # maximum (they are in the overall figures).
    rates, life_total, regular_total, all_total = [], 0.0, 0, 0
    for client in stats["clients"]:
        if not bytes.fromhex(client["peer_id"]).startswith(b"-SH"):
            continue
        life = (client["last"] - client["first"]) / INTERVAL
        life_total += max(1.0, life)
        regular_total += client["regular"]
        all_total += client["regular"] + client["started"] + client["completed"] + client["stopped"]
        if life >= 3:
            rates.append(client["regular"] / life)
    overall = regular_total / life_total if life_total else 0
    worst = max(rates) if rates else 0
    print(f"soak: {elapsed / 60:.1f} min, tracker interval {INTERVAL} s, {a.mib} MiB payload, 6 leechers, 1 liar, 5 idle connections")
    print(f"regular announces per client per interval: max {worst:.2f} over {len(rates)} clients, overall {overall:.2f}; "
          f"with events {all_total / life_total if life_total else 0:.2f} ({stats['announces']} announces in all, "
          f"{stats['throttled']} sooner than min interval)")
    ok = worst <= 1.2 and overall <= 1.2
    for name in ("seeder", "tracker"):
        rows = [s for s in samples if s[1] == name]
        middle = [s for s in rows if elapsed / 3 <= s[0] < 2 * elapsed / 3]
        last = [s for s in rows if s[0] >= 2 * elapsed / 3]
        if not middle or not last:
            problems.append(f"too few samples for the {name}")
            continue
        def mean(values):
            return sum(values) / len(values)
        rss = (mean([s[2] for s in middle]), mean([s[2] for s in last]), max(s[2] for s in rows))
        fds = (mean([s[3] for s in middle]), mean([s[3] for s in last]))
        socks = (mean([s[4] for s in middle]), mean([s[4] for s in last]))
        rss_growth = (rss[1] - rss[0]) / max(1, rss[0])
        fd_growth = (fds[1] - fds[0]) / max(1, fds[0])
        print(f"{name}: resident {rss[0] / 1024:.1f} -> {rss[1] / 1024:.1f} MiB ({rss_growth * 100:+.1f} %, peak {rss[2] / 1024:.1f}), "
              f"descriptors {fds[0]:.1f} -> {fds[1]:.1f} ({fd_growth * 100:+.1f} %) plus sockets {socks[0]:.1f} -> {socks[1]:.1f} "
              f"(means of the middle and last thirds)")
        # A leak keeps growing; a start does not. In a 3-minute run the seeder fills its caches
        # for 85-100 s (49 -> 54 MiB, then flat), into the middle
        # third, so growth between the thirds alone failed CI on a machine that was slower to
        # warm up (+5.4 %, the last third flat). Growth counts as a leak when the last third
        # still rises too (its second half over its first by 1 % of the middle's mean or more).
        half = [s for s in last if s[0] < 5 * elapsed / 6], [s for s in last if s[0] >= 5 * elapsed / 6]
        rising = not half[0] or not half[1] or mean([s[2] for s in half[1]]) - mean([s[2] for s in half[0]]) >= 0.01 * rss[0]
        if rss_growth >= 0.05 and rising:
            problems.append(f"{name}: resident memory grew {rss_growth * 100:.1f} % over the last two thirds, still rising in the last")
        elif rss_growth >= 0.05:
            print(f"{name}: the growth came before the last third, which is flat: warming up, not a leak")
        if fd_growth >= 0.05:
            problems.append(f"{name}: descriptors grew {fd_growth * 100:.1f} % over the last two thirds")
    rounds = [l.rounds for l in leechers]
    print(f"leechers: rounds completed {rounds}, kills {sum(l.kills for l in leechers)}, bad copies {sum(l.bad_copies for l in leechers)}")
    for leecher in leechers:
        problems += leecher.failures
        if leecher.rounds == 0:
            problems.append(f"leecher {leecher.n} never finished")
        if leecher.bad_copies:
            problems.append(f"leecher {leecher.n}: {leecher.bad_copies} copies differ from the original")
    served = sorted(liar.blocks)
    print(f"liar: {liar.connections} connections ({liar.refused} encrypted openings refused), {liar.closed_by_peer} closed by the leechers, blocks served per connection "
          f"median {median(served)} max {served[-1] if served else 0}; ban lines in finished rounds {sum(l.ban_lines for l in leechers)}")
    # A leecher's parole makes the liar's next whole piece (16 blocks here) its last, so no
    # connection gets far; one that kept being served would show here.
    if served and served[-1] > 400:
        problems.append(f"the liar served {served[-1]} blocks on one connection: it was not banned")
    if liar.connections and liar.closed_by_peer < len(served) - 6:
        problems.append("connections to the liar stayed open: it was not banned")
    # With no connection the ban checks above pass without saying anything. Seen once in a
    # 3-minute run (cause not found: the tracker knew the liar); a long run must reach it.
    if not liar.connections:
        if a.minutes >= 10:
            problems.append("no leecher ever dialled the liar: its ban went unchecked")
        else:
            print("warning: no leecher dialled the liar in this short run; its ban went unchecked")
    print(f"idle connections to the seeder: {hoggers.closed} closed by it")
    if not ok:
        problems.append("regular announces came more often than 1.2 per interval")
    shutil.rmtree(work, ignore_errors=True)
    if problems:
        print("soak FAILED:\n  " + "\n  ".join(problems))
        sys.exit(1)
    print("soak passed")


if __name__ == "__main__":
    main()
