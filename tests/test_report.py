"""report.md of one run: a board's cycles become ms at the clock the device reported, per layer too;
the emulator's instructions never do."""

from harness.results.report import report_markdown

from results_factory import make_run

CLOCK_HZ = 160_000_000


def cycles_run() -> dict:
    return make_run(
        environment={"target": "u585"},
        device={"counter_unit": "cycles", "counter_hz": CLOCK_HZ, "reset_reason": "pin"},
        latency={"unit": "cycles", "median": 48_000_000, "min": 47_900_000, "max": 48_100_000,
                 "per_layer": [{"name": "op00_transpose", "operator": "TRANSPOSE", "count": 160_000},
                               {"name": "op01_conv_2d", "operator": "CONV_2D", "count": 47_840_000}],
                 "ms_at_clock": 48_000_000 / CLOCK_HZ * 1000.0},
    )


def test_a_boards_cycles_are_shown_in_ms_at_the_reported_clock_per_layer_and_beside_the_published_rows():
    report = report_markdown(cycles_run())
    assert "| layer | operator | cycles | share | per MAC | ms at 160 MHz |" in report
    assert "| op00_transpose | TRANSPOSE | 160000 | 0.3 % | n/a | 1.000 |" in report
    assert "| op01_conv_2d | CONV_2D | 47840000 | 99.7 % | n/a | 299.000 |" in report
    assert "| this run, u585 | 300.00 ms (48.00 M cycles) |" in report
    assert "| STM32Cube.AI 7.3.0, B-U585I-IOT02A @ 160 MHz | 321 ms |" in report


def test_instructions_are_never_shown_as_time():
    report = report_markdown(make_run())
    assert "ms at" not in report and " ms (" not in report
    assert "M instructions (emulated; not time)" in report


def test_each_layer_and_each_kernel_is_shown_per_mac_beside_tflite_micro():
    layers = [
        {"name": "op00_transpose", "operator": "TRANSPOSE", "kernel": "hil_transpose_s8", "macs": 0, "count": 200_000},
        {"name": "op01_conv_2d", "operator": "CONV_2D", "kernel": "hil_conv_1x1_s8", "macs": 1_000_000,
         "count": 1_200_000},
        {"name": "op02_conv_2d", "operator": "CONV_2D", "kernel": "hil_conv_1x1_s8", "macs": 3_000_000,
         "count": 3_600_000},
    ]
    report = report_markdown(make_run(latency={"median": 5_000_000, "per_layer": layers}))
    assert "| op01_conv_2d | CONV_2D | 1200000 | 24.0 % | 1.20 |" in report
    assert "| op00_transpose | TRANSPOSE | 200000 | 4.0 % | n/a |" in report
    assert "| hil_conv_1x1_s8 | 2 | 4000000 | 4800000 | 96.0 % | 1.20 |" in report
    assert "| this run | 5.0 M | 1.25 | see footprint |" in report
    assert "| TFLite Micro, CMSIS-NN kernels, DSP | 60.4 M | 2.53 | 161.8 |" in report
    assert "1x1 convolutions 69 % (1.9 per MAC)" in report


def test_a_run_recorded_before_kernels_were_kept_has_no_kernel_table():
    report = report_markdown(make_run())
    assert "| kernel |" not in report and "| op01_conv_2d | CONV_2D | 199814200 | 99.9 % | n/a |" in report
