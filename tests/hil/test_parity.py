"""On-device outputs equal the golden (LiteRT reference kernels) byte for byte."""

import numpy as np


def test_every_output_byte_equals_the_golden(hil_device, hil_patches, hil_golden, record_property):
    result = hil_device.run(hil_patches)
    count = len(hil_patches)
    record_property("patches", count)
    record_property("retransmits", result.retransmits)
    record_property("patches_per_second", round(count / result.seconds, 3))
    differing = [i for i in range(count) if result.outputs[i].tobytes() != hil_golden[i].tobytes()]
    if differing:
        first = differing[0]
        diff = np.abs(result.outputs[first].astype(np.float64) - hil_golden[first].astype(np.float64)).max()
        raise AssertionError(
            f"{len(differing)} of {count} patches differ from the golden; first: patch {first}, max |diff| {diff}"
        )
    # A model that answers the same to every patch would pass trivially: the patches must tell apart.
    assert len({o.tobytes() for o in result.outputs}) > 1
