#!/usr/bin/env python3
"""Converts the `testExpr` table of Prometheus's promql/parser/parse_test.go into parse.json (data for
tests/promql_syntax_parser.rs). Reads the Go file on stdin, writes JSON on stdout.

    git show HEAD:promql/parser/parse_test.go | python3 convert_parse_table.py > parse.json

The Go expressions the table uses are evaluated where they compute a value (string concatenation,
strings.Repeat, fmt.Sprintf / Errorf, durations such as `5 * time.Minute` in nanoseconds, repeatError, append,
math.Inf) and kept as tagged JSON otherwise:
  {"$type": "VectorSelector", field: value, ...}   a composite literal (`&T{...}` or `T{...}`)
  {"$matcher": [type, name, value]}                MustLabelMatcher(labels.MatchEqual, "a", "b")
  {"$function": name}                              MustGetFunction("rate")
  {"$error": message}                              errors.New / fmt.Errorf
  {"$ident": "ADD"}                                an identifier or constant (item types, match types, ...)
  {"$float": "+Inf" | "-Inf" | "NaN"}              a float JSON cannot hold
"""
import json
import math
import re
import sys

TOKEN = re.compile(r'''
    (?P<ws>\s+|//[^\n]*|/\*.*?\*/)
  | (?P<str>"(?:[^"\\\n]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<num>(?:0[xX][0-9a-fA-F_]+|\d[\d_]*(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>\.\.\.|\[\]|&&|\|\||[{}(),:.\[\]&*+\-/])
''', re.S | re.X)

DURATIONS = {'Nanosecond': 1, 'Microsecond': 1000, 'Millisecond': 10**6, 'Second': 10**9,
             'Minute': 60 * 10**9, 'Hour': 3600 * 10**9}


def tokenize(src):
    out, i = [], 0
    while i < len(src):
        m = TOKEN.match(src, i)
        if not m:
            raise SystemExit(f"cannot tokenize at {src[i:i+60]!r}")
        i = m.end()
        if m.lastgroup != 'ws':
            out.append((m.lastgroup, m.group()))
    return out


def go_unquote(lit):
    body = lit[1:-1]
    out = bytearray()
    i = 0
    simple = {'a': 7, 'b': 8, 'f': 12, 'n': 10, 'r': 13, 't': 9, 'v': 11, '\\': 92, '"': 34, "'": 39}
    while i < len(body):
        c = body[i]
        if c != '\\':
            out += c.encode()
            i += 1
            continue
        e = body[i + 1]
        if e in simple:
            out.append(simple[e]); i += 2
        elif e == 'x':
            out.append(int(body[i + 2:i + 4], 16)); i += 4
        elif e in 'uU':
            n = 4 if e == 'u' else 8
            out += chr(int(body[i + 2:i + 2 + n], 16)).encode(); i += 2 + n
        elif e in '01234567':
            out.append(int(body[i + 1:i + 4], 8)); i += 4
        else:
            raise SystemExit(f"unknown escape in {lit}")
    return out.decode('utf-8', errors='surrogateescape')


def go_sprintf(fmt, args):
    out, ai, i = [], 0, 0
    while i < len(fmt):
        c = fmt[i]
        if c != '%':
            out.append(c); i += 1; continue
        verb = fmt[i + 1]
        i += 2
        if verb == '%':
            out.append('%'); continue
        a = args[ai]; ai += 1
        if verb == 'f':
            out.append('%f' % a)
        elif verb == 'd':
            out.append(str(int(a)))
        elif verb == 's' or verb == 'v':
            out.append(str(a))
        elif verb == 'q':
            out.append(json.dumps(a))
        else:
            raise SystemExit(f"verb %{verb}")
    return ''.join(out)


