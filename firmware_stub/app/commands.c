/* The request handlers of docs/protocol.md (see commands.h). */
#include "commands.h"

#include <string.h>

#include "hil_board.h"
#include "hil_dsp.h"
#include "hil_text.h"

#ifndef HIL_MODEL_INPUT_BYTES
#error "build with -DHIL_MODEL_INPUT_BYTES=<the model's input tensor bytes> (harness/build/firmware.py passes it)"
#endif
#ifndef HIL_TARGET_ID
#error "build with -DHIL_TARGET_ID='\"<target id>\"' (harness/build/firmware.py passes it)"
#endif
#ifndef HIL_BUILD_ID
#error "build with -DHIL_BUILD_ID='\"<git revision> <compiler> <flags>\"' (harness/build/firmware.py passes it)"
#endif

#define HIL_STATIC_ASSERT(condition, name) typedef char hil_static_assert_##name[(condition) ? 1 : -1]

#define TARGET_ID_BYTES (sizeof(HIL_TARGET_ID) - 1u)
#define BUILD_ID_BYTES (sizeof(HIL_BUILD_ID) - 1u)
#define TENSOR_INFO_BYTES (1u + 1u + 4u * HIL_MAX_RANK + 4u + 4u + 4u)
#define INFO_BYTES (2u + 2u + 1u + 4u + 1u + 4u + 2u + 2u * TENSOR_INFO_BYTES + 32u + 1u + TARGET_ID_BYTES + 2u + BUILD_ID_BYTES)
#define ERROR_HEADER_BYTES 5u /* code:u8 detail:u32 */
#define TIMED_HEADER_BYTES 4u /* runs:u16 layers:u16 */
#define LAYER_DATA_HEADER_BYTES 4u /* layer_bytes:u32 */
#define STACK_BYTES 8u /* used:u32 size:u32 */

HIL_STATIC_ASSERT(TARGET_ID_BYTES <= 255u, target_id_fits_its_u8_length);
HIL_STATIC_ASSERT(INFO_BYTES <= HIL_LINK_MAX_BODY, info_fits_one_frame_shorten_the_build_id);
HIL_STATIC_ASSERT(HIL_MODEL_INPUT_BYTES > 0u, model_has_an_input);

/* All of the harness's state is in .bss.hil_harness (link.h), apart from the model's arena. */

/* The input as the host writes it, kept apart from the arena: the arena's input region is
 * overwritten during a run, and TIME and READ_LAYER run the same input again. `staged_bytes`
 * is the contiguous prefix written since the last write at offset 0. */
static uint8_t staged_input[HIL_MODEL_INPUT_BYTES] HIL_HARNESS_BSS;
static uint32_t staged_bytes HIL_HARNESS_BSS;
static int output_valid HIL_HARNESS_BSS; /* the output tensor holds the result of a completed run */

static const hil_model *model HIL_HARNESS_BSS;
static uint8_t model_sha256[32] HIL_HARNESS_BSS;

/* What hil_board_init returned: anything but HIL_OK turns every answer into ERROR 7. */
static hil_status board_status HIL_HARNESS_BSS;
static const char *board_failure HIL_HARNESS_BSS;

/* The stored response (in link.c's transmit buffer) answers this request. */
static int have_last HIL_HARNESS_BSS;
static uint8_t last_type HIL_HARNESS_BSS;
static uint8_t last_seq HIL_HARNESS_BSS;
static uint32_t last_crc HIL_HARNESS_BSS;

typedef struct {
    uint8_t type;
    uint16_t length;
} reply;

/* ---- small writers (no printf on the device) ---- */

/* A response body is bytes; these append text at offset `at`, within `capacity` (hil_text.h). */
static size_t append_text(uint8_t *out, size_t at, size_t capacity, const char *text)
{
    char *const base = (char *)out;
    return (size_t)(hil_text_append(base + at, base + capacity, text) - base);
}

static size_t append_decimal(uint8_t *out, size_t at, size_t capacity, uint32_t value)
{
    char *const base = (char *)out;
    return (size_t)(hil_text_decimal(base + at, base + capacity, value) - base);
}

