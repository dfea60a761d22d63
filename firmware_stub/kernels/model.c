#include "hil_model.h"
#include "hil_stream.h"

hil_status hil_run_layers(const hil_model *model, hil_layer_runner run, const hil_observer *observer,
                          uint32_t *failed_layer)
{
    uint32_t next_stream = 0u;
    for (uint32_t layer = 0; layer < model->layer_count;) {
        if (next_stream < model->stream_count && model->streams[next_stream]->first_layer == layer) {
            const hil_stream *stream = model->streams[next_stream++];
            const hil_status status = hil_stream_run(stream, model->arena, observer, failed_layer);
            if (status != HIL_OK) {
                return status; /* hil_stream_run named the layer */
            }
            layer += stream->stage_count;
            continue;
        }
        const hil_layer_info *info = &model->layers[layer];
        hil_observe_before(observer, layer);
        const hil_status status = run(layer, model->arena);
        hil_observe_after(observer, layer, 0u, model->arena + info->output_offset, info->output_bytes);
        if (status != HIL_OK) {
            if (failed_layer != 0) {
                *failed_layer = layer;
            }
            return status;
        }
        ++layer;
    }
    return HIL_OK;
}
