"""A real SMTP server for the email_smtp tests: Debian's aiosmtpd on 127.0.0.1.

    /usr/bin/python3 server.py --folder DIR [--cert FILE --key FILE] [--mode starttls|implicit|plain]
                               [--user NAME --password SECRET] [--port N]

starttls (the default) offers STARTTLS and requires it before AUTH and MAIL; implicit speaks
TLS from the first byte (port 465 style); plain offers no TLS at all (a client that requires it
must refuse to send). With --user, AUTH PLAIN/LOGIN is required. Recipients whose local part
starts with "tempfail" get 451, with "reject" 550; a message with the header "X-Test-Refuse: yes"
gets 554 after DATA. Each accepted message is written as DIR/<time>-NNNN.eml (the bytes received, after
SMTP's dot-unstuffing) with a .json beside it (envelope and whether the session was TLS and
authenticated). Prints "listening on PORT" when ready.
"""
import argparse
import json
import os
import socket
import ssl
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, folder, implicit_tls):
        self.folder = folder
        self.implicit_tls = implicit_tls
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local.startswith("tempfail"):
            return "451 4.3.0 Try again later"
        if local.startswith("reject"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if b"\r\nX-Test-Refuse: yes\r\n" in b"\r\n" + envelope.original_content:
            return "554 5.6.0 Message refused"
        self.count += 1
        # Named by time, so that a restarted server adds to what an earlier one received.
        base = os.path.join(self.folder, f"{time.time_ns()}-{self.count:04d}")
        with open(base + ".json", "w") as meta:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "tls": self.implicit_tls or session.ssl is not None, "authenticated": bool(session.authenticated),
                       "peer_port": session.peer[1]}, meta)
        with open(base + ".tmp", "wb") as out:
            out.write(envelope.original_content)
        os.rename(base + ".tmp", base + ".eml")
        return "250 2.0.0 Accepted"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--folder", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--mode", choices=["starttls", "implicit", "plain"], default="starttls")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    context = None
    if args.mode != "plain":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user
              and auth_data.password.decode() == args.password)
        return AuthResult(success=ok, handled=False)

    parameters = {}
    if args.mode == "starttls":
        parameters.update(tls_context=context, require_starttls=True)
    if args.user:
        # aiosmtpd marks only STARTTLS sessions as encrypted; an implicit-TLS one is from its
        # first byte, so AUTH is not held back there.
        parameters.update(authenticator=authenticator, auth_required=True, auth_require_tls=args.mode == "starttls")
    port = args.port or free_port()
    controller = Controller(Handler(args.folder, args.mode == "implicit"), hostname="127.0.0.1", port=port,
                            ssl_context=context if args.mode == "implicit" else None,
                            server_hostname="localhost", **parameters)
    controller.start()
    print(f"listening on {port}", flush=True)
    try:
        while True:  # the controller serves on a thread of its own; SIGTERM ends the process
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
