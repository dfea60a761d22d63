/*
 * The device's request handlers (docs/protocol.md, "Messages"): HELLO, WRITE_INPUT, INFER,
 * READ_OUTPUT, TIME, READ_LAYER, MEASURE_STACK. One request in, one response out; a request that repeats the
 * last executed one (same type, seq and CRC) gets the stored response again instead of running
 * twice. A board that did not start answers every request with ERROR 7 instead.
 *
 * The build provides, as -D macros:
 *   HIL_MODEL_HEADER       the generated header, e.g. "example.h"
 *   HIL_MODEL              its descriptor, e.g. example_model
 *   HIL_MODEL_INPUT_BYTES  the model's input tensor size in bytes (sizes the staging buffer)
 *   HIL_TARGET_ID          e.g. "qemu-m33"
 *   HIL_BUILD_ID           project git revision, compiler and flags
 */
#ifndef HIL_COMMANDS_H
#define HIL_COMMANDS_H

#include "hil_model.h"
#include "link.h"

#define HIL_PROTOCOL_VERSION 4u

/* Error codes of the ERROR response. */
typedef enum {
    HIL_ERROR_CODE_UNKNOWN_REQUEST = 1,  /* detail: the request type */
    HIL_ERROR_CODE_BAD_ARGUMENT = 2,     /* detail: the limit that was exceeded */
    HIL_ERROR_CODE_INPUT_INCOMPLETE = 3, /* detail: bytes of the input staged so far */
    HIL_ERROR_CODE_KERNEL_FAILED = 4,    /* detail: the failing layer */
    HIL_ERROR_CODE_NO_OUTPUT = 5,        /* detail: 0; no run has completed (or the last one failed) */
    HIL_ERROR_CODE_NOT_SUPPORTED = 6,    /* detail: the board's hil_status; not supported on this board */
    HIL_ERROR_CODE_BOARD_FAILED = 7      /* detail: hil_board_init's status; the message says what failed */
} hil_error_code;

/*
 * Checks that the model is the one the build was configured for (input size, SHA-256 text,
 * layer count within the protocol's fields) and clears the request state.
 * HIL_ERROR_ARGUMENT when it is not: the firmware must not serve a model it cannot describe.
 * `board` and `board_failure` are what hil_board_init returned: when the board did not start,
 * every request is answered with ERROR 7 naming the failure.
 */
hil_status hil_commands_init(const hil_model *model, hil_status board, const char *board_failure);

/* Executes (or replays) one well-formed request and sends its response. Fails when sending fails. */
hil_status hil_commands_handle(const hil_packet *request);

#endif /* HIL_COMMANDS_H */
