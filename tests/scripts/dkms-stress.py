#!/usr/bin/env python3
"""Random DKMS packages installed and removed on a copy of a real tree, each
depmod run (cache on) compared with a cold run of the same tree.

A package is a module of the tree, often with one of its dependencies and
sometimes another module, copied into updates/dkms under new names
(p<N>_<name>.ko) with every symbol the package exports renamed (its first
letter made Q, or Z: the same length, new to the tree), so that its users
depend on the copies. Packages are installed, and removed mostly last
first, as upgrades do. After each run the eleven files must equal those of
`--no-cache -o` into another directory, byte for byte; the run's path
(patched, up to date, full) is counted from its debug lines.

Usage: dkms-stress.py STEPS SEED ROOT KVER COLD_DIR -- DEPMOD_CMD...
Exit status 1 when a run differs from its cold run."""
import os
import random
import re
import shutil
import subprocess
import sys

FILES = ["modules.dep", "modules.dep.bin", "modules.alias", "modules.alias.bin",
         "modules.softdep", "modules.weakdep", "modules.symbols", "modules.symbols.bin",
         "modules.builtin.bin", "modules.builtin.alias.bin", "modules.devname"]
PREFIXES = [b"\0", b"__ksymtab_", b"__crc_", b"__kstrtab_", b"__kstrtabns_"]


def main():
    sep = sys.argv.index("--")
    steps, seed, root, kver, cold = sys.argv[1:sep]
    cmd = sys.argv[sep + 1:]
    rng = random.Random(int(seed))
    d = f"{root}/lib/modules/{kver}"
    upd = f"{d}/updates/dkms"
    env = dict(os.environ, MODATLAS_TIMING="1")
    deps = {}
    for line in open(f"{d}/modules.dep"):
        mod, rest = line.split(":", 1)
        deps[mod] = rest.split()
    mods = sorted(m for m in deps if m.endswith(".ko") and not m.startswith("updates/"))

    def run(label):
        r = subprocess.run(cmd + ["-b", root, kver], env=env, capture_output=True, text=True)
        path = ("patched" if "indexes patched" in r.stderr else
                "same" if "indexes up to date" in r.stderr else "full")
        why = [l.split("DEBUG: ", 1)[1] for l in r.stderr.splitlines()
               if "DEBUG: cache:" in l or "DEBUG: full run" in l]
        shutil.rmtree(cold, ignore_errors=True)
        subprocess.run(cmd + ["--no-cache", "-b", root, "-o", cold, kver], capture_output=True)
        bad = [f for f in FILES if os.path.exists(f"{d}/{f}") and
               open(f"{d}/{f}", "rb").read() != open(f"{cold}/lib/modules/{kver}/{f}", "rb").read()]
        print(f"  {label}: {path}{' DIFFERS: ' + ' '.join(bad) if bad else ''}"
              f"{' (' + '; '.join(why) + ')' if path == 'full' and why else ''}", flush=True)
        return path, bad

    os.makedirs(upd, exist_ok=True)
    installed, counts, fails = [], {"patched": 0, "same": 0, "full": 0}, 0
    for step in range(int(steps)):
        if installed and (rng.random() < 0.5 or len(installed) > 4):
            pkg = installed.pop(-1 if rng.random() < 0.7 else rng.randrange(len(installed)))
            for f in pkg:
                os.unlink(f"{upd}/{f}")
            path, bad = run(f"step {step}: removed {' '.join(pkg)}")
        else:
            m = rng.choice(mods)
            members = [m]
            if deps[m] and rng.random() < 0.7:
                members.append(rng.choice(deps[m]))
            if rng.random() < 0.3:
                members.append(rng.choice(mods))
            members = list(dict.fromkeys(members))
            datas = {mm: open(f"{d}/{mm}", "rb").read() for mm in members}
            exported = set()
            for data in datas.values():
                exported |= set(re.findall(rb"__ksymtab_([A-Za-z0-9_.]+)\0", data))
            files = []
            for mm in members:
                data = datas[mm]
                for e in sorted(exported, key=len, reverse=True):
                    new = (b"Q" if e[:1] != b"Q" else b"Z") + e[1:]
                    for p in PREFIXES:
                        data = data.replace(p + e + b"\0", p + new + b"\0")
                name = f"p{step}_{os.path.basename(mm)}"
                open(f"{upd}/{name}", "wb").write(data)
                files.append(name)
            installed.append(files)
            path, bad = run(f"step {step}: installed {' '.join(files)}")
        counts[path] += 1
        fails += bool(bad)
    print(f"  runs: {counts['patched']} patched, {counts['same']} up to date, "
          f"{counts['full']} full; {fails} differing from a cold run")
    sys.exit(1 if fails else 0)


main()
