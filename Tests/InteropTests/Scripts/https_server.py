#!/usr/bin/env python3
"""An HTTPS server on 127.0.0.1 for the TLS tests.

Usage: https_server.py CERT KEY DIRECTORY UPSTREAM

Serves the files of DIRECTORY, and passes /announce and /scrape requests (query and all) on to
UPSTREAM, an http:// tracker's base URL on 127.0.0.1, so a tracker is reached over TLS. Prints
"listening PORT" once it accepts connections; runs until killed.
"""
import functools
import http.server
import signal
import ssl
import sys
import urllib.request

# The test stops this with SIGTERM; a mask inherited from the test's thread would hold it back.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
signal.signal(signal.SIGTERM, signal.SIG_DFL)
cert, key, directory, upstream = sys.argv[1:5]


class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/announce") or self.path.startswith("/scrape"):
            try:
                with urllib.request.urlopen(upstream + self.path, timeout=10) as reply:
                    body = reply.read()
                    status = reply.status
            except Exception as error:  # the tracker's own failure, passed on as a 502
                body, status = str(error).encode(), 502
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            super().do_GET()


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=directory))
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
print("listening", server.server_address[1], flush=True)
server.serve_forever()
