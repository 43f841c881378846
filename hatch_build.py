"""Wheel build step: the standalone parsers (smtplog/standalone.py) go into the wheel.

They are generated files, not kept in git. A regular wheel gets them from a
temporary folder; an editable install (``pip install -e .``) gets them in the
source tree, where the package is imported from. Without them smtplog still
works (it builds its parsers with lark), only slower to start.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CustomBuildHook(BuildHookInterface):  # type: ignore[misc]
    temporary: str | None = None

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        if version == "editable":
            self._generate(Path(self.root) / "smtplog" / "_parsers")
            return
        self.temporary = tempfile.mkdtemp(prefix="smtplog-parsers-")
        out = Path(self.temporary) / "_parsers"
        self._generate(out)
        for path in sorted(out.glob("*.py")):
            build_data["force_include"][str(path)] = f"smtplog/_parsers/{path.name}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if self.temporary is not None:
            shutil.rmtree(self.temporary, ignore_errors=True)

    def _generate(self, out: Path) -> None:
        command = [sys.executable, "-m", "smtplog.standalone", "--out", str(out)]
        # The source tree on the path whatever the interpreter's settings (PYTHONSAFEPATH
        # keeps the working folder off it); a PYTHONPATH already set stays after it (pip's
        # isolated build environment is found through one).
        paths = [str(self.root), *filter(None, [os.environ.get("PYTHONPATH")])]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        subprocess.run(command, cwd=self.root, env=env, check=True, timeout=600)
