#!/usr/bin/env bash
# Prints a Python interpreter that has boto3 (the interop tests' real peer).
# The machine's own python3 comes first; Debian's /usr/bin/python3 (with the
# python3-boto3 package that install-deps.sh adds when needed) is the fallback.
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import boto3' 2>/dev/null; then
    command -v "$candidate"
    exit 0
  fi
done
echo python3
