/*
 * The firmware's main loop: receive a frame, NAK a bad one, execute the request, answer.
 * Same C on every board; the board (bsp/<board>/) and the model (HIL_MODEL_HEADER, HIL_MODEL)
 * come from the build.
 *
 * Exit codes through hil_board_exit: 0 the link is gone (the harness closed it), 2 the board
 * could not start, 3 the model does not match the build (commands.h, hil_commands_init).
 */
#include "commands.h"
#include "hil_board.h"
#include "link.h"

#include HIL_MODEL_HEADER

int main(void)
{
    if (hil_board_init() != HIL_OK) {
        hil_board_exit(2);
        return 2;
    }
    if (hil_commands_init(&HIL_MODEL) != HIL_OK) {
        hil_board_exit(3);
        return 3;
    }
    for (;;) {
        hil_packet request;
        const hil_link_result received = hil_link_receive(&request);
        hil_status sent = HIL_OK;
        if (received == HIL_LINK_CLOSED) {
            break;
        } else if (received == HIL_LINK_BAD_FRAME) {
            sent = hil_link_send_nak();
        } else {
            sent = hil_commands_handle(&request);
        }
        if (sent != HIL_OK) {
            break; /* the link is gone mid-answer */
        }
    }
    hil_board_exit(0);
    return 0;
}
