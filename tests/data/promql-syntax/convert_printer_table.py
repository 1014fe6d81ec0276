#!/usr/bin/env python3
"""Converts the `inputs` table of Prometheus's promql/parser/printer_test.go (TestExprString) into
printer.json (data for tests/promql_syntax_printer.rs): each case's input and the string Prometheus prints
for it (the input itself where the table gives no `out`).

    git show HEAD:promql/parser/printer_test.go | python3 convert_printer_table.py > printer.json
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from convert_parse_table import P, tokenize


def main():
    src = sys.stdin.read()
    src = src[src.index('func TestExprString'):]
    start = src.index('inputs := []struct {')
    src = src[start:]
    body_start = src.index('}{') + 1
    body_end = src.index('\n\t}\n', body_start) + 3
    cases = P(tokenize(src[body_start:body_end])).composite(None)
    out = [{'in': c['in'], 'out': c.get('out') or c['in']} for c in cases]
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
