/*
 * Native batch runner for engine tests: reads inputs from stdin, writes outputs to stdout.
 *
 * Each record on stdin is one input tensor (model->input.bytes). For each, stdout gets the
 * output tensor, preceded by every layer's output tensor when run with --layers.
 * Exit status: 0 after the last whole record, 2 on a short record or bad argument,
 * 3 when a kernel fails (its layer's index and status go to stderr).
 *
 * Build with -DHIL_MODEL_HEADER='"name.h"' -DHIL_MODEL=name_model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include HIL_MODEL_HEADER

/* Every layer's output, assembled from what the observer reports (a streamed layer: band by band)
 * into one buffer, layer after layer, and written once the record has run. */
typedef struct {
    uint8_t *outputs;
    size_t *starts; /* where each layer's output begins in `outputs` */
} layer_dump;

static void keep_layer_output(void *context, uint32_t layer, uint32_t offset, const uint8_t *data, uint32_t bytes)
{
    const layer_dump *dump = (const layer_dump *)context;
    memcpy(dump->outputs + dump->starts[layer] + offset, data, bytes);
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
    size_t *starts = malloc(model->layer_count * sizeof *starts);
    size_t dumped_bytes = 0;
    for (uint32_t layer = 0; starts != NULL && layer < model->layer_count; ++layer) {
        starts[layer] = dumped_bytes;
        dumped_bytes += model->layers[layer].output_bytes;
    }
    const layer_dump dump = {starts != NULL ? malloc(dumped_bytes) : NULL, starts};
    if (dump.outputs == NULL) {
        fprintf(stderr, "out of memory for the layers' outputs (%zu bytes)\n", dumped_bytes);
        return 2;
    }
    const hil_observer observer = {NULL, keep_layer_output, (void *)&dump};
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
            fprintf(stderr, "layer %u failed with status %d\n", (unsigned)failed_layer, (int)status);
            return 3;
        }
        if (dump_layers) {
            fwrite(dump.outputs, 1, dumped_bytes, stdout);
        }
        fwrite(model->arena + model->output.arena_offset, 1, model->output.bytes, stdout);
    }
}
