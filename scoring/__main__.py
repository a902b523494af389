"""Command line of the scoring engine (计分引擎命令行).

    python -m scoring evaluate PACKAGE.json [-o OUT]
    python -m scoring evaluate --many PACKAGES.jsonl [-o OUT]
    python -m scoring validate PACKAGE.json
    python -m scoring validate --scheme SCHEME.json

``evaluate`` prints the result as JSON (``--many``: one package per line in, one result
per line out, in the same order). A bad package prints its JSON path and the message to
stderr and exits with status 2 (``--many``: every bad line, the first 20 of them in full,
and no result at all); an unreadable file exits with status 1.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import PackageError, evaluate, evaluate_many, validate_package, validate_scheme


def _load_json(path: str):
    if path == "-":
        return json.load(sys.stdin)
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


#: ``--many`` names this many bad lines in full, then counts the rest.
MAX_REPORTED = 20


def _load_lines(path: str) -> tuple[list, list]:
    """The packages of a JSON Lines file as (line number, package), blank lines skipped, and
    the faults of the lines that are not JSON as (line number, path, message)."""
    fh = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    try:
        rows, faults = [], []
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rows.append((n, json.loads(line)))
            except json.JSONDecodeError as exc:
                faults.append((n, "$", f"不是合法的 JSON: {exc}"))
        return rows, faults
    finally:
        if fh is not sys.stdin:
            fh.close()


def _faults(rows: list) -> list:
    """Each bad package's fault as (line number, path, message), scored one by one: only
    after the batch has found that something is wrong."""
    found = []
    for n, pkg in rows:
        try:
            evaluate(pkg)
        except PackageError as err:
            found.append((n, err.path, err.message))
    return found


def _report(path: str, faults: list) -> int:
    """Every bad line on stderr (the first MAX_REPORTED in full); exit status 2."""
    for line, where, message in sorted(faults)[:MAX_REPORTED]:
        print(f"{path}:{line}: {where}: {message}", file=sys.stderr)
    if len(faults) > MAX_REPORTED:
        print(f"{path}: 另有 {len(faults) - MAX_REPORTED} 行有误（共 {len(faults)} 行有误）",
              file=sys.stderr)
    return 2


def _fail(path: str, err: PackageError) -> int:
    print(f"{path}: {err.path}: {err.message}", file=sys.stderr)
    return 2


def _dump(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scoring",
                                 description="Score evaluation packages (绩效评价计分).")
    sub = ap.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="score a package and print the result as JSON")
    ev.add_argument("file", help="package JSON file (or - for stdin)")
    ev.add_argument("--many", action="store_true",
                    help="the file holds one package per line (JSON Lines)")
    ev.add_argument("-o", "--output", help="write the result here instead of stdout")
    ev.add_argument("--indent", type=int, default=None, help="indent the JSON (single package)")
    va = sub.add_parser("validate", help="check a package (or a scheme) and say what is wrong")
    va.add_argument("file")
    va.add_argument("--scheme", action="store_true", help="the file holds a scheme alone")
    args = ap.parse_args(argv)

    try:
        if args.command == "validate":
            try:
                doc = _load_json(args.file)
            except json.JSONDecodeError as exc:
                print(f"{args.file}: $: 不是合法的 JSON: {exc}", file=sys.stderr)
                return 2
            try:
                (validate_scheme if args.scheme else validate_package)(doc)
            except PackageError as err:
                return _fail(args.file, err)
            print("ok")
            return 0
        if args.many:
            rows, faults = _load_lines(args.file)
            if faults:  # the lines that are JSON may be bad packages too: say so at once
                return _report(args.file, faults + _faults(rows))
            try:
                results = evaluate_many([p for _, p in rows])
            except PackageError as err:
                found = _faults(rows)
                if not found:  # the batch and the one-by-one reader disagree: never silent
                    found = [(rows[err.index][0] if err.index is not None else 0, err.path,
                              err.message)]
                return _report(args.file, found)
            text = "".join(_dump(r.as_dict()) + "\n" for r in results)
        else:
            try:
                doc = _load_json(args.file)
            except json.JSONDecodeError as exc:
                print(f"{args.file}: $: 不是合法的 JSON: {exc}", file=sys.stderr)
                return 2
            try:
                result = evaluate(doc)
            except PackageError as err:
                return _fail(args.file, err)
            text = json.dumps(result.as_dict(), ensure_ascii=False, indent=args.indent) + "\n"
    except OSError as exc:
        print(f"{args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