static uint8_t *put_tensor(uint8_t *out, const hil_tensor_info *tensor)
{
    uint32_t scale_bits;
    memcpy(&scale_bits, &tensor->scale, sizeof(scale_bits));
    *out++ = (uint8_t)tensor->dtype;
    *out++ = (uint8_t)tensor->rank;
    for (uint32_t d = 0; d < HIL_MAX_RANK; ++d) {
        hil_put_u32(out, d < tensor->rank ? (uint32_t)tensor->dims[d] : 0u);
        out += 4;
    }
    hil_put_u32(out, tensor->bytes);
    hil_put_u32(out + 4, scale_bits);
    hil_put_u32(out + 8, (uint32_t)tensor->zero_point);
    return out + 12;
}

static const char *status_name(hil_status status)
{
    switch (status) {
    case HIL_OK:
        return "ok";
    case HIL_ERROR_ARGUMENT:
        return "HIL_ERROR_ARGUMENT";
    case HIL_ERROR_SHAPE:
        return "HIL_ERROR_SHAPE";
    case HIL_ERROR_UNSUPPORTED:
        return "HIL_ERROR_UNSUPPORTED";
    case HIL_ERROR_CLOSED:
        return "HIL_ERROR_CLOSED";
    case HIL_ERROR_TIMEOUT:
        return "HIL_ERROR_TIMEOUT";
    case HIL_ERROR_OVERRUN:
        return "HIL_ERROR_OVERRUN";
    }
    return "unknown status";
}

/* ---- ERROR ---- */

/* An ERROR body: code, detail, then `format` with each '#' replaced by the next of `numbers`. */
static reply error_reply(hil_error_code code, uint32_t detail, const char *format, const uint32_t *numbers)
{
    uint8_t *const body = hil_link_response_body();
    body[0] = (uint8_t)code;
    hil_put_u32(&body[1], detail);
    size_t at = ERROR_HEADER_BYTES;
    for (; *format != '\0' && at < HIL_LINK_MAX_BODY; ++format) {
        if (*format == '#') {
            at = append_decimal(body, at, HIL_LINK_MAX_BODY, *numbers++);
        } else {
            body[at++] = (uint8_t)*format;
        }
    }
    const reply r = {HIL_MSG_ERROR, (uint16_t)at};
    return r;
}

static reply bad_body_length(const hil_packet *request, uint32_t expected)
{
    return error_reply(HIL_ERROR_CODE_BAD_ARGUMENT, expected, "request body has # bytes, this request takes #",
                       (const uint32_t[]){request->length, expected});
}

static reply input_incomplete(void)
{
    return error_reply(HIL_ERROR_CODE_INPUT_INCOMPLETE, staged_bytes, "input not fully written: # of # bytes staged",
                       (const uint32_t[]){staged_bytes, model->input.bytes});
}

static reply kernel_failed(hil_status status, uint32_t layer)
{
    output_valid = 0;
    /* The harness names the layer: it compiled the model (the device keeps no names). */
    reply r = error_reply(HIL_ERROR_CODE_KERNEL_FAILED, layer, "layer # failed: ", (const uint32_t[]){layer});
    uint8_t *const body = hil_link_response_body();
    size_t at = append_text(body, r.length, HIL_LINK_MAX_BODY, status_name(status));
    r.length = (uint16_t)at;
    return r;
}

static reply board_failed(void)
{
    reply r = error_reply(HIL_ERROR_CODE_BOARD_FAILED, (uint32_t)board_status, "board init failed: ", 0);
    uint8_t *const body = hil_link_response_body();
    r.length = (uint16_t)append_text(body, r.length, HIL_LINK_MAX_BODY,
                                     board_failure != 0 ? board_failure : status_name(board_status));
    return r;
}

/* ---- running the model ---- */

static void copy_staged_input(void)
{
    memcpy(model->arena + model->input.arena_offset, staged_input, model->input.bytes);
}

typedef struct {
    uint8_t *layer_ticks; /* TIMED body: one u32 per layer */
    uint32_t started;
} timing_observer;

static void timing_before_layer(void *context, uint32_t layer)
{
    (void)layer;
    ((timing_observer *)context)->started = hil_board_counter();
}

