"""The host <-> device link: framing (COBS, CRC-32) and the request/response protocol."""

from harness.device.link.framing import FrameError, Packet
from harness.device.link.protocol import (
    PROTOCOL_VERSION,
    DeviceError,
    DeviceFault,
    DeviceInfo,
    ErrorCode,
    LinkClient,
    LinkError,
    LinkStats,
    LinkTimeout,
    ProtocolMismatch,
    TensorInfo,
    TimingResult,
)

__all__ = [
    "PROTOCOL_VERSION",
    "DeviceError",
    "DeviceFault",
    "DeviceInfo",
    "ErrorCode",
    "FrameError",
    "LinkClient",
    "LinkError",
    "LinkStats",
    "LinkTimeout",
    "Packet",
    "ProtocolMismatch",
    "TensorInfo",
    "TimingResult",
]
