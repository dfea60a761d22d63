"""One prediction per clip from its patches' outputs, by a named rule, deterministically.

`mean`: the mean of the per-patch output vectors, then argmax. `vote`: each patch votes for its
argmax and the clip takes the most votes. The model zoo breaks a tie of votes at random, so its
figures do not repeat; here a tie goes to the tied class with the highest mean output, then to the
lowest class index, so the same outputs always give the same prediction.
"""

from __future__ import annotations

import numpy as np

from harness.errors import HilError

AGGREGATIONS = ("mean", "vote")
DEFAULT_AGGREGATION = "mean"


def check_aggregation(name: str) -> str:
    if name not in AGGREGATIONS:
        raise HilError(f"unknown aggregation {name!r}; choose one of {', '.join(AGGREGATIONS)}")
    return name


def clip_predictions(outputs: np.ndarray, clip_of_patch: np.ndarray, clips: int, rule: str) -> np.ndarray:
    """The class index of each clip (clips,), from the outputs of its patches (patches, classes).

    Raw int8 outputs aggregate like their dequantized values: the scale is positive, so means and
    argmaxes keep their order."""
    check_aggregation(rule)
    scores = outputs.reshape(outputs.shape[0], -1).astype(np.float64)
    predictions = np.empty(clips, dtype=np.int64)
    for clip in range(clips):
        patch_scores = scores[clip_of_patch == clip]
        if patch_scores.shape[0] == 0:
            raise ValueError(f"clip {clip} has no patches")  # the front end gives every clip at least one
        mean = patch_scores.mean(axis=0)
        if rule == "mean":
            predictions[clip] = int(np.argmax(mean))  # argmax takes the lowest index among equals
        else:
            votes = np.bincount(np.argmax(patch_scores, axis=1), minlength=scores.shape[1])
            tied = np.flatnonzero(votes == votes.max())
            predictions[clip] = int(tied[np.argmax(mean[tied])])
    return predictions
