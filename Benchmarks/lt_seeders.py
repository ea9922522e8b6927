#!/usr/bin/python3
"""Many libtorrent seeders in one process, one session each (so each is its own peer with its
own port), all on 127.0.0.1. The data is trusted (seed mode, every piece marked verified): no
check of gigabytes, at start-up or on first request.

usage: lt_seeders.py TORRENT SAVE_DIR COUNT [--timeout S]
Prints 'ports P1 P2 ...' once all listen, then runs until SIGTERM or the timeout.
"""
import argparse, signal, time
import libtorrent as lt

p = argparse.ArgumentParser()
p.add_argument("torrent")
p.add_argument("save")
p.add_argument("count", type=int)
p.add_argument("--timeout", type=float, default=600)
a = p.parse_args()

sessions = []
for _ in range(a.count):
    ses = lt.session({
        "listen_interfaces": "127.0.0.1:0", "outgoing_interfaces": "127.0.0.1",
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "enable_outgoing_utp": False, "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True, "alert_mask": 0,
    })
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(a.torrent)
    params.save_path = a.save
    params.flags |= lt.torrent_flags.seed_mode
    # Seed mode alone hashes each piece on its first request, which would load whichever
    # leecher runs first; marked verified, the pieces are served as they are.
    params.verified_pieces = [True] * params.ti.num_pieces()
    params.flags &= ~lt.torrent_flags.auto_managed
    params.flags &= ~lt.torrent_flags.paused
    ses.add_torrent(params)
    sessions.append(ses)

stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)
print("ports " + " ".join(str(s.listen_port()) for s in sessions), flush=True)
deadline = time.time() + a.timeout
while not stop and time.time() < deadline:
    time.sleep(0.2)
