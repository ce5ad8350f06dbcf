"""The live page without a lab: its state from the engine's hooks (pure logic), its address
option, its server (GET only, localhost by default, a token anywhere else), and the engine's
ticks while it waits on something else than the probes."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator

import pytest

from harness.engine import FlowNow
from harness.engine.cycle import Cycler
from harness.faults import Stamp
from harness.faults.guard import Restoration
from harness.faults.link_cut import LinkCut
from harness.live import LiveAddress, LiveServer, LiveView, parse_address
from harness.live.address import LiveAddressError
from harness.live.server import COOKIE
from harness.probes.session import Live
from harness.runbook.results import RunbookResult

CUT = LinkCut(link="core1:eth2")


def _stamp(wall_ns: int) -> Stamp:
    return Stamp("ip link set down", 0, 0, wall_ns, wall_ns + 1000)


def test_the_view_follows_the_hooks() -> None:
    view = LiveView()
    view.run_started("rolling", "lab")
    view.steps_planned(["drain: inject drain", "reload: operator: reload core1"])
    view.step_started(1)
    view.mark("core1 reload started", 123)
    view.fault_injected(CUT, [_stamp(1_000)])
    view.phase("hold", "holding the fault")
    view.tick("hold", 4.2, {"a->b": FlowNow(100, 0.0), "b->a": FlowNow(90, 300.0)})
    s = view.state()
    assert (s["scenario"], s["network"], s["phase"], s["detail"]) == \
        ("rolling", "lab", "hold", "holding the fault")
    assert s["seconds_left"] == pytest.approx(4.2)
    assert s["steps"] == ["drain: inject drain", "reload: operator: reload core1"]
    assert s["current_step"] == 1
    assert s["marks"] == [{"name": "core1 reload started", "wall_ns": 123}]
    assert s["faults"] == [{"what": CUT.describe(), "injected_ns": 1_000, "restored_ns": 0}]
    a, b = s["flows"]
    assert (a["name"], a["outage_ms"], a["received"], a["outages"]) == ("a->b", 0.0, 100, 0)
    assert (b["name"], b["outage_ms"], b["received"], b["outages"]) == ("b->a", 300.0, 90, 1)
    assert b["red_since_ns"] == pytest.approx(s["updated_ns"] - 300e6, abs=1)
    json.dumps(s)  # the page's JSON as is


def test_an_outage_is_counted_once_and_its_length_kept_after_it_ends() -> None:
    view = LiveView()
    for ms in (0.0, 120.0, 480.0, 900.0, 0.0, 0.0, 200.0):
        view.tick("hold", 1.0, {"x": FlowNow(10, ms)})
        if ms == 900.0:
            during = view.state()["flows"][0]
    assert during["outages"] == 1 and during["outage_ms"] == 900.0
    row = view.state()["flows"][0]
    assert row["outages"] == 2 and row["outage_ms"] == 200.0 and row["last_outage_ms"] == 200.0
    view.tick("failback", 1.0, {"x": FlowNow(20, 0.0)})
    row = view.state()["flows"][0]
    assert (row["outage_ms"], row["red_since_ns"], row["last_outage_ms"]) == (0.0, 0, 200.0)


def test_restores_and_the_end_are_shown() -> None:
    view = LiveView()
    view.fault_injected(CUT, [_stamp(1_000)])
    view.faults_restored(Restoration([_stamp(5_000)], [CUT.describe()]))
    assert view.state()["faults"][0]["restored_ns"] == 5_000
    view.steps_planned(["a", "b"])
    view.step_started(0)
    view.run_finished(RunbookResult(scenario="s", topology="t", network="lab",
                                    incomplete="interrupted (Ctrl-C)"), None)
    s = view.state()
    assert s["phase"] == "finished" and s["current_step"] == 0
    assert "INCOMPLETE: interrupted (Ctrl-C)" in s["finished"]


@pytest.mark.parametrize(("value", "host", "port", "token"), [
    ("8080", "127.0.0.1", 8080, False),
    ("0", "127.0.0.1", 0, False),
    ("localhost:9000", "127.0.0.1", 9000, False),
    ("127.0.0.1:80", "127.0.0.1", 80, False),
    ("[::1]:80", "::1", 80, False),
    ("127.0.0.2:8080", "127.0.0.2", 8080, True),
    ("0.0.0.0:8080", "0.0.0.0", 8080, True),
    ("198.18.0.1:8080", "198.18.0.1", 8080, True),
    ("[::]:8080", "::", 8080, True),
])
def test_an_address_needs_a_token_unless_it_is_this_host(value: str, host: str, port: int,
                                                         token: bool) -> None:
    address = parse_address(value)
    assert (address.host, address.port, address.needs_token) == (host, port, token)


@pytest.mark.parametrize(("value", "why"), [
    ("", "is not a port"), ("http", "is not a port"), ("65536", "is not a port"),
    ("-1", "is not a port"), ("host.example:80", "not an IP address"),
    (":80", "no address"), ("::1:80", "in brackets"), ("1.2.3.4:", "is not a port"),
])
def test_a_bad_address_is_one_line_naming_the_option(value: str, why: str) -> None:
    with pytest.raises(LiveAddressError, match=why) as err:
        parse_address(value)
    assert str(err.value).startswith(f"--live {value!r}: ") and "\n" not in str(err.value)


def _get(server: LiveServer, path: str, headers: dict[str, str] | None = None,
         method: str = "GET") -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection(server.address.host, server.port, timeout=5)
    conn.request(method, path, headers=headers or {})
    return conn.getresponse()


@pytest.fixture
def local() -> Iterator[LiveServer]:
    view = LiveView()
    view.run_started("s1", "lab")
    with LiveServer(view, parse_address("0")) as server:
        yield server


def test_localhost_serves_the_page_and_its_state_without_a_token(local: LiveServer) -> None:
    assert local.token is None and local.url == f"http://127.0.0.1:{local.port}/"
    page = _get(local, "/")
    body = page.read().decode()
    assert page.status == 200 and page.getheader("Content-Type").startswith("text/html")
    assert "<script>" in body and "src=" not in body and "href=" not in body  # self-contained
    assert "default-src 'none'" in page.getheader("Content-Security-Policy")
    state = _get(local, "/state")
    assert state.status == 200 and json.loads(state.read())["scenario"] == "s1"
    assert _get(local, "/nothing").status == 404


def test_the_page_is_read_only(local: LiveServer) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert _get(local, "/state", method=method).status >= 400


def test_without_a_token_only_a_page_asked_for_as_localhost_is_served(local: LiveServer) -> None:
    assert _get(local, "/state", {"Host": f"localhost:{local.port}"}).status == 200
    assert _get(local, "/state", {"Host": f"evil.example:{local.port}"}).status == 403


def test_beyond_localhost_a_token_is_needed(capfd: pytest.CaptureFixture[str]) -> None:
    """Bound to 127.0.0.2 (an explicit address, still loopback): refused without the token,
    served with it (address once, then its cookie or a header), and never logged."""
    with LiveServer(LiveView(), parse_address("127.0.0.2:0")) as server:
        token = server.token
        assert token and len(token) >= 32 and server.url_with_token.endswith(f"?token={token}")
        refused = _get(server, "/")
        assert refused.status == 401 and refused.getheader("WWW-Authenticate") == "Bearer"
        assert _get(server, "/state").status == 401
        assert _get(server, "/state?token=wrong").status == 401
        assert _get(server, "/state", {"Cookie": f"{COOKIE}=wrong"}).status == 401
        assert _get(server, "/state", {"Authorization": "Bearer " + token[:-1]}).status == 401
        first = _get(server, f"/?token={token}")
        assert first.status == 303 and first.getheader("Location") == "/"
        cookie = first.getheader("Set-Cookie")
        assert cookie.startswith(f"{COOKIE}={token};") and "HttpOnly" in cookie
        assert _get(server, "/", {"Cookie": cookie.split(";")[0]}).status == 200
        state = _get(server, "/state", {"Cookie": cookie.split(";")[0]})
        assert state.status == 200 and "flows" in json.loads(state.read())
        assert _get(server, "/state", {"Authorization": f"Bearer {token}"}).status == 200
    out, err = capfd.readouterr()
    assert token not in out + err


def test_a_port_in_use_is_refused_in_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(LiveAddressError, match=f"127.0.0.1:{port}: cannot listen there"):
            LiveServer(LiveView(), LiveAddress("127.0.0.1", port))


class FakeProbes:
    """A fake probe session (pure logic): one direction that stops delivering at `stop_ns`."""

    def __init__(self, stop_after_s: float) -> None:
        self.stop_ns = time.time_ns() + int(stop_after_s * 1e9)
        self.polls = 0
        self.directions = ["a->b"]

    def poll(self) -> dict[str, Live]:
        self.polls += 1
        last = min(time.time_ns(), self.stop_ns)
        return {"a->b": Live(received=self.polls, last_recv_ns=last, max_seq=self.polls,
                             clean_since_ns=last - 10**10)}


class Ticks(LiveView):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, float]] = []

    def tick(self, phase: str, seconds_left: float, flows: dict[str, FlowNow]) -> None:
        self.seen.append((phase, flows["a->b"].outage_ms))
        super().tick(phase, seconds_left, flows)


def _cycler(view: Ticks) -> Cycler:
    cycler = Cycler([], None, None, view)  # type: ignore[arg-type]
    cycler.periods_ms = {"a->b": 10.0}
    return cycler


def test_the_engine_ticks_while_it_blocks_on_something_else() -> None:
    """A convergence wait, an inject, a restore: the observers still see the probes."""
    view = Ticks()
    probes = FakeProbes(stop_after_s=0.2)
    with _cycler(view).ticking(probes, "failback", 5.0):  # type: ignore[arg-type]
        time.sleep(0.8)
    assert 5 <= len(view.seen) <= 9 and {p for p, _ in view.seen} == {"failback"}
    assert view.seen[0][1] == 0.0 and view.seen[-1][1] > 400  # the outage is seen growing
    assert view.state()["flows"][0]["outages"] == 1
    count = len(view.seen)
    time.sleep(0.3)
    assert len(view.seen) == count  # no tick after the block


def test_the_baseline_wait_ticks() -> None:
    view = Ticks()
    _cycler(view).baseline(FakeProbes(stop_after_s=60), 0.0)  # type: ignore[arg-type]
    _cycler(view).tail(FakeProbes(stop_after_s=60), time.time_ns())  # type: ignore[arg-type]
    phases = [p for p, _ in view.seen]
    assert phases[0] == "baseline" and set(phases[1:]) == {"failback"}  # tail: ~0.3 s
