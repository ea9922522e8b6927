#!/usr/bin/python3
"""N torrents added at once, all on one tracker: what the tracker sees.

A `shoal tracker` on 127.0.0.1 and a Shoal daemon whose watch folder gets N .torrent files at
once (their data already in place, so each checks, seeds and announces). The tracker's own
/stats counts the announces and scrapes and the busiest second. Run twice: paced at the
default --tracker-requests-per-second (50), and unpaced (0, what Shoal did before), so the
storm and its cure are measured in the same run.

usage: /usr/bin/python3 Benchmarks/tracker_storm.py SHOAL_BINARY [--torrents 10000] [--rate 50]
"""
import argparse, hashlib, json, os, shutil, subprocess, sys, tempfile, time, urllib.request

from loopback import free_port, stop, wait_text
from many_torrents import bencode


def make_torrent(path, name, data, announce, piece=16384):
    pieces = b"".join(hashlib.sha1(data[i:i + piece]).digest() for i in range(0, len(data), piece))
    info = {"name": name, "length": len(data), "piece length": piece, "pieces": pieces}
    with open(path, "wb") as f:
        f.write(bencode({"announce": announce, "info": info, "created by": "tracker_storm.py"}))


def stats(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats?format=json", timeout=10) as response:
        return json.loads(response.read())


def run(shoal, work, torrents, rate, timeout):
    """One daemon run against a fresh tracker; returns the figures."""
    tag = f"rate-{rate}"
    tracker_port = free_port()
    tracker_log = open(os.path.join(work, f"{tag}-tracker.log"), "w")
    tracker = subprocess.Popen([shoal, "tracker", "--bind", "127.0.0.1", "--http-port", str(tracker_port), "--udp-port", "-1", "--interval", "1800"],
                               stdout=tracker_log, stderr=subprocess.STDOUT)
    daemon = None
    try:
        deadline = time.time() + 30
        while True:
            try:
                stats(tracker_port)
                break
            except OSError:
                if time.time() > deadline:
                    sys.exit("the tracker did not start")
                time.sleep(0.1)
        announce = f"http://127.0.0.1:{tracker_port}/announce"
        data_dir, torrent_dir, watch = (os.path.join(work, tag, d) for d in ("data", "torrents", "watch"))
        for d in (data_dir, torrent_dir, watch):
            os.makedirs(d)
        for n in range(torrents):
            data = hashlib.sha256(b"%d" % n).digest() * 1024  # 32 KiB, two pieces
            name = f"item-{n:05d}.bin"
            with open(os.path.join(data_dir, name), "wb") as f:
                f.write(data)
            make_torrent(os.path.join(torrent_dir, name + ".torrent"), name, data, announce)
        log = os.path.join(work, f"{tag}-daemon.log")
        with open(log, "w") as out:
            daemon = subprocess.Popen([shoal, "--headless", "--no-utp", "--bind", "127.0.0.1", "--port", "0", "--download-dir", data_dir,
                                       "--state-dir", os.path.join(work, tag, "state"), "--watch", watch,
                                       "--tracker-requests-per-second", str(rate), "--log-file", ""],
                                      stdout=subprocess.DEVNULL, stderr=out)
        if not wait_text(log, "shoal: listening on port", 60):
            sys.exit("the daemon did not start: " + open(log).read()[-2000:])
        start = time.monotonic()
        # All at once, as a user dropping a folder of torrents in: a rename is atomic.
        staging = os.path.join(work, tag, "staging")
        shutil.copytree(torrent_dir, staging)
        for name in os.listdir(staging):
            os.rename(os.path.join(staging, name), os.path.join(watch, name))
        all_in = None
        last = stats(tracker_port)
        while time.monotonic() - start < timeout:
            time.sleep(1)
            last = stats(tracker_port)
            if last["announces"] >= torrents and all_in is None:
                all_in = time.monotonic() - start
            # Every torrent announced, and the scrapes have settled (no new one for 5 s).
            if all_in is not None and time.monotonic() - start > all_in + 5:
                break
        return {"rate": rate, "announces": last["announces"], "scrapes": last["scrapes"], "busiest": last["busiest_second"],
                "all_in": all_in}
    finally:
        for process in (daemon, tracker):
            if process:
                stop(process)
        tracker_log.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("shoal")
    parser.add_argument("--torrents", type=int, default=10000)
    parser.add_argument("--rate", type=int, default=50, help="the paced run's --tracker-requests-per-second")
    parser.add_argument("--timeout", type=int, default=600, help="seconds each run may take at most")
    args = parser.parse_args()
    shoal = os.path.abspath(args.shoal)
    work = tempfile.mkdtemp(prefix="shoal-storm-")
    try:
        for rate in (args.rate, 0):
            figures = run(shoal, work, args.torrents, rate, args.timeout)
            label = f"paced at {rate}/s" if rate else "unpaced (0)"
            done = f"all announced in {figures['all_in']:.1f} s" if figures["all_in"] is not None \
                else f"only {figures['announces']} announced in {args.timeout} s"
            budget = f" (budget {2 * rate}: the burst and a second's rate)" if rate else ""
            print(f"{label}: {args.torrents} torrents, {done}; busiest second at the tracker {figures['busiest']} requests{budget}; "
                  f"{figures['announces']} announces, {figures['scrapes']} scrape requests")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
