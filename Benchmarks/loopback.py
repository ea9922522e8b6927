"""Helpers the benchmark scripts share: free ports on 127.0.0.1, waiting on logs, reading a
process's memory and CPU time from /proc, a payload and its torrent, warming up memory, a
Transmission RPC client."""
import json, os, signal, socket, subprocess, time, urllib.error, urllib.request

# Where the scripts keep their files unless told otherwise (see warm_up and the README).
TMPFS = "/dev/shm" if os.path.isdir("/dev/shm") else None
TICKS = os.sysconf("SC_CLK_TCK")


def stop(process, timeout=120):
    """Ends a process the script started: SIGTERM, then SIGKILL if it has not gone in `timeout` s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port():
    """A TCP port on 127.0.0.1 nobody listens on (the kernel's pick)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_text(path, text, timeout):
    """True once the file at `path` contains `text`, False after `timeout` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path) and text in open(path, errors="replace").read():
            return True
        time.sleep(0.05)
    return False


def status_kib(pid, field):
    """A field of /proc/PID/status in KiB (VmRSS, VmHWM), 0 if absent."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def warm_up(directory, mib):
    """Writes and deletes a file of `mib` MiB in `directory`. In a virtual machine the first touch
    of fresh memory is slow (~2 s/GiB here); without this, whichever client runs first pays for
    it and the next runs on memory the first gave back."""
    scratch = os.path.join(directory, "warm-up")
    with open(scratch, "wb") as f:
        block = bytes(16 << 20)
        for _ in range(max(1, mib // 16)):
            f.write(block)
    os.remove(scratch)


def cpu_seconds(pid):
    """User + system CPU seconds the process has used so far; `pid` may also be a stat file's
    path (a thread's, /proc/P/task/T/stat)."""
    path = pid if isinstance(pid, str) else f"/proc/{pid}/stat"
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def make_payload(shoal, work, mib):
    """A file of `mib` MiB of random bytes in WORK/content and its torrent (1 MiB pieces, made by
    `shoal create`); returns (content directory, file path, torrent path)."""
    content = os.path.join(work, "content")
    os.makedirs(content)
    path = os.path.join(content, "payload.bin")
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(1 << 20))
    torrent = os.path.join(work, "payload.torrent")
    subprocess.run([shoal, "create", path, "--piece-size", str(1 << 20), "-o", torrent], check=True,
                   stdout=subprocess.DEVNULL)
    return content, path, torrent


class TransmissionRPC:
    """Transmission's RPC (Shoal's and transmission-daemon's), session id handshake included."""

    def __init__(self, port, timeout=120):
        self.url = f"http://127.0.0.1:{port}/transmission/rpc"
        self.session_id = ""
        self.timeout = timeout

    def call(self, method, arguments, timing=None):
        """The parsed answer; with `timing` (a list), appends the seconds until its last byte
        came, before the client's own JSON decoding."""
        body = json.dumps({"method": method, "arguments": arguments}).encode()
        for _ in range(2):
            request = urllib.request.Request(self.url, data=body, headers={"X-Transmission-Session-Id": self.session_id})
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    raw = response.read()
                    if timing is not None:
                        timing.append(time.perf_counter() - start)
                    return json.loads(raw)
            except urllib.error.HTTPError as error:
                if error.code != 409:
                    raise
                self.session_id = error.headers["X-Transmission-Session-Id"]
        raise RuntimeError("session id refused")
