"""Helpers the benchmark scripts share: free ports on 127.0.0.1, waiting on logs, reading a
process's memory from /proc, warming up memory."""
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
