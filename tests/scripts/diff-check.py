#!/usr/bin/env python3
"""Independent computations test-diff.sh compares `modatlas diff` with.

  diff-check.py kabi OLD.symvers NEW.symvers DIFF.json
      abi-check's comparison of two Module.symvers (Ubuntu's
      debian/scripts/abi-check: MISS, NEW, MOVE, TYPE, HASH, each line
      "EXPORT_TYPE LOCATION 0xCRC SYMBOL"), plus the namespace (5th field),
      against the kABI section of the diff's JSON: the same symbols in each
      class, with the same old and new values.
  diff-check.py modules OLD_DIR NEW_DIR DIFF.json
      module-check's comparison of two trees' module lists (every *.ko*
      under each directory, by name, '-' as '_'), against the modules
      section: removed = MOD-REMOVED + MOD-NOW-BUILTIN + renamed (old
      names), added = MOD-ADDED + MOD-NOW-LOADABLE + renamed (new names);
      a now-built-in module is in NEW's modules.builtin, a now-loadable
      one in OLD's; a module in both trees at another path is MOD-MOVED.

  diff-check.py modinfo OLD_DIR NEW_DIR DIFF.json
      the behaviour section's .modinfo comparisons, from each module's
      .modinfo section (read here, xz decompressed with Python's lzma) and
      modules.builtin.modinfo: parameters removed, added, of another type
      (parmtype=, and parm= alone for module_param_call's); firmware=
      added and removed; softdep= and weakdep=; the modules.devname entry
      (kmod's rule). Modules are paired by name, or as MOD-RENAMED says.
  diff-check.py kabi-inferred OLD.symvers NEW.symvers DIFF.json
      a diff run without Module.symvers (vmlinux's exports inferred from
      __versions): every kABI change it reports is abi-check's for that
      symbol, with the same values; a KABI-UNKNOWN symbol is one OLD
      exports.
  diff-check.py firmware NEW_DIR ROOT DIFF.json
      FIRMWARE-MISSING: every firmware= file of NEW's modules that none of
      the loader's places under ROOT/lib/firmware holds (updates/KVER/,
      updates/, KVER/, ., each plain, .xz or .zst).
  diff-check.py deps OLD_DIR NEW_DIR DIFF.json
      DEP-CHANGED against two modules.dep files (written by a depmod run
      on each tree): each module's dependency names, OLD's renamed.

Prints what differs; exit 1 when anything does.
"""
import json
import os
import re
import sys


def symvers(path):
    out = {}
    for line in open(path, encoding='utf-8', errors='surrogateescape'):
        f = line.rstrip('\n').split('\t')
        if len(f) < 3:
            continue
        crc, sym, where = f[0], f[1], f[2]
        typ = f[3] if len(f) > 3 else ''
        ns = f[4] if len(f) > 4 else ''
        out[sym] = (int(crc, 16), where, typ, ns)
    return out


def changes(diff, section):
    return [c for c in diff['changes'] + diff['ignored'] if c['section'] == section]


def kabi(old_path, new_path, diff_path):
    old, new = symvers(old_path), symvers(new_path)
    diff = json.load(open(diff_path))
    want = {'KABI-REMOVED': {}, 'KABI-ADDED': {}, 'KABI-MOVED': {}, 'KABI-TYPE': {},
            'KABI-CRC': {}, 'KABI-NAMESPACE': {}}
    for s, (crc, where, typ, ns) in old.items():
        if s not in new:
            want['KABI-REMOVED'][s] = (where,)
            continue
        ncrc, nwhere, ntyp, nns = new[s]
        if where != nwhere:
            want['KABI-MOVED'][s] = (where, nwhere)
        if typ != ntyp:
            want['KABI-TYPE'][s] = (typ, ntyp)
        if crc != ncrc:
            want['KABI-CRC'][s] = ('0x%08x' % crc, '0x%08x' % ncrc)
        if ns != nns:
            want['KABI-NAMESPACE'][s] = (ns, nns)
    for s, (crc, where, typ, ns) in new.items():
        if s not in old:
            want['KABI-ADDED'][s] = (where,)
    got = {k: {} for k in want}
    other = []
    for c in changes(diff, 'kabi'):
        d = c['data']
        s = d['symbol']
        k = c['code']
        if k == 'KABI-REMOVED':
            v = (d['old_where'],)
        elif k == 'KABI-ADDED':
            v = (d['new_where'],)
        elif k == 'KABI-MOVED':
            v = (d['old_where'], d['new_where'])
        elif k == 'KABI-TYPE':
            v = (d['old_type'], d['new_type'])
        elif k == 'KABI-CRC':
            v = (d['old_crc'], d['new_crc'])
        elif k == 'KABI-NAMESPACE':
            v = (d['old_namespace'], d['new_namespace'])
        else:
            other.append(k)
            continue
        if s in got[k]:
            print(f'{k} {s}: reported twice')
        got[k][s] = v
    bad = bool(other)
    if other:
        print('unexpected kABI codes with both Module.symvers:', sorted(set(other)))
    for k in want:
        w, g = want[k], got[k]
        miss = sorted(set(w) - set(g))
        extra = sorted(set(g) - set(w))
        wrong = sorted(s for s in set(w) & set(g) if w[s] != g[s])
        print(f'{k}: abi-check {len(w)}, modatlas {len(g)}', end='')
        if miss or extra or wrong:
            bad = True
            print(f'; missing {miss[:5]} ({len(miss)}), extra {extra[:5]} ({len(extra)}), '
                  f'values differ {[(s, w[s], g[s]) for s in wrong[:3]]} ({len(wrong)})')
        else:
            print('; same')
    return bad


