"""`hil report`: one PNG per metric per target and summary.md, from a real history.csv."""

import struct

import pytest

from harness.cli import main
from harness.errors import HilError
from harness.results.history import COLUMNS, append_history, history_path
from harness.results.trends import METRICS, chart_name, render_report

from results_factory import footprint, make_run

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def day(n: int, target="qemu-m33", model="yamnet256", **overrides) -> dict:
    env = {"date": f"2026-11-{n:02d}T06:15:02Z", "target": target, "model_name": model}
    return make_run(environment=env, **overrides)


@pytest.fixture
def history(tmp_path):
    """qemu-m33: three runs of yamnet256 (latency 200 M, 190 M, 196 M instructions; flash grows;
    the second run cannot measure RAM and loses 4 patches) and one of tiny; host: one ns run."""
    for run in (
        day(21),
        day(22, latency={"median": 190_000_000}, footprint=footprint(runtime_ram=None, code_flash=52_000),
            parity={"exact_patches": 60}),
        day(23, latency={"median": 196_000_000}, footprint=footprint(runtime_ram=2_500, code_flash=51_000)),
        day(22, model="tiny", latency={"median": 1_000}, footprint=footprint(activation_ram=100, runtime_ram=50,
                                                                              weights_flash=300, code_flash=700)),
        day(24, target="host", latency={"unit": "ns", "median": 5_000_000}),
    ):
        append_history(tmp_path, run)
    return tmp_path


def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 100 and height > 100
    assert data.endswith(b"IEND\xaeB`\x82")


def test_one_png_per_metric_per_target(history, tmp_path):
    out = tmp_path / "report"
    written = render_report(history, out)
    expected = {chart_name(t, m.key) for t in ("qemu-m33", "host") for m in METRICS} | {"summary.md"}
    assert {p.name for p in written} == expected == {p.name for p in out.iterdir()}
    assert "qemu-m33_latency_median.png" in expected and "host_exact_ratio.png" in expected
    for path in written:
        if path.suffix == ".png":
            assert_png(path)


def test_the_images_open(history, tmp_path):
    from PIL import Image

    render_report(history, tmp_path / "report")
    with Image.open(tmp_path / "report" / "qemu-m33_total_flash.png") as image:
        image.verify()
        assert image.format == "PNG"


def summary_table(text: str, heading: str) -> dict[str, list[str]]:
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip("|").split("|") for line in section.splitlines() if line.startswith("| ")]
    return {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in rows[1:]}


def test_summary_numbers(history, tmp_path):
    render_report(history, tmp_path / "report")
    text = (tmp_path / "report" / "summary.md").read_text()
    assert f"From `{history_path(history)}`: 5 runs, 2026-11-21 06:15 to 2026-11-24 06:15 UTC." in text

    qemu = summary_table(text, "qemu-m33 / yamnet256")
    #                                     latest, best, worst, change since first, runs with a value
    assert qemu["median latency (instructions)"] == [
        "196000000", "190000000", "200000000", "-4000000 (-2.00 %)", "3 of 3"]
    # total RAM is unknown in the second run: latest, best, worst and change among the known ones
    assert qemu["total RAM (bytes)"] == ["152500", "152000", "152500", "+500 (+0.33 %)", "2 of 3"]
    assert qemu["total flash (bytes)"] == ["201000", "200000", "202000", "+1000 (+0.50 %)", "3 of 3"]
    assert qemu["bit-exact patches (exact_patches / patches)"] == [
        "64/64 (100.0 %)", "100.0 %", "93.8 %", "+0.0 points", "3 of 3"]

    tiny = summary_table(text, "qemu-m33 / tiny")
    assert tiny["median latency (instructions)"] == ["1000", "1000", "1000", "+0 (+0.00 %)", "1 of 1"]
    assert tiny["total flash (bytes)"][0] == "1000"

    host = summary_table(text, "host / yamnet256")
    assert host["median latency (ns)"][0] == "5000000"
    assert "![qemu-m33: median latency](qemu-m33_latency_median.png)" in text


def test_a_metric_never_known_is_na(tmp_path):
    append_history(tmp_path, day(21, footprint=footprint(runtime_ram=None)))
    render_report(tmp_path, tmp_path / "report")
    table = summary_table((tmp_path / "report" / "summary.md").read_text(), "qemu-m33 / yamnet256")
    assert table["total RAM (bytes)"] == ["n/a", "n/a", "n/a", "n/a", "0 of 1"]
    assert_png(tmp_path / "report" / "qemu-m33_total_ram.png")


def test_no_history_is_a_clear_error(tmp_path):
    with pytest.raises(HilError, match="no history yet"):
        render_report(tmp_path, tmp_path / "report")
    history_path(tmp_path).write_text(",".join(COLUMNS) + "\n")
    with pytest.raises(HilError, match="has no runs yet; run `hil bench` first"):
        render_report(tmp_path, tmp_path / "report")
    assert not (tmp_path / "report").exists()


def test_report_command(history, tmp_path, capsys):
    code = main(["report", "--results-dir", str(history)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.strip() == f"wrote 8 charts and summary.md to {history / 'report'}"
    assert (history / "report" / "summary.md").is_file()
    code = main(["report", "--results-dir", str(history), "-o", str(tmp_path / "elsewhere")])
    capsys.readouterr()
    assert code == 0 and (tmp_path / "elsewhere" / "qemu-m33_total_ram.png").is_file()


def test_report_command_without_history_exits_2(tmp_path, capsys):
    code = main(["report", "--results-dir", str(tmp_path)])
    _, err = capsys.readouterr()
    assert code == 2 and "hil report: error:" in err and "no history yet" in err and "Traceback" not in err


def test_report_command_with_a_corrupt_history_exits_2(tmp_path, capsys):
    history_path(tmp_path).write_text("this,is,not,the,header\n")
    code = main(["report", "--results-dir", str(tmp_path)])
    _, err = capsys.readouterr()
    assert code == 2 and "move it aside" in err
