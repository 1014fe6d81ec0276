#!/usr/bin/env python3
"""Converts the test table of Prometheus's promql/parser/lex_test.go into lex.json (data for
tests/promql_syntax_lexer.rs). Reads the Go file on stdin, writes JSON on stdout.

    git show HEAD:promql/parser/lex_test.go | python3 convert_go_table.py > lex.json

Only the Go literal syntax the table uses is understood: composite literals, string literals (interpreted
and raw), integers, identifiers and `posrange.Pos(n)`.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from convert_parse_table import go_unquote as go_unquote_str, tokenize


def go_unquote(lit):
    """A Go interpreted string literal's bytes."""
    return go_unquote_str(lit).encode('utf-8', errors='surrogateescape')


class Parser:
    def __init__(self, toks):
        self.t, self.i = toks, 0

    def peek(self, k=0):
        return self.t[self.i + k] if self.i + k < len(self.t) else (None, None)

    def take(self, val=None):
        tok = self.t[self.i]
        if val is not None and tok[1] != val:
            raise SystemExit(f"expected {val!r}, got {tok!r} at token {self.i}")
        self.i += 1
        return tok

    def value(self):
        kind, v = self.peek()
        if v == '{':
            return self.composite()
        if v == '[]':
            self.take()
            self.take()  # element type
            return self.composite()
        if kind == 'str':
            self.take()
            return go_unquote(v)
        if kind == 'raw':
            self.take()
            return v[1:-1].encode()
        if kind == 'num':
            self.take()
            return int(v)
        if kind == 'ident':
            self.take()
            if self.peek()[1] == '.':  # posrange.Pos(n)
                self.take('.')
                self.take()
                self.take('(')
                x = self.value()
                self.take(')')
                return x
            return {'ident': v}
        raise SystemExit(f"unexpected {self.peek()!r}")

    def composite(self):
        self.take('{')
        fields, items = {}, []
        while self.peek()[1] != '}':
            if self.peek()[0] == 'ident' and self.peek(1)[1] == ':':
                name = self.take()[1]
                self.take(':')
                fields[name] = self.value()
            else:
                items.append(self.value())
            if self.peek()[1] == ',':
                self.take(',')
        self.take('}')
        return fields if fields else items


def text(b):
    return b.decode('utf-8')


def main():
    src = sys.stdin.read()
    start = src.index('var tests = []struct {')
    src = src[start:]
    body_start = src.index('}{', 0) + 1  # after the anonymous struct type
    body_end = src.index('\n}\n', body_start) + 2  # the closing brace of the variable's value
    toks = tokenize(src[body_start:body_end])
    groups = Parser(toks).composite()
    out = []
    for g in groups:
        for case in g['tests']:
            inp = case['input']
            row = {'group': text(g['name'])}
            try:
                row['input'] = text(inp)
            except UnicodeDecodeError:
                row['input_hex'] = inp.hex()
            row['series_desc'] = case.get('seriesDesc', {}).get('ident') == 'true'
            row['fail'] = case.get('fail', {}).get('ident') == 'true'
            if 'expected' in case:
                row['expected'] = [[it[0]['ident'], it[1], text(it[2])] for it in case['expected']]
            out.append(row)
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
