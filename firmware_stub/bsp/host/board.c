/*
 * Host board: the firmware as a native process. The "UART" is a TCP connection on loopback:
 * the process listens on an ephemeral port, prints "HIL_LINK_PORT <port>" on stdout for the
 * harness, and serves the first connection. The counter is CLOCK_MONOTONIC in ns. The stack
 * cannot be measured (HIL_ERROR_UNSUPPORTED).
 */
#define _POSIX_C_SOURCE 200809L

#include "hil_board.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int link_fd = -1;

/* Without a socket there is no link to report anything on: every failure is HIL_ERROR_CLOSED. */
hil_status hil_board_init(const char **failure)
{
    const int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0) {
        *failure = "cannot create the link's socket";
        return HIL_ERROR_CLOSED;
    }
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0; /* the kernel picks a free port: no race with other runs */
    socklen_t length = sizeof(address);
    if (bind(listener, (struct sockaddr *)&address, sizeof(address)) != 0 || listen(listener, 1) != 0 ||
        getsockname(listener, (struct sockaddr *)&address, &length) != 0) {
        close(listener);
        *failure = "cannot listen on a loopback port";
        return HIL_ERROR_CLOSED;
    }
    printf("HIL_LINK_PORT %u\n", (unsigned)ntohs(address.sin_port));
    fflush(stdout);
    link_fd = accept(listener, NULL, NULL);
    close(listener);
    if (link_fd < 0) {
        *failure = "the harness never connected";
        return HIL_ERROR_CLOSED;
    }
    const int one = 1;
    setsockopt(link_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* small frames, no Nagle delay */
    *failure = NULL;
    return HIL_OK;
}

hil_status hil_board_uart_read(uint8_t *byte)
{
    if (byte == NULL) {
        return HIL_ERROR_ARGUMENT;
    }
    for (;;) {
        const ssize_t got = recv(link_fd, byte, 1, 0);
        if (got == 1) {
            return HIL_OK;
        }
        if (got == 0 || errno != EINTR) {
            return HIL_ERROR_CLOSED; /* the harness closed the link, or the socket failed */
        }
    }
}

hil_status hil_board_uart_write(const uint8_t *data, size_t length)
{
    while (length > 0) {
        const ssize_t sent = send(link_fd, data, length, 0);
        if (sent < 0 && errno == EINTR) {
            continue;
        }
        if (sent <= 0) {
            return HIL_ERROR_CLOSED;
        }
        data += sent;
        length -= (size_t)sent;
    }
    return HIL_OK;
}

/* A process is never in a fault handler here (hil_fault.h): the ordinary write is the polled one. */
hil_status hil_board_uart_write_polled(const uint8_t *data, size_t length)
{
    return hil_board_uart_write(data, length);
}

uint32_t hil_board_counter(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint32_t)((uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec);
}

void hil_board_counter_align(void)
{
    /* Nanoseconds from the OS clock: nothing to align, runs vary anyway. */
}

hil_counter_unit hil_board_counter_unit(void)
{
    return HIL_COUNTER_NANOSECONDS;
}

hil_status hil_board_counter_hz(uint32_t *hz)
{
    if (hz == NULL) {
        return HIL_ERROR_ARGUMENT;
    }
    *hz = 1000000000u;
    return HIL_OK;
}

hil_reset_reason hil_board_reset_reason(void)
{
    return HIL_RESET_POWER_ON;
}

void hil_board_exit(int code)
{
    if (link_fd >= 0) {
        close(link_fd);
    }
    exit(code);
}

/* A native process' stack belongs to the OS (its size, guard pages, what libc and the kernel
 * put on it): painting it below the caller would be guesswork, so the host build does not. */
hil_status hil_board_stack_mark(void)
{
    return HIL_ERROR_UNSUPPORTED;
}

hil_status hil_board_stack_used(uint32_t *bytes)
{
    (void)bytes;
    return HIL_ERROR_UNSUPPORTED;
}

hil_status hil_board_stack_size(uint32_t *bytes)
{
    (void)bytes;
    return HIL_ERROR_UNSUPPORTED;
}
