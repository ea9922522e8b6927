"""transmission-rpc (PyPI) against a Shoal daemon: every call a test names, every field read.

Usage: rpc_client.py RPC_PORT TORRENT_FILE MOVE_TO
Exits 0 and prints "all checks passed", or raises with what failed.
"""
import os
import sys
import time

from transmission_rpc import Client
from transmission_rpc.session import Session, SessionStats
from transmission_rpc.torrent import Torrent

port, torrent_path, move_to = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def wait(what, condition, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


def read_every_property(value, kind):
    """Reads each property the package models; any that fails is a missing or mistyped field."""
    failures = []
    for name in dir(kind):
        if name.startswith("_") or not isinstance(getattr(kind, name, None), property):
            continue
        try:
            getattr(value, name)
        except Exception as error:  # noqa: BLE001 - the point is to name every failure
            failures.append(f"{kind.__name__}.{name}: {type(error).__name__}: {error}")
    return failures


client = Client(host="127.0.0.1", port=port, timeout=30)
session = client.get_session()
assert session.rpc_version >= 16, session.rpc_version
failures = read_every_property(session, Session)

with open(torrent_path, "rb") as handle:
    added = client.add_torrent(handle, labels=["interop"])
wait("the download", lambda: client.get_torrent(added.id).progress == 100)
torrent = client.get_torrent(added.id)
failures += read_every_property(torrent, Torrent)
for peer_file in torrent.get_files():
    assert peer_file.size > 0 and peer_file.completed == peer_file.size, peer_file
assert torrent.labels == ["interop"], torrent.labels
assert torrent.hashString == added.hashString

listed = client.get_torrents(arguments=["id", "name", "status", "percentDone", "rateDownload", "eta", "trackerStats", "peers"])
assert [t.id for t in listed] == [added.id], listed
failures += read_every_property(client.session_stats(), SessionStats)
assert client.free_space("/") > 0

client.stop_torrent(added.id)
wait("stopped", lambda: client.get_torrent(added.id).status == "stopped")
client.start_torrent(added.id)
wait("started", lambda: client.get_torrent(added.id).status != "stopped")
client.verify_torrent(added.id)
wait("verified", lambda: client.get_torrent(added.id).progress == 100 and client.get_torrent(added.id).status == "seeding")

client.change_torrent(added.id, labels=["a", "b"], seed_ratio_limit=1.5, seed_ratio_mode=1, download_limit=100,
                      download_limited=True, files_unwanted=[2])
changed = client.get_torrent(added.id)
assert changed.labels == ["a", "b"], changed.labels
assert changed.seed_ratio_limit == 1.5 and changed.download_limit == 100 and changed.download_limited
assert [f.selected for f in changed.get_files()] == [True, True, False], changed.get_files()

client.set_session(speed_limit_down=250, speed_limit_down_enabled=True, alt_speed_up=30)
again = client.get_session()
assert again.speed_limit_down == 250 and again.speed_limit_down_enabled and again.alt_speed_up == 30

client.move_torrent_data(added.id, move_to)
name = changed.name
# The move goes on in the background, as in Transmission: the torrent's place changes once done.
wait("moved", lambda: client.get_torrent(added.id).download_dir == move_to)
assert os.path.exists(os.path.join(move_to, name)), os.listdir(move_to)

client.remove_torrent(added.id, delete_data=True)
wait("removed", lambda: client.get_torrents() == [])
assert not os.path.exists(os.path.join(move_to, name))

if failures:
    raise AssertionError("fields that failed:\n" + "\n".join(failures))
print("all checks passed")
