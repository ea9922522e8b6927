#!/usr/bin/python3
"""Does LEDBAT behave? Three network namespaces this script makes: the seeder's and the
leecher's, joined through a third that bridges them and holds the bottleneck, a `tbf` rate limit
(20 Mbit/s by default, a modem-like 400 ms of queue) on its way to the leecher. The bottleneck
is a hop away from the senders, as a modem is: a queue on the sender's own host would throttle
TCP by its small-queues limit, not by the path.

A Shoal seeder and a Shoal leecher move a file over uTP alone for a while; then a bulk TCP flow
(a Python sender beside the seeder, CUBIC unless told otherwise, to a Python reader) runs beside
it. Every second it prints the link's rate (tbf's counters), TCP's share (the bytes its reader
got), uTP's (the rest) and the queueing delay (tbf's backlog over the rate); then the issue's
three figures: uTP alone fills >= 85 % of the link; TCP gets >= 80 % within 10 s of starting;
the queueing delay uTP alone causes stays within 2x its 100 ms target.

usage: sudo /usr/bin/python3 Benchmarks/ledbat_bottleneck.py SHOAL_BINARY [--mbit 20] [--alone 20] [--beside 30] [--tcp-cc cubic]
Needs root (ip netns, tc). Addresses 10.231.0.1 and .2 exist only inside the namespaces;
everything it starts and the namespaces themselves are removed at the end.
"""
import argparse, os, re, shutil, signal, subprocess, sys, tempfile, time

from loopback import make_payload, wait_text

p = argparse.ArgumentParser()
p.add_argument("shoal")
p.add_argument("--mbit", type=float, default=20)
p.add_argument("--alone", type=int, default=20, help="seconds of uTP alone")
p.add_argument("--beside", type=int, default=30, help="seconds with the TCP flow beside it")
p.add_argument("--mib", type=int, default=256)
p.add_argument("--tcp-cc", default="cubic", help="the TCP flow's congestion control (cubic, bbr, reno)")
a = p.parse_args()

tag = str(os.getpid())
A, R, B = f"shoal-ledbat-a{tag}", f"shoal-ledbat-r{tag}", f"shoal-ledbat-b{tag}"
# veth ends: A's and its bridge port, B's and its bridge port (the bottleneck's queue).
VA, RA, VB, RB = (f"{name}{tag}"[:15] for name in ("lba", "lra", "lbb", "lrb"))
IP_A, IP_B = "10.231.0.1", "10.231.0.2"
procs = []


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True).stdout


