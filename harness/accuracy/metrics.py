"""Clip-level figures from predicted and true class indices: accuracy, per-class recall, the
confusion matrix, and how often two predictors agree."""

from __future__ import annotations

import numpy as np


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(predicted == labels))


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    """The fraction of clips on which two predictors give the same class."""
    return float(np.mean(a == b))


def confusion_matrix(predicted: np.ndarray, labels: np.ndarray, classes: int) -> np.ndarray:
    """(classes, classes) counts: row = true class, column = predicted class."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


def per_class_recall(matrix: np.ndarray) -> list[float | None]:
    """For each true class, the share of its clips predicted as it; None for a class with no clips."""
    totals = matrix.sum(axis=1)
    return [None if total == 0 else float(matrix[i, i] / total) for i, total in enumerate(totals)]