class P:
    def __init__(self, toks):
        self.t, self.i = toks, 0

    def peek(self, k=0):
        j = self.i + k
        return self.t[j] if j < len(self.t) else (None, None)

    def take(self, val=None):
        tok = self.t[self.i]
        if val is not None and tok[1] != val:
            raise SystemExit(f"expected {val!r}, got {tok!r} near {self.t[self.i-5:self.i+5]}")
        self.i += 1
        return tok

    # expr := unary {('+'|'-'|'*'|'/') unary}, evaluated left to right with * and / first.
    def expr(self):
        terms = [self.term()]
        ops = []
        while self.peek()[1] in ('+', '-'):
            ops.append(self.take()[1])
            terms.append(self.term())
        v = terms[0]
        for op, t in zip(ops, terms[1:]):
            v = v + t if op == '+' else v - t
        return v

    def term(self):
        v = self.unary()
        while self.peek()[1] in ('*', '/'):
            op = self.take()[1]
            w = self.unary()
            v = v * w if op == '*' else v / w
        return v

    def unary(self):
        kind, v = self.peek()
        if v == '&':
            self.take()
            return self.unary()
        if v == '-':
            self.take()
            return -self.unary()
        return self.postfix(self.primary())

    def postfix(self, v):
        return v

    def primary(self):
        kind, v = self.peek()
        if v == '(':
            self.take()
            x = self.expr()
            self.take(')')
            return x
        if v == '{':
            return self.composite(None)
        if v == '[]':
            self.take()
            self.type_name()
            return self.composite(None)
        if kind == 'str':
            self.take(); return go_unquote(v)
        if kind == 'raw':
            self.take(); return v[1:-1]
        if kind == 'num':
            self.take()
            s = v.replace('_', '')
            if s.lower().startswith('0x'):
                return int(s, 16)
            if re.fullmatch(r'0[0-7]+', s):
                return int(s, 8)
            return float(s) if any(c in s for c in '.eE') else int(s)
        if kind == 'ident':
            name = self.qualified()
            if self.peek()[1] == '{':
                return self.composite(name)
            if self.peek()[1] == '(':
                return self.call(name)
            return self.ident(name)
        raise SystemExit(f"unexpected {self.peek()!r} near {self.t[self.i-5:self.i+5]}")

    def qualified(self):
        name = self.take()[1]
        while self.peek()[1] == '.' and self.peek(1)[0] == 'ident':
            self.take('.')
            name += '.' + self.take()[1]
        return name

    def type_name(self):
        if self.peek()[1] == '*':
            self.take()
        if self.peek()[1] == '[]':
            self.take()
        self.qualified()

    def ident(self, name):
        if name == 'true': return True
        if name == 'false': return False
        if name == 'nil': return None
        if name == 'math.MaxInt64': return 2**63 - 1
        if name == 'math.MinInt64': return -2**63
        if name.startswith('time.') and name[5:] in DURATIONS:
            return DURATIONS[name[5:]]
        return {'$ident': name.split('.')[-1]}

    def args(self):
        self.take('(')
        out = []
        while self.peek()[1] != ')':
            out.append(self.expr())
            if self.peek()[1] == '...':
                self.take()
                out[-1] = {'$spread': out[-1]}
            if self.peek()[1] == ',':
                self.take(',')
        self.take(')')
        return out

    def call(self, name):
        a = self.args()
        short = name.split('.')[-1]
        if name == 'math.Inf':
            return {'$float': '+Inf' if a[0] >= 0 else '-Inf'}
        if name == 'math.NaN':
            return {'$float': 'NaN'}
        if name == 'strings.Repeat':
            return a[0] * int(a[1])
        if name in ('float64', 'int64', 'int', 'time.Duration', 'posrange.Pos', 'uint64'):
            return a[0]
        if name == 'fmt.Sprintf':
            return go_sprintf(a[0], a[1:])
        if name == 'fmt.Errorf':
            return {'$error': go_sprintf(a[0], a[1:])}
        if name == 'errors.New':
            return {'$error': a[0]}
        if short == 'makeInt64Pointer':
            return a[0]
        if short == 'MustLabelMatcher':
            return {'$matcher': [a[0]['$ident'], a[1], a[2]]}
        if short == 'MustGetFunction':
            return {'$function': a[0]}
        if short == 'repeatError':
            # Kept as a rule, not expanded (one case asks for 10,999 errors).
            query, err, start, start_step, end, end_step, count = a
            return [{'$repeat': {'message': err['$error'], 'start': start, 'start_step': start_step,
                                 'end': end, 'end_step': end_step, 'count': count},
                     'Query': query}]
        if name == 'append':
            out = list(a[0])
            for x in a[1:]:
                if isinstance(x, dict) and '$spread' in x:
                    out += x['$spread']
                else:
                    out.append(x)
            return out
        return {'$call': name, 'args': a}

    def composite(self, type_name):
        self.take('{')
        fields, items = {}, []
        while self.peek()[1] != '}':
            if self.peek()[0] == 'ident' and self.peek(1)[1] == ':':
                name = self.take()[1]
                self.take(':')
                fields[name] = self.expr()
            else:
                items.append(self.expr())
            if self.peek()[1] == ',':
                self.take(',')
        self.take('}')
        if fields or (type_name and not items):
            if type_name:
                fields = {'$type': type_name.split('.')[-1], **fields}
            return fields
        return items


def clean(v):
    if isinstance(v, str):
        try:
            v.encode('utf-8')
        except UnicodeEncodeError:  # bytes that are not UTF-8, kept by surrogateescape
            return {'$hex': v.encode('utf-8', errors='surrogateescape').hex()}
        return v
    if isinstance(v, float):
        if math.isinf(v):
            return {'$float': '+Inf' if v > 0 else '-Inf'}
        if math.isnan(v):
            return {'$float': 'NaN'}
        return v
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [clean(x) for x in v]
    return v


def main():
    src = sys.stdin.read()
    start = src.index('var testExpr = []struct {')
    src = src[start:]
    body_start = src.index('}{') + 1
    body_end = src.index('\n}\n', body_start) + 2
    toks = tokenize(src[body_start:body_end])
    cases = P(toks).composite(None)
    out = []
    for c in cases:
        row = {'input': c['input'], 'fail': bool(c.get('fail', False))}
        if 'expected' in c:
            row['expected'] = c['expected']
        if 'errors' in c:
            # A ParseErr without a PositionRange has the zero range.
            # `query` only where it is not the input (it always is in today's table). `repeat`: `count` errors,
            # the k-th at [start + k * start_step, end + k * end_step].
            row['errors'] = [{'repeat': e['$repeat']} if '$repeat' in e else {'start': e.get('PositionRange', {}).get('Start', 0),
                              'end': e.get('PositionRange', {}).get('End', 0),
                              'message': e['Err']['$error'],
                              **({} if e['Query'] == c['input'] else {'query': e['Query']})}
                             for e in c['errors']]
        out.append(clean(row))
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
