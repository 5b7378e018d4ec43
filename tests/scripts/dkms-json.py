#!/usr/bin/env python3
"""Helpers for test-dkms.sh: read modatlas check's JSON (schema
modatlas-check/2), kmod depmod's warnings and DOT graphs, and state what
they say in one comparable form. Each command exits 1 with the reason on
stderr when an expectation does not hold.

  schema FILE                      the document has every key of the schema
  verdicts FILE KERNEL MODS SPEC.. each module of MODS (comma-separated) has
                                   one verdict in KERNEL, matching every SPEC:
                                   key=value, key~=substring, key=null, key^=prefix
                                   ({m} in a value is the module's name)
  symbols FILE KERNEL [PREFIX]     MA-CRC and MA-UNRESOLVED findings as lines
                                   "module symbol crc|unknown" (sorted), only
                                   those whose path starts with PREFIX if given
  kmodlog FILE [PREFIX]            the same from depmod's warnings
  crcs FILE KERNEL MODCRCS SYMVERS every MA-CRC's module_crc is the module's
                                   __versions CRC (MODCRCS: "module symbol crc"
                                   lines) and its exporter_crc the kernel's in
                                   SYMVERS (Module.symvers)
  closure MODULES.DEP NAME..       modules NAME.., their dependencies and their
                                   users, transitively (sorted lines)
"""
import json
import os
import re
import sys

STAGES = {"signature", "elf", "module_layout", "vermagic", "symbols", "exports",
          "dependency", None}
VERDICTS = {"loads", "loads-tainted", "refused"}
SOURCES = {"Module.symvers", "System.map", "the tree's build/Module.symvers",
           "the tree's modules (__versions)", "nothing"}


def die(msg):
    sys.stderr.write(msg + "\n")
    sys.exit(1)


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        die("%s: not JSON: %s" % (path, e))


def need(obj, keys, where):
    missing = [k for k in keys if k not in obj]
    if missing:
        die("%s: missing %s" % (where, ", ".join(missing)))


def schema(path):
    d = load(path)
    need(d, ["schema", "tool", "failed", "kernels", "errors"], "document")
    if d["schema"] != "modatlas-check/2":
        die("schema is %r" % d["schema"])
    if not isinstance(d["failed"], bool):
        die("failed is not a boolean")
    for e in d["errors"]:
        need(e, ["level", "message"], "errors[]")
        if e["level"] not in ("fatal", "error", "warning"):
            die("errors[].level %r" % e["level"])
    fatal = any(e["level"] == "fatal" for e in d["errors"])
    for k in d["kernels"]:
        need(k, ["version", "tree", "kernel_exports", "summary", "verdicts", "findings"],
             "kernels[]")
        need(k["kernel_exports"], ["source", "note"], "kernel_exports")
        # a kernel the check could not judge (fatal error) may name no source
        if k["kernel_exports"]["source"] not in SOURCES and not (
                fatal and k["kernel_exports"]["source"] is None):
            die("kernel_exports.source %r" % k["kernel_exports"]["source"])
        for v in k["verdicts"]:
            need(v, ["module", "path", "verdict", "taints", "stage", "errno", "errno_name",
                     "cause", "dmesg", "modprobe", "insmod", "fix", "because_of"], "verdicts[]")
            if v["verdict"] not in VERDICTS:
                die("verdict %r" % v["verdict"])
            if v["stage"] not in STAGES:
                die("stage %r" % v["stage"])
            if (v["verdict"] == "refused") != (v["stage"] is not None):
                die("%s: verdict %s with stage %r" % (v["module"], v["verdict"], v["stage"]))
        for f in k["findings"]:
            need(f, ["code", "severity", "module", "path", "detail", "data"], "findings[]")
            if not isinstance(f["data"], dict):
                die("findings[].data is not an object")


def kernel(d, version):
    if not isinstance(d.get("kernels"), list):
        die("no kernels[] in the document (keys: %s)" % ", ".join(sorted(d)))
    ks = [k for k in d["kernels"] if k["version"] == version]
    if len(ks) != 1:
        die("%d kernels %s in %s" % (len(ks), version, [k["version"] for k in d["kernels"]]))
    return ks[0]


