"""A small HTTPS file server for the webhook tests: serves FOLDER on
127.0.0.1 (a free port) with CERT and KEY, prints "port N" once it
listens, then one line "GET <path>" per request (query included), and stops
when its standard input closes or after LIFETIME seconds.

Stands in for Amazon SNS's certificate and subscription hosts.

    python3 https_server.py FOLDER CERT KEY LIFETIME
"""

import functools
import http.server
import ssl
import sys
import threading


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        if self.command:
            sys.stdout.write(f"{self.command} {self.path}\n")
            sys.stdout.flush()


def main():
    folder, cert, key, lifetime = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=folder)
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)

    def stop_when_stdin_closes():
        sys.stdin.read()
        server.shutdown()

    threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
    timer = threading.Timer(lifetime, server.shutdown)
    timer.daemon = True
    timer.start()
    sys.stdout.write(f"port {server.server_address[1]}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
