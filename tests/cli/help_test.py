#!/usr/bin/env python3
"""Every command's --help and -h work and list every option of its table; the parser knows
every option in the table; the man pages list them too.

The option tables come from the hidden `--list-options` of csvavro and csvavro-hdfsd (one line
per command, then one per option: PROG<TAB>NAMES<TAB>ARG). The independent side is what a user
sees: `--help` output, the command lists of `csvavro --help` and `csvavro fs --help`, the
parser's answers, and the man pages rendered by groff. A minimum command set is written out
here so that an empty or truncated table cannot pass.
"""
import os
import re
import subprocess
import sys
import tempfile

BIN = os.path.abspath(os.environ.get('CSVAVRO_BIN') or 'build/csvavro')
BUILD = os.environ.get('CSVAVRO_BUILD') or os.path.dirname(BIN)
HDFSD = os.path.join(os.path.dirname(BIN), 'csvavro-hdfsd')
EXPECTED = {'csvavro', 'csvavro convert', 'csvavro head', 'csvavro schema', 'csvavro cat',
            'csvavro fs'} | {'csvavro fs ' + op for op in
                             'ls stat cat head put get rm mkdir mv du df'.split()} | {'csvavro-hdfsd'}

failures = 0


def check(name, ok, detail=''):
    global failures
    if not ok:
        failures += 1
        print('FAIL %s\n%s' % (name, detail))


def run(argv, cwd):
    p = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=60)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def binary(prog):
    return HDFSD if prog.startswith('csvavro-hdfsd') else BIN


def argv_of(prog):
    words = prog.split()
    return [binary(prog)] + words[1:]


def names_of(names):
    return [n.strip() for n in names.split(',') if n.strip()]


def mentions(text, name):
    return re.search(r'(?<![\w-])' + re.escape(name) + r'(?![\w-])', text) is not None


def main():
    tables = {}  # prog -> [(names, arg)]
    for b in (BIN, HDFSD):
        rc, out, err = run([b, '--list-options'], '.')
        check(b + ' --list-options', rc == 0 and out, err)
        for line in out.splitlines():
            prog, names, arg = line.split('\t')
            tables.setdefault(prog, [])
            if names:
                tables[prog].append((names_of(names), arg))
    check('every command is in the tables', EXPECTED <= set(tables),
          'missing: %s' % sorted(EXPECTED - set(tables)))
    n_opts = sum(len(v) for v in tables.values())
    check('the tables hold the options', n_opts >= 60, 'only %d options' % n_opts)

    with tempfile.TemporaryDirectory() as d:
        # the command lists a user sees name exactly the commands of the tables
        for parent in ('csvavro', 'csvavro fs'):
            rc, out, err = run(argv_of(parent) + ['--help'], d)
            listed = set()
            if 'Commands:' in out:
                for line in out.split('Commands:', 1)[1].splitlines()[1:]:
                    if not line.startswith('  '):
                        break
                    if not line.startswith('   '):
                        listed.add(parent + ' ' + line.split()[0])
            subs = {p for p in tables if p.startswith(parent + ' ') and
                    len(p.split()) == len(parent.split()) + 1}
            check(parent + ' --help lists its commands', listed == subs and subs,
                  'listed %s, tables %s' % (sorted(listed), sorted(subs)))

        for prog, opts in sorted(tables.items()):
            for h in ('--help', '-h'):
                rc, out, err = run(argv_of(prog) + [h], d)
                check('%s %s exits 0' % (prog, h), rc == 0 and err == '', 'rc=%d\n%s' % (rc, err))
                check('%s %s usage line' % (prog, h), out.startswith('usage: ' + prog + ' '),
                      out[:200])
                for names, arg in opts + [(['-h', '--help'], '')]:
                    for n in names:
                        check('%s %s lists %s' % (prog, h, n), mentions(out, n), out)
                    if arg:
                        check('%s %s shows %s %s' % (prog, h, names[-1], arg),
                              (names[-1] + ' ' + arg) in out, out)
            # the parser knows every option of the table (value errors are fine, "unknown" not)
            for names, arg in opts:
                for n in names:
                    argv = argv_of(prog) + [n] + (['x'] if arg else [])
                    if prog == 'csvavro-hdfsd':
                        argv += ['--port', '70000']  # stops before the server starts
                    rc, out, err = run(argv, d)
                    check('%s accepts %s' % (prog, n),
                          'unknown option' not in err and
                          'takes no value' not in err and 'needs a value' not in err,
                          'rc=%d\n%s' % (rc, err))
                    if arg:
                        rc, out, err = run(argv_of(prog) + [n], d)
                        check('%s %s without a value' % (prog, n),
                              rc == 2 and 'needs a value' in err, 'rc=%d\n%s' % (rc, err))
            rc, out, err = run(argv_of(prog) + ['--no-such-option'], d)
            check('%s rejects an unknown option' % prog,
                  rc == 2 and "unknown option '--no-such-option'" in err and
                  "Run '%s --help'" % prog in err, 'rc=%d\n%s' % (rc, err))

    # the man pages, rendered by groff: no warnings, every command and option present
    for page, progs in (('csvavro.1', [p for p in tables if not p.startswith('csvavro-hdfsd')]),
                        ('csvavro-hdfsd.1', ['csvavro-hdfsd'])):
        path = os.path.join(BUILD, 'man', page)
        check(page + ' built', os.path.exists(path), path)
        if not os.path.exists(path):
            continue
        p = subprocess.run(['groff', '-man', '-Tascii', '-ww', '-rLL=100n', path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        text = re.sub(r'.\x08', '', p.stdout.decode('ascii', 'replace'))
        check(page + ' renders without warnings', p.returncode == 0 and not p.stderr,
              p.stderr.decode('utf-8', 'replace'))
        for prog in progs:
            if prog != 'csvavro':
                check('%s covers %s' % (page, prog), prog in text, '')
            for names, arg in tables[prog]:
                for n in names:
                    check('%s lists %s of %s' % (page, n, prog), mentions(text, n), '')

    if failures:
        print('%d failures' % failures)
        return 1
    print('ok: %d commands, %d options' % (len(tables), n_opts))
    return 0


if __name__ == '__main__':
    sys.exit(main())
