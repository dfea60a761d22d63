"""On-device outputs equal the golden (LiteRT reference kernels) byte for byte."""

import numpy as np

from harness.parity.localize import first_difference, first_differing_patch
from harness.parity.metrics import parity_metrics
from harness.results.report import first_difference_text


def test_every_output_byte_equals_the_golden(
    hil_device, hil_compiled, hil_model_path, hil_patches, hil_golden, hil_results_folder, record_property
):
    result = hil_device.run(hil_patches)
    # Both sides' outputs are kept, so a failure can be studied after the run.
    saved = hil_results_folder / f"{hil_compiled.name}_outputs.npz"
    np.savez_compressed(saved, inputs=hil_patches, device=result.outputs, golden=hil_golden)
    record_property("outputs_file", str(saved))
    metrics = parity_metrics(result.outputs, hil_golden, hil_compiled, result.retransmits)
    for key, value in metrics.items():
        record_property(key, value)
    record_property("patches_per_second", round(len(hil_patches) / result.seconds, 3))
    differing = first_differing_patch(result.outputs, hil_golden)
    where = ""
    if differing is not None:
        difference = first_difference(hil_device, hil_compiled, hil_model_path, hil_patches, differing)
        where = f"; {first_difference_text(difference.to_json())}"
    assert differing is None, (
        f"{metrics['patches'] - metrics['exact_patches']} of {metrics['patches']} patches differ from the golden "
        f"(max diff {metrics['max_abs_diff_lsb']} LSB, cosine min {metrics['cosine_min']:.6f}){where}; "
        f"outputs in {saved}"
    )
    # A model that answers the same to every patch would pass trivially: the patches must tell apart.
    assert len({o.tobytes() for o in result.outputs}) > 1
