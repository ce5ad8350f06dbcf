"""The live page's HTTP server: GET only, one page and its JSON state, in daemon threads.

Bound beyond localhost it wants the access token: once in the address (`?token=`, which
sets a cookie and redirects to the bare page), then from that cookie or an
`Authorization: Bearer` header; compared in constant time. Requests are not logged (the
address may carry the token)."""

from __future__ import annotations

import hmac
import json
import secrets
import socket
import threading
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from harness.live.address import LiveAddress, LiveAddressError
from harness.live.view import LiveView

COOKIE = "failover_live"
BACKLOG = 128  # a room's browsers connecting at once (5 by default: SYNs dropped, 1 s retries)
# without a token, only a page asked for by these names is served (no DNS rebinding)
LOCAL_NAMES = {"127.0.0.1", "localhost", "[::1]"}
PAGE = resources.files("harness.live").joinpath("page.html").read_bytes()
HEADERS = {  # the page is self-contained: nothing from elsewhere, not framed, not cached
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; "
                               "style-src 'unsafe-inline'; connect-src 'self'; "
                               "frame-ancestors 'none'",
}


class LiveServer:
    """`with LiveServer(view, address) as server: print(server.url)`. Listens (or raises
    LiveAddressError) when made; serves from `start()` until `close()`."""

    def __init__(self, view: LiveView, address: LiveAddress) -> None:
        self.address = address
        self.token = secrets.token_urlsafe(24) if address.needs_token else None
        family = socket.AF_INET6 if address.ipv6 else socket.AF_INET
        server_class = type("_Server", (ThreadingHTTPServer,), {
            "address_family": family, "request_queue_size": BACKLOG})
        try:
            self.httpd = server_class((address.host, address.port), _Handler)
        except OSError as exc:
            raise LiveAddressError(f"--live {address.host}:{address.port}: cannot listen "
                                   f"there: {exc.strerror or exc}") from None
        self.httpd.daemon_threads = True
        self.httpd.view = view  # type: ignore[attr-defined]
        self.httpd.token = self.token  # type: ignore[attr-defined]
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="live-page",
                                        kwargs={"poll_interval": 0.2}, daemon=True)

    @property
    def url(self) -> str:
        """The page's address for a person (a wildcard address shows this host's name),
        without the token."""
        host = self.address.host
        if host in ("0.0.0.0", "::"):
            host = socket.gethostname()
        elif self.address.ipv6:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    @property
    def url_with_token(self) -> str:
        return f"{self.url}?token={self.token}" if self.token else self.url

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread.is_alive():
            self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class _Handler(BaseHTTPRequestHandler):
    server_version = "failover-live"
    sys_version = ""

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        url = urlsplit(self.path)
        token: str | None = self.server.token  # type: ignore[attr-defined]
        given = parse_qs(url.query).get("token", [""])[0]
        if token and given and _same(given, token):
            self._send(HTTPStatus.SEE_OTHER, b"", "text/plain", {
                "Location": url.path or "/",
                "Set-Cookie": f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"})
        elif token and not self._authorised(token):
            self._send(HTTPStatus.UNAUTHORIZED, b"this page needs the access token printed on "
                       b"the operator's terminal (?token=...)\n", "text/plain",
                       {"WWW-Authenticate": "Bearer"})
        elif not token and _host_name(self.headers.get("Host", "")) not in LOCAL_NAMES:
            self._send(HTTPStatus.FORBIDDEN, b"open this page as localhost\n", "text/plain")
        elif url.path == "/":
            self._send(HTTPStatus.OK, PAGE, "text/html; charset=utf-8")
        elif url.path == "/state":
            view: LiveView = self.server.view  # type: ignore[attr-defined]
            body = json.dumps(view.state(), separators=(",", ":")).encode()
            self._send(HTTPStatus.OK, body, "application/json")
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")

    def _authorised(self, token: str) -> bool:
        header = self.headers.get("Authorization", "")
        if header.startswith("Bearer ") and _same(header[7:].strip(), token):
            return True
        try:
            morsel = SimpleCookie(self.headers.get("Cookie", "")).get(COOKIE)
        except CookieError:
            return False
        return morsel is not None and _same(morsel.value, token)

    def _send(self, status: HTTPStatus, body: bytes, kind: str,
              extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {**HEADERS, "Content-Type": kind,
                            "Content-Length": str(len(body)), **(extra or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Not logged: a request line may carry the token."""


def _same(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())


def _host_name(header: str) -> str:
    """A Host header without its port."""
    name, sep, port = header.rpartition(":")
    return name if sep and port.isdigit() else header
