"""The confusion matrix of a run's clip-level predictions, as a PNG (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path

CONFUSION_CHART = "confusion_matrix.png"


def confusion_chart(block: dict, title: str, path: Path) -> None:
    """Rows are the true classes, columns the device's predictions, each cell its count of clips."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    names, matrix = block["classes"], block["confusion"]
    size = 1.5 + 0.55 * len(names)
    figure, axes = pyplot.subplots(figsize=(size + 1.5, size))
    image = axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(names)), names, rotation=45, ha="right")
    axes.set_yticks(range(len(names)), names)
    axes.set_xlabel("predicted on the device")
    axes.set_ylabel("true class")
    peak = max(max(row) for row in matrix) or 1
    for row, counts in enumerate(matrix):
        for column, count in enumerate(counts):
            axes.text(column, row, str(count), ha="center", va="center",
                      color="white" if count > peak / 2 else "black")
    figure.colorbar(image, ax=axes, label="clips")
    axes.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100, metadata={"Software": None})
    pyplot.close(figure)
