/*
 * Native batch runner for engine tests: reads inputs from stdin, writes outputs to stdout.
 *
 * Each record on stdin is one input tensor (model->input.bytes). For each, stdout gets the
 * output tensor, preceded by every layer's output tensor when run with --layers.
 * Exit status: 0 after the last whole record, 2 on a short record or bad argument,
 * 3 when a kernel fails (its layer and status go to stderr).
 *
 * Build with -DHIL_MODEL_HEADER='"name.h"' -DHIL_MODEL=name_model.
 */
#include <stdio.h>
#include <string.h>

#include HIL_MODEL_HEADER

static void write_layer_output(void *context, uint32_t layer)
{
    const hil_model *model = (const hil_model *)context;
    const hil_layer_info *info = &model->layers[layer];
    fwrite(model->arena + info->output_offset, 1, info->output_bytes, stdout);
}

int main(int argc, char **argv)
{
    const hil_model *model = &HIL_MODEL;
    int dump_layers = 0;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--layers") == 0) {
            dump_layers = 1;
        } else {
            fprintf(stderr, "usage: %s [--layers] < inputs > outputs\n", argv[0]);
            return 2;
        }
    }
    const hil_observer observer = {NULL, write_layer_output, (void *)model};
    uint8_t *input = model->arena + model->input.arena_offset;
    for (;;) {
        const size_t got = fread(input, 1, model->input.bytes, stdin);
        if (got == 0 && feof(stdin)) {
            return 0;
        }
        if (got != model->input.bytes) {
            fprintf(stderr, "short input record: %zu of %u bytes\n", got, (unsigned)model->input.bytes);
            return 2;
        }
        uint32_t failed_layer = 0;
        const hil_status status = model->invoke(dump_layers ? &observer : NULL, &failed_layer);
        if (status != HIL_OK) {
            fprintf(stderr, "layer %u (%s) failed with status %d\n", (unsigned)failed_layer,
                    model->layers[failed_layer].name, (int)status);
            return 3;
        }
        fwrite(model->arena + model->output.arena_offset, 1, model->output.bytes, stdout);
    }
}
