#!/usr/bin/env python3
"""A real SMTP server on 127.0.0.1 for bulletin's tests, built on aiosmtpd,
that can be told to misbehave for chosen recipients.

    smtp_server.py --dir DIR [--faults FAULTS.json] [--lifetime SECONDS]

Prints "PORT <n>" once listening. Every accepted message is written to
DIR/<n>.eml (the bytes received) with its envelope twice: DIR/<n>.json and
DIR/<n>.envelope, one "key value" per line (mail_from, rcpt_to per
recipient, mail_time when MAIL FROM arrived, time when the message was
accepted; times in seconds since the epoch). The .eml appears last, by
rename, so once it exists its envelope files are complete. Faults, by
recipient address (lower case):

    {"tempfail": {"a@example.org": 1},     first N RCPTs answered 451
     "reject": {"b@example.org": "550 5.1.1 <b@example.org>: no such user"},
     "drop_data": {"c@example.org": 1},    first N DATAs: connection closed, no reply
     "reject_sender": "553 5.7.1 sender not allowed",   every MAIL FROM refused
     "auth": {"username": "u", "password": "p"},        AUTH required, else 530/535
     "slow_data": 0.2,                     seconds to wait before answering DATA
     "slow_reply": {"d@example.org": 1.5}, seconds to wait after storing the
                                           message to d, before answering 250
     "hold": {"after": 2,                  after storing a message beyond the
              "recipients": ["e@example.org"],   2nd, or one to e, hold its 250
              "release": PATH,             until the file PATH exists (a test
              "limit": 60},                makes it to release them all), for
                                           60 seconds at most; "after" may be
                                           null (only the recipients are held)
     "session_limit": 3,                   a session that has had 3 messages is
                                           closed, unanswered, at its next MAIL FROM
     "rate": {"per_second": 14,            a relay's sending rate: a MAIL FROM
              "reply": "454 Throttling failure: Maximum sending rate exceeded."},
                                           beyond 14 admitted in the last second
                                           gets the reply (Amazon SES's wording)
     "quota": {"messages": 200,            a daily quota: MAIL FROMs after the
               "reply": "454 Throttling failure: Daily message quota exceeded."},
                                           200th admitted get the reply
     "max_connections": {"count": 2,       connections beyond 2 open at once are
               "reply": "421 4.3.2 Too many concurrent connections"},
                                           answered with the reply at the greeting
                                           and closed
     "smtputf8": false,                    SMTPUTF8 left out of the EHLO reply
     "tls": {"mode": "implicit" or "starttls",   TLS from the first byte, or
             "cert": PEM, "key": PEM}}     STARTTLS required (and AUTH only after
                                           it), with this certificate and key

It listens on every address `localhost` has (127.0.0.1, and ::1 where that
name has it), so a client connecting by that name finds it whichever address
it tries first; on 127.0.0.1 alone where one of them cannot be bound.

Each message's envelope also names its session (the client's port), so a
test can tell which messages shared a connection. Every AUTH attempt is
logged on standard error, saying whether it came over TLS.

Exits by itself after --lifetime seconds (default 300), or when its
standard input closes, so a crashed test never leaves it behind.
"""
import argparse
import asyncio
import collections
import json
import os
import socket
import ssl
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class LimitedSMTP(SMTP):
    """An SMTP session that refuses, at the greeting, connections beyond
    `limit["count"]` open at once (the limit shared by every session)."""

    open_sessions = 0
    limit = None

    def connection_made(self, transport):
        first = self.transport is None
        super().connection_made(transport)
        if first:
            LimitedSMTP.open_sessions += 1
            self.counted = True

    def connection_lost(self, error):
        if getattr(self, "counted", False):
            LimitedSMTP.open_sessions -= 1
            self.counted = False
        super().connection_lost(error)

    async def _handle_client(self):
        limit = LimitedSMTP.limit
        if limit and LimitedSMTP.open_sessions > limit["count"]:
            print("REFUSED CONNECTION %s" % limit["reply"], file=sys.stderr, flush=True)
            await self.push(limit["reply"])
            self.transport.close()
            return
        await super()._handle_client()


class LimitedController(Controller):
    def factory(self):
        return LimitedSMTP(self.handler, **self.SMTP_kwargs)


