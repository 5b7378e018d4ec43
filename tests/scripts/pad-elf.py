#!/usr/bin/env python3
"""Make a huge module from a small one: insert PAD zero bytes after the ELF
header of an ELF64 little-endian relocatable file and shift e_shoff and
every sh_offset, so the layout stays valid. Used to test the sparse
loading of huge compressed modules (src/elf/sparse.c).
Usage: pad-elf.py IN OUT PAD_BYTES"""
import struct
import sys

src, dst, pad = sys.argv[1], sys.argv[2], int(sys.argv[3])
b = bytearray(open(src, 'rb').read())
assert b[:4] == b'\x7fELF' and b[4] == 2 and b[5] == 1, 'ELF64 LSB only'
ehsize = struct.unpack_from('<H', b, 0x34)[0]
shoff = struct.unpack_from('<Q', b, 0x28)[0]
shentsize, shnum = struct.unpack_from('<HH', b, 0x3a)
for i in range(shnum):
    o = shoff + i * shentsize + 0x18
    off = struct.unpack_from('<Q', b, o)[0]
    if off >= ehsize:
        struct.pack_into('<Q', b, o, off + pad)
struct.pack_into('<Q', b, 0x28, shoff + pad)
open(dst, 'wb').write(bytes(b[:ehsize]) + bytes(pad) + bytes(b[ehsize:]))
