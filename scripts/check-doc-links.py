#!/usr/bin/env python3
"""Every relative link in the READMEs and docs/ leads to a file of the repository.

    scripts/check-doc-links.py [ROOT]

Checks README.md, docs/*.md and every other README.md under ROOT (default: the
repository this script is in): a link to a path must name a file or folder that
exists inside ROOT (none may leave it), and a #fragment must name a heading of
the page it points to. Exits 1 listing each broken link (the ctest
docs_links_resolve).
"""

import os
import re
import sys

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
SKIP = {".git", "build", "node_modules"}


def anchors(path):
    """GitHub's heading anchors of a Markdown file."""
    found = set()
    in_code = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("```"):
                in_code = not in_code
            if in_code:
                continue
            match = re.match(r"^#+\s+(.*?)\s*$", line)
            if match:
                text = match.group(1).lower()
                text = re.sub(r"[^\w\- ]", "", text)
                found.add(text.replace(" ", "-"))
    return found


def pages(root):
    for top, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP and not d.startswith("build")]
        rel = os.path.relpath(top, root)
        for name in files:
            if name == "README.md" or (rel == "docs" and name.endswith(".md")):
                yield os.path.join(top, name)


def main():
    root = os.path.realpath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    broken = []
    for page in sorted(pages(root)):
        in_code = False
        with open(page, encoding="utf-8") as f:
            lines = f.readlines()
        for number, line in enumerate(lines, 1):
            if line.startswith("```"):
                in_code = not in_code
            if in_code:
                continue
            for target in LINK.findall(line):
                if re.match(r"^[a-z]+:", target):
                    continue  # https:, mailto:
                path, _, fragment = target.partition("#")
                where = os.path.realpath(os.path.join(os.path.dirname(page), path)) if path else page
                here = f"{os.path.relpath(page, root)}:{number}: {target}"
                if where != root and not where.startswith(root + os.sep):
                    broken.append(f"{here} leaves the repository")
                elif not os.path.exists(where):
                    broken.append(f"{here} does not exist")
                elif fragment and where.endswith(".md") and fragment not in anchors(where):
                    broken.append(f"{here} names no heading of {os.path.relpath(where, root)}")
    for line in broken:
        print(line)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
