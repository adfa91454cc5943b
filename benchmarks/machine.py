"""What the figures were measured on: CPU, memory, Python and package versions, load."""

from __future__ import annotations

import datetime
import os
import platform
from importlib import metadata

PACKAGES = ("pydicom", "numpy", "pandas", "Pillow", "matplotlib", "SimpleITK", "python-gdcm",
            "ipywidgets", "nbval", "pytest")


def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gb() -> str:
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def describe() -> str:
    """A Markdown list describing the machine and the software, with today's date."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    versions = ", ".join(f"{n} {_version(n)}" for n in PACKAGES)
    return "\n".join([
        f"- Date: {datetime.date.today().isoformat()}",
        f"- CPU: {cpus} x {_cpu_model()} (nproc {cpus}); RAM {_ram_gb()}; "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}; {versions}",
        f"- Load average at start (1, 5, 15 min): {load}",
    ])


def load_now() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())
