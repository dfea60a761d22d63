#include <string.h>

#include "hil_stream.h"

static uint32_t row_bytes(const hil_shape4 *shape)
{
    return (uint32_t)(shape->w * shape->c);
}

hil_status hil_stream_run(const hil_stream *stream, uint8_t *arena, const hil_observer *observer,
                          uint32_t *failed_layer)
{
    uint32_t lo[HIL_STREAM_MAX_STAGES] = {0}, hi[HIL_STREAM_MAX_STAGES] = {0}; /* rows each band holds */
    if (stream->stage_count > HIL_STREAM_MAX_STAGES) {
        return HIL_ERROR_ARGUMENT;
    }
    for (uint32_t s = 0; s < stream->step_count; ++s) {
        const hil_stream_step step = stream->steps[s];
        const hil_stream_stage *stage = &stream->stages[step.stage];
        const uint32_t layer = stream->first_layer + step.stage;
        const hil_conv_packed_params *p = stage->params;
        uint8_t *const band = arena + stage->output_offset;
        const uint32_t out_row = row_bytes(&p->output);
        if (step.drop != 0u) {
            lo[step.stage] += step.drop;
            memmove(band, band + step.drop * out_row, (hi[step.stage] - lo[step.stage]) * out_row);
        }
        /* The input rows the step's output rows read, inside the image (stream.py's input_window). */
        const int32_t first = (int32_t)hi[step.stage];
        const int32_t top = first * p->stride_h - p->pad_h;
        const int32_t bottom =
            (first + step.count - 1) * p->stride_h - p->pad_h + (p->filter.h - 1) * p->dilation_h + 1;
        const int32_t window_lo = top > 0 ? top : 0, window_hi = bottom < p->input.h ? bottom : p->input.h;
        const int8_t *input = (const int8_t *)(arena + stream->input_offset);
        uint32_t input_lo = 0u; /* the first row held where `input` points */
        if (step.stage > 0u) {
            const hil_stream_stage *before = &stream->stages[step.stage - 1u];
            input = (const int8_t *)(arena + before->output_offset);
            input_lo = lo[step.stage - 1u];
        }
        hil_conv_packed_params band_params = *p;
        band_params.input.h = window_hi - window_lo;
        band_params.output.h = step.count;
        band_params.pad_h = window_lo - top;
        int8_t *const output = (int8_t *)(band + (hi[step.stage] - lo[step.stage]) * out_row);
        input += (uint32_t)(window_lo - (int32_t)input_lo) * row_bytes(&p->input);
        hil_observe_before(observer, layer);
        const hil_status status = stage->kernel(&band_params, input, output, arena + stream->scratch_offset,
                                                stream->scratch_bytes);
        hil_observe_after(observer, layer, (uint32_t)first * out_row, (const uint8_t *)output,
                          step.count * out_row);
        if (status != HIL_OK) {
            if (failed_layer != 0) {
                *failed_layer = layer;
            }
            return status;
        }
        hi[step.stage] += step.count;
    }
    return HIL_OK;
}
