"""A pyOCD debug probe that reaches QEMU's gdbstub, so pyOCD programs the emulated board as a real one.

Unique ID: `qemu-gdb:HOST:PORT` (QEMU started with `-gdb tcp:HOST:PORT -S`). pyOCD finds the probe
type by the part before the first colon (the `qemu-gdb` entry of the `pyocd.probe` entry points),
so `pyocd flash -u qemu-gdb:127.0.0.1:1234 -t hil_mps2_an505 firmware.elf` works as it does with
an ST-LINK. No probe is listed without its address: nothing can enumerate QEMUs.

What pyOCD sees, and where each answer comes from:
  DP     an ADIv5 SW-DP (DPIDR 0x0BE12477, as on Cortex-M33 parts); CTRL/STAT acknowledges the
         power-up requests written to it; ABORT is accepted (the stub reports faults per access,
         so there are no sticky errors). Served by this class.
  AP #0  an AHB5-AP (IDR 0x14770015) whose CSW keeps what is written, with DeviceEn and SDeviceEn
         set, and whose BASE points at the ROM table. Served by this class. Other APSELs read IDR 0.
  memory through the AP's accelerated memory interface (like the ST-LINK probe's), GdbMemoryInterface:
         the debug registers and CoreSight IDs from CortexMDebug, everything else from QEMU.
  reset  nRESET (reset(), assert_reset()) and AIRCR.SYSRESETREQ both become QEMU's system_reset.
The DP and AP registers are modelled, not forwarded: QEMU has no debug port, only its gdbstub.
"""

from __future__ import annotations

from pyocd.core import exceptions
from pyocd.core.plugin import Plugin
from pyocd.coresight.ap import APv1Address
from pyocd.probe.debug_probe import DebugProbe

from harness.device.pyocd.cortex_m_debug import ROM_TABLE, CortexMDebug
from harness.device.pyocd.gdbremote import GdbRemote, GdbStubError
from harness.device.pyocd.memory import GdbMemoryInterface

PROBE_TYPE = "qemu-gdb"

DP_IDR, DP_CTRL_STAT, DP_RDBUFF = 0x0, 0x4, 0xC  # DP_ABORT shares 0x0 for writes; SELECT is never written
CDBGPWRUPREQ, CSYSPWRUPREQ = 1 << 28, 1 << 30
DPIDR = 0x0BE12477  # SW-DP v2 (ADIv5, MINDP), designer Arm, as on Cortex-M33 parts
APSEL_SHIFT = 24
AP_CSW, AP_CFG, AP_BASE, AP_IDR = 0x00, 0xF4, 0xF8, 0xFC
AP_IDR_AHB5 = 0x14770015  # AHB5-AP rev 1, as on Cortex-M33 parts
CSW_READ_ONLY = (1 << 6) | (1 << 23)  # DeviceEn, SDeviceEn: the debugger may always reach memory
BASE_PRESENT_ADIV5 = 0x3


