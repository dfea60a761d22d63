/*
 * Streams: a chain of layers run a few output rows at a time (harness/compiler/stream.py), so the
 * tensors inside the chain never exist whole: each of its layers but the last keeps a band of its
 * output rows in a buffer of its own, as long as the next layer still reads them.
 *
 * Every stage is a kernel that takes hil_conv_packed_params and runs on a band: called with the
 * same parameters but input.h = the rows of the input window it is given, output.h = the rows it
 * writes and pad_h = the padding rows above that window (hil_conv.h, hil_depthwise.h). Row for row,
 * its arithmetic is the kernel's own, so a stream's outputs are its layers' outputs.
 *
 * The compiler writes the schedule; this runs it as given. Step s of stage i: the band drops its
 * first `drop` rows (the rows still kept move to the band's start), then computes `count` rows
 * after the last one computed, reading the input rows they need from stage i - 1's band (stage 0:
 * the stream's input, a whole tensor), and writing them after the rows kept (the last stage: into
 * its whole output tensor). The compiler proves every read finds its rows and every write fits.
 * The observer hears of each band (hil_model.h); a failing kernel stops the stream.
 */
#ifndef HIL_STREAM_H
#define HIL_STREAM_H

#include "hil_conv.h"
#include "hil_model.h"

#define HIL_STREAM_MAX_STAGES 16u /* stream.py MAX_STREAM_LAYERS: the compiler makes no longer stream */

typedef hil_status (*hil_band_kernel)(const hil_conv_packed_params *p, const int8_t *input, int8_t *output,
                                      void *scratch, size_t scratch_bytes);

typedef struct {
    hil_band_kernel kernel;
    const hil_conv_packed_params *params; /* the layer's own, for the whole tensors */
    uint32_t output_offset;               /* arena offset of its band (the last stage: of its output) */
} hil_stream_stage;

typedef struct {
    uint8_t stage;
    uint8_t count;
    uint8_t drop;                         /* rows the band drops first (the compiler keeps it below 256) */
} hil_stream_step;

typedef struct hil_stream {
    uint32_t first_layer;                 /* stage i is layer first_layer + i */
    uint32_t input_offset;                /* arena offset of the stream's input, a whole tensor */
    uint32_t scratch_offset;              /* one scratch, as large as the largest step needs */
    uint32_t scratch_bytes;
    uint32_t stage_count;                 /* at most HIL_STREAM_MAX_STAGES */
    const hil_stream_stage *stages;
    uint32_t step_count;
    const hil_stream_step *steps;
} hil_stream;

hil_status hil_stream_run(const hil_stream *stream, uint8_t *arena, const hil_observer *observer,
                          uint32_t *failed_layer);

#endif /* HIL_STREAM_H */
