#!/usr/bin/python3
"""A libtorrent peer for Shoal's interop tests and benchmarks, confined to 127.0.0.1.

usage: lt_peer.py seed|leech TORRENT|MAGNET SAVE_DIR LISTEN_PORT [--peer HOST:PORT ...] [--timeout S] [--up-kib N]
                 [--encryption default|plaintext|rc4|forced] [--bind HOST] [--report-v2-hashes] [--utp-only]
Prints 'listening PORT' once ready, progress lines, and 'complete' when done; with
--report-v2-hashes, then 'v2 hashes N': the hashes of v2 trees it holds (its resume data's), which
a magnet's download got only from its peers' answers to hash requests (BEP 52).
seed: runs until killed (SIGTERM) or the timeout. leech: exits 0 when complete, 1 on timeout.
"""
import argparse, signal, sys, time
import libtorrent as lt

p = argparse.ArgumentParser()
p.add_argument("mode", choices=["seed", "leech"])
p.add_argument("torrent")
p.add_argument("save")
p.add_argument("port", type=int)
p.add_argument("--peer", action="append", default=[])
p.add_argument("--timeout", type=float, default=120)
p.add_argument("--up-kib", type=int, default=0)
# default: libtorrent's own policy (tries MSE first, accepts both, lets the other side choose);
# plaintext: MSE off; rc4: MSE with RC4 only, plaintext still accepted; forced: MSE with RC4 only,
# both ways (a plaintext peer is refused).
p.add_argument("--encryption", choices=["default", "plaintext", "rc4", "forced"], default="default")
p.add_argument("--plaintext", action="store_const", const="plaintext", dest="encryption")
p.add_argument("--bind", default="127.0.0.1")
p.add_argument("--report-v2-hashes", action="store_true")
# uTP only (BEP 29): TCP off both ways, so every connection is uTP.
p.add_argument("--utp-only", action="store_true")
a = p.parse_args()
bind = f"[{a.bind}]" if ":" in a.bind else a.bind

settings = {
    "listen_interfaces": f"{bind}:{a.port}",
    "outgoing_interfaces": a.bind,
    "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
    "allow_multiple_connections_per_ip": True, "connections_limit": 1000,
    "enable_outgoing_utp": False, "enable_incoming_utp": False,
    "upload_rate_limit": a.up_kib * 1024,
    "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.status_notification
                  | lt.alert.category_t.storage_notification,
    "user_agent": "libtorrent-interop",
}
if a.utp_only:
    settings.update({"enable_outgoing_tcp": False, "enable_incoming_tcp": False,
                     "enable_outgoing_utp": True, "enable_incoming_utp": True})
if a.encryption == "plaintext":
    settings["out_enc_policy"] = settings["in_enc_policy"] = 2  # pe_disabled
elif a.encryption in ("rc4", "forced"):
    settings["allowed_enc_level"] = 2  # pe_rc4
    settings["prefer_rc4"] = True
    if a.encryption == "forced":
        settings["out_enc_policy"] = settings["in_enc_policy"] = 0  # pe_forced
if a.up_kib:
    # Loopback peers count as local; make the cap apply to them as well.
    settings["ignore_limits_on_local_network"] = False
ses = lt.session(settings)
if a.torrent.startswith("magnet:"):
    # Metadata comes from the peers (BEP 9).
    params = lt.parse_magnet_uri(a.torrent)
else:
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(a.torrent)
params.save_path = a.save
params.flags &= ~lt.torrent_flags.auto_managed
params.flags &= ~lt.torrent_flags.paused
h = ses.add_torrent(params)
h.resume()
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)
print(f"listening {ses.listen_port()}", flush=True)
deadline = time.time() + a.timeout
last_connect = 0
done_printed = False
while not stop and time.time() < deadline:
    s = h.status()
    if a.peer and time.time() - last_connect > 2 and s.num_peers == 0:
        for peer in a.peer:
            host, port = peer.rsplit(":", 1)
            h.connect_peer((host.strip("[]"), int(port)))
        last_connect = time.time()
    if s.is_seeding and not done_printed:
        print("complete", flush=True)
        done_printed = True
        if a.report_v2_hashes:
            h.save_resume_data(lt.save_resume_flags_t.save_info_dict)
            until = time.time() + 10
            while time.time() < until:
                saved = [x for x in ses.pop_alerts() if isinstance(x, lt.save_resume_data_alert)]
                if saved:
                    trees = lt.write_resume_data(saved[0].params).get(b"trees", [])
                    print("v2 hashes %d" % sum(len(t.get(b"hashes", b"")) // 32 for t in trees), flush=True)
                    break
                time.sleep(0.05)
        if a.mode == "leech":
            sys.exit(0)
    for alert in ses.pop_alerts():
        if alert.category() & lt.alert.category_t.error_notification:
            print(f"alert: {alert.message()}", flush=True)
    time.sleep(0.1)
sys.exit(0 if a.mode == "seed" or done_printed else 1)
