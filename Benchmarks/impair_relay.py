#!/usr/bin/env python3
"""A relay on 127.0.0.1 that makes a path worse, for uTP tests and benchmarks (the kernel here
has no netem): datagrams (and TCP streams) sent to LISTEN_PORT go to TARGET_PORT and back, each
direction delayed, jittered, lost, reordered, duplicated and rate-limited as asked.

usage: impair_relay.py LISTEN_PORT TARGET_PORT [--delay-ms 25] [--jitter-ms 0] [--loss 0.0]
       [--reorder 0.0] [--duplicate 0.0] [--rate-kib 0] [--queue-ms 500] [--seed 1] [--timeout 600]
Delays are one way, per direction. UDP: each client address gets its own socket towards the
target, so the target's replies find their way back. TCP: bytes are relayed in chunks, delayed
and rate-limited (a relay that ends the connection cannot lose TCP segments). Prints
"relaying LISTEN_PORT" once ready, then its counts each second while they change and on exit
(SIGTERM). Only 127.0.0.1 is used.
"""
import argparse, asyncio, random, signal, sys, time

p = argparse.ArgumentParser()
p.add_argument("listen", type=int)
p.add_argument("target", type=int)
p.add_argument("--delay-ms", type=float, default=25)
p.add_argument("--jitter-ms", type=float, default=0)
p.add_argument("--loss", type=float, default=0)
p.add_argument("--reorder", type=float, default=0)
p.add_argument("--duplicate", type=float, default=0)
p.add_argument("--rate-kib", type=float, default=0, help="per direction, 0: no limit")
p.add_argument("--queue-ms", type=float, default=500, help="drop-tail queue of the rate limit, as time to drain")
p.add_argument("--seed", type=int, default=1)
p.add_argument("--timeout", type=float, default=600)
a = p.parse_args()
rng = random.Random(a.seed)
HOST = "127.0.0.1"
counts = {"forwarded": 0, "lost": 0, "duplicated": 0, "reordered": 0, "queue_dropped": 0, "tcp_chunks": 0}


class Direction:
    """One way's impairments: when a packet of `size` bytes arrives at the far end (None: lost)."""
    def __init__(self):
        self.free_at = 0.0

    def schedule(self, size, lossy=True):
        """Datagrams (lossy) count as forwarded; TCP chunks apart, as tcp_chunks."""
        now = time.monotonic()
        if lossy and rng.random() < a.loss:
            counts["lost"] += 1
            return []
        leaves = now
        if a.rate_kib > 0:
            start = max(now, self.free_at)
            if (start - now) * 1000 > a.queue_ms:
                counts["queue_dropped"] += 1
                return []
            leaves = start + (size + 28) / (a.rate_kib * 1024)
            self.free_at = leaves
        delay = leaves - now + a.delay_ms / 1000 + rng.random() * a.jitter_ms / 1000
        if lossy and rng.random() < a.reorder:
            counts["reordered"] += 1
            delay += a.delay_ms / 2000 + 0.001
        delays = [delay]
        if lossy and rng.random() < a.duplicate:
            counts["duplicated"] += 1
            delays.append(delay + 0.0005)
        counts["forwarded" if lossy else "tcp_chunks"] += 1
        return delays


class Upstream(asyncio.DatagramProtocol):
    """The socket one client's datagrams leave from towards the target; replies go back."""
    def __init__(self, relay, client):
        self.relay, self.client, self.transport = relay, client, None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        for delay in self.relay.back.schedule(len(data)):
            loop.call_later(delay, self.relay.transport.sendto, data, self.client)


class Relay(asyncio.DatagramProtocol):
    def __init__(self):
        self.transport, self.upstreams, self.there, self.back = None, {}, Direction(), Direction()

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        upstream = self.upstreams.get(addr)
        if upstream is None:
            upstream = Upstream(self, addr)
            self.upstreams[addr] = upstream
            loop.create_task(loop.create_datagram_endpoint(lambda: upstream, local_addr=(HOST, 0)))
        for delay in self.there.schedule(len(data)):
            loop.call_later(delay, self.send_up, upstream, data)

    def send_up(self, upstream, data):
        if upstream.transport is not None:
            upstream.transport.sendto(data, (HOST, a.target))


async def pump(reader, writer, direction):
    """TCP one way: chunks delayed and paced like datagrams of their size, in order, pipelined
    (a chunk read while the one before waits out its delay)."""
    # Bounded: at most 64 chunks (4 MiB) in flight, then the sender waits, as a window would.
    queue = asyncio.Queue(maxsize=64)

    async def deliver():
        try:
            while True:
                arrive, data = await queue.get()
                if data is None:
                    break
                await asyncio.sleep(max(0, arrive - time.monotonic()))
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    delivering = asyncio.get_running_loop().create_task(deliver())
    last = 0.0
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            # A stream is neither lost nor reordered here: delayed and paced, in order.
            arrive = max(time.monotonic() + (direction.schedule(len(data), lossy=False) or [0])[0], last)
            last = arrive
            await queue.put((arrive, data))
    except (ConnectionError, OSError):
        pass
    await queue.put((0, None))
    await delivering


async def tcp_client(reader, writer):
    try:
        up_reader, up_writer = await asyncio.open_connection(HOST, a.target)
    except OSError:
        writer.close()
        return
    there, back = Direction(), Direction()
    await asyncio.gather(pump(reader, up_writer, there), pump(up_reader, writer, back))


async def main():
    global loop
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    await loop.create_datagram_endpoint(Relay, local_addr=(HOST, a.listen))
    server = await asyncio.start_server(tcp_client, HOST, a.listen)
    print(f"relaying {a.listen}", flush=True)

    async def report():
        last = None
        while True:
            await asyncio.sleep(1)
            if counts != last:
                print("counts " + " ".join(f"{k}={v}" for k, v in counts.items()), flush=True)
                last = dict(counts)
    reporter = loop.create_task(report())
    try:
        await asyncio.wait_for(stop, a.timeout)
    except asyncio.TimeoutError:
        pass
    reporter.cancel()
    server.close()
    print("counts " + " ".join(f"{k}={v}" for k, v in counts.items()), flush=True)


asyncio.run(main())
