"""Make the bot's code importable from its unit tests, however pytest is started.

`actions` is a package at the project root and scripts/ a folder of plain scripts (a namespace
package) that import each other by name (`import metrics`), as they do when run as
`python scripts/<name>.py`: with the root and scripts/ on sys.path, `from actions.actions import
...` and `from scripts import metrics` work from any working directory.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

for path in (ROOT, ROOT / "scripts"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