static void timing_after_layer(void *context, uint32_t layer, uint32_t offset, const uint8_t *data, uint32_t bytes)
{
    (void)offset;
    (void)data;
    (void)bytes;
    const uint32_t now = hil_board_counter();
    timing_observer *timing = (timing_observer *)context;
    uint8_t *const total = timing->layer_ticks + 4u * layer; /* a streamed layer adds up its bands */
    hil_put_u32(total, hil_get_u32(total) + (now - timing->started));
}

typedef struct {
    uint32_t offset;
    uint32_t length;
    uint8_t *out;
    uint32_t layer;
} capture_observer;

/* Keeps the part of what the layer wrote that falls in [capture offset, + length). */
static void capture_after_layer(void *context, uint32_t layer, uint32_t offset, const uint8_t *data, uint32_t bytes)
{
    const capture_observer *capture = (const capture_observer *)context;
    if (layer != capture->layer) {
        return;
    }
    const uint32_t from = offset > capture->offset ? offset : capture->offset;
    const uint32_t end = capture->offset + capture->length, data_end = offset + bytes;
    const uint32_t to = data_end < end ? data_end : end;
    if (from < to) {
        memcpy(capture->out + (from - capture->offset), data + (from - offset), to - from);
    }
}

/* Which fast paths this image was built with (INFO's cpu_features, docs/protocol.md): the harness
 * holds them against its target's cpu_features, so a fast path that silently turned off is caught. */
static uint8_t built_cpu_features(void)
{
    uint8_t features = 0u;
#if HIL_DSP_INSTRUCTIONS
    features |= 1u; /* the kernels' DSP paths, on the instructions themselves */
#endif
#if defined(__ARM_FP)
    features |= 2u; /* hardware floating point (QUANTIZE, DEQUANTIZE) */
#endif
    return features;
}

/* ---- handlers ---- */

static reply handle_hello(const hil_packet *request)
{
    if (request->length != 0u) {
        return bad_body_length(request, 0u);
    }
    uint8_t *const body = hil_link_response_body();
    uint8_t *out = body;
    hil_put_u16(out, HIL_PROTOCOL_VERSION);
    hil_put_u16(out + 2, HIL_LINK_MAX_BODY);
    out[4] = (uint8_t)hil_board_counter_unit();
    uint32_t counter_hz;
    if (hil_board_counter_hz(&counter_hz) != HIL_OK) {
        counter_hz = 0u; /* on the wire, 0 says the counter has no fixed rate (docs/protocol.md) */
    }
    hil_put_u32(out + 5, counter_hz);
    out[9] = (uint8_t)hil_board_reset_reason();
    hil_put_u32(out + 10, model->arena_size);
    hil_put_u16(out + 14, (uint16_t)model->layer_count);
    out[16] = built_cpu_features();
    out = put_tensor(out + 17, &model->input);
    out = put_tensor(out, &model->output);
    memcpy(out, model_sha256, sizeof(model_sha256));
    out += sizeof(model_sha256);
    *out++ = (uint8_t)TARGET_ID_BYTES;
    memcpy(out, HIL_TARGET_ID, TARGET_ID_BYTES);
    out += TARGET_ID_BYTES;
    hil_put_u16(out, (uint16_t)BUILD_ID_BYTES);
    memcpy(out + 2, HIL_BUILD_ID, BUILD_ID_BYTES);
    out += 2u + BUILD_ID_BYTES;
    const reply r = {HIL_MSG_INFO, (uint16_t)(out - body)};
    return r;
}

static reply handle_write_input(const hil_packet *request)
{
    if (request->length < 4u) {
        return bad_body_length(request, 4u);
    }
    const uint32_t offset = hil_get_u32(request->body);
    const uint32_t count = request->length - 4u;
    const uint32_t capacity = model->input.bytes;
    if (offset > capacity || count > capacity - offset) {
        return error_reply(HIL_ERROR_CODE_BAD_ARGUMENT, capacity, "write of # bytes at offset # goes past the input's # bytes",
                           (const uint32_t[]){count, offset, capacity});
    }
    if (offset > staged_bytes) {
        return error_reply(HIL_ERROR_CODE_BAD_ARGUMENT, staged_bytes,
                           "write at offset # leaves a gap after the # bytes staged: write in order from 0",
                           (const uint32_t[]){offset, staged_bytes});
    }
    if (offset == 0u) {
        staged_bytes = 0u; /* a new input */
    }
    memcpy(staged_input + offset, request->body + 4, count);
    if (offset + count > staged_bytes) {
        staged_bytes = offset + count;
    }
    hil_put_u32(hil_link_response_body(), staged_bytes);
    const reply r = {HIL_MSG_WRITTEN, 4u};
    return r;
}

