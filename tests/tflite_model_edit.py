"""Edit a .tflite through its object API: the model after change(model_t) (tests only)."""

from __future__ import annotations

import flatbuffers
from ai_edge_litert import schema_py_generated as schema


def edited(data: bytes, change) -> bytes:
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(data, 0))
    change(model)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
