"""scoring/ stands alone: no web framework, no database, no webapp."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_scoring_imports_no_web_or_database_modules():
    code = (
        "import sys, pkgutil, importlib, scoring\n"
        "for m in pkgutil.iter_modules(scoring.__path__):\n"
        "    if m.name != '__main__':\n"
        "        importlib.import_module('scoring.' + m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('flask', 'sqlalchemy', 'webapp', 'pandas'))\n"
        "print(','.join(bad))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == ""
