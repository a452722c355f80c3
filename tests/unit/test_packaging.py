"""The twistd plugins are found both in this (editable) install and in a built wheel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Print each plugin's tapname with the file of the twisted/plugins module that defines it.
FIND = (
    "import sys\n"
    "from twisted.application.service import IServiceMaker\n"
    "from twisted.plugin import getPlugins\n"
    "makers = list(getPlugins(IServiceMaker))\n"
    "for name, mod in list(sys.modules.items()):\n"
    "    if name.startswith('twisted.plugins.pggw'):\n"
    "        for m in makers:\n"
    "            if m in vars(mod).values():\n"
    "                print(m.tapname, mod.__file__)\n"
)


def _plugins(env: dict[str, str] | None = None, cwd: Path | None = None) -> dict[str, str]:
    out = subprocess.run([sys.executable, "-c", FIND], capture_output=True, text=True,
                         check=True, env=env, cwd=cwd).stdout
    return dict(line.split(" ", 1) for line in out.splitlines() if line.strip())


def test_plugins_in_this_install() -> None:
    found = _plugins(cwd=ROOT.parent)
    assert "pggw" in found
    assert "pggw-emulator" in found


def test_plugins_in_built_wheel(tmp_path: Path) -> None:
    wheel_dir, target = tmp_path / "wheel", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheel_dir), str(ROOT)], check=True, capture_output=True)
    wheels = list(wheel_dir.glob("pggw-*.whl"))
    assert len(wheels) == 1
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheels[0])], check=True, capture_output=True)
    assert not (target / "twisted" / "plugins" / "__init__.py").exists()
    env = {**os.environ, "PYTHONPATH": str(target)}
    found = _plugins(env=env, cwd=tmp_path)
    assert found["pggw"].startswith(str(target)), found
    assert found["pggw-emulator"].startswith(str(target)), found


def test_twistd_help_lists_pggw() -> None:
    twistd = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"]
    out = subprocess.run([*twistd, "--help"], capture_output=True, text=True, check=True).stdout
    assert "pggw" in out
