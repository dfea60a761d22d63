"""The link end to end: the host build of the firmware, serving the tiny example model, as a
process on this machine, driven through LinkClient over a loopback socket."""

from __future__ import annotations

import dataclasses
import hashlib
import signal
import subprocess
import time

import numpy as np
import pytest
import serial

from harness.build.firmware import build_firmware
from harness.device.identity import verify_identity
from harness.device.link.framing import Packet, decode_frame, encode_frame
from harness.device.link.protocol import (
    DeviceError,
    ErrorCode,
    LinkClient,
    LinkTimeout,
    MessageType,
    ProtocolMismatch,
    RunTimeout,
    parse_info,
)
from harness.device.loaders.host import HostLoader
from harness.parity.golden import GoldenModel
from harness.targets import load_target

from lossy_transport import LossyTransport

RUNS = 50


@pytest.fixture(scope="module")
def image(example_compiled):
    return build_firmware(example_compiled, load_target("host"))


@pytest.fixture(scope="module")
def golden(example_model_path) -> GoldenModel:
    return GoldenModel(example_model_path, keep_intermediates=True)


@pytest.fixture
def device_url(image):
    """A fresh device process per test: the host board serves one connection, then exits."""
    with HostLoader() as loader:
        yield loader.start(image.path)


@pytest.fixture
def port(device_url):
    link = serial.serial_for_url(device_url, timeout=1.0)
    yield link
    link.close()


@pytest.fixture
def client(port) -> LinkClient:
    return LinkClient(port)


