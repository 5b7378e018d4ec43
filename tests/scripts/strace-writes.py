#!/usr/bin/env python3
"""List every successful file-system change in an strace log.

    strace -f -y -e trace=%file,%desc -o LOG modatlas ...
    strace-writes.py LOG        prints one "SYSCALL PATH" line per change

A change is a create or write-open (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC),
mkdir, mknod, rename (both paths), link, symlink, unlink, rmdir, truncate,
chmod, chown or utime that returned success. Relative names are joined to
the directory strace -y printed for the dirfd (or to the cwd for AT_FDCWD,
which modatlas never uses for writes: such a path is printed as is).
Used by test-boundaries.sh to prove modatlas writes only where it may.
"""
import re
import sys

CHANGES = {
    "open": (0,), "openat": (1,), "openat2": (1,), "creat": (0,),
    "mkdir": (0,), "mkdirat": (1,), "mknod": (0,), "mknodat": (1,),
    "rename": (0, 1), "renameat": (1, 3), "renameat2": (1, 3),
    "link": (0, 1), "linkat": (1, 3), "symlink": (1,), "symlinkat": (2,),
    "unlink": (0,), "unlinkat": (1,), "rmdir": (0,),
    "truncate": (0,), "chmod": (0,), "fchmodat": (1,), "chown": (0,),
    "lchown": (0,), "fchownat": (1,), "utime": (0,), "utimes": (0,),
    "utimensat": (1,),
}
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC")
LINE = re.compile(r'^(?:\[pid\s+\d+\]\s+|\d+\s+)?(\w+)\((.*)\)\s+=\s+(-?\d+)')


def split_args(s):
    """Split a syscall's argument list at top-level commas."""
    out, depth, cur, q = [], 0, "", False
    i = 0
    while i < len(s):
        c = s[i]
        if q:
            cur += c
            if c == "\\":
                cur += s[i + 1]
                i += 1
            elif c == '"':
                q = False
        elif c == '"':
            q = True
            cur += c
        elif c in "[{<(":
            depth += 1
            cur += c
        elif c in "]}>)":
            depth -= 1
            cur += c
        elif c == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += c
        i += 1
    if cur.strip():
        out.append(cur.strip())
    return out


def unquote(a):
    m = re.match(r'^"(.*)"(\.\.\.)?$', a)
    return m.group(1) if m else a


def dirfd_path(a):
    if a.startswith("AT_FDCWD"):
        return None
    m = re.match(r"^\d+<(.*)>$", a)
    return m.group(1) if m else None


def main(log):
    # strace splits calls interrupted by other threads into
    # "<unfinished ...>" and "<... resumed>" halves: join them per pid.
    pending = {}
    for raw in open(log, errors="replace"):
        raw = raw.rstrip("\n")
        pm = re.match(r"^(?:\[pid\s+(\d+)\]\s+|(\d+)\s+)?", raw)
        pid = pm.group(1) or pm.group(2) or "0"
        if raw.endswith("<unfinished ...>"):
            pending[pid] = raw[: -len("<unfinished ...>")].rstrip()
            continue
        r = re.search(r"<\.\.\. \w+ resumed>(.*)$", raw)
        if r and pid in pending:
            raw = pending.pop(pid) + r.group(1)
        m = LINE.match(raw)
        if not m or m.group(1) not in CHANGES:
            continue
        name, args, ret = m.group(1), split_args(m.group(2)), int(m.group(3))
        if ret < 0:
            continue
        if name in ("open", "openat", "openat2"):
            flags = args[1] if name == "open" else (args[2] if len(args) > 2 else "")
            if not any(f in flags for f in WRITE_FLAGS):
                continue
        for pos in CHANGES[name]:
            if pos >= len(args):
                continue
            path = unquote(args[pos])
            # the path argument may itself carry strace -y's <...> decoration
            if not path.startswith("/"):
                base = dirfd_path(args[pos - 1]) if pos > 0 else None
                if base:
                    path = base.rstrip("/") + "/" + path
            print(name, path)


if __name__ == "__main__":
    main(sys.argv[1])
