#!/usr/bin/env python3
"""English→French (prompt, completion) pairs for the fine-tuning example, from Debian's
dict-freedict-eng-fra dictionary (python3 standard library only).

Reads /usr/share/dictd/freedict-eng-fra.index (headword, base64 offset, base64 length) and the
gzip-compressed /usr/share/dictd/freedict-eng-fra.dict.dz (dictzip is gzip-compatible), and writes
one JSON object per line:

    {"prompt": "english: cat\\nfrench:", "completion": " chat"}

Kept: short simple headwords (one lowercase ASCII word of 2-12 letters, the entry not a proper
noun) whose first translation is one clean word (letters, French accents allowed, at most 16
characters, no parentheses, abbreviations or multi-word phrases). With the dictionary as shipped in
Debian bookworm (edition 0.1.6, 8799 headwords) this writes 5917 pairs.

usage: make_en_fr_pairs.py [--out FILE] [--dict PATH.dict.dz] [--index PATH.index]
"""
import argparse
import gzip
import json
import re
import sys

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
ENGLISH_WORD = re.compile(r"[a-z]{2,12}")
FRENCH_WORD = re.compile(r"[a-zàâäçéèêëîïôöùûüÿœæ]{1,16}")


def b64_number(s):
    """dictd's index numbers are base-64 digits, most significant first."""
    value = 0
    for c in s:
        value = value * 64 + B64.index(c)
    return value


def first_translation(body):
    """First comma-separated item of the first sense, or None."""
    lines = [l.strip() for l in body.split("\n")[1:] if l.strip()]
    if not lines:
        return None
    sense = re.sub(r"^\d+\.\s*", "", lines[0])
    first = sense.split(",")[0].split(";")[0].strip()
    return first or None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="-", help="output JSONL file (default: stdout)")
    ap.add_argument("--dict", default="/usr/share/dictd/freedict-eng-fra.dict.dz")
    ap.add_argument("--index", default="/usr/share/dictd/freedict-eng-fra.index")
    args = ap.parse_args()

    try:
        data = gzip.open(args.dict).read()
        index = open(args.index, encoding="utf-8").read().splitlines()
    except OSError as e:
        sys.exit(f"make_en_fr_pairs: {e} (install the Debian package dict-freedict-eng-fra)")

    pairs, seen = [], set()
    for line_no, line in enumerate(index, 1):
        fields = line.split("\t")
        if len(fields) != 3:
            sys.exit(f"make_en_fr_pairs: {args.index} line {line_no}: expected 3 tab-separated fields")
        head, offset, length = fields
        if head.startswith("00database") or head in seen or not ENGLISH_WORD.fullmatch(head):
            continue
        start = b64_number(offset)
        body = data[start:start + b64_number(length)].decode("utf-8")
        written = body.split("\n", 1)[0].split(" /", 1)[0].strip()
        if written != head:  # a capitalised (proper) noun, or a different spelling
            continue
        french = first_translation(body)
        if not french or not FRENCH_WORD.fullmatch(french):
            continue
        seen.add(head)
        pairs.append({"prompt": f"english: {head}\nfrench:", "completion": f" {french}"})

    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    for p in pairs:
        out.write(json.dumps(p, ensure_ascii=False) + "\n")
    if out is not sys.stdout:
        out.close()
    print(f"make_en_fr_pairs: wrote {len(pairs)} pairs", file=sys.stderr)


if __name__ == "__main__":
    main()
