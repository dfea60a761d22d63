"""Is the device running the image the harness built? The handshake's answers against the image."""

from __future__ import annotations

from harness.build.firmware import FirmwareImage
from harness.device.link.protocol import DeviceInfo, ProtocolMismatch


def identity_problems(info: DeviceInfo, image: FirmwareImage) -> list[str]:
    """Every way the device differs from the image the harness built for it.

    The protocol version is checked earlier, when the INFO frame is parsed."""
    graph, target = image.model.graph, image.target
    expected = {
        "model SHA-256": (graph.sha256, info.model_sha256),
        "target": (target.id, info.target),
        # A board on another clock would turn its cycles into wrong milliseconds.
        "counter unit": (target.timer_unit, info.counter_unit_name),
        "counter rate (Hz)": (target.counter_hz, info.counter_hz),
        "build id": (image.build_id, info.build_id),
        "arena size": (image.model.plan.arena_size, info.arena_size),
        # A fast path that silently turned off (a flag, a compiler) would make every figure a wrong one.
        "CPU features built for": (tuple(sorted(target.cpu_features)), info.cpu_feature_names),
        "input shape": (tuple(graph.tensor(graph.inputs[0]).shape), tuple(info.input.shape)),
        "output shape": (tuple(graph.tensor(graph.outputs[0]).shape), tuple(info.output.shape)),
    }
    return [f"{what}: device has {got!r}, expected {want!r}" for what, (want, got) in expected.items() if want != got]


def verify_identity(info: DeviceInfo, image: FirmwareImage, port: str) -> None:
    problems = identity_problems(info, image)
    if problems:
        raise ProtocolMismatch(
            f"the device on {port} does not run the firmware the harness built for "
            f"{image.model.name} on {image.target.id}:\n  " + "\n  ".join(problems) + "\n"
            "Load the image again (for a board: reflash it), or point --port at the right device."
        )