/* One measured run of the staged input: it is copied in outside the window, and the counter is
 * aligned first so that counts repeat run after run. */
static hil_status timed_run(const hil_observer *observer, uint32_t *ticks, uint32_t *failed_layer)
{
    copy_staged_input();
    hil_board_counter_align();
    const uint32_t started = hil_board_counter();
    const hil_status status = model->invoke(observer, failed_layer);
    *ticks = hil_board_counter() - started;
    return status;
}

static reply handle_infer(const hil_packet *request)
{
    if (request->length != 0u) {
        return bad_body_length(request, 0u);
    }
    if (staged_bytes != model->input.bytes) {
        return input_incomplete();
    }
    uint32_t failed_layer = 0u;
    uint32_t ticks = 0u;
    const hil_status status = timed_run(0, &ticks, &failed_layer);
    if (status != HIL_OK) {
        return kernel_failed(status, failed_layer);
    }
    output_valid = 1;
    hil_put_u32(hil_link_response_body(), ticks);
    const reply r = {HIL_MSG_INFERRED, 4u};
    return r;
}

static reply handle_read_output(const hil_packet *request)
{
    if (request->length != 6u) {
        return bad_body_length(request, 6u);
    }
    const uint32_t offset = hil_get_u32(request->body);
    const uint32_t length = hil_get_u16(request->body + 4);
    const uint32_t size = model->output.bytes;
    if (length > HIL_LINK_MAX_BODY) {
        return error_reply(HIL_ERROR_CODE_BAD_ARGUMENT, HIL_LINK_MAX_BODY, "read of # bytes is longer than max_body #",
                           (const uint32_t[]){length, HIL_LINK_MAX_BODY});
    }
    if (offset > size || length > size - offset) {
        return error_reply(HIL_ERROR_CODE_BAD_ARGUMENT, size, "read of # bytes at offset # goes past the output's # bytes",
                           (const uint32_t[]){length, offset, size});
    }
    if (!output_valid) {
        return error_reply(HIL_ERROR_CODE_NO_OUTPUT, 0u, "no output: no run has completed since the last failure or reset",
                           0);
    }
    memcpy(hil_link_response_body(), model->arena + model->output.arena_offset + offset, length);
    const reply r = {HIL_MSG_OUTPUT_DATA, (uint16_t)length};
    return r;
}

static uint32_t max_timed_runs(void)
{
    const uint32_t fixed = TIMED_HEADER_BYTES + 4u * model->layer_count;
    return fixed >= HIL_LINK_MAX_BODY ? 0u : (HIL_LINK_MAX_BODY - fixed) / 4u;
}

static reply handle_time(const hil_packet *request)
{
    if (request->length != 2u) {
        return bad_body_length(request, 2u);
    }
    const uint32_t runs = hil_get_u16(request->body);
    const uint32_t most = max_timed_runs();
    if (runs == 0u || runs > most) {
        return error_reply(HIL_ERROR_CODE_BAD_ARGUMENT, most, "runs must be 1 to # per TIME request, got #",
                           (const uint32_t[]){most, runs});
    }
    if (staged_bytes != model->input.bytes) {
        return input_incomplete();
    }
    uint8_t *const body = hil_link_response_body();
    hil_put_u16(body, (uint16_t)runs);
    hil_put_u16(body + 2, (uint16_t)model->layer_count);
    timing_observer timing = {body + TIMED_HEADER_BYTES + 4u * runs, 0u};
    const hil_observer observer = {timing_before_layer, timing_after_layer, &timing};
    for (uint32_t run = 0; run < runs; ++run) {
        uint32_t failed_layer = 0u;
        uint32_t ticks = 0u;
        memset(timing.layer_ticks, 0, 4u * model->layer_count);
        const hil_status status = timed_run(&observer, &ticks, &failed_layer);
        if (status != HIL_OK) {
            return kernel_failed(status, failed_layer);
        }
        hil_put_u32(body + TIMED_HEADER_BYTES + 4u * run, ticks);
    }
    output_valid = 1;
    const reply r = {HIL_MSG_TIMED, (uint16_t)(TIMED_HEADER_BYTES + 4u * (runs + model->layer_count))};
    return r;
}

