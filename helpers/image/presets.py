"""Window presets for CT, in one place, and the windows a header suggests.

A window is a (center, width) pair of the VOI LUT module (PS3.3 C.11.2.1.2):
Hounsfield units ``center - width/2 .. center + width/2`` are spread over the grey
scale. The presets are the conventional values radiologists use (as listed, e.g.,
by Radiopaedia's "Windowing (CT)" article); scanners store their own suggestions
in (0028,1050) Window Center, (0028,1051) Window Width and (0028,1055) Window
Center & Width Explanation with the VOI LUT Function (0028,1056) that shapes them,
and may carry VOI LUT Sequence tables (0028,3010): :func:`from_header` reads all of
them (through :func:`helpers.image.pixels.header_vois`). :func:`menu` merges both
into the one list a viewer offers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydicom.dataset import Dataset

from .pixels import VoiLut, header_vois

__all__ = ["Preset", "PRESETS", "get", "names", "from_header", "menu"]


@dataclass(frozen=True)
class Preset:
    """A named window: ``center`` and ``width`` in Hounsfield units (the modality's
    units), shaped by a VOI LUT Function ``function`` (PS3.3 C.11.2.1.3: LINEAR,
    LINEAR_EXACT or SIGMOID); or, when ``lut`` is set, a VOI LUT Sequence table the
    header offers (PS3.3 C.11.2.1.1), and then ``center`` and ``width`` are ``None``."""

    name: str
    center: float | None
    width: float | None
    shows: str = ""
    function: str = "LINEAR"
    lut: VoiLut | None = field(default=None, compare=False)

    @property
    def hu_range(self) -> tuple[float, float]:
        """The HU interval the window spreads from black to white (approximately
        ``center - width/2`` to ``center + width/2``)."""
        return self.center - self.width / 2, self.center + self.width / 2

    def __str__(self) -> str:
        if self.lut is not None:
            return f"{self.name} (VOI LUT table)"
        curve = "" if self.function == "LINEAR" else f", {self.function}"
        return f"{self.name} (C={self.center:g}, W={self.width:g}{curve})"


#: The five CT presets of the workbook, by name.
PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("lung", -600, 1500, "lung parenchyma, airways, nodules against air"),
        Preset("mediastinum", 50, 350, "heart, vessels, lymph nodes; fat vs soft tissue"),
        Preset("abdomen", 50, 400, "liver, spleen, bowel, abdominal soft tissue"),
        Preset("bone", 400, 1800, "cortical and trabecular bone, fractures"),
        Preset("brain", 40, 80, "grey vs white matter (narrow: ~0..80 HU)"),
    )
}


def names() -> list[str]:
    """The preset names, in display order."""
    return list(PRESETS)


def get(name: str) -> Preset:
    """The preset called ``name`` (case-insensitive), with a clear error otherwise."""
    try:
        return PRESETS[name.strip().lower()]
    except KeyError:
        raise KeyError(f"no window preset called {name!r}; choose one of "
                       f"{', '.join(PRESETS)}") from None


def from_header(ds: Dataset) -> list[Preset]:
    """The VOI transformations stored in the header (PS3.3 C.11.2), as presets:
    first the windows (Window Center (0028,1050) and Window Width (0028,1051) may hold
    several values, one per suggested view, named by Window Center & Width Explanation
    (0028,1055)), each with the header's VOI LUT Function (0028,1056); then each VOI
    LUT Sequence (0028,3010) item, named by its LUT Explanation (0028,3003).

    Read by :func:`helpers.image.pixels.header_vois`: pairs that are not numbers, or
    whose width the function forbids (LINEAR: below 1; LINEAR_EXACT, SIGMOID: 0 or
    less), are skipped. Returns ``[]`` when the header offers none.
    """
    found = []
    for voi in header_vois(ds):
        if voi.lut is not None:
            found.append(Preset(voi.name, None, None, "a VOI LUT table of the file",
                                lut=voi.lut))
        else:
            found.append(Preset(voi.name, voi.center, voi.width,
                                "from the file's VOI LUT module", voi.function))
    return found


def menu(header: tuple[Preset, ...] | list[Preset], ct: bool) -> dict[str, Preset]:
    """The windows a viewer offers, by label, in menu order (keys 1-9 pick them).

    The header's windows come first, each labelled ``header: <its Window Center &
    Width Explanation (0028,1055)>`` (``header: window N`` when it has none); for CT
    (``ct``) the :data:`PRESETS` follow. A window is offered once: a header window with
    the same center, width and VOI LUT Function as a preset (or as an earlier header
    window) is merged into it, under both names (``lung = header: LUNG``). Windows that
    share a name but not their values stay apart, and their labels tell them apart. A
    VOI LUT table is never merged (``header: <its LUT Explanation>``).
    """
    entries: list[tuple[list[str], Preset]] = []

    def add(label: str, preset: Preset) -> None:
        for names_, kept in entries:
            same = (kept.center, kept.width, kept.function) \
                == (preset.center, preset.width, preset.function)
            if preset.lut is None and kept.lut is None and same:
                if label not in names_:
                    names_.append(label)
                return
        entries.append(([label], preset))

    for n, p in enumerate(header, start=1):
        add(f"header: {p.name or f'window {n}'}", p)
    if ct:
        for p in PRESETS.values():
            add(p.name, p)
    out: dict[str, Preset] = {}
    for labels, p in entries:
        # a preset's own name leads, so the menu reads "lung = header: LUNG"
        labels.sort(key=lambda label: label.startswith("header: "))
        out[" = ".join(labels)] = Preset(labels[0], p.center, p.width, p.shows, p.function, p.lut)
    return out
