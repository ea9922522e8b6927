#!/usr/bin/python3
"""Many torrents in one session (1,000 by default; the budgets are for 100,000), on loopback.

0. Adding: N torrents dropped into a running daemon's watch folder at once: how long until the
   RPC lists them all (budget 2 minutes), and adds per second early and late. The same daemon
   then checks them all (state saved for the restarts) and is stopped: how long the quit took.
1. Restart: how long `shoal --headless` takes to be ready (every torrent restored, listening —
   the "shoal: listening on port ..." line; budget 5 s) with N small seeding torrents in its
   state directory; its CPU while the torrents finish starting and once idle; its resident
   memory with them loaded and idle (budget 1 GiB for 100,000); how long a quit takes.
1b. With --beside-transmission: the same torrents in transmission-daemon, and each daemon's time
   from start to its RPC listing them all seeding, and its memory (beside_transmission.py).
1c. With --downloading 50: 50 torrents downloading from a local seeder, alone and among the N
   idle ones (queueing on), rates side by side (busy_among_many.py; goal: within 10 %).
2. Interface: the full-screen UI in tmux with the same N torrents and one active download (from a
   second Shoal capped at 64 KiB/s): CPU of the whole process while nobody touches a key, and
   CPU of the terminal thread per frame (idle, it redraws when a snapshot comes, twice a second),
   an upper bound on the time to render and draw one frame; then how long a key (`s`, re-sorting
   every row) takes to show on the screen (budget 50 ms).

usage: /usr/bin/python3 Benchmarks/many_torrents.py SHOAL_BINARY [--torrents 1000] [--seconds 20]
needs: tmux
"""
import argparse, hashlib, os, shutil, signal, subprocess, sys, tempfile, time

from loopback import TransmissionRPC, cpu_seconds, free_port, status_kib, wait_text
import beside_transmission
import busy_among_many


def bencode(value):
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        return b"d" + b"".join(bencode(k) + bencode(value[k]) for k in sorted(value)) + b"e"
    raise TypeError(value)


def make_torrent(path, name, data, piece=16384, announce=None):
    pieces = b"".join(hashlib.sha1(data[i:i + piece]).digest() for i in range(0, len(data), piece))
    info = {"name": name, "length": len(data), "piece length": piece, "pieces": pieces}
    document = {"info": info, "created by": "many_torrents.py"}
    if announce:
        document["announce"] = announce
    with open(path, "wb") as f:
        f.write(bencode(document))


