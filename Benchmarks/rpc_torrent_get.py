#!/usr/bin/env python3
"""torrent-get of every torrent, with N torrents loaded: Shoal's daemon vs transmission-daemon.

Usage: rpc_torrent_get.py SHOAL [--torrents 10000] [--calls 30]

Both daemons get the same N small torrents (no trackers, nothing on disk, paused), loaded the
way each loads a big session at start: Shoal from a state directory written here (session.json
and the .torrent copies), transmission-daemon from its config directory's torrents/. Then the
same RPC call, `torrent-get` of all torrents with the fields `transmission-remote -l` asks for,
is made CALLS times against each, one at a time, on 127.0.0.1: the latency of each call (whole,
and to the answer's last byte, before Python decodes the JSON, which costs the same for both)
and the daemon's CPU time per call (from /proc) are printed, with the ratios. Everything it starts it
stops; nothing leaves 127.0.0.1.
"""
import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error

from loopback import TransmissionRPC as RPC, cpu_seconds, stop

LIST_FIELDS = ["error", "errorString", "eta", "id", "isFinished", "leftUntilDone", "name", "peersGettingFromUs",
               "peersSendingToUs", "rateDownload", "rateUpload", "sizeWhenDone", "status", "uploadRatio"]


def bencode(value):
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, str):
        return bencode(value.encode())
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        return b"d" + b"".join(bencode(k) + bencode(value[k]) for k in sorted(value)) + b"e"
    raise TypeError(value)


def make_torrents(count):
    """(info-hash hex, .torrent bytes) for `count` single-file torrents of 4 pieces each."""
    out = []
    for index in range(count):
        info = {"name": f"bench-{index:06d}.bin", "length": 65536, "piece length": 16384,
                "pieces": hashlib.sha1(b"%d" % index).digest() * 4}
        raw = bencode(info)
        out.append((hashlib.sha1(raw).hexdigest(), b"d4:info" + raw + b"e"))
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_torrents(rpc, count, process, seconds=600):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the daemon exited")
        try:
            got = rpc.call("torrent-get", {"fields": ["id"]})
            if len(got["arguments"]["torrents"]) >= count:
                return
        except (OSError, urllib.error.URLError, RuntimeError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the daemon did not list {count} torrents in {seconds} s")


def measure(name, rpc, pid, calls):
    rpc.call("torrent-get", {"fields": LIST_FIELDS})  # warm up
    latencies, answered = [], []
    before = cpu_seconds(pid)
    for _ in range(calls):
        start = time.perf_counter()
        answer = rpc.call("torrent-get", {"fields": LIST_FIELDS}, timing=answered)
        latencies.append(time.perf_counter() - start)
        assert answer["result"] == "success"
    cpu = (cpu_seconds(pid) - before) / calls
    median = statistics.median(latencies)
    answer_median = statistics.median(answered)
    print(f"{name:20s} torrent-get of {len(answer['arguments']['torrents'])}: median {median * 1000:8.1f} ms "
          f"(answered in {answer_median * 1000:6.1f} ms, the rest is the client decoding), "
          f"p90 {sorted(latencies)[int(calls * 0.9) - 1] * 1000:8.1f} ms, daemon CPU {cpu * 1000:8.1f} ms per call")
    return median, answer_median, cpu


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("shoal")
    parser.add_argument("--torrents", type=int, default=10000)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--perf", help="also record a `perf` profile of Shoal's daemon during its calls into this file")
    args = parser.parse_args()
    daemon = shutil.which("transmission-daemon")
    if not daemon:
        sys.exit("transmission-daemon is needed (apt-get install transmission-daemon)")
    root = tempfile.mkdtemp(prefix="shoal-rpc-bench-")
    processes = []
    try:
        torrents = make_torrents(args.torrents)
        downloads = os.path.join(root, "downloads")
        os.makedirs(downloads)

        # Shoal: a state directory as a previous run leaves it, every torrent paused.
        state = os.path.join(root, "shoal-state")
        os.makedirs(os.path.join(state, "torrents"))
        entries = []
        for info_hash, data in torrents:
            with open(os.path.join(state, "torrents", info_hash + ".torrent"), "wb") as handle:
                handle.write(data)
            entries.append({"infoHash": info_hash, "downloadDirectory": downloads, "paused": True, "seedWhenDone": True,
                            "filePriorities": [1], "added": 0, "uploaded": 0, "downloaded": 0})
        with open(os.path.join(state, "session.json"), "w") as handle:
            json.dump({"version": 1, "torrents": entries}, handle)
        config = os.path.join(root, "shoal.toml")
        open(config, "w").close()
        shoal_port = free_port()
        shoal = subprocess.Popen([args.shoal, "--headless", "--no-utp", "--rpc", "--rpc-port", str(shoal_port), "--bind", "127.0.0.1",
                                  "--port", "0", "--state-dir", state, "--download-dir", downloads, "--config", config,
                                  "--interval", "3600", "--log-file", ""],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(shoal)

        # transmission-daemon: the same torrents in its config directory, nothing started.
        tr_config = os.path.join(root, "transmission")
        os.makedirs(os.path.join(tr_config, "torrents"))
        for info_hash, data in torrents:
            with open(os.path.join(tr_config, "torrents", info_hash + ".torrent"), "wb") as handle:
                handle.write(data)
        tr_port = free_port()
        settings = {"dht-enabled": False, "lpd-enabled": False, "pex-enabled": False, "utp-enabled": False,
                    "port-forwarding-enabled": False, "peer-port": free_port(), "rpc-port": tr_port,
                    "rpc-bind-address": "127.0.0.1", "rpc-whitelist-enabled": False, "rpc-authentication-required": False,
                    "rpc-host-whitelist-enabled": False, "bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1",
                    "download-dir": downloads, "start-added-torrents": False, "message-level": 0}
        with open(os.path.join(tr_config, "settings.json"), "w") as handle:
            json.dump(settings, handle)
        transmission = subprocess.Popen([daemon, "-f", "-g", tr_config, "--paused"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(transmission)

        shoal_rpc, tr_rpc = RPC(shoal_port), RPC(tr_port)
        start = time.monotonic()
        wait_for_torrents(shoal_rpc, args.torrents, shoal)
        print(f"shoal listed {args.torrents} torrents {time.monotonic() - start:.1f} s after start")
        start = time.monotonic()
        wait_for_torrents(tr_rpc, args.torrents, transmission)
        print(f"transmission listed {args.torrents} torrents {time.monotonic() - start:.1f} s after start")
        # Each measured while the other sits idle: two cores, one daemon busy at a time.
        recorder = None
        if args.perf:
            recorder = subprocess.Popen(["perf", "record", "-g", "-o", os.path.abspath(args.perf), "-p", str(shoal.pid)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            processes.append(recorder)
            time.sleep(1)  # perf attaches before the calls it should see
        shoal_median, shoal_answer, shoal_cpu = measure("shoal", shoal_rpc, shoal.pid, args.calls)
        if recorder:
            recorder.send_signal(signal.SIGINT)
            recorder.wait(timeout=60)
        tr_median, tr_answer, tr_cpu = measure("transmission-daemon", tr_rpc, transmission.pid, args.calls)
        print(f"ratio (transmission / shoal): latency {tr_median / shoal_median:.2f}x with the client's decoding, "
              f"{tr_answer / shoal_answer:.2f}x to the answer's last byte, CPU per call {tr_cpu / max(shoal_cpu, 1e-6):.2f}x "
              f"(goal: 2x or more)")
    finally:
        for process in processes:
            stop(process)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
