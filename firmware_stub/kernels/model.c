#include "hil_model.h"

hil_status hil_run_layers(const hil_model *model, hil_layer_runner run, const hil_observer *observer,
                          uint32_t *failed_layer)
{
    for (uint32_t layer = 0; layer < model->layer_count;) {
        const hil_layer_info *info = &model->layers[layer];
        if (info->stream_layers != 0u) {
            const hil_status status = run(layer, model->arena, observer, failed_layer); /* sets failed_layer */
            if (status != HIL_OK) {
                return status;
            }
            layer += info->stream_layers;
            continue;
        }
        hil_observe_before(observer, layer);
        const hil_status status = run(layer, model->arena, observer, failed_layer);
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