def load(shoal, work, data_dir, paths, state, measure, budget=120.0):
    """Copies every .torrent into a running daemon's watch folder at once and waits until all
    seed (each checked once, state saved), then stops it. With `measure`, prints how long until
    all were in the session and the rate of adds in the first and the last quarter (the cost of
    one add should not grow with the session), and how long the daemon took to quit."""
    watch = os.path.join(work, "watch")
    os.makedirs(watch)
    port = free_port()
    log = os.path.join(work, "adding.log")
    with open(log, "w") as out:
        process = subprocess.Popen([shoal, "--headless", "--no-utp", "--bind", "127.0.0.1", "--port", "0", "--download-dir", data_dir,
                                    "--state-dir", state, "--watch", watch, "--rpc", "--rpc-port", str(port), "--interval", "3600",
                                    "--log-file", ""], stdout=subprocess.DEVNULL, stderr=out)
    try:
        if not wait_text(log, "RPC on", 60):
            sys.exit("adding: the daemon did not start: " + open(log).read()[-2000:])
        rpc = beside_transmission.RPC(port, timeout=120)
        start = time.monotonic()
        for path in paths:
            shutil.copy(path, watch)
        copied = time.monotonic() - start
        samples = []
        count = 0
        while count < len(paths) and time.monotonic() - start < 900:
            count = len(rpc.call("torrent-get", {"fields": ["id"]})["arguments"]["torrents"])
            samples.append((time.monotonic() - start, count))
            time.sleep(0.5)
        total = samples[-1][0]

        def rate(low, high):
            # Adds per second between the moments the count passed `low` and `high`.
            first = next((t for t, c in samples if c >= low), None)
            last = next((t for t, c in samples if c >= high), None)
            return (high - low) / (last - first) if first is not None and last is not None and last > first else float("nan")

        if measure:
            quarter = len(paths) // 4
            print(f"adding {len(paths)} torrents through a watch folder: all in after {total:.1f} s (budget {budget:.0f} s; "
                  f"copying them in took {copied:.1f} s), {count} listed")
            print(f"  adds per second: first quarter {rate(0, quarter):.0f}, last quarter {rate(len(paths) - quarter, len(paths)):.0f}")
        if beside_transmission.wait_seeding(rpc, len(paths), process, 1800) is None:
            sys.exit(f"loading: not all seeding in 30 minutes (listed, seeding: {rpc.seeding()})")
    finally:
        quit_started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=900)
    if measure:
        print(f"  quit with {len(paths)} seeding torrents (SIGTERM to exit): {time.monotonic() - quit_started:.1f} s")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("shoal")
    parser.add_argument("--torrents", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--perf", help="also record a `perf` profile of the idle interface into this file")
    parser.add_argument("--skip-adding", action="store_true", help="leave out the watch-folder adding figure")
    parser.add_argument("--only-adding", action="store_true", help="measure the watch-folder adding figure and stop")
    parser.add_argument("--downloading", type=int, default=0,
                        help="also download this many torrents from a local seeder, alone and among the N (busy_among_many.py)")
    parser.add_argument("--beside-transmission", action="store_true",
                        help="also start transmission-daemon with the same torrents: start time and memory beside Shoal's")
    args = parser.parse_args()
    shoal = os.path.abspath(args.shoal)
    work = tempfile.mkdtemp(prefix="shoal-many-")
    try:
        data_dir, torrent_dir, state = (os.path.join(work, d) for d in ("data", "torrents", "state"))
        for d in (data_dir, torrent_dir):
            os.makedirs(d)
        paths = []
        for n in range(args.torrents):
            data = hashlib.sha256(b"%d" % n).digest() * 1024  # 32 KiB, two pieces
            name = f"item-{n:04d}.bin"
            with open(os.path.join(data_dir, name), "wb") as f:
                f.write(data)
            paths.append(os.path.join(torrent_dir, name + ".torrent"))
            make_torrent(paths[-1], name, data)

        # 0. Adding: every .torrent dropped into a watch folder at once, counted through the RPC;
        # the same daemon then checks them all and saves the state the restarts below start from.
        load(shoal, work, data_dir, paths, state, measure=not args.skip_adding)
        if args.only_adding:
            return

        # 1. Restart, three times.
        times, rss, idle, quits, settling, settled = [], 0, [], [], [], []
        for _ in range(3):
            log = os.path.join(work, "restart.log")
            with open(log, "w") as out:
                start = time.monotonic()
                process = subprocess.Popen([shoal, "--headless", "--no-utp", "--bind", "127.0.0.1", "--port", "0", "--download-dir", data_dir,
                                            "--state-dir", state, "--interval", "60"], stdout=subprocess.DEVNULL, stderr=out)
                ready = wait_text(log, "shoal: listening on port", 300)
                times.append(time.monotonic() - start)
                if not ready:
                    process.kill()
                    sys.exit("no ready line: " + open(log).read()[-2000:])
                # The first seconds after the ready line, every torrent finishes its start (the
                # resume check, its first tick, a DHT announce): measured apart from idle.
                before = cpu_seconds(f"/proc/{process.pid}/stat")
                time.sleep(5)
                settling.append(100 * (cpu_seconds(f"/proc/{process.pid}/stat") - before) / 5)
                # Idle: once a 2-second look finds it under 5 % of a core (at most a minute).
                waited = 0
                while waited < 60:
                    before = cpu_seconds(f"/proc/{process.pid}/stat")
                    time.sleep(2)
                    waited += 2
                    if cpu_seconds(f"/proc/{process.pid}/stat") - before < 0.1:
                        break
                settled.append(5 + waited)
                rss = max(rss, status_kib(process.pid, "VmRSS") / 1024)
                before = cpu_seconds(f"/proc/{process.pid}/stat")
                time.sleep(10)
                idle.append(100 * (cpu_seconds(f"/proc/{process.pid}/stat") - before) / 10)
                quit_started = time.monotonic()
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=900)
                quits.append(time.monotonic() - quit_started)
            line = [l for l in open(log) if "listening on port" in l][0].strip()
        times.sort()
        print(f"restart with {args.torrents} torrents: ready in {times[1]:.2f} s (budget 5 s; median of 3: "
              f"{', '.join(f'{t:.2f}' for t in times)})")
        print(f"  ({line})")
        print(f"resident memory, {args.torrents} idle torrents loaded: {rss:.0f} MiB, {rss * 1024 / args.torrents:.1f} KiB a torrent "
              f"(budget 1 GiB for 100,000: 10.5 KiB a torrent)")
        idle.sort()
        settling.sort()
        settled.sort()
        print(f"headless, {args.torrents} seeding torrents, the 5 s after the ready line: {settling[1]:.1f}% of one core; "
              f"idle (under 5 % for 2 s) after {settled[1]} s")
        print(f"headless, {args.torrents} idle seeding torrents: {idle[1]:.1f}% of one core (median of 3 10-s looks)")
        quits.sort()
        print(f"quit (SIGTERM to exit) with {args.torrents} idle torrents: {quits[1]:.1f} s (median of 3)")

        # 1b. The same figures beside transmission-daemon, each daemon started alone.
        if args.beside_transmission:
            beside_transmission.compare(shoal, work, data_dir, paths)

        # 1c. A few torrents downloading among the N idle ones, against the same alone.
        if args.downloading:
            busy_among_many.compare(shoal, state, args.torrents, make_torrent, count=args.downloading)

        # 2. The interface, idle, with one active download.
        if not shutil.which("tmux"):
            print("interface: skipped (needs tmux)")
            return
        active = os.path.join(work, "active")
        os.makedirs(active)
        big = os.urandom(64 << 20)
        with open(os.path.join(active, "active.bin"), "wb") as f:
            f.write(big)
        active_torrent = os.path.join(work, "active.torrent")
        make_torrent(active_torrent, "active.bin", big, piece=256 << 10)
        seed_port = free_port()
        seeder = subprocess.Popen([shoal, "--headless", "--no-utp", "--bind", "127.0.0.1", "--port", str(seed_port), "--up-kib", "64",
                                   "--download-dir", active, "--state-dir", os.path.join(work, "seed-state"), active_torrent],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = "shoal-many-%d" % os.getpid()
        tmux = ["tmux", "-L", server, "-f", "/dev/null"]
        pid_file = os.path.join(work, "ui.pid")
        command = (f"echo $$ > {pid_file}; exec env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color {shoal} --bind 127.0.0.1 "
                   f"--port 0 --download-dir {data_dir} --state-dir {state} --peer 127.0.0.1:{seed_port} {active_torrent}")
        try:
            time.sleep(2)
            subprocess.run(tmux + ["new-session", "-d", "-s", "ui", "-x", "160", "-y", "45", command], check=True, timeout=30)
            deadline = time.time() + 60
            screen = ""
            while time.time() < deadline:
                screen = subprocess.run(tmux + ["capture-pane", "-p", "-t", "ui"], capture_output=True, text=True, timeout=30).stdout
                # Every torrent listed, and the active one receiving (the title shows a rate).
                title = screen.split("\n", 1)[0]
                if f"{args.torrents + 1} torrents" in title and "B/s" in title.split("↓", 1)[-1].split("↑")[0]:
                    break
                time.sleep(0.5)
            else:
                sys.exit("the interface did not show the active download:\n" + screen)
            time.sleep(5)
            pid = int(open(pid_file).read())
            thread = next((f"/proc/{pid}/task/{t}/stat" for t in os.listdir(f"/proc/{pid}/task")
                           if open(f"/proc/{pid}/task/{t}/comm").read().strip() == "shoal-terminal"), None)
            process_before = cpu_seconds(f"/proc/{pid}/stat")
            thread_before = cpu_seconds(thread) if thread else 0
            start = time.monotonic()
            if args.perf:
                subprocess.run(["perf", "record", "-g", "-o", os.path.abspath(args.perf), "-p", str(pid), "--", "sleep",
                                str(args.seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=args.seconds + 60)
            else:
                time.sleep(args.seconds)
            elapsed = time.monotonic() - start
            process_cpu = cpu_seconds(f"/proc/{pid}/stat") - process_before
            print(f"interface idle, {args.torrents} torrents + 1 downloading, {args.seconds} s: "
                  f"{100 * process_cpu / elapsed:.1f}% of one core for the whole process")
            if thread:
                frames = elapsed / 0.5
                per_frame = (cpu_seconds(thread) - thread_before) / frames * 1000
                print(f"  terminal thread: {per_frame:.2f} ms of CPU per frame (~{frames:.0f} frames), "
                      f"an upper bound on rendering and drawing one frame")
            # Key latency: `s` re-sorts every row and says so in the footer; the time from sending
            # the key to the footer showing it, tmux's own round trips included.
            def footer():
                return subprocess.run(tmux + ["capture-pane", "-p", "-t", "ui"], capture_output=True, text=True,
                                      timeout=30).stdout.rstrip("\n").split("\n")[-1]
            probe = time.monotonic()
            last = footer()
            round_trip = time.monotonic() - probe
            latencies = []
            for _ in range(20):
                sent = time.monotonic()
                subprocess.run(tmux + ["send-keys", "-t", "ui", "s"], timeout=30)
                while time.monotonic() - sent < 5:
                    now = footer()
                    if "sorted by" in now and now != last:
                        break
                latencies.append(time.monotonic() - sent)
                last = now
            latencies.sort()
            print(f"  key answer (s: sort and redraw {args.torrents + 1} rows), 20 presses: median "
                  f"{latencies[10] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms (budget 50 ms; a tmux round trip "
                  f"alone takes {round_trip * 1000:.0f} ms and each figure holds two or more)")
            subprocess.run(tmux + ["send-keys", "-t", "ui", "q"], timeout=30)
            time.sleep(1)
            subprocess.run(tmux + ["send-keys", "-t", "ui", "y"], timeout=30)
            time.sleep(2)
        finally:
            subprocess.run(tmux + ["kill-server"], stderr=subprocess.DEVNULL, timeout=30)
            seeder.terminate()
            seeder.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
