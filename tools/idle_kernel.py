#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""The idle kernel: a pseries guest that boots and then costs nothing.

Many guests at once (the cloud's burst) cannot each run Linux on two
emulated cores, nor sit in SLOF, whose prompt polls the console (about half
a host core each, measured). This kernel is what firmware boots instead: it
fills the interrupt vectors with the same loop and cedes its vCPU to the
hypervisor forever (H_CEDE, PAPR); QEMU halts a ceded vCPU until an
interrupt, and the decrementer's comes every few seconds.

SLOF enters a kernel in big-endian mode whatever its ELF header says (QEMU
loads both: hw/ppc/spapr.c, kernel_le), as a little-endian Linux's entry
trampoline expects; the code here never switches, so the two kernels differ
only in their ELF headers, which is what the image's endianness detectors
and QEMU read. Measured under QEMU 7.2 TCG: about 8 s of CPU for SLOF to
boot it, then none; 72 MiB resident with a 256 MiB guest.

Built with binutils' assembler for powerpc64 (Debian's
binutils-powerpc64-linux-gnu, which tools/setup-host.sh installs).
Usage: python3 -m tools.idle_kernel OUTDIR  (writes idle-ppc64.elf and
idle-ppc64le.elf)
"""

import os
import struct
import subprocess
import sys
import tempfile

AS = 'powerpc64-linux-gnu-as'
OBJCOPY = 'powerpc64-linux-gnu-objcopy'
H_CEDE = 0xe0      # PAPR hcall number
SOURCE = """
    .machine power8
    .globl _start
_start:
    li      4,0x100             # each vector, 0x100 to 0xf80:
    lis     5,0x3860            #   li 3,H_CEDE
    ori     5,5,%(cede)#x
    lis     6,0x4400            #   sc 1
    ori     6,6,0x0022
    lis     7,0x4bff            #   b .-8
    ori     7,7,0xfff8
1:  stw     5,0(4)
    stw     6,4(4)
    stw     7,8(4)
    dcbst   0,4                 # written code, seen by instruction fetch
    sync
    icbi    0,4
    isync
    addi    4,4,0x80
    cmpwi   4,0x1000
    blt     1b
2:  li      3,%(cede)#x
    sc      1                   # H_CEDE: halted until an interrupt
    b       2b
""" % {'cede': H_CEDE}
NAMES = {'>': 'idle-ppc64.elf', '<': 'idle-ppc64le.elf'}
LOAD_ALIGN = 0x10000


def code():
    """The machine code, as binutils assembles SOURCE (big-endian)."""
    with tempfile.TemporaryDirectory() as tmp:
        obj, raw = os.path.join(tmp, 'idle.o'), os.path.join(tmp, 'idle')
        subprocess.run([AS, '-mbig', '-a64', '-o', obj, '-'],
                       input=SOURCE, text=True, check=True)
        subprocess.run([OBJCOPY, '-O', 'binary', '-j', '.text', obj, raw],
                       check=True)
        with open(raw, 'rb') as f:
            return f.read()


def elf(text, order):
    """An ELF64 PowerPC executable of text at 0, its header in order.

    :param order: '>' big-endian, '<' little-endian (struct's notation)
    """
    ehsize, phentsize = 64, 56
    offset = ehsize + phentsize
    ident = b'\x7fELF' + bytes([2, 1 if order == '<' else 2, 1]) + bytes(9)
    header = ident + struct.pack(
        order + 'HHIQQQIHHHHHH',
        2,              # ET_EXEC
        21,             # EM_PPC64
        1,              # EV_CURRENT
        0,              # entry
        ehsize,         # program headers follow
        0,              # no section headers
        1 if order == '>' else 2,   # ELF ABI version, as Linux's
        ehsize, phentsize, 1, 0, 0, 0)
    program = struct.pack(
        order + 'IIQQQQQQ',
        1,              # PT_LOAD
        7,              # read, write, execute: it writes its vectors
        offset, 0, 0, len(text), len(text), LOAD_ALIGN)
    return header + program + text


def build(outdir):
    """Write both kernels into outdir; {endianness order: path}."""
    os.makedirs(outdir, exist_ok=True)
    text = code()
    paths = {}
    for order, name in NAMES.items():
        paths[order] = os.path.join(outdir, name)
        with open(paths[order], 'wb') as f:
            f.write(elf(text, order))
    return paths


if __name__ == '__main__':
    for path in build(sys.argv[1]).values():
        print(path)
