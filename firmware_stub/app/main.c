/*
 * The firmware's main loop: receive a frame, NAK a bad one, execute the request, answer.
 * Same C on every board; the board (bsp/<board>/) and the model (HIL_MODEL_HEADER, HIL_MODEL)
 * come from the build.
 *
 * Exit codes through hil_board_exit: 0 the link is gone (the harness closed it), 2 the board
 * could not bring up its link, 3 the model does not match the build (commands.h,
 * hil_commands_init). A board that started its link but not the rest keeps serving: it answers
 * every request with the failure (ERROR 7), which the harness can read where an exit code is lost.
 */
#include "commands.h"
#include "hil_board.h"
#include "link.h"

#include HIL_MODEL_HEADER

int main(void)
{
    const char *board_failure = 0;
    const hil_status board = hil_board_init(&board_failure);
    if (board == HIL_ERROR_CLOSED) {
        hil_board_exit(2);
        return 2;
    }
    if (hil_commands_init(&HIL_MODEL, board, board_failure) != HIL_OK) {
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
