/*
 * What generated model code exports: one hil_model descriptor per model. The application
 * loop is written against this descriptor only, so it is the same C for every model.
 */
#ifndef HIL_MODEL_H
#define HIL_MODEL_H

#include <stdint.h>

#include "hil_types.h"

#define HIL_MAX_RANK 6

/* Named sections, so footprint tools and linker scripts can find weights and the arena. */
#define HIL_WEIGHTS __attribute__((section(".hil_weights"), aligned(4)))
#define HIL_ARENA __attribute__((section(".bss.hil_arena"), aligned(16)))

typedef enum {
    HIL_DTYPE_INT8 = 1,
    HIL_DTYPE_FLOAT32 = 2,
    HIL_DTYPE_INT32 = 3
} hil_dtype;

typedef struct {
    hil_dtype dtype;
    uint32_t rank;
    int32_t dims[HIL_MAX_RANK];
    uint32_t bytes;
    uint32_t arena_offset; /* the tensor lives inside the arena: write inputs, read outputs there */
    float scale;           /* 0 for an unquantized (float) tensor */
    int32_t zero_point;
} hil_tensor_info;

/* What the device needs of a layer; its name, operator and MACs stay with the harness (the compile). */
typedef struct {
    uint32_t output_offset; /* where a layer run whole leaves its output (a streamed one has no such place) */
    uint32_t output_bytes;
} hil_layer_info;

/* Called around every layer: timing runs read a counter here, debug builds copy tensors out. */
typedef struct {
    void (*before_layer)(void *context, uint32_t layer);
    /* The layer wrote bytes [offset, offset + bytes) of its output, now at `data`: all of it at
     * once for a layer run whole; band by band, in order, for a streamed layer (so the calls of
     * different layers interleave and before/after pair up per band). */
    void (*after_layer)(void *context, uint32_t layer, uint32_t offset, const uint8_t *data, uint32_t bytes);
    void *context;
} hil_observer;

/* Runs one layer run whole on the arena; generated per model (a switch of kernel calls). */
typedef hil_status (*hil_layer_runner)(uint32_t layer, uint8_t *arena);

struct hil_stream; /* hil_stream.h */

/* The model's name is the prefix of its symbols; the firmware does not need it as a string. */
typedef struct {
    const char *sha256;    /* of the .tflite file the code was generated from */
    uint8_t *arena;
    uint32_t arena_size;
    hil_tensor_info input;
    hil_tensor_info output;
    uint32_t layer_count;
    const hil_layer_info *layers;
    uint32_t stream_count;
    const struct hil_stream *const *streams; /* in layer order; each runs its layers in place of them */
    /* Runs every layer in order; on failure returns the status and the failing layer. */
    hil_status (*invoke)(const hil_observer *observer, uint32_t *failed_layer);
} hil_model;

/* The generated invoke: every layer of `model` in order, through `run` with the observer's calls
 * around it, or through its stream (hil_stream_run, which makes them band by band). */
hil_status hil_run_layers(const hil_model *model, hil_layer_runner run, const hil_observer *observer,
                          uint32_t *failed_layer);

static inline void hil_observe_before(const hil_observer *observer, uint32_t layer)
{
    if (observer != 0 && observer->before_layer != 0) {
        observer->before_layer(observer->context, layer);
    }
}

static inline void hil_observe_after(const hil_observer *observer, uint32_t layer, uint32_t offset,
                                     const uint8_t *data, uint32_t bytes)
{
    if (observer != 0 && observer->after_layer != 0) {
        observer->after_layer(observer->context, layer, offset, data, bytes);
    }
}

#endif /* HIL_MODEL_H */