static reply handle_read_layer(const hil_packet *request)
{
    if (request->length != 8u) {
        return bad_body_length(request, 8u);
    }
    const uint32_t layer = hil_get_u16(request->body);
    const uint32_t offset = hil_get_u32(request->body + 2);
    const uint32_t length = hil_get_u16(request->body + 6);
    if (layer >= model->layer_count) {
        return error_reply(HIL_ERROR_CODE_BAD_ARGUMENT, model->layer_count, "layer # does not exist: the model has # layers",
                           (const uint32_t[]){layer, model->layer_count});
    }
    const uint32_t size = model->layers[layer].output_bytes;
    if (offset > size) {
        return error_reply(HIL_ERROR_CODE_BAD_ARGUMENT, size, "offset # is past the layer's output of # bytes",
                           (const uint32_t[]){offset, size});
    }
    if (length > HIL_LINK_MAX_BODY - LAYER_DATA_HEADER_BYTES) {
        return error_reply(HIL_ERROR_CODE_BAD_ARGUMENT, HIL_LINK_MAX_BODY - LAYER_DATA_HEADER_BYTES,
                           "read of # bytes is longer than max_body - 4 = #",
                           (const uint32_t[]){length, HIL_LINK_MAX_BODY - LAYER_DATA_HEADER_BYTES});
    }
    if (staged_bytes != model->input.bytes) {
        return input_incomplete();
    }
    uint8_t *const body = hil_link_response_body();
    capture_observer capture = {offset, length < size - offset ? length : size - offset,
                                body + LAYER_DATA_HEADER_BYTES, layer};
    const hil_observer observer = {0, capture_after_layer, &capture};
    copy_staged_input();
    uint32_t failed_layer = 0u;
    const hil_status status = model->invoke(&observer, &failed_layer);
    if (status != HIL_OK) {
        return kernel_failed(status, failed_layer);
    }
    output_valid = 1;
    hil_put_u32(body, size);
    const reply r = {HIL_MSG_LAYER_DATA, (uint16_t)(LAYER_DATA_HEADER_BYTES + capture.length)};
    return r;
}

static reply stack_not_supported(hil_status status, const char *what)
{
    reply r = error_reply(HIL_ERROR_CODE_NOT_SUPPORTED, (uint32_t)status, "not supported on this board: ", 0);
    uint8_t *const body = hil_link_response_body();
    size_t at = r.length;
    at = append_text(body, at, HIL_LINK_MAX_BODY, what);
    at = append_text(body, at, HIL_LINK_MAX_BODY, " returned ");
    at = append_text(body, at, HIL_LINK_MAX_BODY, status_name(status));
    r.length = (uint16_t)at;
    return r;
}

/* One inference on the staged input between hil_board_stack_mark() and hil_board_stack_used():
 * the stack the model and its kernels use below this handler's frame (interrupts included). The
 * input is copied before the mark, so memcpy's frame is not counted. */
static reply handle_measure_stack(const hil_packet *request)
{
    if (request->length != 0u) {
        return bad_body_length(request, 0u);
    }
    uint32_t size = 0u;
    const hil_status sized = hil_board_stack_size(&size);
    if (sized != HIL_OK) {
        return stack_not_supported(sized, "hil_board_stack_size");
    }
    if (staged_bytes != model->input.bytes) {
        return input_incomplete();
    }
    copy_staged_input();
    const hil_status marked = hil_board_stack_mark();
    if (marked != HIL_OK) {
        return stack_not_supported(marked, "hil_board_stack_mark");
    }
    uint32_t failed_layer = 0u;
    const hil_status status = model->invoke(0, &failed_layer);
    uint32_t used = 0u;
    const hil_status measured = hil_board_stack_used(&used);
    if (status != HIL_OK) {
        return kernel_failed(status, failed_layer);
    }
    if (measured != HIL_OK) {
        return stack_not_supported(measured, "hil_board_stack_used");
    }
    output_valid = 1;
    uint8_t *const body = hil_link_response_body();
    hil_put_u32(body, used);
    hil_put_u32(body + 4, size);
    const reply r = {HIL_MSG_STACK, STACK_BYTES};
    return r;
}

