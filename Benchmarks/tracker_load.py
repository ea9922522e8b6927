#!/usr/bin/python3
"""Tracker load on loopback: wrk sends HTTP announces from 10,000 simulated peers spread over
100 torrents, first to `shoal tracker`, then to Debian's opentracker under the same load.
Prints requests per second, p99 latency and the tracker's resident memory for each, and the
ratio. Bounded: each run lasts --seconds; everything listens on 127.0.0.1 only.

usage: /usr/bin/python3 Benchmarks/tracker_load.py SHOAL_BINARY [--seconds 15] [--connections 64] [--threads 1]
needs: wrk, opentracker (Debian packages)
"""
import argparse, os, re, shutil, subprocess, sys, tempfile, time

from loopback import free_port, status_kib

PEERS, TORRENTS = 10_000, 100

# The wrk script: every request is one simulated peer announcing one of the torrents, with
# its own peer id and port; a fifth of the peers are seeders.
LUA = r"""
local peers, torrents = %d, %d
HEADERS = {}
if os.getenv("TRACKER_LOAD_CLOSE") == "1" then HEADERS["Connection"] = "close" end
local function hash(t)
  local h = ""
  for i = 1, 20 do
    local b = (t * 37 + i * 11) %% 256
    h = h .. string.format("%%%%%%02X", b)
  end
  return h
end
local hashes = {}
for t = 0, torrents - 1 do hashes[t] = hash(t) end
math.randomseed(7)
request = function()
  local p = math.random(0, peers - 1)
  local t = p %% torrents
  local left = (p %% 5 == 0) and 0 or 1000000
  local path = "/announce?info_hash=" .. hashes[t] ..
    "&peer_id=-BM0001-" .. string.format("%%012d", p) ..
    "&port=" .. (10000 + p) .. "&uploaded=0&downloaded=0&left=" .. left .. "&compact=1&numwant=50"
  return wrk.format("GET", path, HEADERS)
end
""" % (PEERS, TORRENTS)


def info_hash(t):
    return bytes(((t * 37 + i * 11) % 256) for i in range(1, 21))


def wait_listening(port, timeout=30):
    import socket
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def run_wrk(port, seconds, connections, threads, script, close=False):
    env = dict(os.environ, TRACKER_LOAD_CLOSE="1" if close else "0")
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency",
                          "-s", script, f"http://127.0.0.1:{port}/announce"],
                         capture_output=True, text=True, timeout=seconds + 60, env=env).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    return rps, float(p99.group(1)) * scale, out, errors.group(0) if errors else ""


def measure(name, command, port, args, script, cwd=None):
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    try:
        if not wait_listening(port):
            sys.exit(f"{name} did not start")
        # Warm up: every simulated peer announces once, so both trackers hold the whole swarm.
        run_wrk(port, 3, args.connections, args.threads, script)
        results = {}
        for close in (False, True):
            rps, p99, out, errors = run_wrk(port, args.seconds, args.connections, args.threads, script, close)
            results["new connection each" if close else "keep-alive asked"] = (rps, p99, status_kib(process.pid, "VmHWM"), errors)
        return results
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("shoal")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    for tool in ("wrk", "opentracker"):
        if not shutil.which(tool):
            sys.exit(f"needs {tool}: apt-get install -y wrk opentracker")
    work = tempfile.mkdtemp(prefix="shoal-tracker-load-")
    os.chmod(work, 0o755)
    try:
        script = os.path.join(work, "announce.lua")
        with open(script, "w") as f:
            f.write(LUA)
        with open(os.path.join(work, "whitelist"), "w") as f:
            f.write("".join(info_hash(t).hex() + "\n" for t in range(TORRENTS)))
        os.chmod(os.path.join(work, "whitelist"), 0o644)

        results = {}
        port = free_port()
        results["shoal tracker"] = measure("shoal tracker", [args.shoal, "tracker", "--bind", "127.0.0.1", "--http-port", str(port),
                                                             "--udp-port", "-1", "--whitelist", os.path.join(work, "whitelist")],
                                           port, args, script)
        port = free_port()
        # opentracker will not run as root: it drops to nobody inside the work directory.
        results["opentracker"] = measure("opentracker", ["opentracker", "-i", "127.0.0.1", "-p", str(port), "-P", str(port),
                                                         "-d", work, "-u", "nobody", "-w", "whitelist"], port, args, script)
        print(f"{PEERS} peers over {TORRENTS} torrents, wrk -t{args.threads} -c{args.connections} -d{args.seconds}s, HTTP announce")
        print("(opentracker closes every connection after its answer, so it makes new connections in both rows)")
        print(f"{'tracker':<15} {'connections':<20} {'req/s':>10} {'p99 ms':>8} {'max RSS MiB':>12}  errors")
        for name, rows in results.items():
            for mode, (rps, p99, rss, errors) in rows.items():
                print(f"{name:<15} {mode:<20} {rps:>10.0f} {p99:>8.2f} {rss / 1024:>12.1f}  {errors or '-'}")
        for mode in results["shoal tracker"]:
            shoal, other = results["shoal tracker"][mode], results["opentracker"][mode]
            print(f"{mode}: shoal / opentracker {shoal[0] / other[0]:.2f}x requests per second, "
                  f"p99 {shoal[1] / max(other[1], 1e-9):.2f}x, memory {shoal[2] / max(other[2], 1):.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
