"""The Cortex-M debug registers QEMU does not implement, served from its gdbstub.

QEMU's M-profile CPU has no halting debug: DHCSR, DCRSR, DCRDR, DEMCR and DFSR read 0 and ignore
writes, its ROM table reads 0 and its SCS answers with v7-M-era IDs. A debugger (pyOCD) drives a
core only through those registers, so this model keeps them and turns their effects into
gdbstub requests:

  DHCSR  C_HALT -> ^C; C_HALT cleared -> c (or s with C_STEP); C_DEBUGEN cleared -> c as well;
         S_HALT and S_REGRDY from the model's state; S_RESET_ST set by a reset and cleared when
         read. Writes need DBGKEY. C_MASKINTS is kept: QEMU steps with interrupts masked anyway.
  DCRSR  REGSEL -> p/P of the register the stub names (r0-r12, sp, lr, pc, xpsr, fpscr; s0-s31
         as halves of d0-d15; msp and psp where the stub has them, QEMU 7.2's has not). A
         register the stub lacks, or any transfer while the core runs, leaves S_REGRDY clear,
         and pyOCD reports the register as unreadable.
  DCRDR  the transfer value.
  DEMCR  kept; VC_CORERESET halts the core after a reset. Other vector catches are kept but
         cannot halt the core: QEMU has no way to stop on an exception.
  DFSR   HALTED after a requested halt or step, VCATCH after a caught reset; write 1 to clear.
  AIRCR  a write with VECTKEY and SYSRESETREQ -> monitor `system_reset` (a whole-machine reset;
         QEMU reloads SP and PC from the vector table); other writes and all reads go to QEMU.

The CoreSight identification the debugger reads during discovery is served as on a Cortex-M33:
a Class 0x1 ROM table at 0xE00FF000 whose only entry is the SCS at 0xE000E000, and the SCS's
CoreSight IDs (part 0xD21, DEVARCH v8-M debug). DWT, FPB and ITM are not listed: QEMU has none.
Everything else goes to memory through the stub.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from harness.device.pyocd.gdbremote import GdbRemote

DFSR = 0xE000ED30
DHCSR = 0xE000EDF0
DCRSR = 0xE000EDF4
DCRDR = 0xE000EDF8
DEMCR = 0xE000EDFC
AIRCR = 0xE000ED0C

DBGKEY = 0xA05F << 16
C_DEBUGEN, C_HALT, C_STEP, C_MASKINTS = 1 << 0, 1 << 1, 1 << 2, 1 << 3
S_REGRDY, S_HALT, S_RESET_ST = 1 << 16, 1 << 17, 1 << 25
DCRSR_REGWNR = 1 << 16
DCRSR_REGSEL = 0x7F
DEMCR_VC_CORERESET = 1 << 0
DFSR_HALTED, DFSR_VCATCH = 1 << 0, 1 << 3
AIRCR_VECTKEY = 0x05FA << 16
AIRCR_SYSRESETREQ = 1 << 2

SCS = 0xE000E000
ROM_TABLE = 0xE00FF000
_CIDR_PREAMBLE = (0x0D, 0x05, 0xB1)  # CIDR0, CIDR2, CIDR3; CIDR1 carries the class


def _identity(base: int, part: int, component_class: int, extra: dict[int, int]) -> dict[int, int]:
    """The CoreSight ID registers of an Arm component (JEP106 0x43B) at `base`."""
    pidr = (part & 0xFF, (part >> 8) | 0xB0, 0x0B, 0x00)  # designer 0x3B, JEDEC, revision 0
    cidr = (_CIDR_PREAMBLE[0], component_class << 4, *_CIDR_PREAMBLE[1:])
    words = {base + 0xFD0: 0x04}  # PIDR4: JEP106 continuation 4; PIDR5-7 read 0
    words.update({base + 0xFE0 + 4 * i: byte for i, byte in enumerate(pidr)})
    words.update({base + 0xFF0 + 4 * i: byte for i, byte in enumerate(cidr)})
    words.update({base + offset: value for offset, value in extra.items()})
    return words


# Word address -> value of every identification register served.
IDENTIFICATION = {
    **_identity(ROM_TABLE, 0x4C9, 0x1, {
        0x000: ((SCS - ROM_TABLE) & 0xFFFFF000) | 0x3,  # entry 0: the SCS, present, 32-bit format
        0xFCC: 0x1,  # MEMTYPE: system memory on this bus
    }),
    **_identity(SCS, 0xD21, 0x9, {
        0xFBC: (0x23B << 21) | (1 << 20) | 0x2A04,  # DEVARCH: Arm, present, v8-M debug
    }),
}
_SCS_IDENTIFICATION = SCS + 0xFBC  # DEVARCH .. CIDR3: the end of the SCS page
_SERVED_SPAN = (AIRCR, ROM_TABLE + 0x1000)  # every served word lies in here

# DCRSR REGSEL -> the stub's register name (v8-M numbering).
_CORE_REGISTERS = {
    **{n: f"r{n}" for n in range(13)},
    13: "sp", 14: "lr", 15: "pc", 16: "xpsr", 17: "msp", 18: "psp", 33: "fpscr",
}
_SINGLE_FLOAT = 0x40  # s0 .. s31 = 0x40 .. 0x5F


class CortexMDebug:
    """The debug state of the one core behind a gdbstub, and the registers that expose it."""

    def __init__(self, stub: GdbRemote) -> None:
        self.stub = stub
        self._registers = stub.registers()
        self._control = 0  # DHCSR C_* bits as last written
        self._reset_seen = False
        self._register_ready = True
        self._dcrdr = 0
        self._demcr = 0
        self._dfsr = DFSR_HALTED  # QEMU started with -S, and connecting a debugger stops it
        self.reset_held = False

    @property
    def halted(self) -> bool:
        return not self.stub.running

    # --- the register file ----------------------------------------------------------------

    @staticmethod
    def overlaps(address: int, length: int) -> bool:
        """Whether [address, address + length) may hold a served word (a fast test for big blocks)."""
        return address < _SERVED_SPAN[1] and address + length > _SERVED_SPAN[0]

    @staticmethod
    def serves(address: int) -> bool:
        """Whether the word at `address` is served here rather than by QEMU's memory."""
        word = address & ~3
        return word in (DFSR, DHCSR, DCRSR, DCRDR, DEMCR, AIRCR) or (word & ~0xFFF) == ROM_TABLE \
            or _SCS_IDENTIFICATION <= word < SCS + 0x1000

    def read(self, address: int) -> int:
        self.stub.check()  # a core whose emulator is gone has no state to report
        word = address & ~3
        if word == DHCSR:
            return self._read_dhcsr()
        if word == AIRCR:
            return int.from_bytes(self.read_memory(word, 4), "little")
        served = {DCRDR: self._dcrdr, DEMCR: self._demcr, DFSR: self._dfsr}  # DCRSR is write-only: 0
        return served.get(word, IDENTIFICATION.get(word, 0))

    def write(self, address: int, value: int) -> None:
        self.stub.check()
        word = address & ~3
        if word == DHCSR:
            self._write_dhcsr(value)
        elif word == DCRSR:
            self._transfer(value)
        elif word == DCRDR:
            self._dcrdr = value
        elif word == DEMCR:
            self._demcr = value
        elif word == DFSR:
            self._dfsr &= ~value
        elif word == AIRCR:
            if (value & 0xFFFF0000) == AIRCR_VECTKEY and value & AIRCR_SYSRESETREQ:
                self.reset()
            else:
                self.write_memory(word, value.to_bytes(4, "little"))
        # Identification registers are read-only: writes are ignored, as on the hardware.

    # --- run control ----------------------------------------------------------------------

    def _read_dhcsr(self) -> int:
        value = self._control | (S_REGRDY if self._register_ready else 0)
        if self.halted:
            value |= S_HALT | C_HALT
        if self._reset_seen:
            value |= S_RESET_ST
            self._reset_seen = False
        return value

    def _write_dhcsr(self, value: int) -> None:
        if (value & 0xFFFF0000) != DBGKEY:
            return
        self._control = value & (C_DEBUGEN | C_MASKINTS)
        if not value & C_DEBUGEN:
            # Without halting debug enabled the core cannot stay halted.
            self._run()
        elif value & C_HALT:
            self.halt()
        elif self.halted and value & C_STEP:
            self.stub.step()
            self._dfsr |= DFSR_HALTED
        else:
            self._run()

    def halt(self) -> None:
        """A debugger's halt request."""
        if not self.halted:
            self.stub.interrupt()
            self._dfsr |= DFSR_HALTED

    def _run(self) -> None:
        if self.halted and not self.reset_held:
            self.stub.cont()

    def reset(self) -> None:
        """A system reset: the core runs from the vector table, or stays halted on its reset
        vector when DEMCR.VC_CORERESET asks for it (or while reset is held)."""
        if not self.halted:
            self.stub.interrupt()
        self.stub.monitor("system_reset")
        self._reset_seen = True
        if self._demcr & DEMCR_VC_CORERESET:
            self._dfsr |= DFSR_VCATCH
        else:
            self._run()

    # --- core register transfers (DCRSR) ----------------------------------------------------

    def _transfer(self, value: int) -> None:
        selector = value & DCRSR_REGSEL
        write = bool(value & DCRSR_REGWNR)
        self._register_ready = False
        if not self.halted:
            return  # as on the hardware: no transfer while the core runs
        if _SINGLE_FLOAT <= selector < _SINGLE_FLOAT + 32:
            register = self._registers.get(f"d{(selector - _SINGLE_FLOAT) // 2}")
            shift = 32 * ((selector - _SINGLE_FLOAT) % 2)
        else:
            register = self._registers.get(_CORE_REGISTERS.get(selector, ""))
            shift = 0
        if register is None:
            return  # the stub has no such register: S_REGRDY stays clear
        if write and shift == 0 and register.size == 4:
            self.stub.write_register(register, self._dcrdr)
        elif write:
            whole = self.stub.read_register(register)
            whole = (whole & ~(0xFFFFFFFF << shift)) | ((self._dcrdr & 0xFFFFFFFF) << shift)
            self.stub.write_register(register, whole)
        else:
            self._dcrdr = (self.stub.read_register(register) >> shift) & 0xFFFFFFFF
        self._register_ready = True

    # --- memory of the target itself ----------------------------------------------------------

    def read_memory(self, address: int, length: int) -> bytes:
        with self._still():
            return self.stub.read_memory(address, length)

    def write_memory(self, address: int, data: bytes) -> None:
        with self._still():
            self.stub.write_memory(address, data)

    @contextmanager
    def _still(self) -> Iterator[None]:
        """Hold a running core still for one access: QEMU serves no memory while the machine runs.
        The firmware cannot tell: its time is counted in instructions, and none run meanwhile."""
        if self.halted:
            yield
            return
        self.stub.interrupt()
        try:
            yield
        finally:
            self.stub.cont()
