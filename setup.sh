#!/usr/bin/env bash
# Set up everything the harness needs on Debian: the system packages (C compilers, the Arm
# toolchain, QEMU, clang with libFuzzer for the fuzz tests) and a Python virtual environment in .venv with the project installed.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")"

packages=(gcc libc6-dev gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm ser2net socat clang)
# python3 may come from elsewhere than Debian (pyenv); only the interpreter matters then.
if ! command -v python3 >/dev/null 2>&1; then
    packages+=(python3)
fi
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    packages+=(python3-venv)
fi

# Installs the Debian packages among "$@" that are missing.
install_missing() {
    local missing=() package
    for package in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$package")
        fi
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    local install=(apt-get install -y --no-install-recommends "${missing[@]}")
    # As root, or through sudo where it needs no password (a CI runner's user).
    local as_root=()
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        as_root=(sudo -n)
    fi
    if [ "$(id -u)" -eq 0 ] || [ ${#as_root[@]} -gt 0 ]; then
        echo "setup: installing ${missing[*]}"
        "${as_root[@]}" apt-get update -qq
        "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive "${install[@]}" >/dev/null
    else
        echo "setup: missing Debian packages: ${missing[*]}" >&2
        echo "setup: run:  sudo apt-get update && sudo ${install[*]}" >&2
        exit 1
    fi
}

install_missing "${packages[@]}"
# libFuzzer (tests/test_fuzz_link_decoder.py) ships in the clang runtime of clang's own version.
clang_major=$(clang -dumpversion | cut -d. -f1)
install_missing "libclang-rt-${clang_major}-dev"

# The virtual environment is rebuilt only when the project's dependencies change.
stamp=.venv/.installed-$(cat pyproject.toml .ci/constraints.txt | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -c .ci/constraints.txt -e '.[model,test]'
    # labgrid needs its fork of pyserial (pyserial-labgrid); pyOCD and the harness need pyserial. Both
    # install the same `serial` package and whichever pip writes last wins. The fork is pyserial 3.5
    # plus RFC 2217 fixes the remote path relies on (its port timeout does not renegotiate the line),
    # so it is written last, on purpose.
    fork=$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("pyserial-labgrid"))')
    .venv/bin/python -m pip install --quiet --force-reinstall --no-deps "pyserial-labgrid==$fork"
    rm -f .venv/.installed-*
    touch "$stamp"
fi
echo "setup: ready (.venv/bin/hil, .venv/bin/pytest)"
