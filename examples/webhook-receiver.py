#!/usr/bin/env python3
"""A tiny webhook receiver for the workflows example: answers every POST with 200
{"received": true} and appends one JSON line per POST (path, headers, JSON body) to a file.
A GET answers 200 and is not logged (a readiness probe).
    python3 examples/webhook-receiver.py hook.log [port]      (port 9099 by default)"""
import http.server, json, sys

LOG, PORT = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 9099

class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with open(LOG, "a") as log:
            log.write(json.dumps({"path": self.path, "headers": dict(self.headers.items()), "body": body}) + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"received":true}')

    def do_GET(self):  # a readiness probe; not logged
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Hook).serve_forever()