class Handler:
    def __init__(self, directory, faults):
        self.directory = directory
        self.faults = faults
        self.lock = threading.Lock()
        self.count = 0
        self.seen = {}
        # MAIL FROMs admitted: their times in the last second, and in all.
        self.recent = collections.deque()
        self.admitted = 0

    def _bump(self, kind, address):
        with self.lock:
            key = (kind, address)
            self.seen[key] = self.seen.get(key, 0) + 1
            return self.seen[key]

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        limit = self.faults.get("session_limit")
        if limit and getattr(session, "messages", 0) >= limit:
            server.transport.close()
            return "421 4.7.0 closing: too many messages in this session"
        refusal = self.faults.get("reject_sender")
        if refusal:
            return refusal
        refusal = self._admit()
        if refusal:
            print("REFUSED %s" % refusal, file=sys.stderr, flush=True)
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        envelope.mail_time = time.time()
        return "250 OK"

    def _admit(self):
        """Counts a MAIL FROM against the rate and the quota; the refusal
        when either is used up, else None."""
        rate = self.faults.get("rate")
        quota = self.faults.get("quota")
        with self.lock:
            if quota and self.admitted >= quota["messages"]:
                return quota["reply"]
            if rate:
                now = time.monotonic()
                while self.recent and now - self.recent[0] >= 1.0:
                    self.recent.popleft()
                if len(self.recent) >= rate["per_second"]:
                    return rate["reply"]
                self.recent.append(now)
            self.admitted += 1
        return None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        key = address.lower()
        refusal = self.faults.get("reject", {}).get(key)
        if refusal:
            return refusal
        tempfails = self.faults.get("tempfail", {}).get(key, 0)
        if tempfails and self._bump("rcpt", key) <= tempfails:
            return "451 4.3.0 Temporary failure, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            drops = self.faults.get("drop_data", {}).get(rcpt.lower(), 0)
            if drops and self._bump("data", rcpt.lower()) <= drops:
                server.transport.close()
                return "421 4.4.2 connection dropped"
        delay = self.faults.get("slow_data", 0)
        if delay:
            await asyncio.sleep(delay)
        with self.lock:
            self.count += 1
            n = self.count
        session.messages = getattr(session, "messages", 0) + 1
        client_port = session.peer[1] if session.peer else 0
        base = os.path.join(self.directory, "%06d" % n)
        now = time.time()
        mail_time = getattr(envelope, "mail_time", now)
        with open(base + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "mail_time": mail_time, "time": now, "session": client_port}, f)
        with open(base + ".envelope", "w", encoding="utf-8") as f:
            f.write("mail_from %s\n" % envelope.mail_from)
            for rcpt in envelope.rcpt_tos:
                f.write("rcpt_to %s\n" % rcpt)
            f.write("mail_time %.6f\ntime %.6f\n" % (mail_time, now))
            f.write("session %d\n" % client_port)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".eml.tmp", base + ".eml")
        slow = self.faults.get("slow_reply", {})
        delay = max([slow.get(rcpt.lower(), 0) for rcpt in envelope.rcpt_tos] or [0])
        if delay:
            await asyncio.sleep(delay)
        await self._hold(n, envelope.rcpt_tos)
        return "250 2.0.0 Ok: queued as Q%06d" % n

    async def _hold(self, n, rcpt_tos):
        """Waits, when the "hold" fault says the n-th message (to rcpt_tos)
        is held, until its release file exists or its limit has passed."""
        hold = self.faults.get("hold")
        if not hold:
            return
        after = hold.get("after")
        listed = {r.lower() for r in hold.get("recipients", [])}
        if not ((after is not None and n > after) or any(r.lower() in listed for r in rcpt_tos)):
            return
        print("HELD message %d" % n, file=sys.stderr, flush=True)
        deadline = time.monotonic() + hold.get("limit", 60)
        while not os.path.exists(hold["release"]) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)


def tls_arguments(tls):
    """The Controller arguments for TLS as `tls` says (see the module's doc)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls["cert"], tls["key"])
    if tls["mode"] == "implicit":
        return {"ssl_context": context}
    return {"tls_context": context, "require_starttls": True, "auth_require_tls": True}


def listen_host():
    """"localhost" when every address that name has is a loopback address
    this machine can bind, 127.0.0.1 among them; else "127.0.0.1"."""
    try:
        infos = socket.getaddrinfo("localhost", 0, type=socket.SOCK_STREAM)
    except OSError:
        return "127.0.0.1"
    addresses = {info[4][0] for info in infos}
    if "127.0.0.1" not in addresses or not addresses <= {"127.0.0.1", "::1"}:
        return "127.0.0.1"
    for family, _, _, _, address in infos:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(address)
            except OSError:
                return "127.0.0.1"
    return "localhost"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--faults")
    parser.add_argument("--lifetime", type=float, default=300)
    args = parser.parse_args()
    faults = {}
    if args.faults:
        with open(args.faults) as f:
            faults = json.load(f)
    os.makedirs(args.dir, exist_ok=True)
    handler = Handler(args.dir, faults)
    LimitedSMTP.limit = faults.get("max_connections")

    kwargs = {}
    auth = faults.get("auth")
    if auth:
        def authenticator(server, session, envelope, mechanism, auth_data):
            over = "over TLS" if server.transport.get_extra_info("ssl_object") else "in plain text"
            print("AUTH attempt (%s) %s" % (mechanism, over), file=sys.stderr, flush=True)
            ok = (isinstance(auth_data, LoginPassword)
                  and auth_data.login.decode() == auth["username"]
                  and auth_data.password.decode() == auth["password"])
            # handled=False: aiosmtpd answers 535 itself when ok is False.
            return AuthResult(success=ok, handled=False)
        kwargs = dict(authenticator=authenticator, auth_required=True, auth_require_tls=False)

    tls = faults.get("tls")
    if tls:
        kwargs.update(tls_arguments(tls))

    # A port free on 127.0.0.1 may be taken on ::1: then try another.
    host = listen_host()
    for attempt in range(5):
        controller = LimitedController(handler, hostname=host, port=free_port(), enable_SMTPUTF8=faults.get("smtputf8", True),
                                decode_data=False, **kwargs)
        try:
            controller.start()
            break
        except OSError:
            controller.stop()
            if attempt == 4:
                raise
    print("PORT %d" % controller.port, flush=True)

    stop = threading.Event()

    def watch_stdin():
        try:
            sys.stdin.read()
        finally:
            stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    stop.wait(args.lifetime)
    controller.stop()


if __name__ == "__main__":
    main()