def ko_names(d):
    names = {}
    for root, _, files in os.walk(d):
        for f in files:
            m = re.match(r'^(.*)\.ko(\.(xz|gz|zst))?$', f)
            if m:
                rel = os.path.relpath(os.path.join(root, f), d)
                names[m.group(1).replace('-', '_')] = re.sub(r'\.ko(\.(xz|gz|zst))?$', '.ko', rel)
    return names


def builtin(d):
    out = set()
    p = os.path.join(d, 'modules.builtin')
    if os.path.exists(p):
        for line in open(p):
            b = os.path.basename(line.strip())
            out.add(b.split('.')[0].replace('-', '_'))
    return out


def modules(old_dir, new_dir, diff_path):
    old, new = ko_names(old_dir), ko_names(new_dir)
    ob, nb = builtin(old_dir), builtin(new_dir)
    diff = json.load(open(diff_path))
    by = {}
    for c in changes(diff, 'modules'):
        by.setdefault(c['code'], []).append(c)
    removed = {c['module'] for c in by.get('MOD-REMOVED', [])}
    added = {c['module'] for c in by.get('MOD-ADDED', [])}
    now_b = {c['module'] for c in by.get('MOD-NOW-BUILTIN', [])}
    now_l = {c['module'] for c in by.get('MOD-NOW-LOADABLE', [])}
    ren_old = {c['module'] for c in by.get('MOD-RENAMED', [])}
    ren_new = {c['data']['new_name'] for c in by.get('MOD-RENAMED', [])}
    moved = {c['module'] for c in by.get('MOD-MOVED', [])}
    bad = False

    def same(what, want, got):
        nonlocal bad
        if want == got:
            print(f'{what}: {len(want)}, same')
        else:
            bad = True
            print(f'{what}: module list {len(want)}, modatlas {len(got)}; only in the list '
                  f'{sorted(want - got)[:8]}, only in modatlas {sorted(got - want)[:8]}')

    same('removed (MISS)', set(old) - set(new), removed | now_b | ren_old)
    same('added (NEW)', set(new) - set(old), added | now_l | ren_new)
    same('now built-in: in NEW\'s modules.builtin', now_b & nb, now_b)
    same('now loadable: in OLD\'s modules.builtin', now_l & ob, now_l)
    same('moved', {m for m in set(old) & set(new) if old[m] != new[m]}, moved)
    for c in by.get('MOD-RENAMED', []):
        if c['module'] in new or c['data']['new_name'] in old:
            bad = True
            print(f'renamed {c["module"]} -> {c["data"]["new_name"]}: a name in both trees')
    return bad


