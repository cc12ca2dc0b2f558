#!/usr/bin/env bash
# Count the bad-input cases the suites try, each of which must be answered by an ERROR:
#   - pgTAP (test/pgtap/*.sql): every throws_ok / throws_like / throws_ilike / throws_matching /
#     throws_imatching call (SQL comments skipped); the SQLSTATE is the errcode argument of
#     throws_ok (pgTAP's 3-argument form takes a 5-character second argument as the errcode,
#     anything else as the message); NULL or absent means any SQLSTATE passes;
#   - pg_regress (expected/*.out): every "ERROR:" line; the output shows the message, not the
#     SQLSTATE;
#   - shell (test/shell/*.sh, tools/check-upgrade.sh): a statement run to be refused
#     (`if err=$(...); then <fail>`; the script then checks the message) and, counted apart
#     because a cancel is not a bad input, cancel_case / timeout_case calls of cancel.sh, each
#     checked for 57014 (and the statement_timeout cases of graph.sql, pg_temp.cancel_latency).
# Prints the counts per file, per SQLSTATE, and the totals; no server needed.
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 - "$@" <<'PY'
import collections, glob, re, sys

def strip_comments(sql):
    """Drop -- and /* */ comments outside string literals and dollar quotes."""
    out, i, n = [], 0, len(sql)
    while i < n:
        c = sql[i]
        if sql.startswith('--', i):
            j = sql.find('\n', i)
            i = n if j < 0 else j
        elif sql.startswith('/*', i):
            j = sql.find('*/', i + 2)
            i = n if j < 0 else j + 2
        elif c == "'":
            j = i + 1
            while j < n:
                if sql[j] == "'" and j + 1 < n and sql[j + 1] == "'":
                    j += 2
                elif sql[j] == "'":
                    break
                else:
                    j += 1
            out.append(sql[i:j + 1]); i = j + 1
        elif c == '$':
            m = re.match(r'\$([A-Za-z_][A-Za-z0-9_]*)?\$', sql[i:])
            if m:
                j = sql.find(m.group(0), i + len(m.group(0)))
                j = n if j < 0 else j + len(m.group(0))
                out.append(sql[i:j]); i = j
            else:
                out.append(c); i += 1
        else:
            out.append(c); i += 1
    return ''.join(out)

def split_args(sql, start):
    """Top-level arguments of the call whose '(' is at start; returns (args, end)."""
    args, cur, depth, i, n = [], [], 0, start + 1, len(sql)
    while i < n:
        c = sql[i]
        if c == "'":
            j = i + 1
            while j < n:
                if sql[j] == "'" and j + 1 < n and sql[j + 1] == "'":
                    j += 2
                elif sql[j] == "'":
                    break
                else:
                    j += 1
            cur.append(sql[i:j + 1]); i = j + 1; continue
        if c == '$':
            m = re.match(r'\$([A-Za-z_][A-Za-z0-9_]*)?\$', sql[i:])
            if m:
                j = sql.find(m.group(0), i + len(m.group(0)))
                j = n if j < 0 else j + len(m.group(0))
                cur.append(sql[i:j]); i = j; continue
        if c == '(':
            depth += 1
        elif c == ')':
            if depth == 0:
                args.append(''.join(cur).strip())
                return args, i
            depth -= 1
        elif c == ',' and depth == 0:
            args.append(''.join(cur).strip()); cur = []; i += 1; continue
        cur.append(c); i += 1
    raise SystemExit(f'unterminated call at offset {start}')

def literal(arg):
    """The value of a plain string literal argument, None for NULL, '?' for anything else."""
    a = re.sub(r'::\s*(char\(5\)|text|bpchar)$', '', arg.strip(), flags=re.I)
    if a.upper() == 'NULL':
        return None
    if len(a) >= 2 and a[0] == "'" and a[-1] == "'":
        return a[1:-1].replace("''", "'")
    return '?'

per_file = collections.OrderedDict()   # file -> [checks, with errcode, with message, neither]
per_state = collections.Counter()
kinds = collections.Counter()
bad = 0

for f in sorted(glob.glob('test/pgtap/*.sql')):
    sql = strip_comments(open(f, encoding='utf-8').read())
    row = per_file.setdefault(f, [0, 0, 0, 0])
    for m in re.finditer(r'\bthrows_(ok|like|ilike|matching|imatching)\s*\(', sql):
        args, _ = split_args(sql, m.end() - 1)
        kind = 'throws_' + m.group(1)
        kinds[kind] += 1
        code = msg = None
        if kind == 'throws_ok':
            if len(args) >= 4:
                code, msg = literal(args[1]), literal(args[2])
            elif len(args) == 3:
                v = literal(args[1])
                if v is not None and len(v) == 5:
                    code = v
                else:
                    msg = v
            elif len(args) == 2:
                v = literal(args[1])
                if v is not None and len(v) == 5:
                    code = v
                else:
                    msg = v
        else:
            msg = literal(args[1]) if len(args) > 1 else None
        row[0] += 1
        if code is not None:
            row[1] += 1
            per_state[code] += 1
        elif msg is not None:
            per_state['(message only)'] += 1
        else:
            per_state['(any error)'] += 1
        if msg is not None:
            row[2] += 1
        if code is None and msg is None:
            row[3] += 1

for f in sorted(glob.glob('expected/*.out')):
    n = sum(1 for line in open(f, encoding='utf-8') if line.startswith('ERROR:'))
    per_file[f] = [n, 0, n, 0]
    per_state['(message only)'] += n

cancels = collections.OrderedDict()
for f in sorted(glob.glob('test/pgtap/*.sql')):
    c = len(re.findall(r'\bcancel_latency\(\$\$', strip_comments(open(f, encoding='utf-8').read())))
    if c:
        cancels[f] = c
for f in sorted(glob.glob('test/shell/*.sh')) + ['tools/check-upgrade.sh']:
    text = open(f, encoding='utf-8').read()
    refused = len(re.findall(r'^\s*if\s+\w+=\$\(.*\);\s*then', text, re.M))
    per_file[f] = [refused, 0, refused, 0]
    per_state['(message only)'] += refused
    c = len(re.findall(r'^(cancel_case|timeout_case)\s', text, re.M))
    if c:
        cancels[f] = c

print(f"{'file':34} {'cases':>6} {'SQLSTATE':>9} {'message':>8} {'neither':>8}")
for f, (n, code, msg, neither) in per_file.items():
    print(f'{f:34} {n:6} {code:9} {msg:8} {neither:8}')
total = sum(r[0] for r in per_file.values())
print(f"{'total bad-input cases':34} {total:6} {sum(r[1] for r in per_file.values()):9} "
      f"{sum(r[2] for r in per_file.values()):8} {sum(r[3] for r in per_file.values()):8}")
print()
print('per SQLSTATE checked:')
for s, n in sorted(per_state.items(), key=lambda kv: (kv[0].startswith('('), -kv[1], kv[0])):
    print(f'  {s:16} {n:4}')
print()
tok = kinds['throws_ok']
tok_code = sum(r[1] for f, r in per_file.items() if f.startswith('test/pgtap/'))
print(f"pgTAP: {sum(kinds.values())} calls ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}); "
      f"throws_ok with an errcode: {tok_code} of {tok}, with a NULL/absent errcode: {tok - tok_code}")
for f, n in cancels.items():
    print(f'cancels (57014, not bad inputs, not in the total): {f} {n}')
print(f'error checks in all, cancels included: {total + sum(cancels.values())}')
PY
