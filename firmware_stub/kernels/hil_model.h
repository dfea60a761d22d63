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

/* What the device needs of a layer; its operator and MACs stay with the harness (the compile). */
typedef struct {
    const char *name;      /* e.g. "op03_conv_2d", for error messages */
    uint32_t output_offset;
    uint32_t output_bytes;
} hil_layer_info;

/* Called around every layer: timing runs read a counter here, debug builds copy tensors out. */
typedef struct {
    void (*before_layer)(void *context, uint32_t layer);
    void (*after_layer)(void *context, uint32_t layer);
    void *context;
} hil_observer;

/* The model's name is the prefix of its symbols; the firmware does not need it as a string. */
typedef struct {
    const char *sha256;    /* of the .tflite file the code was generated from */
    uint8_t *arena;
    uint32_t arena_size;
    hil_tensor_info input;
    hil_tensor_info output;
    uint32_t layer_count;
    const hil_layer_info *layers;
    /* Runs every layer in order; on failure returns the status and the failing layer. */
    hil_status (*invoke)(const hil_observer *observer, uint32_t *failed_layer);
} hil_model;

/* Used by generated invoke functions: one statement per layer. */
#define HIL_RUN_LAYER(index, call)                                             \
    do {                                                                       \
        if (observer != 0 && observer->before_layer != 0) {                    \
            observer->before_layer(observer->context, (index));                \
        }                                                                      \
        hil_status layer_status_ = (call);                                     \
        if (observer != 0 && observer->after_layer != 0) {                     \
            observer->after_layer(observer->context, (index));                 \
        }                                                                      \
        if (layer_status_ != HIL_OK) {                                         \
            if (failed_layer != 0) {                                           \
                *failed_layer = (index);                                       \
            }                                                                  \
            return layer_status_;                                              \
        }                                                                      \
    } while (0)

#endif /* HIL_MODEL_H */