def inside(ns, *cmd, log=None):
    proc = subprocess.Popen(["ip", "netns", "exec", ns, *cmd], stdout=open(log, "w") if log else subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    procs.append(proc)
    return proc


def cleanup():
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    for ns in (A, R, B):
        sh("ip", "netns", "del", ns, check=False)


def tbf_stats():
    """(bytes sent, backlog bytes) of the bottleneck's tbf."""
    out = sh("ip", "netns", "exec", R, "tc", "-s", "qdisc", "show", "dev", RB)
    sent = int(re.search(r"Sent (\d+) bytes", out).group(1))
    backlog = re.search(r"backlog (\d+)([KM]?)b", out)
    scale = {"": 1, "K": 1000, "M": 1000000}[backlog.group(2)] if backlog else 1
    return sent, (int(backlog.group(1)) * scale if backlog else 0)


def main():
    if os.geteuid() != 0:
        sys.exit("needs root: ip netns and tc")
    work = tempfile.mkdtemp(prefix="shoal-ledbat-")
    try:
        for ns in (A, R, B):
            sh("ip", "netns", "add", ns)
        for end, port, ns in ((VA, RA, A), (VB, RB, B)):
            sh("ip", "link", "add", end, "type", "veth", "peer", "name", port)
            sh("ip", "link", "set", end, "netns", ns)
            sh("ip", "link", "set", port, "netns", R)
        for ns, dev, ip in ((A, VA, IP_A), (B, VB, IP_B)):
            sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{ip}/24", "dev", dev)
            sh("ip", "netns", "exec", ns, "ip", "link", "set", dev, "up")
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        sh("ip", "netns", "exec", R, "ip", "link", "add", "br0", "type", "bridge")
        for port in (RA, RB):
            sh("ip", "netns", "exec", R, "ip", "link", "set", port, "master", "br0")
            sh("ip", "netns", "exec", R, "ip", "link", "set", port, "up")
        sh("ip", "netns", "exec", R, "ip", "link", "set", "br0", "up")
        # The bottleneck, on the way to the leecher, with a deep queue as home routers have.
        sh("ip", "netns", "exec", R, "tc", "qdisc", "add", "dev", RB, "root", "tbf", "rate", f"{a.mbit}mbit",
           "burst", "32kbit", "latency", "400ms")
        content, payload, torrent = make_payload(a.shoal, work, a.mib)
        bulk = os.path.join(content, "bulk.bin")
        os.link(payload, bulk)
        seed_log, leech_log = os.path.join(work, "seed.log"), os.path.join(work, "leech.log")
        inside(A, a.shoal, "--headless", "--utp", "--bind", IP_A, "--port", "6881", "--download-dir", content,
               "--state-dir", os.path.join(work, "seed-state"), "--encryption", "disable", torrent, log=seed_log)
        # The TCP flow's sender: one connection, the file as fast as TCP goes, with CUBIC (--tcp-cc),
        # Linux's and Windows' default, a loss-based flow that fills queues and so is yielded to by
        # the delay it causes. (This machine's own default is BBR, which keeps queues short.)
        serve = ("import socket, sys\n"
                 "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                 f"s.bind(('{IP_A}', 8000)); s.listen(1)\n"
                 "c, _ = s.accept()\n"
                 "c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, sys.argv[1].encode())\n"
                 "print(c.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16), flush=True)\n"
                 "f = open(sys.argv[2], 'rb')\n"
                 "try:\n"
                 "    while True: c.sendfile(f); f.seek(0)\n"
                 "except OSError: pass\n")
        inside(A, "/usr/bin/python3", "-c", serve, a.tcp_cc, bulk, log=os.path.join(work, "tcp-server.log"))
        if not wait_text(seed_log, "completed:", 300):
            sys.exit("the seeder did not start: " + open(seed_log).read()[-1000:])
        dest = os.path.join(work, "dest")
        os.makedirs(dest)
        inside(B, a.shoal, "--headless", "--utp", "--bind", IP_B, "--port", "6882", "--download-dir", dest,
               "--state-dir", os.path.join(work, "leech-state"), "--encryption", "disable", "--peer", f"{IP_A}:6881", torrent,
               log=leech_log)
        link = a.mbit * 1e6 / 8
        rows = []
        last_sent, _ = tbf_stats()
        last_have = 0
        last_got = 0
        tcp_log = os.path.join(work, "tcp.log")
        for second in range(a.alone + a.beside):
            if second == a.alone:
                # A bulk TCP download that says how much it has every tenth of a second.
                fetch = ("import socket, sys, time\n"
                         f"r = socket.create_connection(('{IP_A}', 8000), timeout=30)\n"
                         "n, t, end = 0, time.time(), time.time() + float(sys.argv[1])\n"
                         "while time.time() < end:\n"
                         "    b = r.recv(65536)\n"
                         "    if not b: break\n"
                         "    n += len(b)\n"
                         "    if time.time() - t > 0.1: print(n, flush=True); t = time.time()\n")
                tcp_log = os.path.join(work, "tcp.log")
                inside(B, "/usr/bin/python3", "-c", fetch, str(a.beside + 2), log=tcp_log)
            time.sleep(1)
            sent, backlog = tbf_stats()
            # The leecher's bytes so far, from its progress line ("payload.bin  downloading  42.7%  ...").
            have = last_have
            lines = [line for line in open(leech_log, errors="replace").read().splitlines() if "downloading" in line]
            if lines:
                m = re.search(r"([\d.]+)%", lines[-1])
                if m:
                    have = float(m.group(1)) / 100 * a.mib * (1 << 20)
            got = last_got
            if second >= a.alone and os.path.exists(tcp_log):
                counts = [line for line in open(tcp_log).read().split() if line.isdigit()]
                got = int(counts[-1]) if counts else last_got
            total = (sent - last_sent) / link
            tcp = (got - last_got) / link
            # uTP is the rest of the link's bytes (its progress line is too coarse for a second).
            rows.append((second, total, max(0.0, total - tcp), tcp, backlog / link * 1000))
            last_sent, last_have, last_got = sent, have, got
        print(f"{a.mbit:g} Mbit/s tbf bottleneck a hop from both ends (three namespaces); uTP alone {a.alone} s, "
              f"then a TCP ({a.tcp_cc}) download beside it {a.beside} s")
        print(f"{'s':>3} {'link':>6} {'uTP':>6} {'TCP':>6} {'queue ms':>9}")
        for second, total, utp, tcp, queue in rows:
            print(f"{second:3d} {total * 100:5.0f}% {utp * 100:5.0f}% {tcp * 100:5.0f}% {queue:9.0f}")
        alone = rows[:a.alone]
        beside = rows[a.alone:]
        fill = sum(row[2] for row in alone[3:]) / max(1, len(alone) - 3)
        reached = next((row[0] - a.alone + 1 for row in beside if row[3] >= 0.8), None)
        last = beside[-10:]
        print(f"uTP alone fills {fill * 100:.0f} % of the link after its first 3 s (goal >= 85 %)")
        print(f"TCP first had >= 80 % of the link in second {reached} after it started (goal <= 10)"
              if reached else "TCP never had 80 % of the link (goal: within 10 s)")
        print(f"TCP's share over the last {len(last)} s: {sum(row[3] for row in last) / max(1, len(last)) * 100:.0f} %")
        print(f"queueing delay with uTP alone: {max(row[4] for row in alone):.0f} ms at worst, "
              f"{alone[-1][4]:.0f} ms at the end (goal <= 200 ms; target 100 ms)")
    finally:
        cleanup()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
