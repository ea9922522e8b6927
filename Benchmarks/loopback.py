"""Helpers the benchmark scripts share: free ports on 127.0.0.1, waiting on logs, reading a
process's memory from /proc."""
import os, socket, time


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