def random_inputs(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(-128, 128, (count, 1, 8, 6, 1), dtype=np.int8)


def test_hello_describes_the_build(client, image, example_compiled, example_model_path):
    info = client.hello()
    assert info.protocol_version == 4
    assert info.max_body == 1028
    assert (info.input.dtype, info.input.shape, info.input.bytes) == ("int8", (1, 8, 6, 1), 48)
    assert info.input.scale == np.float32(0.05) and info.input.zero_point == 35
    assert (info.output.dtype, info.output.shape, info.output.bytes) == ("float32", (1, 3), 12)
    assert info.output.scale == 0 and info.output.zero_point == 0
    assert info.model_sha256 == hashlib.sha256(example_model_path.read_bytes()).hexdigest()
    assert info.target == "host"
    assert info.build_id == image.build_id
    assert info.layer_count == len(example_compiled.calls) == 7
    assert info.arena_size == example_compiled.plan.arena_size
    assert (info.counter_unit, info.counter_hz, info.reset_reason) == (3, 1_000_000_000, 1)
    assert info.counter_hz == load_target("host").counter_hz
    assert (info.counter_unit_name, info.reset_reason_name) == ("ns", "power-on")
    verify_identity(info, image, "test port")
    with pytest.raises(ProtocolMismatch, match="(?s)model SHA-256: device has '0+', expected .*reflash"):
        verify_identity(dataclasses.replace(info, model_sha256="0" * 64), image, "test port")
    # A board on another clock would give wrong milliseconds: refused, not measured.
    with pytest.raises(ProtocolMismatch, match=r"counter rate \(Hz\): device has 80000000, expected 1000000000"):
        verify_identity(dataclasses.replace(info, counter_hz=80_000_000), image, "test port")
    with pytest.raises(ProtocolMismatch, match="counter unit: device has 'cycles', expected 'ns'"):
        verify_identity(dataclasses.replace(info, counter_unit=1), image, "test port")


def test_a_device_of_another_protocol_version_is_refused():
    with pytest.raises(ProtocolMismatch, match="version 5, this harness speaks 4: update the harness"):
        parse_info(b"\x05\x00" + bytes(200))
    with pytest.raises(ProtocolMismatch, match="version 3, this harness speaks 4: rebuild and reload the firmware"):
        parse_info(b"\x03\x00" + bytes(200))


def test_runs_are_bit_exact_with_the_golden(client, golden):
    for x in random_inputs(RUNS, seed=1):
        output, ticks = client.run(x.tobytes())
        assert output == golden.invoke(x).tobytes()
        assert ticks > 0
    assert client.retransmissions == 0 and client.bad_frames == 0


def test_time_gives_totals_and_per_layer_counts(client):
    client.write_input(random_inputs(1, seed=2)[0].tobytes())
    result = client.time(5)
    assert len(result.totals) == 5 and all(t > 0 for t in result.totals)
    assert len(result.per_layer) == 7
    assert sum(result.per_layer) <= result.totals[-1]  # the layers' windows lie inside the run's


def test_time_splits_runs_over_requests(client):
    client.write_input(random_inputs(1, seed=3)[0].tobytes())
    runs = client.max_runs_per_request() + 3
    assert len(client.time(runs).totals) == runs
    assert client.stats.requests == 1 + 1 + 2  # HELLO, WRITE_INPUT, two TIME


def test_read_layer_matches_golden_intermediates(client, golden, example_compiled):
    for x in random_inputs(3, seed=4):
        client.write_input(x.tobytes())
        golden.invoke(x)
        for index, call in enumerate(example_compiled.calls):
            expected = golden.tensor(call.outputs[0]).tobytes()
            assert client.read_layer(index, len(expected)) == expected, f"layer {index}"
        assert client.read_output() == golden.invoke(x).tobytes()  # READ_LAYER ran the model too


def test_write_past_the_input_is_refused(client):
    with pytest.raises(DeviceError, match="goes past the input's 48 bytes") as error:
        client.write_input(bytes(10), offset=40)
    assert error.value.code == ErrorCode.BAD_ARGUMENT and error.value.detail == 48


def test_write_with_a_gap_is_refused(client):
    client.write_input(bytes(8))
    with pytest.raises(DeviceError, match="gap") as error:
        client.write_input(bytes(8), offset=16)
    assert error.value.code == ErrorCode.BAD_ARGUMENT and error.value.detail == 8


def test_infer_before_the_input_is_written_is_refused(client):
    with pytest.raises(DeviceError, match="0 of 48 bytes staged") as error:
        client.infer()
    assert error.value.code == ErrorCode.INPUT_INCOMPLETE
    client.write_input(bytes(48))
    client.write_input(bytes(20))  # a write at offset 0 starts a new input
    with pytest.raises(DeviceError) as error:
        client.time(2)
    assert (error.value.code, error.value.detail) == (ErrorCode.INPUT_INCOMPLETE, 20)


def test_read_output_before_any_run_is_refused(client):
    with pytest.raises(DeviceError) as error:
        client.read_output()
    assert error.value.code == ErrorCode.NO_OUTPUT


def test_the_host_board_cannot_measure_its_stack(client, golden):
    """ERROR 6 becomes None (unknown), never 0; the device still serves runs afterwards."""
    x = random_inputs(1, seed=8)[0]
    client.write_input(x.tobytes())
    assert client.measure_stack() is None
    with pytest.raises(DeviceError, match="not supported on this board: hil_board_stack_size returned "
                                          "HIL_ERROR_UNSUPPORTED") as error:
        client.request(MessageType.MEASURE_STACK)
    assert (error.value.code, error.value.detail) == (ErrorCode.NOT_SUPPORTED, 3)  # HIL_ERROR_UNSUPPORTED
    assert client.run(x.tobytes())[0] == golden.invoke(x).tobytes()


def test_measure_stack_refuses_a_body(client):
    with pytest.raises(DeviceError, match="request body has 2 bytes, this request takes 0") as error:
        client.request(MessageType.MEASURE_STACK, b"\x01\x00")
    assert error.value.code == ErrorCode.BAD_ARGUMENT


def test_unknown_request_is_refused(client):
    with pytest.raises(DeviceError) as error:
        client.request(MessageType.INFO)  # a response type sent as a request
    assert (error.value.code, error.value.detail) == (ErrorCode.UNKNOWN_REQUEST, 0x81)


def _exchange(port, frame: bytes) -> Packet:
    port.timeout = 1.0  # LinkClient leaves its own setting behind
    port.write(frame)
    data = bytearray()
    while data.count(0) < 2:  # every device frame is 0x00 COBS 0x00
        chunk = port.read(1)
        assert chunk, "the device did not answer"
        data += chunk
    return decode_frame(bytes(data).strip(b"\0"))


def test_device_naks_a_bad_frame_and_replays_a_repeated_request(port, client):
    client.write_input(random_inputs(1, seed=5)[0].tobytes())
    damaged = bytearray(encode_frame(Packet(MessageType.INFER, 200)))
    damaged[3] ^= 0x40
    assert _exchange(port, bytes(damaged)).type == MessageType.NAK
    too_long = b"\0" + b"\x01" * 5000 + b"\0"  # overflows the receive buffer
    assert _exchange(port, too_long).type == MessageType.NAK
    infer = encode_frame(Packet(MessageType.INFER, 201))
    first = _exchange(port, infer)
    second = _exchange(port, infer)  # the same seq again: answered from the stored response
    assert first.type == MessageType.INFERRED and first.seq == 201
    assert second == first  # same ns count: the model did not run a second time
    third = _exchange(port, encode_frame(Packet(MessageType.INFER, 202)))
    assert third.type == MessageType.INFERRED and third.body != first.body


def test_lossy_link_stays_bit_exact(device_url, golden, capsys):
    with serial.serial_for_url(device_url, timeout=1.0) as link:
        lossy = LossyTransport(link, drop_rate=0, corrupt_rate=0, seed=7)
        client = LinkClient(lossy, timeout=0.3, run_timeout=RunTimeout(0.5, slack=5.0), retries=64)
        # The handshake on a clean link: at 2 % damaged bytes a ~290-byte INFO frame arrives
        # whole once in ~300 tries. The small frames of data runs get through in ~5.
        client.hello()
        lossy.drop_rate = lossy.corrupt_rate = 0.01
        for x in random_inputs(RUNS, seed=6):
            output, _ = client.run(x.tobytes())
            assert output == golden.invoke(x).tobytes()
        timing = client.time(5)
    assert len(timing.totals) == 5
    assert client.retransmissions > 0
    with capsys.disabled():
        print(f"\nlossy link, {RUNS} runs: {client.stats}; injected host->device {lossy.sent}, "
              f"device->host {lossy.received}")


def test_killed_device_gives_link_timeout(image):
    with HostLoader() as loader:
        url = loader.start(image.path)
        with serial.serial_for_url(url, timeout=1.0) as link:
            client = LinkClient(link, timeout=0.2, run_timeout=RunTimeout(0.5), retries=3)
            client.hello()
            loader.stop()  # the process is terminated
            started = time.monotonic()
            with pytest.raises(LinkTimeout) as error:
                client.infer()
            assert time.monotonic() - started < 3.0
    message = str(error.value)
    assert url in message and "INFER" in message and "last received: nothing" in message


def test_hung_device_gives_link_timeout_after_every_retry(image):
    process = subprocess.Popen([str(image.path)], stdout=subprocess.PIPE, text=True)
    try:
        port = int(process.stdout.readline().split()[1])
        with serial.serial_for_url(f"socket://127.0.0.1:{port}", timeout=1.0) as link:
            client = LinkClient(link, timeout=0.2, retries=2)
            client.hello()
            process.send_signal(signal.SIGSTOP)  # alive but never answers
            started = time.monotonic()
            with pytest.raises(LinkTimeout) as error:
                client.write_input(bytes(48))
            elapsed = time.monotonic() - started
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
    assert 0.6 <= elapsed < 2.0
    assert error.value.tries == 3 and client.retransmissions == 2
    assert "WRITE_INPUT (seq 1)" in str(error.value) and "(3 tries, 0.2 s each)" in str(error.value)
    assert f"socket://127.0.0.1:{port}" in str(error.value)


def test_a_silent_device_is_reported_when_the_run_timeout_has_passed_not_after_every_retry(image):
    """INFER and TIME wait run_timeout in all (retransmissions included), however many retries are allowed."""
    process = subprocess.Popen([str(image.path)], stdout=subprocess.PIPE, text=True)
    try:
        port = int(process.stdout.readline().split()[1])
        with serial.serial_for_url(f"socket://127.0.0.1:{port}", timeout=1.0) as link:
            client = LinkClient(link, timeout=0.2, run_timeout=RunTimeout(0.4, slack=0.2), retries=8)
            client.write_input(bytes(48))
            process.send_signal(signal.SIGSTOP)
            timings = []
            for request, runs in ((client.infer, 1), (lambda: client.time(3), 3)):
                started = time.monotonic()
                with pytest.raises(LinkTimeout) as error:
                    request()
                timings.append((time.monotonic() - started, client.run_timeout.seconds(runs)))
                assert "2 tries" in str(error.value)  # one retransmission in time for a lost request
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
    for elapsed, limit in timings:
        assert limit <= elapsed < limit + 0.5