#if defined(HIL_TEST_FAULTS)
/*
 * Test builds only (-DHIL_TEST_FAULTS; tests/test_fault_report.py): request 0x7E faults on purpose,
 * so that the FAULT report is checked end to end. Body kind:u8 address:u32: kind 1 divides by zero
 * (UsageFault DIVBYZERO), kind 2 reads the word at `address` (a BusFault where nothing answers).
 * An answer means that no fault happened.
 */
#define HIL_MSG_TEST_FAULT 0x7Eu

/* Volatile, so the compiler emits the division instead of reasoning about the values. */
static volatile uint32_t test_dividend = 1u;
static volatile uint32_t test_divisor; /* stays 0 */

static __attribute__((noinline)) uint32_t test_fault(uint8_t kind, uint32_t address)
{
    return kind == 1u ? test_dividend / test_divisor : *(volatile const uint32_t *)(uintptr_t)address;
}

static reply handle_test_fault(const hil_packet *request)
{
    if (request->length != 5u) {
        return bad_body_length(request, 5u);
    }
    const uint32_t value = test_fault(request->body[0], hil_get_u32(request->body + 1));
    return error_reply(HIL_ERROR_CODE_BAD_ARGUMENT, value, "no fault happened: read #", (const uint32_t[]){value});
}
#endif

static reply execute(const hil_packet *request)
{
    if (board_status != HIL_OK) {
        return board_failed();
    }
    switch (request->type) {
    case HIL_MSG_HELLO:
        return handle_hello(request);
    case HIL_MSG_WRITE_INPUT:
        return handle_write_input(request);
    case HIL_MSG_INFER:
        return handle_infer(request);
    case HIL_MSG_READ_OUTPUT:
        return handle_read_output(request);
    case HIL_MSG_TIME:
        return handle_time(request);
    case HIL_MSG_READ_LAYER:
        return handle_read_layer(request);
    case HIL_MSG_MEASURE_STACK:
        return handle_measure_stack(request);
#if defined(HIL_TEST_FAULTS)
    case HIL_MSG_TEST_FAULT:
        return handle_test_fault(request);
#endif
    default:
        return error_reply(HIL_ERROR_CODE_UNKNOWN_REQUEST, request->type, "unknown request type #",
                           (const uint32_t[]){request->type});
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

hil_status hil_commands_init(const hil_model *serving, hil_status board, const char *failure)
{
    if (serving == 0 || serving->input.bytes != HIL_MODEL_INPUT_BYTES || serving->layer_count > 0xFFFFu ||
        serving->input.rank > HIL_MAX_RANK || serving->output.rank > HIL_MAX_RANK || serving->sha256 == 0) {
        return HIL_ERROR_ARGUMENT;
    }
    for (size_t i = 0; i < sizeof(model_sha256); ++i) {
        const int high = hex_value(serving->sha256[2u * i]);
        const int low = high < 0 ? -1 : hex_value(serving->sha256[2u * i + 1u]);
        if (low < 0) {
            return HIL_ERROR_ARGUMENT;
        }
        model_sha256[i] = (uint8_t)(high * 16 + low);
    }
    if (serving->sha256[2u * sizeof(model_sha256)] != '\0') {
        return HIL_ERROR_ARGUMENT;
    }
    model = serving;
    board_status = board;
    board_failure = failure;
    staged_bytes = 0u;
    output_valid = 0;
    have_last = 0;
    return HIL_OK;
}

hil_status hil_commands_handle(const hil_packet *request)
{
    if (have_last && request->type == last_type && request->seq == last_seq && request->crc == last_crc) {
        return hil_link_resend_response(); /* a retransmission: do not execute twice */
    }
    const reply r = execute(request);
    have_last = 1;
    last_type = request->type;
    last_seq = request->seq;
    last_crc = request->crc;
    return hil_link_send_response(r.type, request->seq, r.length);
}
