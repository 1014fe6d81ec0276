#!/usr/bin/env python3
"""Converts the tables of Prometheus's promql/parser/prettier_test.go into prettier.json (data for
tests/promql_syntax_printer.rs): per case, the test function it comes from, the line width the function sets
(`maxCharactersPerLine`), the input and the pretty-printed output.

    git show HEAD:promql/parser/prettier_test.go | python3 convert_prettier_table.py > prettier.json
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from convert_parse_table import P, tokenize


def main():
    src = sys.stdin.read()
    out = []
    funcs = [m.start() for m in re.finditer(r'^func Test\w+', src, re.M)] + [len(src)]
    for a, b in zip(funcs, funcs[1:]):
        body = src[a:b]
        name = re.match(r'func (Test\w+)', body).group(1)
        width = re.search(r'maxCharactersPerLine = (\d+)', body)
        start = body.find('inputs := []struct {')
        if not width or start < 0:
            continue
        rest = body[start:]
        table_start = rest.index('}{') + 1
        table_end = rest.index('\n\t}\n', table_start) + 3
        cases = P(tokenize(rest[table_start:table_end])).composite(None)
        for c in cases:
            out.append({'test': name, 'width': int(width.group(1)), 'in': c['in'], 'out': c['out']})
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
