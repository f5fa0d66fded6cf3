"""Prints the cleartext bodies charon logs at `enc = 3` ("plain => N bytes"
followed by a hex dump), one line each: log file, length, hex. Used by
capture-main-mode.sh."""
import re
import sys

for path in sys.argv[1:]:
    lines = open(path).read().splitlines()
    for i, line in enumerate(lines):
        m = re.search(r"\[ENC\] plain => (\d+) bytes", line)
        if not m:
            continue
        n = int(m.group(1))
        data = ""
        for follow in lines[i + 1 :]:
            if len(data) >= 2 * n:
                break
            dump = re.match(r".*\[ENC\]\s+\d+: ((?:[0-9A-F]{2} ?)+)", follow)
            if dump:
                data += dump.group(1).replace(" ", "")
        print(path, n, data.lower()[: 2 * n])
