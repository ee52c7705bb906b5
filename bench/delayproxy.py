"""A loopback TCP proxy that adds a fixed one-way delay without limiting bandwidth.

Every chunk read from one side is stamped with the time it may leave and put on a queue;
a second thread per direction sends chunks to the other side when their time has come.
The reader never waits for the writer, so the link keeps its full bandwidth and only its
latency grows: with ``one_way_delay = d`` the round trip grows by ``2 * d``.

Run it as a process of its own, so its CPU time is not charged to the client under test::

    python3 -m bench.delayproxy --target 127.0.0.1:4450 --rtt-ms 10

It prints ``LISTENING <port>`` on one line once it accepts connections, and runs until
it is terminated (SIGTERM / SIGINT) or until ``--time-limit`` seconds have passed.
"""
from __future__ import annotations

import argparse
import collections
import signal
import socket
import sys
import threading
import time
from typing import Deque, List, Optional, Tuple

__all__ = ["DelayProxy", "main"]

_CHUNK = 256 * 1024


class _Direction:
    """One direction of one connection: a reader that stamps chunks, a writer that releases them."""

    def __init__(self, src: socket.socket, dst: socket.socket, delay: float,
                 on_done: "threading.Event") -> None:
        self.src = src
        self.dst = dst
        self.delay = delay
        self.on_done = on_done
        self.queue: Deque[Tuple[float, Optional[bytes]]] = collections.deque()
        self.ready = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.writer = threading.Thread(target=self._write, daemon=True)

    def start(self) -> None:
        self.reader.start()
        self.writer.start()

    def _push(self, item: Optional[bytes]) -> None:
        with self.ready:
            self.queue.append((time.monotonic() + self.delay, item))
            self.ready.notify()

    def _read(self) -> None:
        try:
            while True:
                data = self.src.recv(_CHUNK)
                if not data:
                    break
                self._push(data)
        except OSError:
            pass
        self._push(None)  # end of stream, delayed like the data before it

    def _write(self) -> None:
        try:
            while True:
                with self.ready:
                    while not self.queue:
                        self.ready.wait()
                    due, data = self.queue.popleft()
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                if data is None:
                    try:
                        self.dst.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    break
                self.dst.sendall(data)
        except OSError:
            pass
        self.on_done.set()


class DelayProxy:
    """Accept on ``listen_host:listen_port`` (0 picks a free port) and forward to ``target``.

    :param one_way_delay: seconds added to every byte in each direction
    """

    def __init__(self, target: Tuple[str, int], one_way_delay: float,
                 listen_host: str = "127.0.0.1", listen_port: int = 0) -> None:
        if one_way_delay < 0:
            raise ValueError("delay must not be negative")
        self.target = target
        self.delay = one_way_delay
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind((listen_host, listen_port))
        self.server.listen(64)
        self.port = int(self.server.getsockname()[1])
        self._closed = threading.Event()
        self._sockets: List[socket.socket] = []
        self._lock = threading.Lock()

    def serve_forever(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self.server.accept()
            except OSError:
                break
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=10)
            upstream.settimeout(None)
        except OSError:
            client.close()
            return
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._sockets += [client, upstream]
        done_up = threading.Event()
        done_down = threading.Event()
        up = _Direction(client, upstream, self.delay, done_up)
        down = _Direction(upstream, client, self.delay, done_down)
        up.start()
        down.start()
        done_up.wait()
        done_down.wait()
        for sock in (client, upstream):
            sock.close()
        with self._lock:
            self._sockets = [s for s in self._sockets if s not in (client, upstream)]

    def close(self) -> None:
        self._closed.set()
        try:
            self.server.close()
        except OSError:
            pass
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.close()
                except OSError:
                    pass


def _parse_target(text: str) -> Tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT, got %r" % text)
    return host, int(port)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=_parse_target, required=True, help="HOST:PORT to forward to")
    parser.add_argument("--rtt-ms", type=float, required=True,
                        help="round-trip time to add, in ms (half of it in each direction)")
    parser.add_argument("--listen", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    parser.add_argument("--time-limit", type=float, default=6 * 3600.0,
                        help="stop after this many seconds")
    args = parser.parse_args(argv)
    proxy = DelayProxy(args.target, args.rtt_ms / 2000.0, args.listen, args.port)

    def stop(*_: object) -> None:
        proxy.close()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    timer = threading.Timer(args.time_limit, proxy.close)
    timer.daemon = True
    timer.start()
    print("LISTENING %d" % proxy.port, flush=True)
    proxy.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
