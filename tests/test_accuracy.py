"""One prediction per clip and the clip-level figures, on hand-made outputs."""

import numpy as np
import pytest

from harness.accuracy.aggregation import clip_predictions
from harness.accuracy.metrics import accuracy, agreement, confusion_matrix, per_class_recall
from harness.errors import HilError


def one_clip(*patch_outputs):
    outputs = np.array(patch_outputs, dtype=np.float32)
    return outputs, np.zeros(len(outputs), dtype=np.int64)


def test_mean_and_vote_differ_where_one_confident_patch_outweighs_two_hesitant_ones():
    outputs, owner = one_clip([0.9, 0.1], [0.4, 0.6], [0.45, 0.55])
    assert clip_predictions(outputs, owner, 1, "mean").tolist() == [0]  # mean (0.583, 0.417)
    assert clip_predictions(outputs, owner, 1, "vote").tolist() == [1]  # two votes to one


def test_a_tie_of_votes_goes_to_the_higher_mean_whatever_the_order_of_the_patches():
    outputs, owner = one_clip([0.3, 0.7], [0.9, 0.1])  # one vote each; means 0.6 and 0.4
    assert clip_predictions(outputs, owner, 1, "vote").tolist() == [0]
    assert clip_predictions(outputs[::-1].copy(), owner, 1, "vote").tolist() == [0]


def test_a_tie_of_votes_and_of_means_goes_to_the_lowest_class_index():
    outputs, owner = one_clip([0.0, 0.6, 0.4], [0.0, 0.4, 0.6])
    assert clip_predictions(outputs, owner, 1, "vote").tolist() == [1]
    assert clip_predictions(outputs, owner, 1, "mean").tolist() == [1]


def test_a_three_way_tie_of_votes_only_considers_the_tied_classes():
    # Votes: class 0, 1 and 2 one each; class 3 never wins a patch but has the highest mean.
    outputs, owner = one_clip([0.5, 0.0, 0.0, 0.45], [0.0, 0.3, 0.0, 0.29], [0.0, 0.0, 0.6, 0.55])
    assert clip_predictions(outputs, owner, 1, "mean").tolist() == [3]
    assert clip_predictions(outputs, owner, 1, "vote").tolist() == [2]


def test_patches_are_grouped_by_their_clip():
    outputs = np.array([[9, 1], [8, 2], [1, 9], [2, 8], [7, 3]], dtype=np.int8)
    owner = np.array([0, 0, 1, 1, 2])
    assert clip_predictions(outputs, owner, 3, "mean").tolist() == [0, 1, 0]


def test_int8_outputs_give_the_prediction_of_their_dequantized_values():
    rng = np.random.default_rng(11)
    raw = rng.integers(-128, 128, size=(40, 1, 10)).astype(np.int8)  # (patches, batch 1, classes)
    owner = np.repeat(np.arange(8), 5)
    real = (raw.astype(np.float64) - -7) * 0.0039
    for rule in ("mean", "vote"):
        assert np.array_equal(clip_predictions(raw, owner, 8, rule), clip_predictions(real, owner, 8, rule))


def test_an_unknown_rule_is_named_with_the_choices():
    outputs, owner = one_clip([1.0, 0.0])
    with pytest.raises(HilError, match="unknown aggregation 'median'; choose one of mean, vote"):
        clip_predictions(outputs, owner, 1, "median")


def test_the_confusion_counts_true_classes_in_rows_and_predictions_in_columns():
    labels = np.array([0, 0, 0, 1, 1, 2])
    predicted = np.array([0, 0, 1, 1, 1, 0])
    matrix = confusion_matrix(predicted, labels, 4)
    assert matrix.tolist() == [[2, 1, 0, 0], [0, 2, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]
    assert per_class_recall(matrix) == [2 / 3, 1.0, 0.0, None]  # class 3 has no clips: no recall
    assert accuracy(predicted, labels) == pytest.approx(4 / 6)
    assert accuracy(predicted, labels) == np.trace(matrix) / matrix.sum()


def test_agreement_is_the_share_of_clips_with_the_same_prediction():
    assert agreement(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 4])) == 0.75
    assert agreement(np.array([5, 5]), np.array([5, 5])) == 1.0
