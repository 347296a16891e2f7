"""A minimal Packline webhook receiver (Python standard library only).

    WEBHOOK_SECRET=s3cret python webhook_receiver.py 8000

It checks the signature and its age, de-duplicates by event id, hands each new event to a
background thread and answers 204 at once. For real use, keep the seen ids in your database
(a unique constraint on the event id, written in the same transaction as the work) rather
than in memory, and put the receiver behind HTTPS.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import queue
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 300
MAX_BODY_BYTES = 1_000_000


def signature_is_valid(secret: str, body: bytes, header: str, now: float | None = None) -> bool:
    """`header` is `t=<unix seconds>,v1=<hex>[,v1=<hex>...]`; any matching v1 will do."""
    fields = [item.strip().partition("=") for item in header.split(",")]
    stamps = [value for key, _, value in fields if key == "t"]
    signatures = [value for key, _, value in fields if key == "v1"]
    if len(stamps) != 1 or not re.fullmatch(r"[0-9]{1,12}", stamps[0]):
        return False
    if abs((time.time() if now is None else now) - int(stamps[0])) > TOLERANCE_SECONDS:
        return False  # too old (or from the future): a replay, or a badly wrong clock
    signed = stamps[0].encode() + b"." + body  # the raw bytes, never re-serialized JSON
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest().encode()
    return any(hmac.compare_digest(expected, given.encode()) for given in signatures)


class Receiver(ThreadingHTTPServer):
    def __init__(self, address: tuple[str, int], secret: str) -> None:
        super().__init__(address, Handler)
        self.secret = secret
        self.seen: set[str] = set()
        self.lock = threading.Lock()
        self.inbox: queue.Queue[dict] = queue.Queue()


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        length = self.headers.get("Content-Length", "")
        if not length.isdigit() or not 0 < int(length) <= MAX_BODY_BYTES:
            return self.answer(400)
        body = self.rfile.read(int(length))
        header = self.headers.get("Packline-Signature", "")
        if not signature_is_valid(self.server.secret, body, header):
            return self.answer(400)
        event = json.loads(body)
        with self.server.lock:
            is_new = event["id"] not in self.server.seen
            self.server.seen.add(event["id"])
        if is_new:
            self.server.inbox.put(event)  # do the slow work elsewhere; answer now
        self.answer(204)  # a duplicate is acknowledged too, so Packline stops retrying

    def answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


def process_forever(server: Receiver) -> None:
    while True:
        event = server.inbox.get()
        print(event["occurred_at"], event["type"], event["id"], flush=True)


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    receiver = Receiver(("127.0.0.1", port), os.environ["WEBHOOK_SECRET"])
    threading.Thread(target=process_forever, args=(receiver,), daemon=True).start()
    receiver.serve_forever()
