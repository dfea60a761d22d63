"""report.md and the per-layer latency chart of one run, beside the published figures."""

from __future__ import annotations

from pathlib import Path

from harness.accuracy.plot import CONFUSION_CHART, confusion_chart
from harness.results.reference import CUBE_AI, TFLM_ON_EMULATOR, ZOO_ACCURACY

KIB = 1024.0
CHART_NAME = "latency_per_layer.png"


def _kib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / KIB:.1f}"


def _number(value, digits: int = 6) -> str:
    if value is None:
        return "n/a"
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def inference_text(latency: dict) -> str:
    unit, median = latency["unit"], latency["median"]
    if unit == "cycles":
        return f"{latency['ms_at_clock']:.2f} ms ({median / 1e6:.2f} M cycles)"
    if unit == "instructions":
        return f"{median / 1e6:.2f} M instructions (emulated; not time)"
    return f"{median / 1e6:.2f} ms wall-clock on the host (not comparable)"


def footprint_table(record: dict) -> list[str]:
    f, target = record["footprint"], record["environment"]["target"]
    lines = [
        "| | inference | activation RAM | runtime RAM | weights flash | code flash | total RAM | total flash |",
        "|---|---|---|---|---|---|---|---|",
        f"| this run, {target} | {inference_text(record['latency'])} | {_kib(f['activation_ram'])} | "
        f"{_kib(f['runtime_ram'])} | {_kib(f['weights_flash'])} | {_kib(f['code_flash'])} | "
        f"{_kib(f['total_ram'])} | {_kib(f['total_flash'])} |",
    ]
    for row in CUBE_AI:
        lines.append(
            f"| {row.tool}, B-U585I-IOT02A @ 160 MHz | {row.inference_ms:g} ms | {row.activation_ram_kib:g} | "
            f"{row.runtime_ram_kib:g} | {row.weights_flash_kib:g} | {row.code_flash_kib:g} | "
            f"{row.total_ram_kib:g} | {row.total_flash_kib:g} |"
        )
    return lines


def tree_table(footprint: dict) -> list[str]:
    lines = ["| memory | owner | bytes |", "|---|---|---|"]
    for memory, total_key in (("flash", "elf_flash"), ("ram", "elf_ram")):
        for owner, size in footprint["tree"][memory].items():
            lines.append(f"| {memory} | {owner} | {size} |")
        lines.append(f"| {memory} | **image total (ELF)** | **{footprint[total_key]}** |")
    return lines


def parity_table(parity: dict) -> list[str]:
    keys = ["patches", "exact_patches", "max_abs_diff_lsb", "cosine_min", "l2r_max", "rmse", "mae",
            "top1_agreement", "retransmits"]
    return [
        "| " + " | ".join(keys) + " |",
        "|" + "---|" * len(keys),
        "| " + " | ".join(_number(parity[k]) for k in keys) + " |",
    ]


def latency_tables(latency: dict, target: str, counter_hz: int | None) -> list[str]:
    """Per layer in the target's unit; on a cycles target also in ms at the clock the device reported."""
    unit, total = latency["unit"], latency["median"]
    in_ms = unit == "cycles" and bool(counter_hz)
    ms_column = f" ms at {counter_hz / 1e6:g} MHz |" if in_ms else ""
    lines = [
        f"Median {latency['median']}, min {latency['min']}, max {latency['max']} {unit} over {latency['runs']} runs.",
        "",
        f"| layer | operator | {unit} | share |{ms_column}",
        "|---|---|---|---|" + ("---|" if in_ms else ""),
    ]
    for layer in latency["per_layer"]:
        share = 100.0 * layer["count"] / total if total else 0.0
        ms = f" {layer['count'] / counter_hz * 1000.0:.3f} |" if in_ms else ""
        lines.append(f"| {layer['name']} | {layer['operator']} | {layer['count']} | {share:.1f} % |{ms}")
    if unit == "instructions":
        lines += ["", f"Measured on the same emulator ({target} is QEMU mps2-an505, `-icount shift=0`):", "",
                  "| engine | instructions per inference | arena (kB) |", "|---|---|---|",
                  f"| this run | {total / 1e6:.1f} M | see footprint |"]
        lines += [f"| {name} | {count / 1e6:.1f} M | {arena:g} |" for name, count, arena in TFLM_ON_EMULATOR]
    return lines


def percent(fraction: float | None) -> str:
    return "n/a" if fraction is None else f"{100 * fraction:.1f} %"


