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


def main():
    what = sys.argv[1]
    if what == 'kabi':
        bad = kabi(*sys.argv[2:5])
    elif what == 'modules':
        bad = modules(*sys.argv[2:5])
    else:
        sys.exit(f'diff-check.py: unknown mode {what}')
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
