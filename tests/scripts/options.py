#!/usr/bin/env python3
"""Option lists for tests/scripts/test-install.sh, one option per line.

  options.py help FILE         options a --help text lists ("-a, --all ...")
  options.py man FILE.scd      options of a man page's OPTIONS section
  options.py man-compat FILE   options of its COMPATIBILITY OPTIONS section,
                               as "OPTION ARG" (ARG 1 when it takes a value)
  options.py codes FILE...     finding codes ("MA-...") quoted in C or listed
                               in a completion or man page
  options.py man-commands FILE commands of modatlas(8)'s COMMANDS section
"""
import re
import sys

OPT = re.compile(r'(?<![\w-])(--?[A-Za-z0-9][A-Za-z0-9-]*)')


def help_options(text):
    opts = set()
    for line in text.splitlines():
        # option lines start (after indentation) with "-x" or "--long"
        m = re.match(r'^\s+((?:-[A-Za-z0-9](?:, )?)?(?:\s*--[a-z][a-z0-9-]*)?)', line)
        if m and m.group(1).strip().startswith('-'):
            opts.update(OPT.findall(m.group(1)))
    return opts


def man_section(text, title):
    out, inside = [], False
    for line in text.splitlines():
        if line.startswith('# '):
            inside = line[2:].strip() == title
            continue
        if inside:
            out.append(line)
    return out


def man_entries(lines):
    """(options, takes_value) of each entry line "*-a*, *--all*=_X_"."""
    for line in lines:
        if line.startswith('*-'):
            opts = OPT.findall(re.sub(r'_[^_]*_', '', line))
            yield opts, '=' in line or bool(re.search(r'\* _', line))


def main():
    what, files = sys.argv[1], sys.argv[2:]
    text = ''.join(open(f, encoding='utf-8').read() for f in files)
    if what == 'help':
        res = help_options(text)
    elif what == 'man':
        res = {o for opts, _ in man_entries(man_section(text, 'OPTIONS')) for o in opts}
    elif what == 'man-compat':
        res = {f'{o} {int(arg)}' for opts, arg in
               man_entries(man_section(text, 'COMPATIBILITY OPTIONS')) for o in opts}
    elif what == 'codes':
        res = set(re.findall(r'MA-[A-Z0-9]+(?:-[A-Z0-9]+)*', text))
    elif what == 'man-commands':
        res = {m.group(1) for line in man_section(text, 'COMMANDS')
               for m in [re.match(r'^\*([a-z][a-z-]*)\*$', line)] if m}
    else:
        sys.exit(f'options.py: unknown mode {what}')
    if res:
        print('\n'.join(sorted(res)))


if __name__ == '__main__':
    main()
