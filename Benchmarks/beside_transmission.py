"""Start time and resident memory with N seeding torrents: Shoal's daemon beside
transmission-daemon (Debian's), the same torrents and data, in the same run.

Each daemon is loaded once (every torrent checked and seeding, state saved), stopped, and then
started again alone: the figure is the time from starting the process until its RPC lists all N
torrents as seeding, and its resident memory 5 s later. Used by many_torrents.py (phase 1b).
"""
import json, os, shutil, subprocess, time

from loopback import TransmissionRPC, free_port, status_kib, stop

SEEDING = 6  # Transmission's status code, which Shoal's RPC uses too


class RPC(TransmissionRPC):
    def seeding(self):
        """How many torrents it lists, and how many of them seed; (-1, 0) while it cannot answer."""
        try:
            torrents = self.call("torrent-get", {"fields": ["status"]})["arguments"]["torrents"]
        except (OSError, ValueError, KeyError, RuntimeError):
            return -1, 0
        return len(torrents), sum(1 for t in torrents if t.get("status") == SEEDING)


def wait_seeding(rpc, count, process, seconds, marks=None, every=0.25):
    """Seconds until every torrent seeds, or None when the time ran out or the process died;
    `marks["listed"]` gets the seconds until the RPC first listed them all. Asked every `every`
    seconds: a `torrent-get` of 10,000 torrents is tens of milliseconds of the daemon's one
    event loop, and asked ten times a second it slowed transmission-daemon's first load to a
    crawl (not finished after 12 minutes)."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if process.poll() is not None:
            return None
        listed, seeding = rpc.seeding()
        if listed == count and marks is not None and "listed" not in marks:
            marks["listed"] = time.monotonic() - start
        if listed == count and seeding == count:
            return time.monotonic() - start
        time.sleep(every)
    return None


def started_again(command, rpc, count, settle=5):
    """Starts the daemon, times it to all seeding, reads its memory; stops it."""
    start = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    marks = {}
    try:
        took = wait_seeding(rpc, count, process, 600, marks)
        elapsed = time.monotonic() - start
        time.sleep(settle)
        rss = status_kib(process.pid, "VmRSS") / 1024 if process.poll() is None else 0
        return (elapsed if took is not None else None), marks.get("listed"), rss
    finally:
        stop(process)


def compare(shoal, work, data_dir, paths):
    count = len(paths)
    daemon = shutil.which("transmission-daemon")
    if not daemon:
        print("beside transmission-daemon: skipped (apt-get install transmission-daemon)")
        return
    # Shoal: load every torrent once (checked, seeding, saved), then start again.
    state = os.path.join(work, "beside-shoal")
    port = free_port()
    shoal_command = [shoal, "--headless", "--no-utp", "--bind", "127.0.0.1", "--port", "0", "--download-dir", data_dir, "--state-dir", state,
                     "--rpc", "--rpc-port", str(port), "--interval", "3600", "--log-file", ""]
    first = subprocess.Popen(shoal_command + paths, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    loaded = wait_seeding(RPC(port), count, first, 900, every=2)
    stop(first)
    if loaded is None:
        print("beside transmission-daemon: Shoal did not load the torrents")
        return
    shoal_time, shoal_listed, shoal_rss = started_again(shoal_command, RPC(port), count)

    # transmission-daemon: the same .torrent files in its config directory; the first run checks
    # the data (asked to through the RPC) and saves resume files.
    config = os.path.join(work, "beside-transmission")
    os.makedirs(os.path.join(config, "torrents"))
    for path in paths:
        shutil.copy(path, os.path.join(config, "torrents"))
    tr_port = free_port()
    settings = {"dht-enabled": False, "lpd-enabled": False, "pex-enabled": False, "utp-enabled": False,
                "port-forwarding-enabled": False, "peer-port": free_port(), "rpc-port": tr_port,
                "rpc-bind-address": "127.0.0.1", "rpc-whitelist-enabled": False, "rpc-authentication-required": False,
                "rpc-host-whitelist-enabled": False, "bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1",
                "download-dir": data_dir, "message-level": 0, "queue-stalled-enabled": False,
                "download-queue-enabled": False, "seed-queue-enabled": False}
    with open(os.path.join(config, "settings.json"), "w") as handle:
        json.dump(settings, handle)
    tr_command = [daemon, "-f", "-g", config]
    rpc = RPC(tr_port)
    first = subprocess.Popen(tr_command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while rpc.seeding()[0] != count and time.monotonic() < deadline and first.poll() is None:
            time.sleep(2)
        rpc.call("torrent-verify", {})
        rpc.call("torrent-start", {})
        loaded = wait_seeding(rpc, count, first, 1800, every=5)
    finally:
        stop(first)
    if loaded is None:
        print(f"beside transmission-daemon: it did not load and check the torrents (listed/seeding: {rpc.seeding()})")
        return
    tr_time, tr_listed, tr_rss = started_again(tr_command, rpc, count)

    def shown(seconds):
        return f"{seconds:.2f} s" if seconds is not None else "not within 600 s"
    print(f"beside transmission-daemon, {count} seeding torrents, started again: time until the RPC lists them all "
          f"(any state), until all seed, and resident memory 5 s later:")
    print(f"  shoal {shown(shoal_listed)}, {shown(shoal_time)}, {shoal_rss:.0f} MiB; "
          f"transmission-daemon {shown(tr_listed)}, {shown(tr_time)}, {tr_rss:.0f} MiB")
    if shoal_time and tr_time and shoal_listed and tr_listed and shoal_rss:
        print(f"  ratio (transmission / shoal): listed {tr_listed / shoal_listed:.2f}x, seeding {tr_time / shoal_time:.2f}x, "
              f"memory {tr_rss / shoal_rss:.2f}x (goal: Shoal ahead on start and memory)")
