#!/usr/bin/python3
"""Puts bench/compare.sh's table (bench/results/compare.md) into bench/RESULTS.md, between the two
markers there, under a line naming the commit and date it was measured at. The sessions'
sections around it stay as written; the block between the markers belongs to the script.

usage: put_table_in_results.py TABLE_MD RESULTS_MD COMMIT
"""
import datetime
import os
import sys

BEGIN = "<!-- bench/compare.sh writes the table below; edits inside are overwritten -->"
END = "<!-- end of bench/compare.sh's table -->"


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.strip().splitlines()[-1])
    table_path, results_path, commit = sys.argv[1:]
    table = open(table_path, encoding="utf-8").read().strip()
    text = open(results_path, encoding="utf-8").read()
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        sys.exit(f"{results_path}: needs one '{BEGIN}' line and one '{END}' line after it")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    stamp = f"Measured at {commit}, finished {datetime.date.today().isoformat()}."
    tmp = results_path + ".tmp"  # written whole, then renamed: a failure leaves RESULTS as it was
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(f"{head}{BEGIN}\n{stamp}\n\n{table}\n{END}{tail}")
    os.replace(tmp, results_path)


if __name__ == "__main__":
    main()