def verdicts(path, version, mods, specs):
    k = kernel(load(path), version)
    for m in mods.split(","):
        vs = [v for v in k["verdicts"] if v["module"] == m]
        if len(vs) != 1:
            die("%s: %d verdicts for %s" % (version, len(vs), m))
        v = vs[0]
        for spec in specs:
            mt = re.match(r"^(\w+)(=|~=|\^=)(.*)$", spec, re.S)
            key, op, want = mt.group(1), mt.group(2), mt.group(3).replace("{m}", m)
            got = v.get(key)
            if op == "=" and want == "null":
                good = got is None
            elif op == "=":
                good = str(got) == want
            elif op == "~=":
                good = isinstance(got, str) and want in got
            else:
                good = isinstance(got, str) and got.startswith(want)
            if not good:
                die("%s %s: %s is %r, expected %s %r" % (version, m, key, got, op, want))


def symbols(path, version, prefix=None):
    k = kernel(load(path), version)
    out = set()
    for f in k["findings"]:
        if f["code"] not in ("MA-CRC", "MA-UNRESOLVED"):
            continue
        if prefix and not (f["path"] or "").startswith(prefix):
            continue
        kind = "crc" if f["code"] == "MA-CRC" else "unknown"
        out.add("%s %s %s" % (f["module"], f["data"]["symbol"], kind))
    for line in sorted(out):
        print(line)


def modname(p):
    return re.sub(r"\.ko(\.(xz|zst|gz))?$", "", os.path.basename(p)).replace("-", "_")


def kmodlog(path, prefix=None):
    # depmod: WARNING: PATH disagrees about version of symbol S
    # depmod: WARNING: PATH needs unknown symbol S
    out = set()
    pat = re.compile(r"^depmod: WARNING: (\S+) (disagrees about version of|needs unknown) symbol (\S+)$")
    for line in open(path):
        mt = pat.match(line.rstrip("\n"))
        if not mt or (prefix and prefix not in mt.group(1)):
            continue
        kind = "crc" if mt.group(2).startswith("disagrees") else "unknown"
        out.add("%s %s %s" % (modname(mt.group(1)), mt.group(3), kind))
    for line in sorted(out):
        print(line)


def crcs(path, version, modcrcs, symvers):
    k = kernel(load(path), version)
    mod = {}
    for line in open(modcrcs):
        m, s, c = line.split()
        mod[(m, s)] = int(c, 16)
    ker = {}
    for line in open(symvers):
        f = line.rstrip("\n").split("\t")
        if len(f) >= 3 and f[2] == "vmlinux":
            ker[f[1]] = int(f[0], 16)
    n = 0
    for f in k["findings"]:
        if f["code"] != "MA-CRC":
            continue
        d, m = f["data"], f["module"]
        if (m, d["symbol"]) not in mod:
            continue  # not one of the modules under test
        n += 1
        if int(d["module_crc"], 16) != mod[(m, d["symbol"])]:
            die("%s %s: module_crc %s, __versions says %#010x" % (m, d["symbol"], d["module_crc"],
                                                             mod[(m, d["symbol"])]))
        if d["symbol"] in ker and int(d["exporter_crc"], 16) != ker[d["symbol"]]:
            die("%s %s: exporter_crc %s, Module.symvers says %#010x" % (
                m, d["symbol"], d["exporter_crc"], ker[d["symbol"]]))
    if n == 0:
        die("no MA-CRC finding about the modules under test")


def closure(depfile, names):
    deps = {}
    for line in open(depfile):
        if ":" not in line:
            continue
        mod, rest = line.split(":", 1)
        deps[modname(mod)] = {modname(x) for x in rest.split()}
    out = set()
    for n in names:
        n = n.replace("-", "_")
        if n not in deps:
            die("%s not in %s" % (n, depfile))
        out |= {n} | deps[n] | {m for m, ds in deps.items() if n in ds}
    for m in sorted(out):
        print(m)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "schema":
        schema(args[0])
    elif cmd == "verdicts":
        verdicts(args[0], args[1], args[2], args[3:])
    elif cmd == "symbols":
        symbols(*args)
    elif cmd == "kmodlog":
        kmodlog(*args)
    elif cmd == "crcs":
        crcs(*args)
    elif cmd == "closure":
        closure(args[0], args[1:])
    else:
        die("unknown command " + cmd)


if __name__ == "__main__":
    main()
