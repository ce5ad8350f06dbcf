"""A read-only live web page of a run for the people in the room: `LiveView` keeps what it
shows (a `RunObserver`), `LiveServer` serves it (localhost, or with an access token)."""

from harness.live.address import LiveAddress, parse_address
from harness.live.server import LiveServer
from harness.live.view import LiveView

__all__ = ["LiveAddress", "LiveServer", "LiveView", "parse_address"]
