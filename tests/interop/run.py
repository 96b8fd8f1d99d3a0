#!/usr/bin/env python3
"""Runs the interop tests module by module (all of them, or those named) and
prints how long each module took, slowest first, so that the CI time budget
can be watched: `python3 run.py [-v] [--skip test_y ...] [test_x ...]`. Exits 1 if any test failed
or erred, as `python3 -m unittest discover` does."""

import argparse
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--skip", action="append", default=[], metavar="MODULE",
                        help="leave this module out (repeatable; a space-separated list works too)")
    parser.add_argument("modules", nargs="*", help="test modules (default: every test_*.py)")
    args = parser.parse_args()
    sys.path.insert(0, HERE)
    os.chdir(HERE)
    modules = args.modules or sorted(
        name[:-3] for name in os.listdir(HERE) if name.startswith("test_") and name.endswith(".py"))
    skipped = {name for value in args.skip for name in value.split()}
    unknown = skipped - set(modules)
    if unknown:
        parser.error("--skip names no module of this run: %s" % " ".join(sorted(unknown)))
    modules = [name for name in modules if name not in skipped]
    if skipped:
        sys.stderr.write("interop: leaving out %s\n" % " ".join(sorted(skipped)))
    loader = unittest.defaultTestLoader
    runner = unittest.TextTestRunner(verbosity=2 if args.verbose else 1, stream=sys.stderr)
    timings, failed, total = [], [], 0
    started = time.monotonic()
    for module in modules:
        began = time.monotonic()
        try:
            suite = loader.loadTestsFromName(module)
        except Exception as error:  # an import error is that module's failure
            sys.stderr.write("interop: cannot load %s: %r\n" % (module, error))
            failed.append(module)
            continue
        result = runner.run(suite)
        took = time.monotonic() - began
        timings.append((took, module, result.testsRun))
        total += result.testsRun
        if not result.wasSuccessful():
            failed.append(module)
    sys.stderr.write("\ninterop: %d tests in %d modules, %.0f s\n"
                     % (total, len(modules), time.monotonic() - started))
    for took, module, count in sorted(timings, reverse=True):
        sys.stderr.write("  %7.1f s  %-34s %3d tests\n" % (took, module, count))
    if failed:
        sys.stderr.write("interop: FAILED in %s\n" % ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
