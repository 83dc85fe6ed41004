#!/usr/bin/python3
"""bench/put_table_in_results.py: bench/compare.sh's table goes between RESULTS.md's two markers,
replacing what was there, and nothing outside them moves; without the markers the script says
so, exits non-zero and leaves the file alone.

Run by CTest: test_results_table.py --tapegpt PATH --workdir DIR (the binary is not used)
"""
import argparse
import os
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench",
                      "put_table_in_results.py")
BEGIN = "<!-- bench/compare.sh writes the table below; edits inside are overwritten -->"
END = "<!-- end of bench/compare.sh's table -->"


def put(table, results):
    return subprocess.run(["/usr/bin/python3", SCRIPT, table, results, "abc1234"],
                          capture_output=True, text=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tapegpt")
    ap.add_argument("--workdir", required=True)
    w = ap.parse_args().workdir
    os.makedirs(w, exist_ok=True)
    table, results = os.path.join(w, "compare.md"), os.path.join(w, "RESULTS.md")
    failures = []

    before, after = "# Results\nintro\n\n", "\n\n### Session 1\nkept as written\n"
    open(results, "w").write(f"{before}{BEGIN}\nan old table\n{END}{after}")
    for rows in ("| a | 1.50 |", "| a | 1.61 |"):  # twice: the second run replaces the first
        open(table, "w").write(f"| config | x |\n| --- | --- |\n{rows}\n")
        r = put(table, results)
        if r.returncode != 0:
            failures.append(f"exit {r.returncode}: {r.stderr.strip()}")
    text = open(results).read()
    if not text.startswith(before + BEGIN + "\nMeasured at abc1234, finished "):
        failures.append("the block does not start with the commit line:\n" + text)
    if not text.endswith(END + after):
        failures.append("text after the block moved:\n" + text)
    if "| a | 1.61 |" not in text or "1.50" in text or "an old table" in text:
        failures.append("the block is not exactly the latest table:\n" + text)

    open(results, "w").write("# Results, no markers\n")
    r = put(table, results)
    if r.returncode == 0 or not r.stderr.startswith(results + ": needs one"):
        failures.append(f"without markers: exit {r.returncode}, stderr {r.stderr!r}")
    if open(results).read() != "# Results, no markers\n":
        failures.append("without markers the file changed")

    for f in failures:
        print("FAIL:", f)
    print("ok" if not failures else f"{len(failures)} failure(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