def modinfo_of(path):
    import lzma
    import struct
    data = open(path, 'rb').read()
    if data[:6] == b'\xfd7zXZ\x00':
        data = lzma.decompress(data)
    shoff, = struct.unpack_from('<Q', data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from('<HHH', data, 0x3a)
    secs = [struct.unpack_from('<IIQQQQIIQQ', data, shoff + i * shentsize) for i in range(shnum)]
    base = secs[shstrndx][4]
    for s in secs:
        name = data[base + s[0]:data.index(b'\0', base + s[0])]
        if name == b'.modinfo':
            raw = data[s[4]:s[4] + s[5]]
            out = []
            for rec in raw.split(b'\0'):
                if rec:
                    k, _, v = rec.decode('utf-8', 'surrogateescape').partition('=')
                    out.append((k, v))
            return out
    return []


def tree_info(d):
    """name -> [(key, value)] for modules, and for built-ins (separately)."""
    mods, paths = {}, {}
    for root, _, files in os.walk(d):
        for f in files:
            m = re.match(r'^(.*)\.ko(\.(xz|gz|zst))?$', f)
            if m:
                n = m.group(1).replace('-', '_')
                paths[n] = os.path.join(root, f)
    for n, p in paths.items():
        mods[n] = modinfo_of(p)
    blt = {}
    p = os.path.join(d, 'modules.builtin.modinfo')
    if os.path.exists(p):
        for rec in open(p, 'rb').read().split(b'\0'):
            if not rec or b'.' not in rec:
                continue
            name, _, kv = rec.decode('utf-8', 'surrogateescape').partition('.')
            k, _, v = kv.partition('=')
            blt.setdefault(name, []).append((k, v))
    return mods, blt


def values(info, key):
    return [v for k, v in info if k == key]


def params(info):
    out = {}
    for v in values(info, 'parmtype'):
        n, _, t = v.partition(':')
        out.setdefault(n, t)
    for v in values(info, 'parm'):
        n = v.partition(':')[0]
        out.setdefault(n, None)
    return out


def devname(info):
    name = typ = None
    maj = mnr = 0
    for v in values(info, 'alias'):
        if name and typ:
            break
        if v.startswith('devname:'):
            name = v[8:]
            continue
        m = re.match(r'^(char|block)-major-(\d+)-(\d+)', v)
        if m:
            typ, maj, mnr = m.group(1)[0], int(m.group(2)), int(m.group(3))
    return f'{name} {typ}{maj}:{mnr}' if name and typ else ''


def renames(diff):
    return {c['module']: c['data']['new_name'] for c in changes(diff, 'modules')
            if c['code'] == 'MOD-RENAMED'}


def compare_sets(what, want, got):
    if want == got:
        print(f'{what}: {len(want)}, same')
        return False
    print(f'{what}: .modinfo {len(want)}, modatlas {len(got)}; only in .modinfo '
          f'{sorted(want - got)[:6]}, only in modatlas {sorted(got - want)[:6]}')
    return True


def modinfo(old_dir, new_dir, diff_path):
    diff = json.load(open(diff_path))
    om, ob = tree_info(old_dir)
    nm, nb = tree_info(new_dir)
    ren = renames(diff)
    want = {k: set() for k in ('PARAM-REMOVED', 'PARAM-ADDED', 'PARAM-TYPE', 'FIRMWARE-ADDED',
                                'FIRMWARE-REMOVED', 'SOFTDEP-CHANGED', 'WEAKDEP-CHANGED',
                                'DEVNAME-REMOVED', 'DEVNAME-ADDED', 'DEVNAME-CHANGED')}
    def info(mods, blt, n):
        return mods[n] if n in mods else blt.get(n)
    names = set(om) | {n for n in ob if n not in om}
    for o in sorted(names):
        n = ren.get(o, o)
        oi, ni = info(om, ob, o), info(nm, nb, n)
        if ni is None:
            continue
        op, np_ = params(oi), params(ni)
        for p in op:
            if p not in np_:
                want['PARAM-REMOVED'].add((o, p))
            elif op[p] is not None and np_[p] is not None and op[p] != np_[p]:
                want['PARAM-TYPE'].add((o, p))
        for p in np_:
            if p not in op:
                want['PARAM-ADDED'].add((o, p))
        if o in om:
            od, nd = devname(oi), devname(ni)
            if od != nd:
                k = 'DEVNAME-REMOVED' if not nd else 'DEVNAME-ADDED' if not od else 'DEVNAME-CHANGED'
                want[k].add((o, od or nd))
        if o in om and n in nm:
            of, nf = set(values(oi, 'firmware')) - {''}, set(values(ni, 'firmware')) - {''}
            want['FIRMWARE-REMOVED'] |= {(o, f) for f in of - nf}
            want['FIRMWARE-ADDED'] |= {(o, f) for f in nf - of}
            for key, code in (('softdep', 'SOFTDEP-CHANGED'), ('weakdep', 'WEAKDEP-CHANGED')):
                if '; '.join(values(oi, key)) != '; '.join(values(ni, key)):
                    want[code].add((o, None))
    got = {k: set() for k in want}
    seen = set()
    dups = []
    for c in changes(diff, 'behaviour'):
        k, d = c['code'], c['data']
        if k not in got:
            continue
        key = json.dumps([k, c['module'], d], sort_keys=True)
        if key in seen:
            dups.append((k, c['module']))
        seen.add(key)
        if k.startswith('PARAM'):
            got[k].add((c['module'], d['parameter']))
        elif k.startswith('FIRMWARE'):
            got[k].add((c['module'], d['firmware']))
        elif k.startswith('DEVNAME'):
            got[k].add((c['module'], d['old'] if k == 'DEVNAME-REMOVED' else d['new']
                        if k == 'DEVNAME-ADDED' else d['old']))
        else:
            got[k].add((c['module'], None))
    bad = bool(dups)
    if dups:
        print(f'changes reported twice: {dups[:6]}')
    for k in want:
        bad |= compare_sets(k, want[k], got[k])
    return bad


def kabi_inferred(old_path, new_path, diff_path):
    old, new = symvers(old_path), symvers(new_path)
    diff = json.load(open(diff_path))
    bad = False
    n = {}
    for c in changes(diff, 'kabi'):
        k, d = c['code'], c['data']
        s = d['symbol']
        n[k] = n.get(k, 0) + 1
        o, w = old.get(s), new.get(s)
        both = o is not None and w is not None
        if k == 'KABI-REMOVED':
            ok = o is not None and w is None
        elif k == 'KABI-ADDED':
            ok = o is None and w is not None
        elif k == 'KABI-UNKNOWN':
            ok = o is not None
        elif k == 'KABI-CRC':
            ok = both and o[0] != w[0] and \
                (d['old_crc'], d['new_crc']) == ('0x%08x' % o[0], '0x%08x' % w[0])
        elif k == 'KABI-MOVED':
            ok = both and o[1] != w[1] and (d['old_where'], d['new_where']) == (o[1], w[1])
        elif k == 'KABI-TYPE':
            ok = both and o[2] != w[2] and (d['old_type'], d['new_type']) == (o[2], w[2])
        elif k == 'KABI-NAMESPACE':
            ok = both and o[3] != w[3] and \
                (d['old_namespace'], d['new_namespace']) == (o[3], w[3])
        else:
            ok = False
        if not ok:
            bad = True
            print(f'{k} {s}: not what abi-check says (old {o}, new {w}, reported {d})')
    print('inferred kABI changes, each abi-check\'s:', ', '.join(f'{k} {v}' for k, v in sorted(n.items())))
    return bad


def firmware(new_dir, root, diff_path):
    diff = json.load(open(diff_path))
    kver = os.path.basename(os.path.normpath(new_dir))
    mods, _ = tree_info(new_dir)
    fw = os.path.join(root, 'lib', 'firmware')
    places = [os.path.join(fw, 'updates', kver), os.path.join(fw, 'updates'),
              os.path.join(fw, kver), fw]
    want = set()
    for m, info in mods.items():
        for f in set(values(info, 'firmware')) - {''}:
            if not any(os.path.isfile(os.path.join(p, f + e)) for p in places
                       for e in ('', '.xz', '.zst')):
                want.add((m, f))
    got = {(c['module'], c['data']['firmware'])
           for c in changes(diff, 'behaviour') if c['code'] == 'FIRMWARE-MISSING'}
    return compare_sets('FIRMWARE-MISSING', want, got)


def dep_lines(d):
    out = {}
    for line in open(os.path.join(d, 'modules.dep')):
        mod, _, deps = line.rstrip('\n').partition(':')
        name = lambda p: re.sub(r'\.ko(\.(xz|gz|zst))?$', '', os.path.basename(p)).replace('-', '_')
        out[name(mod)] = {name(p) for p in deps.split()}
    return out


def deps(old_dir, new_dir, diff_path):
    diff = json.load(open(diff_path))
    ren = renames(diff)
    od, nd = dep_lines(old_dir), dep_lines(new_dir)
    want = set()
    for o, odeps in od.items():
        n = ren.get(o, o)
        if n not in nd:
            continue
        mapped = {ren.get(x, x) for x in odeps}
        if mapped != nd[n]:
            want.add((o, tuple(sorted(mapped - nd[n])), tuple(sorted(nd[n] - mapped))))
    got = set()
    for c in changes(diff, 'behaviour'):
        if c['code'] == 'DEP-CHANGED':
            d = c['data']
            got.add((c['module'], tuple(sorted(d.get('removed', []))),
                     tuple(sorted(d.get('added', [])))))
    return compare_sets('DEP-CHANGED', want, got)


MODES = {'kabi': kabi, 'kabi-inferred': kabi_inferred, 'modules': modules,
         'modinfo': modinfo, 'firmware': firmware, 'deps': deps}


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in MODES:
        sys.exit(f'usage: diff-check.py {"|".join(MODES)} A B DIFF.json')
    sys.exit(1 if MODES[sys.argv[1]](*sys.argv[2:5]) else 0)


if __name__ == '__main__':
    main()
