"""Run a command with data/ read-only, and hash data/ (for the lesson runs of lesson_runs.py).

See ``reliability/test_nothing_lost.py`` for what "read-only" means here and how it is
enforced.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import stat
import subprocess
from pathlib import Path

from helpers.paths import DATA_DIR


def hashes(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root`` (links not followed), by relative path."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            p = Path(dirpath, name)
            if p.is_symlink() or not p.is_file():
                continue
            out[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


#: Shell code that fails (exit 97) if a file can be created in $DATA.
_PROBE = ('p="$DATA/.write-probe"; if ( : > "$p" ) 2>/dev/null; then rm -f "$p"; '
          'echo "data/ is writable" >&2; exit 97; fi')
_MOUNT_RO = 'mount --bind "$DATA" "$DATA" && mount -o remount,bind,ro "$DATA" "$DATA"'
_NO_DAC = ["--bounding-set", "-dac_override,-dac_read_search"]


def without_dac_override() -> list[str] | None:
    """A ``setpriv`` command prefix that runs a program as root but without the
    capabilities that bypass file permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH),
    if this machine allows it (dropping from the bounding set needs CAP_SETPCAP)."""
    setpriv = shutil.which("setpriv")
    if not setpriv:
        return None
    prefix = [setpriv, *_NO_DAC]
    ok = subprocess.run([*prefix, "true"], capture_output=True).returncode == 0
    return prefix if ok else None


def _unshare() -> list[str] | None:
    """``unshare`` arguments for a private mount namespace, if this machine allows one."""
    unshare = shutil.which("unshare")
    if not unshare:
        return None
    args = [unshare, "--mount"] + ([] if os.geteuid() == 0 else ["--map-root-user"])
    probe = subprocess.run([*args, "sh", "-c", f"{_MOUNT_RO} && {_PROBE}"],
                           env=dict(os.environ, DATA=str(DATA_DIR)), capture_output=True)
    return args if probe.returncode == 0 else None


def _chmod_read_only() -> dict[Path, int]:
    """Remove every write bit under data/; return the modes to restore."""
    modes = {}
    for dirpath, dirs, files in os.walk(DATA_DIR):
        for p in [Path(dirpath), *(Path(dirpath, n) for n in [*dirs, *files])]:
            if p not in modes and not p.is_symlink():
                modes[p] = stat.S_IMODE(p.stat().st_mode)
                p.chmod(modes[p] & ~0o222)
    return modes


def run_read_only(command: list[str], env: dict[str, str]) -> tuple[str, subprocess.Popen]:
    """Run ``command`` with data/ read-only; return (how, finished process).

    The subprocess first checks that it cannot create a file in data/ (exit 97 if
    it can), then runs ``command``.
    """
    env = dict(env, DATA=str(DATA_DIR))
    quoted = " ".join(shlex.quote(c) for c in command)
    unshare = _unshare()
    if unshare:
        proc = subprocess.run([*unshare, "sh", "-c", f"{_MOUNT_RO} && {_PROBE} && exec {quoted}"],
                              env=env, capture_output=True, text=True, timeout=3600)
        return "a read-only bind mount in a private mount namespace", proc
    prefix = without_dac_override() if os.geteuid() == 0 else []
    if prefix is None:
        proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600)
        return "nothing (root without unshare or setpriv): hashes compared only", proc
    modes = _chmod_read_only()
    try:
        proc = subprocess.run([*prefix, "sh", "-c", f"{_PROBE} && exec {quoted}"], env=env,
                              capture_output=True, text=True, timeout=3600)
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
    return "chmod a-w" + (" and setpriv without CAP_DAC_OVERRIDE" if prefix else ""), proc
