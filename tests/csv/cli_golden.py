#!/usr/bin/python3
"""Golden tests of `csvavro head` and `csvavro schema`.

Expected outputs are computed here independently: rows with Python's csv module, the table
layout from those rows, Avro names from the rules of issue 2 (re-implemented here), and the
schema JSON is parsed by python3-avro (avro.schema.parse) to prove it is valid Avro. Error
cases check the exit code and the location in the message.
"""
import csv
import io
import json
import os
import re
import subprocess
import sys
import tempfile

import warnings

import avro.schema

warnings.simplefilter("ignore")

BIN = os.environ.get('CSVAVRO_BIN') or sys.argv[1]
failures = []


def run(*args, data_path=None):
    p = subprocess.run([BIN] + list(args), capture_output=True)
    return p.returncode, p.stdout.decode('utf-8'), p.stderr.decode('utf-8')


def check(name, cond, detail=''):
    print('%-40s %s' % (name, 'ok' if cond else 'FAIL'))
    if not cond:
        failures.append(name)
        if detail:
            print('    ' + detail.replace('\n', '\n    '))


def avro_names(headers):
    out = []
    for h in headers:
        n = re.sub(r'[^A-Za-z0-9_]', '_', h) if h else '_'
        if n[0].isdigit():
            n = '_' + n
        base, k = n, 2
        while n in out:
            n = '%s_%d' % (base, k)
            k += 1
        out.append(n)
    return out


def table(names, types, rows):
    def show(v):
        if v is None:
            return 'null'
        v = v.replace('\n', '\\n').replace('\r', '\\r').replace('\t', '\\t')
        return v if len(v) <= 40 else v[:40] + '...'
    cells = [names, types] + [[show(v) for v in r] for r in rows]
    w = [max(len(r[c]) for r in cells) for c in range(len(names))]
    lines = []
    for r in cells:
        lines.append(''.join(v + (' ' * (w[c] - len(v) + 2) if c + 1 < len(r) else '')
                             for c, v in enumerate(r)))
    return '\n'.join(lines) + '\n'


def quoted_empty_rule(d):
    """One rule for a quoted "" (issue 19): the empty value in string and bytes columns, null in
    every other type; `head` shows what `convert` writes (read back by python3-avro)."""
    import avro.datafile
    import avro.io
    types = ['string', 'bytes', 'long', 'int', 'double', 'float', 'boolean', 'date',
             'timestamp', 'local-timestamp']
    names = ['c_' + t.replace('-', '_') for t in types]
    samples = ['s', 'b', '1', '2', '1.5', '2.5', 'true', '2013-01-07', '2013-01-07T00:00:00Z',
               '2013-01-07 00:00:00']
    qpath = os.path.join(d, 'quoted_empty.csv')
    with open(qpath, 'w', newline='') as f:
        f.write(','.join(names) + '\n' + ','.join(['""'] * len(names)) + '\n'
                + ','.join(samples) + '\n')
    tflags = []
    for n, t in zip(names, types):
        tflags += ['--type', '%s=%s' % (n, t)]
    rc, out, err = run('head', qpath, *tflags)
    # the independent rule: "" is text for string/bytes, else null
    want_row = ['' if t in ('string', 'bytes') else None for t in types]
    want = table(names, types, [want_row, samples])
    check('head: quoted "" per type', rc == 0 and out == want,
          'got:\n%s\nwant:\n%s\n%s' % (out, want, err))
    apath = os.path.join(d, 'quoted_empty.avro')
    rc, out, err = run('convert', qpath, apath, '-q', *tflags)
    rows = []
    if rc == 0:
        with open(apath, 'rb') as f:
            rows = list(avro.datafile.DataFileReader(f, avro.io.DatumReader()))
    got = [rows[0][n] for n in names] if rows else None
    want_avro = ['' if t == 'string' else b'' if t == 'bytes' else None for t in types]
    check('convert: quoted "" per type (python3-avro)', got == want_avro,
          'got %r, want %r %s' % (got, want_avro, err))