def parse_address(address: str) -> tuple[str, int]:
    """HOST:PORT (the unique ID without its `qemu-gdb:` prefix)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise exceptions.ProbeError(
            f"'{address}' is not HOST:PORT; name the QEMU probe as {PROBE_TYPE}:127.0.0.1:PORT, the port of QEMU's -gdb"
        )
    return host, int(port)


class QemuGdbProbe(DebugProbe):
    """One QEMU gdbstub as a pyOCD debug probe with one core behind one AHB5-AP."""

    @classmethod
    def get_all_connected_probes(cls, unique_id: str | None = None, is_explicit: bool = False) -> list[DebugProbe]:
        return [cls(*parse_address(unique_id))] if is_explicit and unique_id else []

    @classmethod
    def get_probe_with_id(cls, unique_id: str, is_explicit: bool = False) -> DebugProbe | None:
        return cls(*parse_address(unique_id)) if is_explicit else None

    def __init__(self, host: str, port: int) -> None:
        super().__init__()
        self._stub = GdbRemote(host, port)
        self._debug: CortexMDebug | None = None
        self._memory: GdbMemoryInterface | None = None
        self._connected = False
        self._ctrl_stat = 0
        self._csw = 0

    @property
    def unique_id(self) -> str:
        return f"{PROBE_TYPE}:{self._stub.address}"

    @property
    def vendor_name(self) -> str:
        return "QEMU"

    @property
    def product_name(self) -> str:
        return f"gdbstub on {self._stub.address}"

    @property
    def supported_wire_protocols(self) -> list[DebugProbe.Protocol]:
        return [DebugProbe.Protocol.DEFAULT, DebugProbe.Protocol.SWD]

    @property
    def wire_protocol(self) -> DebugProbe.Protocol | None:
        return DebugProbe.Protocol.SWD if self._connected else None

    @property
    def is_open(self) -> bool:
        return self._debug is not None

    @property
    def capabilities(self) -> set[DebugProbe.Capability]:
        # pyOCD never writes SELECT: the AP comes with each access, as with an ST-LINK.
        return {DebugProbe.Capability.MANAGED_AP_SELECTION, DebugProbe.Capability.MANAGED_DPBANKSEL}

    def open(self) -> None:
        self._stub.connect()
        try:
            self._debug = CortexMDebug(self._stub)
        except GdbStubError:
            self._stub.close()
            raise
        self._memory = GdbMemoryInterface(self._debug)

    def close(self) -> None:
        """Leave the core as pyOCD left it: a running core runs on, a halted one stays halted.

        If QEMU has ended meanwhile (the firmware exited or locked up), pyOCD hears of it as a
        disconnected probe, which it reports and goes on closing."""
        try:
            if self._debug is not None and self._stub.running:
                self._stub.detach()
        except GdbStubError as error:
            raise exceptions.ProbeDisconnected(str(error)) from None
        finally:
            self._stub.close()
            self._debug = None
            self._memory = None

    def connect(self, protocol: DebugProbe.Protocol | None = None) -> None:
        self._connected = True

    def disconnect(self) -> None:
        self._connected = False

    def set_clock(self, frequency: float) -> None:
        """There is no wire: nothing to clock."""

    # --- reset ------------------------------------------------------------------------------

    def reset(self) -> None:
        self._open_debug().reset()

    def assert_reset(self, asserted: bool) -> None:
        """Holding reset keeps the core halted; releasing it resets the machine."""
        debug = self._open_debug()
        if asserted:
            debug.halt()
            debug.reset_held = True
        elif debug.reset_held:
            debug.reset_held = False
            debug.reset()

    def is_reset_asserted(self) -> bool:
        return self._debug is not None and self._debug.reset_held

    # --- DP and AP registers ----------------------------------------------------------------

    def read_dp(self, addr: int, now: bool = True):
        if addr == DP_IDR:
            value = DPIDR
        elif addr == DP_CTRL_STAT:
            power_requests = self._ctrl_stat & (CDBGPWRUPREQ | CSYSPWRUPREQ)
            value = self._ctrl_stat | (power_requests << 1)  # each ACK sits above its REQ
        elif addr == DP_RDBUFF:
            value = 0
        else:
            raise exceptions.ProbeError(f"the QEMU probe has no readable DP register at {addr:#x}")
        return value if now else (lambda: value)

    def write_dp(self, addr: int, data: int) -> None:
        if addr == DP_CTRL_STAT:
            self._ctrl_stat = data
        elif addr != DP_IDR:  # DP_IDR's address is ABORT when written: no sticky errors to clear
            raise exceptions.ProbeError(f"the QEMU probe has no writable DP register at {addr:#x}")

    def read_ap(self, addr: int, now: bool = True):
        apsel, register = addr >> APSEL_SHIFT, addr & 0xFFC
        if apsel != 0 and register == AP_IDR:
            value = 0  # no such AP
        elif apsel == 0 and register in (AP_CSW, AP_CFG, AP_BASE, AP_IDR):
            value = {AP_CSW: self._csw | CSW_READ_ONLY, AP_CFG: 0,
                     AP_BASE: ROM_TABLE | BASE_PRESENT_ADIV5, AP_IDR: AP_IDR_AHB5}[register]
        else:
            raise self._unserved_ap_register(addr)
        return value if now else (lambda: value)

    def write_ap(self, addr: int, data: int) -> None:
        if addr != AP_CSW:
            raise self._unserved_ap_register(addr)
        self._csw = data & ~CSW_READ_ONLY

    def read_ap_multiple(self, addr: int, count: int = 1, now: bool = True):
        values = [self.read_ap(addr) for _ in range(count)]
        return values if now else (lambda: values)

    def write_ap_multiple(self, addr: int, values) -> None:
        for value in values:
            self.write_ap(addr, value)

    def get_memory_interface_for_ap(self, ap_address) -> GdbMemoryInterface | None:
        if not (isinstance(ap_address, APv1Address) and ap_address.apsel == 0):
            return None
        self._open_debug()
        return self._memory

    @staticmethod
    def _unserved_ap_register(addr: int) -> exceptions.ProbeError:
        return exceptions.ProbeError(
            f"the QEMU probe does not serve AP register {addr:#010x}: memory is reached through its memory "
            "interface only (TAR/DRW are not modelled)"
        )

    def _open_debug(self) -> CortexMDebug:
        if self._debug is None:
            raise exceptions.ProbeError(f"the probe {self.unique_id} is not open")
        return self._debug


class QemuGdbProbePlugin(Plugin):
    """The `qemu-gdb` probe type. Loading it also makes the emulated board's target type known."""

    def load(self) -> type[QemuGdbProbe]:
        from harness.device.pyocd.mps2_an505 import register_target

        register_target()
        return QemuGdbProbe

    @property
    def name(self) -> str:
        return PROBE_TYPE

    @property
    def description(self) -> str:
        return "QEMU's gdbstub, as a probe of the emulated board (hil)"
