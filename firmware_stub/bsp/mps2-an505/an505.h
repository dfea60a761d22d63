/*
 * Private to the mps2-an505 board support (board.c, fault_report.c): semihosting, QEMU's console
 * and exit. Nothing outside bsp/mps2-an505/ includes this.
 */
#ifndef HIL_AN505_H
#define HIL_AN505_H

/* Semihosting SYS_WRITE0: a NUL-terminated string to QEMU's console (its stdout/stderr). */
void an505_semihosting_write(const char *text);

/* Semihosting SYS_EXIT_EXTENDED: QEMU exits with `code` as its exit status. */
void an505_semihosting_exit(int code) __attribute__((noreturn));

#endif /* HIL_AN505_H */
