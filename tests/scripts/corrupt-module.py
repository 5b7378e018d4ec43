#!/usr/bin/env python3
"""Craft a corrupt kernel module from a good one, for test-corrupt.sh.

    corrupt-module.py CASE IN OUT     write IN, damaged as CASE says, to OUT
    corrupt-module.py --list          the cases, one per line, with what they do
    corrupt-module.py --sections IN   "index name offset size" of each section
    corrupt-module.py --zstd-fcs IN N  IN (a .zst) with its declared size set to N, on stdout

Every case is a recipe applied to a fixture module (ELF32/64, either byte
order), so no corrupt binary is ever committed. Cases that take a section
name are written CASE:NAME (e.g. cutsec:.modinfo). Offsets and sizes are
read from IN, so the same case works on any module.
"""
import struct
import sys

SHN_XINDEX = 0xFFFF
SIG_MAGIC = b"~Module signature appended~\n"


class Elf:
    def __init__(self, data):
        self.b = bytearray(data)
        if self.b[:4] != b"\x7fELF":
            raise SystemExit("corrupt-module: input is not an ELF file")
        self.is64 = self.b[4] == 2
        self.e = ">" if self.b[5] == 2 else "<"
        if self.is64:
            self.ehdr_fmt = "HHIQQQIHHHHHH"
            self.shdr_fmt = "IIQQQQIIQQ"
        else:
            self.ehdr_fmt = "HHIIIIIHHHHHH"
            self.shdr_fmt = "IIIIIIIIII"
        self.ehsize = 16 + struct.calcsize(self.e + self.ehdr_fmt)
        self.shsize = struct.calcsize(self.e + self.shdr_fmt)

    # ---- header fields, by name
    EH = ["type", "machine", "version", "entry", "phoff", "shoff", "flags",
          "ehsize", "phentsize", "phnum", "shentsize", "shnum", "shstrndx"]
    SH = ["name", "type", "flags", "addr", "offset", "size", "link", "info",
          "addralign", "entsize"]

    def eh(self):
        v = struct.unpack_from(self.e + self.ehdr_fmt, self.b, 16)
        return dict(zip(self.EH, v))

    def set_eh(self, **kw):
        h = self.eh()
        h.update(kw)
        struct.pack_into(self.e + self.ehdr_fmt, self.b, 16, *[h[k] for k in self.EH])

    def shoff_of(self, i):
        return self.eh()["shoff"] + i * self.shsize

    def sh(self, i):
        v = struct.unpack_from(self.e + self.shdr_fmt, self.b, self.shoff_of(i))
        return dict(zip(self.SH, v))

    def set_sh(self, i, **kw):
        h = self.sh(i)
        h.update(kw)
        struct.pack_into(self.e + self.shdr_fmt, self.b, self.shoff_of(i),
                         *[h[k] for k in self.SH])

    def sections(self):
        h = self.eh()
        strtab = self.sh(h["shstrndx"])
        out = []
        for i in range(h["shnum"]):
            s = self.sh(i)
            o = strtab["offset"] + s["name"]
            name = bytes(self.b[o:self.b.index(0, o)]).decode()
            out.append((i, name, s))
        return out

    def find(self, name):
        for i, n, s in self.sections():
            if n == name:
                return i, s
        raise SystemExit("corrupt-module: no section %s" % name)

    # ---- symbols
    def sym_fmt(self):
        return self.e + ("IBBHQQ" if self.is64 else "IIIBBH")

    def symbols(self):
        si, s = self.find(".symtab")
        _, t = self.find(".strtab")
        size = struct.calcsize(self.sym_fmt())
        out = []
        for k in range(s["size"] // size):
            off = s["offset"] + k * size
            v = struct.unpack_from(self.sym_fmt(), self.b, off)
            if self.is64:
                name, info, other, shndx, value, ssize = v
            else:
                name, value, ssize, info, other, shndx = v
            o = t["offset"] + name
            n = bytes(self.b[o:self.b.index(0, o)]).decode(errors="replace")
            out.append((k, n, off, shndx))
        return out

    def set_sym_shndx(self, off, shndx):
        pos = off + (6 if self.is64 else 14)
        struct.pack_into(self.e + "H", self.b, pos, shndx)

    def set_sym_name(self, off, name):
        struct.pack_into(self.e + "I", self.b, off, name)


def move_shtab(elf, cut):
    """Keep bytes [0, cut), then a copy of the section name table and the
    section header table, so that every section at or past cut lies (partly)
    beyond the end of the data kept while the table and the names stay
    readable: the parser must judge each section on its own."""
    h = elf.eh()
    si, ss = elf.find(".shstrtab")
    names = bytes(elf.b[ss["offset"]:ss["offset"] + ss["size"]])
    table = bytes(elf.b[h["shoff"]:h["shoff"] + h["shnum"] * elf.shsize])
    body = bytes(elf.b[:cut])
    body += b"\0" * ((-len(body)) % 8)
    names_off = len(body)
    body += names
    body += b"\0" * ((-len(body)) % 8)
    new = Elf(body + table)
    new.set_eh(shoff=len(body))
    new.set_sh(si, offset=names_off)
    # the names now sit past the cut, so sections starting beyond the kept
    # data are placed after the end of the file (offsets unchanged are
    # relative to the old layout and may point into the copies)
    for i, n, s in new.sections():
        if i and i != si and s["offset"] + s["size"] > cut and s["size"]:
            new.set_sh(i, offset=len(new.b) + s["offset"])
    return new.b


def trailer(sig_len, signer_len=0, key_id_len=0, sig=b""):
    """struct module_signature (12 bytes, sig_len big-endian) and the magic."""
    return sig + struct.pack(">BBBBBxxxI", 0, 0, 2, signer_len, key_id_len, sig_len) + SIG_MAGIC


CASES = {}


def case(name, doc):
    def reg(f):
        CASES[name] = (doc, f)
        return f
    return reg


@case("trunc-ident", "cut inside e_ident (12 bytes)")
def _(e, a):
    return e.b[:12]


@case("trunc-ehdr", "cut inside the ELF header (40 bytes)")
def _(e, a):
    return e.b[:40]


@case("trunc-after-ehdr", "the ELF header alone")
def _(e, a):
    return e.b[:e.ehsize]


@case("trunc-shtab-start", "cut where the section header table starts")
def _(e, a):
    return e.b[:e.eh()["shoff"]]


@case("trunc-shtab-mid", "cut in the middle of a section header")
def _(e, a):
    h = e.eh()
    return e.b[:h["shoff"] + (h["shnum"] // 2) * e.shsize + 7]


@case("trunc-shtab-last", "cut one byte short of the end (last section header)")
def _(e, a):
    return e.b[:-1]


@case("cutsec", "cutsec:NAME: file ends in the middle of section NAME, section table kept")
def _(e, a):
    i, s = e.find(a)
    return move_shtab(e, s["offset"] + s["size"] // 2)


@case("cutat", "cutat:N: file ends at byte N, section table kept")
def _(e, a):
    return move_shtab(e, int(a))


@case("shoff-past-eof", "e_shoff beyond the end of the file")
def _(e, a):
    e.set_eh(shoff=len(e.b) + 4096)
    return e.b


@case("shoff-overflow", "e_shoff near 2^64 (offset + size wraps)")
def _(e, a):
    e.set_eh(shoff=(1 << (64 if e.is64 else 32)) - 64)
    return e.b


@case("shnum-huge", "e_shnum = 65535 (table would be past the end)")
def _(e, a):
    e.set_eh(shnum=0xFFFF - 1)
    return e.b


@case("shnum-zero", "e_shnum = 0 with no extended count (no sections)")
def _(e, a):
    e.set_eh(shnum=0)
    return e.b


@case("shentsize-zero", "e_shentsize = 0")
def _(e, a):
    e.set_eh(shentsize=0)
    return e.b


@case("shentsize-huge", "e_shentsize = 65535")
def _(e, a):
    e.set_eh(shentsize=0xFFFF)
    return e.b


@case("entsize-zero", ".symtab sh_entsize = 0")
def _(e, a):
    i, s = e.find(".symtab")
    e.set_sh(i, entsize=0)
    return e.b


@case("entsize-huge", ".symtab sh_entsize = all ones")
def _(e, a):
    i, s = e.find(".symtab")
    e.set_sh(i, entsize=(1 << (64 if e.is64 else 32)) - 1)
    return e.b


@case("xindex-shnum", "valid SHN_XINDEX form: e_shnum = 0, count in section 0's sh_size")
def _(e, a):
    n = e.eh()["shnum"]
    e.set_sh(0, size=n)
    e.set_eh(shnum=0)
    return e.b


@case("xindex-shstrndx", "valid SHN_XINDEX form: e_shstrndx = 0xffff, index in sh_link of section 0")
def _(e, a):
    n = e.eh()["shstrndx"]
    e.set_sh(0, link=n)
    e.set_eh(shstrndx=SHN_XINDEX)
    return e.b


@case("xindex-shnum-huge", "e_shnum = 0 and section 0's sh_size = 2^32-1")
def _(e, a):
    e.set_sh(0, size=0xFFFFFFFF)
    e.set_eh(shnum=0)
    return e.b


@case("xindex-shstrndx-bad", "e_shstrndx = 0xffff and section 0's sh_link = 2^31")
def _(e, a):
    e.set_sh(0, link=0x80000000)
    e.set_eh(shstrndx=SHN_XINDEX)
    return e.b


@case("xindex-symbols", "every defined symbol's st_shndx = SHN_XINDEX, no SHT_SYMTAB_SHNDX section")
def _(e, a):
    for k, n, off, shndx in e.symbols():
        if k and shndx not in (0, 0xFFF1):
            e.set_sym_shndx(off, SHN_XINDEX)
    return e.b


@case("shstrndx-range", "e_shstrndx past the last section")
def _(e, a):
    e.set_eh(shstrndx=e.eh()["shnum"] + 10)
    return e.b


@case("shstrtab-nonul", "section name table without its final NUL")
def _(e, a):
    i, s = e.find(".shstrtab")
    e.b[s["offset"] + s["size"] - 1] = ord("x")
    return e.b


@case("shstrtab-empty", "section name table of size 0")
def _(e, a):
    i, s = e.find(".shstrtab")
    e.set_sh(i, size=0)
    return e.b


@case("strtab-nonul", ".strtab without its final NUL (last symbol name runs to the end)")
def _(e, a):
    i, s = e.find(".strtab")
    e.b[s["offset"] + s["size"] - 1] = ord("x")
    return e.b


@case("modinfo-nonul", ".modinfo without its final NUL")
def _(e, a):
    i, s = e.find(".modinfo")
    e.b[s["offset"] + s["size"] - 1] = ord("x")
    return e.b


@case("sec-past-eof", ".symtab sh_offset beyond the end of the file")
def _(e, a):
    i, s = e.find(".symtab")
    e.set_sh(i, offset=len(e.b) + 100)
    return e.b


@case("sec-overflow", ".modinfo sh_offset + sh_size wraps around 2^64")
def _(e, a):
    i, s = e.find(".modinfo")
    top = 1 << (64 if e.is64 else 32)
    e.set_sh(i, offset=top - 16, size=64)
    return e.b


@case("overlap-strtab", ".strtab overlapping .symtab (same offset)")
def _(e, a):
    i, s = e.find(".strtab")
    _, sy = e.find(".symtab")
    e.set_sh(i, offset=sy["offset"])
    return e.b


@case("overlap-modinfo", ".modinfo overlapping .strtab and the section table")
def _(e, a):
    i, s = e.find(".modinfo")
    _, st = e.find(".strtab")
    e.set_sh(i, offset=st["offset"], size=len(e.b) - st["offset"])
    return e.b


@case("overlap-shtab", ".shstrtab overlapping the section header table")
def _(e, a):
    i, s = e.find(".shstrtab")
    h = e.eh()
    # keep the names readable: the table starts right after them
    e.set_sh(i, size=h["shoff"] + h["shnum"] * e.shsize - s["offset"])
    return e.b


@case("versions-size", "__versions size not a multiple of 64")
def _(e, a):
    i, s = e.find("__versions")
    e.set_sh(i, size=s["size"] - 1)
    return e.b


@case("versions-noname-nul", "a __versions name filling its entry, without NUL")
def _(e, a):
    i, s = e.find("__versions")
    crc = 8 if e.is64 else 4
    o = s["offset"]
    e.b[o + crc:o + 64] = b"A" * (64 - crc)
    return e.b


@case("symtab-size", ".symtab size not a multiple of the symbol size")
def _(e, a):
    i, s = e.find(".symtab")
    e.set_sh(i, size=s["size"] - 3)
    return e.b


@case("symname-range", "an undefined symbol's st_name past the end of .strtab")
def _(e, a):
    for k, n, off, shndx in e.symbols():
        if k and shndx == 0:
            e.set_sym_name(off, 0x7FFFFFF0)
            break
    return e.b


@case("class-bad", "EI_CLASS = 3")
def _(e, a):
    e.b[4] = 3
    return e.b


@case("data-bad", "EI_DATA = 7")
def _(e, a):
    e.b[5] = 7
    return e.b


@case("class-flip", "ELF64 file labelled ELF32 (or the reverse)")
def _(e, a):
    e.b[4] = 1 if e.is64 else 2
    return e.b


@case("endian-flip", "little-endian file labelled big-endian (or the reverse)")
def _(e, a):
    e.b[5] = 2 if e.b[5] == 1 else 1
    return e.b


@case("sig-len-huge", "signature trailer whose sig_len is larger than the file")
def _(e, a):
    return e.b + trailer(0x7FFFFFFF, sig=b"\x30\x82" + b"\0" * 30)


@case("sig-len-zero", "signature trailer with sig_len = 0")
def _(e, a):
    return e.b + trailer(0)


@case("sig-ids-lie", "signature trailer whose signer_len + key_id_len + sig_len exceed the file")
def _(e, a):
    return e.b + trailer(len(e.b), signer_len=255, key_id_len=255, sig=b"\0" * 16)


@case("sig-magic-only", "the signature magic right after the ELF data, no struct")
def _(e, a):
    return e.b + SIG_MAGIC


@case("sig-ok", "a well-formed (fake) signature trailer (control case)")
def _(e, a):
    sig = b"\x30\x82\x01\x00" + b"\x55" * 60
    return e.b + trailer(len(sig), sig=sig)


@case("alias-nonascii", ".modinfo description replaced by an alias holding bytes >= 0x80")
def _(e, a):
    i, s = e.find(".modinfo")
    o = s["offset"]
    data = bytes(e.b[o:o + s["size"]])
    k = data.index(b"description=")
    end = data.index(b"\0", k)
    new = b"alias=ma-\xff\xfe"
    new += b"x" * (end - k - len(new))
    e.b[o + k:o + end] = new
    return e.b


def zstd_set_fcs(data, size):
    """Rewrite the Frame_Content_Size of the first zstd frame (which must
    have an 8-byte field, or a 4-byte one when size fits)."""
    b = bytearray(data)
    fhd = b[4]
    flag, single, did = fhd >> 6, (fhd >> 5) & 1, fhd & 3
    pos = 5 + (0 if single else 1) + [0, 1, 2, 4][did]
    width = [1 if single else 0, 2, 4, 8][flag]
    if width == 8:
        struct.pack_into("<Q", b, pos, size)
    elif width == 4 and size < (1 << 32):
        struct.pack_into("<I", b, pos, size)
    else:
        raise SystemExit("corrupt-module: this frame's content size field is %d bytes" % width)
    return b


def main(argv):
    if len(argv) == 4 and argv[1] == "--zstd-fcs":
        data = open(argv[2], "rb").read()
        sys.stdout.buffer.write(zstd_set_fcs(data, int(argv[3])))
        return 0
    if len(argv) == 2 and argv[1] == "--list":
        for n, (doc, f) in CASES.items():
            print("%-22s %s" % (n, doc))
        return 0
    if len(argv) == 3 and argv[1] == "--sections":
        e = Elf(open(argv[2], "rb").read())
        for i, n, s in e.sections():
            print(i, n or "-", s["offset"], s["size"])
        return 0
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    name, _, arg = argv[1].partition(":")
    if name not in CASES:
        print("corrupt-module: unknown case %s (see --list)" % name, file=sys.stderr)
        return 2
    e = Elf(open(argv[2], "rb").read())
    out = CASES[name][1](e, arg)
    with open(argv[3], "wb") as f:
        f.write(bytes(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
