#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Forbidden tokens and whitespace rules over the tracked (and new, not ignored) files:
#  - lib/ and drivers/ never end the process: no exit(), _exit(), abort(), rte_exit(),
#    rte_panic(), assert() (comments and strings do not count);
#  - data-path files (lib/dp, lib/pkt, except *_cli.c) never print: no printf(), fprintf(),
#    puts(), putchar(), perror();
#  - C sources: an SPDX header in the first lines;
#  - every text file: no trailing whitespace, a final newline, no CR;
#  - Python and shell files: no tabs.
# Prints one line per problem ("file:line: rule") and exits 1 when there is any.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if git rev-parse --git-dir >/dev/null 2>&1; then
    mapfile -t files < <(git ls-files --cached --others --exclude-standard | sort -u)
else
    mapfile -t files < <(find . -type f -not -path './build*' -not -path './.git/*' |
        sed 's|^\./||' | sort)
fi

exec /usr/bin/python3 - "${files[@]}" <<'EOF'
import os
import re
import sys

TEXT_EXT = (".c", ".h", ".py", ".sh", ".md", ".conf", ".build", ".txt", ".yml", ".yaml",
            ".json", ".cfg", ".lua", ".pkt", ".txt", ".options")
TEXT_NAMES = ("meson.build", "meson_options.txt", "README.md", "LICENSE", ".gitignore",
              ".editorconfig", "run")
problems = []


def say(path, line, rule):
    problems.append(f"{path}:{line}: {rule}")


def strip_c(text):
    """Blank out comments and string/char literals, keeping line structure."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + " " * (j - i - 2) + c if j - i >= 2 else text[i:j])
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


NO_EXIT = re.compile(r"\b(exit|_exit|_Exit|abort|rte_exit|rte_panic|RTE_VERIFY|assert)\s*\(")
NO_PRINT = re.compile(r"\b(printf|fprintf|puts|putchar|perror|vprintf)\s*\(")

for path in sys.argv[1:]:
    if not os.path.isfile(path) or os.path.islink(path):
        continue
    base = os.path.basename(path)
    if not (path.endswith(TEXT_EXT) or base in TEXT_NAMES or path.startswith("scripts/")):
        continue
    try:
        text = open(path, encoding="utf-8").read()
    except UnicodeDecodeError:
        continue
    if path.startswith("tests/fuzz/corpus") or "/corpus/" in path:
        continue
    lines = text.split("\n")
    if text and not text.endswith("\n"):
        say(path, len(lines), "no newline at end of file")
    is_c = path.endswith((".c", ".h"))
    no_tabs = path.endswith((".py", ".sh")) or path.startswith("scripts/") or path == ".ci/run"
    for no, line in enumerate(lines, 1):
        if "\r" in line:
            say(path, no, "carriage return")
        if line != line.rstrip():
            say(path, no, "trailing whitespace")
        if no_tabs and "\t" in line:
            say(path, no, "tab in a Python/shell file")
    if not is_c:
        continue
    if "SPDX-License-Identifier" not in "\n".join(lines[:2]):
        say(path, 1, "no SPDX-License-Identifier in the first lines")
    code = strip_c(text).split("\n")
    in_lib = path.startswith(("lib/", "drivers/"))
    data_path = path.startswith(("lib/dp/", "lib/pkt/")) and not path.endswith("_cli.c")
    for no, line in enumerate(code, 1):
        if in_lib:
            m = NO_EXIT.search(line)
            if m:
                say(path, no, f"{m.group(1)}() in lib/ or drivers/ (return an error instead)")
        if data_path:
            m = NO_PRINT.search(line)
            if m:
                say(path, no, f"{m.group(1)}() in a data-path file (count it or use SP_LOG)")

for p in problems:
    print(p)
if problems:
    print(f"checkpatch: {len(problems)} problem(s)", file=sys.stderr)
    sys.exit(1)
EOF