def main():
    d = tempfile.mkdtemp()
    data = ('id,1st name,when,score,ok,day,when,note\r\n'
            '1,Ann,2013-01-07 23:54:15,1.5,true,2020-02-29,2013-01-07T23:54:15Z,"a, b"\r\n'
            '2,"Bo ""B""",2013-01-08 00:00:01.25,2,false,,2013-01-07T23:54:15+01:00,\r\n'
            '3,,2013-01-09 10:00:00,-1e3,TRUE,2021-01-01,2013-01-07T23:54:15-05:30,"line\nbreak"\r\n'
            '4,Dee,2013-01-10 10:00:00,nan,False,2021-01-02,2013-01-07T23:54:15Z,'
            '%s\r\n' % ('x' * 50))
    path = os.path.join(d, 'people.csv')
    with open(path, 'w', newline='') as f:
        f.write(data)
    rows = list(csv.reader(io.StringIO(data, newline='')))
    names = avro_names(rows[0])
    types = ['long', 'string', 'local-timestamp', 'double', 'boolean', 'date', 'timestamp',
             'string']
    avro_types = [('long', None), ('string', None), ('long', 'local-timestamp-micros'),
                  ('double', None), ('boolean', None), ('int', 'date'),
                  ('long', 'timestamp-micros'), ('string', None)]

    # schema
    rc, out, err = run('schema', path, '--record-name', 'Person', '--namespace', 'org.example')
    check('schema exit 0', rc == 0, err)
    if rc == 0:
        js = json.loads(out)
        avro.schema.parse(out)  # raises if not valid Avro
        check('schema record name', js['name'] == 'Person' and js['namespace'] == 'org.example')
        got = [f['name'] for f in js['fields']]
        check('schema field names', got == names, '%r != %r' % (got, names))
        gt = []
        for f in js['fields']:
            t = f['type']
            assert t[0] == 'null' and f.get('default', 0) is None
            t = t[1]
            gt.append((t['type'], t['logicalType']) if isinstance(t, dict) else (t, None))
        check('schema field types', gt == avro_types, '%r' % gt)
        orig = [f.get('csvavro.header', f['name']) for f in js['fields']]
        check('schema keeps original headers', orig == rows[0], '%r' % orig)

    rc, out, err = run('schema', path, '--type', 'id=string', '--infer-rows', 'all',
                       '--type=score=float', '--not-null', 'ok')
    if rc == 0:
        js = json.loads(out)
        f = {x['name']: x['type'] for x in js['fields']}
        check('schema --type/--not-null/all', f['id'] == 'string' and f['score'] == 'float' and
              f['ok'] == 'boolean' and f['when'] == {'type': 'long', 'logicalType': 'local-timestamp-micros'},
              json.dumps(f))
    else:
        check('schema --type/--not-null/all', False, err)

    # head
    def none_if_empty(r):
        return [None if v == '' else v for v in r]
    rc, out, err = run('head', path, '-n', '3')
    want = table(names, types, [none_if_empty(r) for r in rows[1:4]])
    check('head -n 3', rc == 0 and out == want, 'got:\n%s\nwant:\n%s\n%s' % (out, want, err))
    rc, out, err = run('head', path)
    want = table(names, types, [none_if_empty(r) for r in rows[1:6]])
    check('head default 5 rows', rc == 0 and out == want, 'got:\n%s\nwant:\n%s' % (out, want))

    # dialect: tab, no header, names
    tpath = os.path.join(d, 'tab.tsv')
    with open(tpath, 'w', newline='') as f:
        f.write('# comment\n1\tx\n2\ty\n')
    rc, out, err = run('head', tpath, '--delimiter', '\\t', '--no-header', '--comment', '#')
    want = table(['c1', 'c2'], ['long', 'string'], [['1', 'x'], ['2', 'y']])
    check('head tab/no-header/comment', rc == 0 and out == want, out + err)
    rc, out, err = run('head', tpath, '--delimiter=\t', '--no-header', '--comment', '#',
                       '--names', 'num,letter')
    want = table(['num', 'letter'], ['long', 'string'], [['1', 'x'], ['2', 'y']])
    check('head --names', rc == 0 and out == want, out + err)

    # latin-1
    lpath = os.path.join(d, 'latin1.csv')
    with open(lpath, 'wb') as f:
        f.write(b'name\ncaf\xe9\n')
    rc, out, err = run('head', lpath, '--encoding', 'latin-1')
    check('head latin-1', rc == 0 and out == table(['name'], ['string'], [['café']]), out + err)
    rc, out, err = run('head', lpath)
    check('head invalid utf-8 fails with offset', rc == 1 and 'byte 8' in err and 'UTF-8' in err, err)

    # errors
    epath = os.path.join(d, 'ragged.csv')
    with open(epath, 'w', newline='') as f:
        f.write('a,b\n1,2\n3\n4,5\n')
    rc, out, err = run('head', epath)
    check('ragged row fails (exit 1, line 3, byte 8)', rc == 1 and ':3:' in err and 'byte 8' in err
          and 'record has 1 field' in err, err)
    rc, out, err = run('head', epath, '--on-error', 'skip')
    check('ragged row skipped', rc == 0 and out == table(['a', 'b'], ['long', 'long'],
                                                          [['1', '2'], ['4', '5']]), out + err)
    rc, out, err = run('head', os.path.join(d, 'missing.csv'))
    check('missing file exit 1', rc == 1 and 'missing.csv' in err, err)
    rc, out, err = run('head', epath, '--on-error', 'maybe')
    check('bad option value exit 2', rc == 2 and 'on-error' in err, err)
    rc, out, err = run('schema')
    check('schema without input exit 2', rc == 2, err)
    rc, out, err = run('schema', epath, '--type', 'zz=long', '--on-error', 'skip')
    check('--type unknown column exit 2', rc == 2 and 'zz' in err, err)
    empty = os.path.join(d, 'empty.csv')
    open(empty, 'w').close()
    rc, out, err = run('schema', empty)
    check('empty input exit 1', rc == 1 and 'empty' in err, err)
    quoted_empty_rule(d)
    # Avro spec (Names): primitive type names cannot name a record, in any namespace (issue 19)
    spath = os.path.join(d, 'small.csv')
    with open(spath, 'w') as f:
        f.write('a,b\n1,2\n')
    for prim in ['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']:
        rc, out, err = run('schema', spath, '--record-name', prim)
        check('--record-name %s refused' % prim, rc != 0 and 'record name' in err and not out,
              out + err)
        avsc = os.path.join(d, 'prim.avsc')
        with open(avsc, 'w') as f:
            json.dump({'type': 'record', 'name': 'x.' + prim, 'fields': [
                {'name': 'a', 'type': 'long'}, {'name': 'b', 'type': 'long'}]}, f)
        rc, out, err = run('convert', spath, os.path.join(d, 'prim.avro'), '-q', '--schema', avsc)
        check('--schema named x.%s refused' % prim, rc != 0 and 'record name' in err, out + err)
    rc, out, err = run('schema', spath, '--record-name', 'Int', '--namespace', 'int.long')
    check('--record-name Int in namespace int.long accepted (python3-avro parses it)',
          rc == 0 and avro.schema.parse(out).fullname == 'int.long.Int', out + err)
    rc, out, err = run('head', '--help')
    check('head --help lists CSV options', rc == 0 and '--infer-rows' in out and '--escape' in out)

    subprocess.run(['rm', '-rf', d])
    print('FAILURES: %s' % failures if failures else 'all ok')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
