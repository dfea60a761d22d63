"""The pytest plugin itself, driven through pytester."""

import pytest

pytest_plugins = ["pytester"]

SHOW_CONFIG = """
def test_show(hil_config):
    models = ",".join(m.id for m in hil_config.models)
    print("CONFIG", hil_config.target, models, hil_config.patches, hil_config.timing_runs)
"""


def test_unknown_target_is_a_usage_error(pytester):
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("--target=nrf52")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--target nrf52: unknown target; known targets: host, qemu-m33, u585*"])


def test_missing_model_is_a_usage_error(pytester):
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("--model=nowhere.tflite")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--model: no such file: *nowhere.tflite*"])


@pytest.mark.parametrize("option", ["--patches=0", "--timing-runs=-1", "--link-timeout=0", "--inference-timeout=-2"])
def test_non_positive_counts_are_usage_errors(pytester, option):
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest(option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*must be positive*"])


@pytest.mark.parametrize("option", ["--port=/dev/ttyACM0", "--baud=115200"])
def test_a_link_option_that_does_not_apply_to_the_target_is_a_usage_error(pytester, option):
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("--target=host", option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    name = option.split("=")[0]
    result.stderr.fnmatch_lines([f"*{name} does not apply to target host: its link is a loopback socket*"])


def test_the_link_options_reach_the_board_record(pytester):
    pytester.makepyfile("""
def test_board(hil_config):
    board = hil_config.board
    print("BOARD", board.target.id, board.port, board.link_baud, board.link_timeout, board.inference_timeout)
""")
    pytester.runpytest("-s", "--target=u585", "--port=/dev/ttyACM3", "--baud=460800", "--link-timeout=2.5",
                       "--inference-timeout=9").stdout.fnmatch_lines(["*BOARD u585 /dev/ttyACM3 460800 2.5 9.0"])
    pytester.runpytest("-s", "--target=u585").stdout.fnmatch_lines(["*BOARD u585 None 921600 1.0 None"])


def test_command_line_overrides_ini_which_overrides_defaults(pytester):
    pytester.makeini("[pytest]\nhil_target = host\n")
    pytester.makepyfile(SHOW_CONFIG)
    pytester.runpytest("-s").stdout.fnmatch_lines(["*CONFIG host default 64 5"])
    pytester.runpytest("-s", "--target=qemu-m33", "--patches=7").stdout.fnmatch_lines(["*CONFIG qemu-m33 default 7 5"])


def test_header_names_target_and_models(pytester):
    pytester.makepyfile("def test_nothing(): pass")
    pytester.runpytest("--target=host", "--patches=3").stdout.fnmatch_lines(
        ["hil: target host, models default, 3 patches"]
    )


def test_optional_models_are_skipped_with_a_reason_when_absent(pytester):
    pytester.makeini("[pytest]\nhil_optional_models = missing/optional.tflite\n")
    pytester.makepyfile("def test_uses(hil_model_spec): pass")
    result = pytester.runpytest("-rs")
    result.assert_outcomes(passed=1, skipped=1)  # the default model, and the absent optional one
    result.stdout.fnmatch_lines(["*optional model *missing/optional.tflite is not present*"])


DEVICE_SUITE = """
def test_runs_on_the_device(hil_device, hil_patches, hil_golden, record_property):
    result = hil_device.run(hil_patches)
    record_property("exact", int((result.outputs == hil_golden).all()))
    assert result.outputs.tobytes() == hil_golden.tobytes()
"""


def test_the_fixture_chain_builds_loads_and_talks_to_the_host_target(pytester, tmp_path):
    from example_model import example_model

    model = tmp_path / "example.tflite"
    model.write_bytes(example_model())
    pytester.makepyfile(DEVICE_SUITE)
    result = pytester.runpytest("--target=host", f"--model={model}", "--patches=6", f"--results-dir={tmp_path}")
    result.assert_outcomes(passed=1)


def test_a_user_mistake_in_a_fixture_is_reported_without_a_traceback(pytester, tmp_path):
    from test_cli import conv_model

    model = tmp_path / "float.tflite"
    model.write_bytes(conv_model(dtype="float32"))
    pytester.makepyfile(DEVICE_SUITE)
    result = pytester.runpytest("--target=host", f"--model={model}")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*computes in float32: the model is not quantized*"])
    assert "Traceback" not in result.stdout.str() and "harness/compiler" not in result.stdout.str()


# --- farms: --hardware-map (harness/farm; the runs on boards are in tests/test_farm.py) -------------------

HOST_MAP = "- id: h1\n  target: host\n- id: h2\n  target: host\n"


@pytest.mark.parametrize("map_text, options, message", [
    (None, ["--target=host"], "*nowhere.yaml: no such file (a hardware map: `hil boards scan` proposes one)"),
    (HOST_MAP, ["--target=qemu-m33"], "*lab.yaml has no board of target qemu-m33; its boards are of: host*"),
    (HOST_MAP, ["--target=u585", "--port=/dev/ttyACM0"],
     "*--port does not go with --hardware-map: the map names each board's own*"),
    (HOST_MAP, ["--target=host", "-p", "xdist", "-n", "3"],
     "*-n 3 asks for 3 workers, but *lab.yaml has 2 host boards: use -n 2 or fewer*"),
    ("- id: h1\n  target: host\n  port: /dev/ttyACM0\n", ["--target=host"],
     "*lab.yaml: entry 0 (id h1): field 'port': target host cannot use it*"),
    (HOST_MAP, ["--target=host", "--board-wait=-1"], "*--board-wait must not be negative (got -1)*"),
])
def test_a_wrong_hardware_map_is_a_usage_error(pytester, map_text, options, message):
    lab = pytester.path / ("lab.yaml" if map_text is not None else "nowhere.yaml")
    if map_text is not None:
        lab.write_text(map_text)
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest(f"--hardware-map={lab}", *options)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_workers_without_a_map_may_not_share_a_board(pytester):
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("--target=u585", "--port=/dev/ttyACM0", "-p", "xdist", "-n", "2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*-n 2 without --hardware-map: the 2 workers would share the one u585 board*"])


def test_the_header_names_the_boards_of_the_map(pytester):
    (pytester.path / "lab.yaml").write_text(HOST_MAP)
    pytester.makepyfile("def test_nothing(): pass")
    pytester.runpytest("--target=host", "--hardware-map=lab.yaml").stdout.fnmatch_lines(
        ["hil: target host, models default, 64 patches, boards from lab.yaml: h1, h2"]
    )


def test_hil_board_is_the_options_board_without_a_map_and_an_entry_of_it_with_one(pytester, tmp_path, monkeypatch):
    monkeypatch.setenv("HIL_LOCK_DIR", str(tmp_path / "locks"))
    (pytester.path / "lab.yaml").write_text(HOST_MAP)
    pytester.makepyfile("""
def test_board(hil_board, hil_config):
    print("BOARD", hil_board.id, hil_board.board.target.id, hil_board.board.link_timeout, hil_board.broken)
""")
    pytester.runpytest("-s", "--target=host", "--link-timeout=2.5").stdout.fnmatch_lines(["*BOARD None host 2.5 None"])
    pytester.runpytest("-s", "--target=host", "--link-timeout=2.5", "--hardware-map=lab.yaml").stdout.fnmatch_lines(
        ["*BOARD h1 host 2.5 None"]
    )
    assert (tmp_path / "locks" / "h1.lock").read_text().startswith("pytest (pid ")


def test_a_worker_keeps_its_outputs_in_a_folder_of_its_own():
    from datetime import datetime, timezone

    from harness.results.record import pytest_folder_name

    started = datetime(2026, 11, 30, 2, 5, 38, tzinfo=timezone.utc)
    assert pytest_folder_name(started, "qemu-m33") == "pytest_20261130T020538Z_qemu-m33"
    assert pytest_folder_name(started, "qemu-m33", "gw1") == "pytest_20261130T020538Z_qemu-m33_gw1"
