#!/usr/bin/env python3
"""A web seed for tests: Python's http.server on 127.0.0.1, with byte ranges (RFC 7233, one
range per request) unless --no-ranges, and faults on demand: --corrupt FILE:OFFSET flips the
bytes of every answer that covers that offset of FILE (relative to --root), --rate caps each
answer's speed; --tls CERT KEY serves https. Prints "port N" once listening; logs each request
to stderr."""
import argparse, http.server, os, re, ssl, sys, time

parser = argparse.ArgumentParser()
parser.add_argument("--root", required=True)
parser.add_argument("--no-ranges", action="store_true")
parser.add_argument("--corrupt", action="append", default=[])
parser.add_argument("--rate", type=int, default=0, help="bytes per second per answer (0: no cap)")
parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
args = parser.parse_args()
corrupt = [(os.path.normpath(path), int(offset)) for path, offset in (item.rsplit(":", 1) for item in args.corrupt)]


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **kw):
        super().__init__(*a, directory=args.root, **kw)

    def log_message(self, format, *a):
        sys.stderr.write("%s %s\n" % (self.headers.get("Range", "-"), format % a))
        sys.stderr.flush()

    def do_GET(self):
        if args.no_ranges:
            return super().do_GET()
        path = self.translate_path(self.path)
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if not os.path.isfile(path) or not match:
            return super().do_GET()
        size = os.path.getsize(path)
        first = int(match.group(1))
        last = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
        if first > last:
            self.send_response(416)
            self.send_header("Content-Range", "bytes */%d" % size)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(path, "rb") as f:
            f.seek(first)
            data = bytearray(f.read(last - first + 1))
        relative = os.path.normpath(os.path.relpath(path, args.root))
        for name, offset in corrupt:
            if name == relative and first <= offset <= last:
                for i in range(offset - first, min(len(data), offset - first + 64)):
                    data[i] ^= 0xFF
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", "bytes %d-%d/%d" % (first, last, size))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not args.rate:
            self.wfile.write(data)
            return
        chunk = 16384
        for start in range(0, len(data), chunk):
            time.sleep(chunk / args.rate)
            self.wfile.write(data[start:start + chunk])


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
if args.tls:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*args.tls)
    server.socket = context.wrap_socket(server.socket, server_side=True)
print("port %d" % server.server_address[1], flush=True)
server.serve_forever()
