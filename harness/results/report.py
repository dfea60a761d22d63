"""report.md and the per-layer latency chart of one run, beside the published figures."""

from __future__ import annotations

from pathlib import Path

from harness.accuracy.plot import CONFUSION_CHART, confusion_chart
from harness.results.reference import CMSIS_NN_DSP_BY_KIND, CUBE_AI, SHARED_MODEL_MACS, TFLM_ON_EMULATOR, ZOO_ACCURACY

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


def io_text(record: dict) -> str:
    """The model's input and output types, as streamed and compared (runs before they were recorded: unknown)."""
    env = record["environment"]
    if "input" not in env:
        return "input and output types not recorded"
    parts = [f"{side} {env[side]['dtype']} {env[side]['shape']}" for side in ("input", "output")]
    return ", ".join(parts)


def link_text(record: dict) -> str:
    """Patches per second, and what one patch was on the link."""
    throughput, env = record["throughput"], record["environment"]
    text = f"{throughput['patches_per_second']:.2f} patches/s"
    if "bytes_per_patch" in throughput and "input" in env:
        text += f" of {env['input']['dtype']} input ({throughput['bytes_per_patch']} B each)"
    return text


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
    ] + _before_dequantize_lines(parity) + _first_difference_lines(parity)


def _first_difference_lines(parity: dict) -> list[str]:
    difference = parity.get("first_difference")
    return [] if difference is None else ["", f"Where it starts: {first_difference_text(difference)}."]


def first_difference_text(difference: dict) -> str:
    """parity.first_difference in words (harness.parity.localize)."""
    if difference["layer"] is None:
        return (f"patch {difference['patch']}: run again layer by layer, every layer equals the golden; "
                "the difference did not repeat")
    by = "n/a" if difference["max_abs_diff"] is None else f"{difference['max_abs_diff']:g}"
    return (f"patch {difference['patch']} first differs at layer {difference['layer']} {difference['name']} "
            f"({difference['operator']}): {difference['differing_elements']} of {difference['elements']} elements, "
            f"max diff {by}")


def _before_dequantize_lines(parity: dict) -> list[str]:
    before = parity.get("before_dequantize")
    if before is None:
        return []
    return ["", f"The int8 tensor before the final DEQUANTIZE: {before['exact_patches']}/{parity['patches']} patches "
            f"bit-exact, max diff {before['max_abs_diff_lsb']} LSB, {before['off_grid_patches']} patches with a float "
            "output no int8 value dequantizes to."]


def _per_mac(count: float, macs: int | None) -> str:
    return f"{count / macs:.2f}" if macs else "n/a"


def latency_tables(latency: dict, target: str, counter_hz: int | None) -> list[str]:
    """Per layer in the target's unit and per MAC, then per kernel; on a cycles target also in ms at
    the clock the device reported; on the emulator beside TFLite Micro's figures there."""
    unit, total = latency["unit"], latency["median"]
    layers = latency["per_layer"]
    in_ms = unit == "cycles" and bool(counter_hz)
    ms_column = f" ms at {counter_hz / 1e6:g} MHz |" if in_ms else ""
    lines = [
        f"Median {latency['median']}, min {latency['min']}, max {latency['max']} {unit} over {latency['runs']} runs "
        "(per layer: the last run).",
        "",
        f"| layer | operator | {unit} | share | per MAC |{ms_column}",
        "|---|---|---|---|---|" + ("---|" if in_ms else ""),
    ]
    for layer in layers:
        share = 100.0 * layer["count"] / total if total else 0.0
        ms = f" {layer['count'] / counter_hz * 1000.0:.3f} |" if in_ms else ""
        lines.append(f"| {layer['name']} | {layer['operator']} | {layer['count']} | {share:.1f} % | "
                     f"{_per_mac(layer['count'], layer.get('macs'))} |{ms}")
    lines += _kernel_table(layers, unit)
    if unit == "instructions":
        macs = sum(layer.get("macs", 0) for layer in layers)
        lines += ["", f"Measured on the same emulator ({target} is QEMU mps2-an505, `-icount shift=0`); "
                  f"TFLite Micro's figures are for the shared ESC-10 model ({SHARED_MODEL_MACS / 1e6:.1f} M MACs):", "",
                  "| engine | instructions per inference | per MAC | arena (kB) |", "|---|---|---|---|",
                  f"| this run | {total / 1e6:.1f} M | {_per_mac(total, macs)} | see footprint |"]
        lines += [f"| {name} | {count / 1e6:.1f} M | {count / SHARED_MODEL_MACS:.2f} | {arena:g} |"
                  for name, count, arena in TFLM_ON_EMULATOR]
        lines += ["", "Where TFLite Micro with the CMSIS-NN DSP kernels spends its instructions there: " + "; ".join(
            f"{kind} {share * 100:g} %" + (f" ({per_mac:g} per MAC)" if per_mac else "")
            for kind, per_mac, share in CMSIS_NN_DSP_BY_KIND) + "."]
    return lines


def _kernel_table(layers: list[dict], unit: str) -> list[str]:
    """The layers grouped by the C kernel the compiler chose (runs recorded before kernels were kept: none)."""
    if not layers or "kernel" not in layers[0]:
        return []
    total = sum(layer["count"] for layer in layers)
    kernels: dict[str, list[dict]] = {}
    for layer in layers:
        kernels.setdefault(layer["kernel"], []).append(layer)
    lines = ["", f"| kernel | layers | MACs | {unit} | share | per MAC |", "|---|---|---|---|---|---|"]
    for kernel, group in sorted(kernels.items(), key=lambda item: -sum(layer["count"] for layer in item[1])):
        count, macs = sum(layer["count"] for layer in group), sum(layer["macs"] for layer in group)
        share = 100.0 * count / total if total else 0.0
        lines.append(f"| {kernel} | {len(group)} | {macs} | {count} | {share:.1f} % | {_per_mac(count, macs)} |")
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
        f"Model {io_text(record)}; footprint and latency are measured the same way for every type.",
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
        f"End to end: {link_text(record)} (upload, inference, read back).",
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
