"""Downloads among many idle torrents (many_torrents.py --downloading N): does a session of
100,000 seeds slow the few torrents that are working?

N torrents of MiB each are seeded by one Shoal on loopback. A leecher downloads all N at once
(queueing on: `--queue-downloads N`), twice alone (a fresh state directory) and twice as part
of the many-torrent session (a copy of its state directory, every torrent restored), in turns.
The N torrents are given on the leecher's command line (with `--peer` naming the seeder), and
each figure is their bytes over the time from its ready line to its last `completed:` line:
among the many, that window holds the many torrents finishing their start too (their checks of
resume data, first ticks), as a user restarting a seedbox would see it. Goal: within 10 % of
the rate alone. Files live on tmpfs (/dev/shm) so the disk is nobody's limit.
"""
import os, shutil, subprocess, tempfile, time

from loopback import free_port, stop, wait_text


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


def compare(shoal, many_state, torrents_many, make_torrent, count=50, mib=64, rounds=2):
    swarm = tempfile.mkdtemp(prefix="shoal-busy-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    seeder = None
    try:
        seed_dir = os.path.join(swarm, "seed")
        os.makedirs(seed_dir)
        paths = []
        for n in range(count):
            name = f"busy-{n:02d}.bin"
            data = os.urandom(mib << 20)
            with open(os.path.join(seed_dir, name), "wb") as f:
                f.write(data)
            paths.append(os.path.join(swarm, name + ".torrent"))
            make_torrent(paths[-1], name, data, piece=256 << 10)
            del data
        port = free_port()
        seed_log = os.path.join(swarm, "seed.log")
        with open(seed_log, "w") as out:
            seeder = subprocess.Popen([shoal, "--headless", "--bind", "127.0.0.1", "--port", str(port), "--interval", "1",
                                       "--download-dir", seed_dir, "--state-dir", os.path.join(swarm, "seed-state")] + paths,
                                      stdout=out, stderr=subprocess.STDOUT)
        if not wait_lines(seed_log, "completed: ", count, 600):
            raise SystemExit("the seeder did not check its torrents: " + open(seed_log).read()[-2000:])

        def run(label, state_dir):
            leech_dir = os.path.join(swarm, "leech")
            log = os.path.join(swarm, f"leech-{label}.log")
            with open(log, "w") as out:
                start = time.monotonic()
                # On the command line, so `--peer` names the seeder to them (a watch folder's
                # torrents would need a tracker).
                leecher = subprocess.Popen([shoal, "--headless", "--bind", "127.0.0.1", "--port", "0", "--interval", "1",
                                            "--queue-downloads", str(count), "--download-dir", leech_dir, "--state-dir", state_dir,
                                            "--peer", f"127.0.0.1:{port}"] + paths, stdout=out, stderr=subprocess.STDOUT)
            try:
                if not wait_text(log, "listening on port", 300):
                    raise SystemExit(f"{label}: no ready line: " + open(log).read()[-2000:])
                ready = time.monotonic()
                if not wait_lines(log, "completed: busy-", count, 900):
                    raise SystemExit(f"{label}: not all completed: " + open(log).read()[-2000:])
                done = time.monotonic()
            finally:
                stop(leecher)
            for directory in (leech_dir, state_dir):
                shutil.rmtree(directory, ignore_errors=True)
            rate = count * mib / (done - ready)
            print(f"  {label}: ready after {ready - start:.1f} s; {count} x {mib} MiB complete {done - ready:.1f} s later: {rate:.0f} MiB/s")
            return rate

        alone, among = [], []
        for round_ in range(rounds):
            alone.append(run(f"alone-{round_}", os.path.join(swarm, "state-alone")))
            copy = os.path.join(swarm, "state-many")
            shutil.copytree(many_state, copy)
            among.append(run(f"among-{round_}", copy))
        best_alone, best_among = max(alone), max(among)
        print(f"{count} downloads ({count} x {mib} MiB from one local seeder, --queue-downloads {count}): "
              f"alone {best_alone:.0f} MiB/s, among {torrents_many} idle seeds {best_among:.0f} MiB/s "
              f"({best_among / best_alone:.2f} of alone; goal 0.90 or more; best of {rounds} each)")
    finally:
        if seeder:
            stop(seeder)
        shutil.rmtree(swarm, ignore_errors=True)
