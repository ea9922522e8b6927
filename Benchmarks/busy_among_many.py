"""Downloads among many idle torrents (many_torrents.py --downloading N): does a session of
100,000 seeds slow the few torrents that are working?

N torrents of MiB each are seeded by one Shoal on loopback, found through a `shoal tracker` on
loopback. A leecher downloads all N at once (queueing on: `--queue-downloads N`), alone (a
fresh state directory) and as part of the many-torrent session (a copy of its state directory,
every torrent restored), in turns, two ways:

- end to end: the N given on the command line (with `--peer` naming the seeder); the figure is
  their bytes over the time from the ready line to the last `completed:` line. Among the many,
  that window holds the many torrents' start too (restored seeds start 2,000 a second), as a
  user restarting a seedbox would see it;
- steady state: the session started with `--rpc` and nothing on its command line, left until
  its summary line shows nothing queued or checking, then the N added through the RPC; the
  figure is their bytes over the time from the first add to the last `completed:` line.

Goal: within 10 % of the rate alone. Files live on tmpfs (/dev/shm) so the disk is nobody's limit.
"""
import base64, os, re, shutil, subprocess, tempfile, time

from loopback import TransmissionRPC, free_port, stop, wait_text


def count_lines(path, prefix):
    try:
        with open(path, errors="replace") as f:
            return sum(1 for line in f if line.startswith(prefix))
    except FileNotFoundError:
        return 0


def wait_lines(path, prefix, count, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if count_lines(path, prefix) >= count:
            return True
        time.sleep(0.05)
    return False


SUMMARY = re.compile(r"^\d+ torrents: ")


def wait_settled(path, timeout):
    """Seconds until the last summary line names nothing queued or checking; None on timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        with open(path, errors="replace") as f:
            summaries = [line for line in f if SUMMARY.match(line)]
        if summaries and "queued" not in summaries[-1] and "checking" not in summaries[-1]:
            return time.monotonic() - start
        time.sleep(0.5)
    return None


def compare(shoal, many_state, torrents_many, make_torrent, count=50, mib=64, rounds=2):
    swarm = tempfile.mkdtemp(prefix="shoal-busy-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    seeder = tracker = None
    try:
        tracker_port = free_port()
        tracker = subprocess.Popen([shoal, "tracker", "--bind", "127.0.0.1", "--http-port", str(tracker_port), "--udp-port", "-1",
                                    "--interval", "60"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        announce = f"http://127.0.0.1:{tracker_port}/announce"
        seed_dir = os.path.join(swarm, "seed")
        os.makedirs(seed_dir)
        paths = []
        for n in range(count):
            name = f"busy-{n:02d}.bin"
            data = os.urandom(mib << 20)
            with open(os.path.join(seed_dir, name), "wb") as f:
                f.write(data)
            paths.append(os.path.join(swarm, name + ".torrent"))
            make_torrent(paths[-1], name, data, piece=256 << 10, announce=announce)
            del data
        port = free_port()
        seed_log = os.path.join(swarm, "seed.log")
        with open(seed_log, "w") as out:
            seeder = subprocess.Popen([shoal, "--headless", "--no-utp", "--bind", "127.0.0.1", "--port", str(port), "--interval", "1",
                                       "--download-dir", seed_dir, "--state-dir", os.path.join(swarm, "seed-state")] + paths,
                                      stdout=out, stderr=subprocess.STDOUT)
        if not wait_lines(seed_log, "completed: ", count, 600):
            raise SystemExit("the seeder did not check its torrents: " + open(seed_log).read()[-2000:])

        def run(label, state_dir, steady):
            # The last run's 3 GiB and the state copy just made are written back first, so
            # neither run downloads while the kernel flushes the other's files.
            os.sync()
            leech_dir = os.path.join(swarm, "leech")
            log = os.path.join(swarm, f"leech-{label}.log")
            rpc_port = free_port()
            command = [shoal, "--headless", "--no-utp", "--bind", "127.0.0.1", "--port", "0", "--interval", "1",
                       "--queue-downloads", str(count), "--download-dir", leech_dir, "--state-dir", state_dir]
            # End to end: on the command line, `--peer` naming the seeder. Steady: added later
            # through the RPC, found through the tracker.
            command += ["--rpc", "--rpc-port", str(rpc_port)] if steady else ["--peer", f"127.0.0.1:{port}"] + paths
            with open(log, "w") as out:
                start = time.monotonic()
                leecher = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
            settled = None
            try:
                if not wait_text(log, "listening on port", 300):
                    raise SystemExit(f"{label}: no ready line: " + open(log).read()[-2000:])
                ready = time.monotonic()
                begin = ready
                if steady:
                    if state_dir.endswith("many"):
                        settled = wait_settled(log, 600)
                        if settled is None:
                            raise SystemExit(f"{label}: never settled: " + open(log).read()[-2000:])
                    rpc = TransmissionRPC(rpc_port)
                    begin = time.monotonic()
                    for path in paths:
                        with open(path, "rb") as f:
                            answer = rpc.call("torrent-add", {"metainfo": base64.b64encode(f.read()).decode()})
                        if answer.get("result") != "success":
                            raise SystemExit(f"{label}: torrent-add: {answer}")
                if not wait_lines(log, "completed: busy-", count, 900):
                    raise SystemExit(f"{label}: not all completed: " + open(log).read()[-2000:])
                done = time.monotonic()
            finally:
                stop(leecher)
            for directory in (leech_dir, state_dir):
                shutil.rmtree(directory, ignore_errors=True)
            rate = count * mib / (done - begin)
            waited = f", settled {settled:.0f} s after it, then added" if settled is not None else ""
            print(f"  {label}: ready after {ready - start:.1f} s{waited}; {count} x {mib} MiB complete {done - begin:.1f} s later: "
                  f"{rate:.0f} MiB/s", flush=True)
            return rate

        figures = {}
        for round_ in range(rounds):
            for steady in (False, True):
                mode = "steady" if steady else "end-to-end"
                figures.setdefault((mode, "alone"), []).append(run(f"{mode}-alone-{round_}", os.path.join(swarm, "state-alone"), steady))
                copy = os.path.join(swarm, "state-many")
                shutil.copytree(many_state, copy)
                figures.setdefault((mode, "among"), []).append(run(f"{mode}-among-{round_}", copy, steady))
        for mode, how in (("end-to-end", "from the ready line of a restart"), ("steady", "added after the start settled")):
            alone, among = max(figures[(mode, "alone")]), max(figures[(mode, "among")])
            print(f"{count} downloads, {mode} ({count} x {mib} MiB from one local seeder, --queue-downloads {count}, {how}): "
                  f"alone {alone:.0f} MiB/s, among {torrents_many} idle seeds {among:.0f} MiB/s "
                  f"({among / alone:.2f} of alone; goal 0.90 or more; best of {rounds} each)")
    finally:
        for process in (seeder, tracker):
            if process:
                stop(process)
        shutil.rmtree(swarm, ignore_errors=True)
