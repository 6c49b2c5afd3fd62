"""A web service's receiver for the relay's deliveries, in Python 3.8+ with the standard library only (no pip):
    CALLBACK_HMAC_SECRET=dev-secret PORT=9000 python3 examples/receiver.py
It checks both signatures the relay sends (Standard Webhooks' webhook-signature and the original X-Signature) on the
raw body, refuses a timestamp more than five minutes off (replays), prints each verified payload once per webhook-id,
and answers 204 (2xx tells the relay to stop retrying). Anything it refuses gets 400 and a line on stderr.
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ.get("CALLBACK_HMAC_SECRET") or "dev-secret"
HOST = os.environ.get("HOST") or "127.0.0.1"
PORT = int(os.environ.get("PORT", "9000"))
TOLERANCE_SECONDS = 5 * 60

# The Standard Webhooks key: the base64 payload of a `whsec_...` secret, otherwise the secret's UTF-8 bytes.
KEY = base64.b64decode(SECRET[len("whsec_"):]) if SECRET.startswith("whsec_") else SECRET.encode("utf-8")


def problem_with(headers, body):
    """Why the delivery is refused, or None when both signatures hold."""
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not msg_id or not timestamp or not signatures:
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    try:
        if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
            return "timestamp too old or too new"
    except ValueError:
        return "timestamp is not a number"
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = "v1," + base64.b64encode(hmac.new(KEY, signed, hashlib.sha256).digest()).decode()
    # The header may carry several signatures, separated by spaces; one match is enough.
    if not any(hmac.compare_digest(s, expected) for s in signatures.split(" ")):
        return "webhook-signature does not match"
    x_signature = "sha256=" + hmac.new(SECRET.encode("utf-8"), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(headers.get("x-signature", ""), x_signature):
        return "X-Signature does not match"
    return None


SEEN = set()  # use your database in earnest: the relay delivers at least once


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))  # verify these raw bytes first
        problem = problem_with(self.headers, body)
        if problem:
            print(f"refused POST {self.path}: {problem}", file=sys.stderr, flush=True)
            self.send_response(400)
            self.end_headers()
            return
        msg_id = self.headers["webhook-id"]
        if msg_id in SEEN:
            print(f"duplicate {msg_id}: already stored", flush=True)
        else:
            SEEN.add(msg_id)
            print(f"verified delivery {msg_id}:", flush=True)
            print(json.dumps(json.loads(body), indent=2, ensure_ascii=False), flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):  # one line per delivery above is enough
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer((HOST, PORT), Receiver)
    print(f"receiver listening on http://{HOST}:{server.server_address[1]}", flush=True)
    server.serve_forever()
