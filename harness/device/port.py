"""Opening a device's link: a board's serial port or an emulator's loopback socket, by pyserial URL."""

from __future__ import annotations

import serial

from harness.errors import HilError


def open_port(url: str, baud: int | None, timeout: float) -> serial.SerialBase:
    """Open a link; `baud` None for a socket. A real port is locked so that two runs never share
    a board; URLs (socket://) need no lock."""
    options = {} if "://" in url else {"exclusive": True}
    if baud is not None:
        options["baudrate"] = baud
    # pyserial's RFC 2217 client has no write timeout (it raises NotImplementedError for one).
    options["write_timeout"] = None if url.startswith("rfc2217://") else timeout
    try:
        return serial.serial_for_url(url, timeout=timeout, **options)
    except serial.SerialException as exc:
        raise HilError(
            f"cannot open the link {url}: {exc}. Check that the port exists, that no other program "
            "(a terminal, another test run) holds it, and that you may open it (dialout group)"
        ) from None