def accuracy_table(block: dict, target: str) -> list[str]:
    """This run's clip-level figures beside the model zoo's published ones."""
    dataset = block["dataset"]["name"]  # the dataset's own name says its subset and fold (ESC-10 fold 1)
    return [
        "| | dataset | clips | float | golden int8 | device | device-golden agreement |",
        "|---|---|---|---|---|---|---|",
        f"| this run, {target} | {dataset} | {block['clips']} | {percent(block['float'])} | "
        f"{percent(block['golden'])} | {percent(block['device'])} | {percent(block['agreement'])} |",
        f"| published: {ZOO_ACCURACY.model} | {ZOO_ACCURACY.dataset} | | {ZOO_ACCURACY.float_percent:g} % | "
        f"{ZOO_ACCURACY.int8_percent:g} % | | |",
    ]


def accuracy_section(block: dict, target: str) -> list[str]:
    fe = block["frontend"]
    lines = [
        "## Clip-level accuracy",
        "",
        *accuracy_table(block, target),
        "",
        f"{block['clips']} clips, {block['patches']} patches; front end `{fe['name']}`; one prediction per clip by "
        f"`{block['aggregation']}`" + (f"; float model `{block['float_model']}`" if block["float_model"] else "")
        + f". {block['seconds_per_clip']:.2f} s per clip end to end (front end {block['frontend_seconds']:.1f} s, "
        f"device {block['device_seconds']:.1f} s in all).",
        "",
    ]
    skipped = block["dataset"]["skipped"]
    if skipped:
        lines += [f"{len(skipped)} left out with --skip-bad:", "", *(f"- {line}" for line in skipped), ""]
    if not block["labelled"]:
        lines += ["Agreement only: the dataset's labels are not the model's classes, so no accuracy is computed.", ""]
    for item in block["disagreements"]:
        lines.append(f"- device and golden disagree on `{item['clip']}`: device "
                     f"{block['classes'][item['device']]}, golden {block['classes'][item['golden']]}")
    if block["confusion"] is not None:
        names = block["classes"]
        lines += [
            "Per class (device): recall, and the confusion matrix (rows: true class, columns: predicted).",
            "",
            "| true class | recall | " + " | ".join(names) + " |",
            "|---|---|" + "---|" * len(names),
        ]
        lines += [f"| {name} | {percent(recall)} | " + " | ".join(map(str, row)) + " |"
                  for name, recall, row in zip(names, block["per_class_recall"], block["confusion"])]
        lines += ["", f"![confusion matrix]({CONFUSION_CHART})", ""]
    return lines


def report_markdown(record: dict) -> str:
    env = record["environment"]
    lines = [
        f"# hil bench: {env['model_name']} on {env['target']}",
        "",
        f"Run `{record['run_id']}` on {env['date']}; harness {env['harness_version']} (git {env['git_sha']}); "
        f"model SHA-256 `{env['model_sha256']}`; built with {env['compiler']}.",
        "",
        "## Footprint (KiB = 1024 bytes; the published table's units)",
        "",
        *footprint_table(record),
        "",
        "Every byte of the image, by owner:",
        "",
        *tree_table(record["footprint"]),
        "",
        "## Parity: device against the golden (LiteRT reference kernels)",
        "",
        *parity_table(record["parity"]),
        "",
        f"End to end: {record['throughput']['patches_per_second']:.2f} patches/s (upload, inference, read back).",
        "",
        "## Latency",
        "",
        *latency_tables(record["latency"], env["target"], record["device"]["counter_hz"]),
        "",
        f"![per-layer latency]({CHART_NAME})",
        "",
    ]
    if "accuracy" in record:
        lines += accuracy_section(record["accuracy"], env["target"])
    return "\n".join(lines)


def latency_chart(record: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    layers = record["latency"]["per_layer"]
    figure, axes = pyplot.subplots(figsize=(8, 0.35 * len(layers) + 1.5))
    names = [f"{layer['name']}" for layer in layers]
    axes.barh(names[::-1], [layer["count"] for layer in layers][::-1], color="#3b6ea5")
    axes.set_xlabel(record["latency"]["unit"])
    env = record["environment"]
    axes.set_title(f"{env['model_name']} on {env['target']}: per-layer latency")
    figure.tight_layout()
    figure.savefig(path, dpi=100, metadata={"Software": None})
    pyplot.close(figure)


def write_report_files(folder: Path, record: dict) -> None:
    (folder / "report.md").write_text(report_markdown(record))
    latency_chart(record, folder / CHART_NAME)
    block = record.get("accuracy")
    if block is not None and block["confusion"] is not None:
        env = record["environment"]
        confusion_chart(block, f"{env['model_name']} on {env['target']}: {block['dataset']['name']}",
                        folder / CONFUSION_CHART)
