"""Write what course_utils/publish/catalogue.py says about each notebook where readers meet it.

    python scripts/headers.py           # rewrite the "Run time" paragraphs and README's table
    python scripts/headers.py --check   # only list what is stale (exit 1 if anything is)

Only the "**Run time**" paragraph of each notebook's header and the table between README's two
marker comments change; notebooks listed in the catalogue that do not exist yet are skipped.
After a rewrite, ``make notebooks`` refreshes the paired ``.ipynb``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course_utils.publish.catalogue import write_headers, write_readme_table

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    notebooks = write_headers(ROOT / "notebooks", check=args.check)
    readme = write_readme_table(ROOT / "README.md", ROOT / "notebooks", check=args.check)
    stale = [str(p.relative_to(ROOT)) for p in notebooks] + (["README.md"] if readme else [])
    verb = "stale" if args.check else "rewritten"
    print(f"{verb}: {', '.join(stale)}" if stale else "headers and README table up to date")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
