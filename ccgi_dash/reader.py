"""Finding drops among the files offered, and looking at each file before DuckDB reads it.

Everything here is cheap and runs in Python on names and on the first 64 KB of each file:
grouping files into drops by the date in their names (:func:`discover`), recognising a file
that is not CSV text at all, a wrong delimiter, an empty or header-only file and the encoding
(:func:`sniff`), and matching a header to the canonical columns (:func:`match_header`). The
rows themselves are only ever read by DuckDB (see :mod:`ccgi_dash.validate`), which is what
keeps a Los Angeles-sized drop fast.

Header names taken from a file are used here, in Python, to find the position of each
canonical column; they never reach SQL. DuckDB is told the file's columns under names this
module chooses (the canonical name, or ``_extra<N>``).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import re
import shutil
import struct
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from isal import igzip

from ccgi_dash.datasets import DATASET_NAMES, DATASETS, FILE_RE, ZIP_RE

HEAD_BYTES = 64 * 1024
"""How much of a file is read in Python to recognise its format and header."""
CHUNK = 1 << 20
"""Bytes per read when hashing, copying or transcoding (1 MB)."""

GZ = ".gz"
"""A CSV may arrive, and is kept in ``raw/``, gzip-compressed: ``<dataset>_<date>.csv.gz``."""
RAW_GZIP_LEVEL = 1
"""Level of the raw copies, written with ISA-L's gzip (python-isal's ``igzip``: standard gzip
files, read back by Python's ``gzip`` and DuckDB). On an LA drop's 205 MB of CSV, ISA-L level 1
takes 0.3 CPU-s and writes 40 MB; zlib level 1 took 1.1 CPU-s for 45 MB, which pushed the
ingest past twice a bare read on two cores."""

_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{8})(?!\d)")
_DELIMITERS = {";": "semicolons (;)", "\t": "tabs", "|": "vertical bars (|)"}
_NAME_RULE = "<dataset>_<YYYYMMDD>.csv"


# --------------------------------------------------------------------------------------------
# Discovery: which files form which drop


@dataclass(frozen=True)
class DropFile:
    """One file of a drop as offered: a CSV on disk or a member of a drop zip."""

    name: str
    """The file's own name (for a zip member: its base name)."""
    dataset: str | None
    """The canonical dataset this file is, or None when its name names no dataset."""
    path: Path
    """The CSV on disk, or the zip holding it."""
    member: str | None = None
    """The member's full name inside ``path`` when the file comes from a zip."""
    size: int = 0
    """Bytes (for a zip member: uncompressed)."""

    @property
    def shown(self) -> str:
        """How messages and the rejects table name the file: ``students_20261120.csv`` (also
        for its ``.csv.gz``: a raw copy names the file as received) or
        ``drop.zip:students_...``."""
        return f"{self.path.name}:{self.member}" if self.member else self.csv_name

    @property
    def gzipped(self) -> bool:
        """A loose ``.csv.gz`` (DuckDB and :func:`open_data` decompress it as they read)."""
        return self.member is None and is_gzip_name(self.name)

    @property
    def csv_name(self) -> str:
        """The CSV's name without a ``.gz``: the order files are hashed in."""
        return self.name[:-len(GZ)] if self.gzipped else self.name


@dataclass
class DropSource:
    """Everything offered for one drop date, plus what is already wrong with it by name."""

    day: date
    files: list[DropFile] = field(default_factory=list)
    sources: list[Path] = field(default_factory=list)
    """What was offered, as offered (CSV files and zips): copied to raw/ or quarantine/."""
    faults: list[str] = field(default_factory=list)
    """File-level faults found from names alone (unknown dataset, a zip that cannot be read,
    two files for one dataset); any fault rejects the drop."""

    @property
    def stamp(self) -> str:
        return f"{self.day:%Y%m%d}"

    def by_dataset(self) -> dict[str, DropFile]:
        """The first file offered for each known dataset."""
        out: dict[str, DropFile] = {}
        for f in self.files:
            if f.dataset and f.dataset not in out:
                out[f.dataset] = f
        return out

    def missing(self, not_received: Iterable[str] = ()) -> list[str]:
        """Datasets that must be in every drop (all but ``not_received``) and are not here."""
        have = self.by_dataset()
        skip = set(not_received)
        return [d for d in DATASET_NAMES if d not in have and d not in skip]


@dataclass
class Discovery:
    """The drops found in what was offered (oldest first) and files that belong to none."""

    drops: list[DropSource] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _day(stamp: str) -> date | None:
    try:
        return date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]))
    except ValueError:
        return None


def _hidden(name: str) -> bool:
    return name.startswith(".") or name.startswith("~$")


def _unknown_dataset(name: str, dataset: str) -> str:
    return (f"{name}: \"{dataset}\" is not one of the ten CCGI datasets (a mislabeled file?). "
            f"Files are named {_NAME_RULE} with the dataset one of: "
            f"{', '.join(DATASET_NAMES)}. Rename it if it is one of these, or take it out of "
            "the drop.")


def _no_date(name: str) -> str:
    return (f"{name}: cannot tell which drop it belongs to; rename it {_NAME_RULE} "
            f"(for example students_20261120.csv) or ccgi_drop_<YYYYMMDD>.zip.")


def is_gzip_name(name: str) -> bool:
    return name.lower().endswith(".csv" + GZ)


def gzip_size(path: Path) -> int:
    """The uncompressed size a gzip file records in its last four bytes (modulo 4 GiB: a
    guide for the size limit, not an exact figure for huge files)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(-4, 2)
            return int(struct.unpack("<I", fh.read(4))[0])
    except (OSError, struct.error):
        return path.stat().st_size


def open_data(path: Path) -> BinaryIO:
    """A file's bytes as received, decompressed when its name ends in ``.csv.gz``."""
    if is_gzip_name(path.name):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def classify_name(name: str) -> tuple[date | None, str | None, str | None]:
    """What a file name says: (drop date, dataset, fault).

    A name following the rule gives its date and dataset. A name carrying a recognisable
    date but breaking the rule (an unknown dataset, a wrong extension, extra characters)
    gives the date and a fault, so that the fault rejects that drop by name. A name with no
    date gives (None, None, None): the caller reports it as belonging to no drop.
    """
    m = FILE_RE.match(name[:-len(GZ)] if is_gzip_name(name) else name)
    if m:
        day = _day(m["date"])
        dataset = m["dataset"].lower()
        if day is None:
            return None, None, None
        if dataset not in DATASETS:
            return day, None, _unknown_dataset(name, m["dataset"])
        return day, dataset, None
    found = [d for d in (_day(s) for s in _DATE_IN_NAME.findall(name)) if d]
    if len(found) == 1:
        return found[0], None, (f"{name}: the name does not follow the rule {_NAME_RULE} "
                                f"(dataset, underscore, date, .csv) or ccgi_drop_<YYYYMMDD>.zip;"
                                " rename it.")
    return None, None, None


def _zip_members(zpath: Path, day: date, drop: DropSource) -> None:
    """Add the members of a drop zip to ``drop`` (any depth; __MACOSX and hidden ignored)."""
    try:
        with zipfile.ZipFile(zpath) as zf:
            infos = zf.infolist()
    except Exception as exc:  # whatever a damaged zip raises rejects its drop
        drop.faults.append(f"{zpath.name}: not a readable zip file ({exc}). Download it again "
                           "or send the CSV files themselves.")
        return
    for info in infos:
        if info.is_dir():
            continue
        parts = PurePosixPath(info.filename).parts
        if not parts or parts[0] == "__MACOSX" or any(_hidden(p) for p in parts):
            continue
        base = parts[-1]
        shown = f"{zpath.name}:{info.filename}"
        m_day, dataset, fault = classify_name(base)
        if fault:
            drop.faults.append(f"{zpath.name}: member {fault}")
        elif m_day is None:
            drop.faults.append(f"{shown}: a drop zip may only hold files named {_NAME_RULE}; "
                               "take this file out of the zip or rename it.")
        elif m_day != day:
            drop.faults.append(f"{shown}: the member's date {m_day:%Y%m%d} is not the zip's "
                               f"date {day:%Y%m%d}; one zip holds one drop.")
        else:
            drop.files.append(DropFile(base, dataset, zpath, info.filename, info.file_size))


def discover(paths: Sequence[Path]) -> Discovery:
    """Group the offered folders, files and zips into drops by date, oldest first.

    A folder is scanned without recursion, ignoring hidden entries and anything that is not
    a ``.csv`` or ``.zip`` unless its name carries a drop date (a ``students_20261120.txt``
    is reported against its drop rather than silently ignored). A file named explicitly is
    always considered. Two files for one dataset in the same drop reject that drop.
    """
    drops: dict[date, DropSource] = {}
    problems: list[str] = []
    candidates: list[tuple[Path, bool]] = []
    for p in paths:
        p = Path(p)
        try:
            if p.is_dir():
                for child in sorted(p.iterdir()):
                    if _hidden(child.name) or not child.is_file():
                        continue
                    candidates.append((child, False))
            elif p.exists():
                candidates.append((p, True))
            else:
                problems.append(f"{p}: no such file or folder.")
        except OSError as exc:
            problems.append(f"{p}: cannot be read ({exc.strerror or exc}); check its "
                            "permissions.")
    seen: set[Path] = set()
    for path, explicit in candidates:
        key = path.resolve()
        if key in seen:
            continue
        seen.add(key)
        name = path.name
        suffix = path.suffix.lower()
        zm = ZIP_RE.match(name)
        if zm and _day(zm["date"]):
            day = _day(zm["date"])
            assert day is not None
            drop = drops.setdefault(day, DropSource(day))
            drop.sources.append(path)
            _zip_members(path, day, drop)
            continue
        day, dataset, fault = classify_name(name)
        if day is None:
            if explicit or suffix in (".csv", ".zip"):
                problems.append(_no_date(name) if suffix in (".csv", ".zip") else
                                f"{name}: not a CSV file or a drop zip; CCGI drops are "
                                f"{_NAME_RULE} files or ccgi_drop_<YYYYMMDD>.zip.")
            continue
        drop = drops.setdefault(day, DropSource(day))
        drop.sources.append(path)
        try:
            size = gzip_size(path) if is_gzip_name(name) else path.stat().st_size
        except OSError as exc:
            drop.faults.append(f"{name}: cannot be read ({exc.strerror or exc}).")
            size = 0
        if fault:
            drop.faults.append(fault)
            drop.files.append(DropFile(name, None, path, None, size))
        else:
            drop.files.append(DropFile(name, dataset, path, None, size))
    for drop in drops.values():
        zips = [s.name for s in drop.sources if s.suffix.lower() == ".zip"]
        if zips and len(zips) < len(drop.sources):
            drop.faults.append(f"drop {drop.stamp} was offered both as a zip ({', '.join(zips)})"
                               " and as separate files; offer one or the other.")
        counts: dict[str, list[str]] = {}
        for f in drop.files:
            if f.dataset:
                counts.setdefault(f.dataset, []).append(f.shown)
        for dataset, shown in counts.items():
            if len(shown) > 1:
                drop.faults.append(f"two files for {dataset} in drop {drop.stamp}: "
                                   f"{', '.join(shown)}; offer each dataset once.")
    return Discovery([drops[d] for d in sorted(drops)], problems)


# --------------------------------------------------------------------------------------------
# Sniffing: is this CSV text, in which encoding, with which header


@dataclass(frozen=True)
class Sniff:
    """What the first bytes of a file say about it."""

    encoding: str = "utf-8"
    """``utf-8`` or ``cp1252`` (the head was not valid UTF-8)."""
    bom: bool = False
    header: tuple[str, ...] = ()
    """Header names as written (trimmed)."""
    fault: str | None = None
    """Why the file cannot be loaded at all (the message continues the file's name)."""
    first_row: tuple[str, ...] | None = None
    """The first data record when the head holds all of it: the loader checks that the row
    it publishes as line 2 is this one (a guard on line numbers)."""


def _signature(head: bytes) -> str | None:
    if head.startswith(b"PK\x03\x04"):
        return ("is a zip archive or an Excel workbook (.xlsx), not CSV text. Open it in "
                "Excel and use Save As > CSV UTF-8 (comma delimited)")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return ("is an old Excel workbook (.xls), not CSV text. Open it in Excel and use "
                "Save As > CSV UTF-8 (comma delimited)")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return ("is UTF-16 text (Excel's \"Unicode Text\"), not CSV. Save it as CSV UTF-8 "
                "(comma delimited)")
    if head.startswith(b"%PDF"):
        return "is a PDF document, not CSV text"
    if b"\x00" in head:
        return ("contains binary data (NUL bytes), so it is not CSV text; check that the "
                "right file was sent and that it was saved as CSV")
    return None


def decode_head(head: bytes, complete: bool) -> tuple[str, str]:
    """Decode the head as UTF-8 (a character cut at the end of the head is not an error),
    falling back to Windows-1252, which decodes any byte."""
    try:
        dec = codecs.getincrementaldecoder("utf-8")()
        return dec.decode(head, final=complete), "utf-8"
    except UnicodeDecodeError:
        return head.decode("cp1252", errors="replace"), "cp1252"


def sniff(head: bytes, complete: bool) -> Sniff:
    """Recognise a file from its first bytes (pure: tests call it on literal bytes).

    ``complete`` says the head is the whole file, so an empty body means header-only.
    """
    if not head:
        return Sniff(fault="has no data in it (the file is empty, 0 bytes). Ask CCGI to "
                           "send the file again")
    bad = _signature(head)
    if bad:
        return Sniff(fault=bad)
    bom = head.startswith(codecs.BOM_UTF8)
    text, encoding = decode_head(head[3:] if bom else head, complete)
    if not text.strip():
        return Sniff(encoding, bom, fault="has no data in it (only blank lines). Ask CCGI "
                                          "to send the file again")
    first_line = text.split("\n", 1)[0]
    if "\n" not in text and not complete:
        return Sniff(encoding, bom, fault=f"has no line break in its first {HEAD_BYTES // 1024}"
                                          " KB, so it has no CSV header line")
    try:
        reader = csv.reader(io.StringIO(text))
        header = next(reader)
        first = next((row for row in reader if any(cell.strip() for cell in row)), None)
        whole = first is not None and (complete or reader.line_num <= text.count("\n"))
    except csv.Error as exc:
        return Sniff(encoding, bom, fault=f"cannot be read as CSV ({exc})")
    more = first is not None or not complete
    header_t = tuple(h.strip() for h in header)
    if len(header) == 1:
        found = [label for d, label in _DELIMITERS.items() if d in first_line]
        if found:
            return Sniff(encoding, bom, header_t,
                         fault=f"has {found[0]} between its columns, not commas. CCGI files "
                               "are comma-separated: save it again as CSV (comma delimited)")
    if not more:
        return Sniff(encoding, bom, header_t,
                     fault="has a header line but no data rows. Ask CCGI to send the file "
                           "again with its rows")
    return Sniff(encoding, bom, header_t, first_row=tuple(first) if first and whole else None)


def read_head(f: DropFile, extracted: Path | None = None) -> tuple[bytes, bool]:
    """The first :data:`HEAD_BYTES` of a file (or of its extracted copy) and whether that is
    the whole file."""
    path = extracted or f.path
    with open_data(path) as fh:
        head = fh.read(HEAD_BYTES + 1)
    return head[:HEAD_BYTES], len(head) <= HEAD_BYTES


# --------------------------------------------------------------------------------------------
# Headers


@dataclass(frozen=True)
class HeaderMatch:
    """Where each canonical column is in a file, and what the file has besides."""

    dataset: str
    positions: dict[str, int]
    """Canonical column -> 0-based position in the file."""
    width: int
    """How many columns the header has."""
    extras: tuple[str, ...]
    """Header names matched to no canonical column (ignored, with a warning)."""
    missing: tuple[str, ...]
    """Required canonical columns the header lacks (the file cannot be loaded)."""

    def read_columns(self) -> dict[str, str]:
        """The column names and types to give DuckDB's ``read_csv``, in file order.

        Names are chosen here, never taken from the file: the canonical name for a matched
        column and ``_extra<N>`` for the rest. Every column is read as text (VARCHAR).
        """
        by_pos = {i: name for name, i in self.positions.items()}
        return {by_pos.get(i, f"_extra{i}"): "VARCHAR" for i in range(self.width)}


def _norm(text: str) -> str:
    return text.strip().lower()


def match_header(dataset: str, header: Sequence[str],
                 column_map: Mapping[str, str] | None = None) -> HeaderMatch:
    """Match a file's header to a dataset's canonical columns.

    Names compare case-insensitively after trimming. A column named in ``column_map``
    (canonical -> the header the COE's file uses) is looked for under that header first and
    under its canonical name second. The first header cell wins when a name repeats.
    """
    ds = DATASETS[dataset]
    column_map = column_map or {}
    norm = [_norm(h) for h in header]
    used: set[int] = set()
    positions: dict[str, int] = {}
    for col in ds.columns:
        wanted = [_norm(column_map.get(col.name, col.name)), col.name]
        for w in wanted:
            idx = next((i for i, h in enumerate(norm) if h == w and i not in used), None)
            if idx is not None:
                positions[col.name] = idx
                used.add(idx)
                break
    extras = tuple(header[i] for i in range(len(header)) if i not in used)
    missing = tuple(c for c in ds.required if c not in positions)
    return HeaderMatch(dataset, positions, len(header), extras, missing)


def looks_like(header: Sequence[str], column_maps: Mapping[str, Mapping[str, str]],
               besides: str) -> list[str]:
    """Other datasets whose required columns are all in ``header``: a mislabeled file."""
    out = []
    for name in DATASET_NAMES:
        if name == besides:
            continue
        if not match_header(name, header, column_maps.get(name)).missing:
            out.append(name)
    return out


# --------------------------------------------------------------------------------------------
# Bytes: hashing, copying, zip members, transcoding


def hash_stream(fh: BinaryIO, h: hashlib._Hash, out: BinaryIO | None = None) -> int:
    """Feed a stream into ``h`` in 1 MB chunks (optionally copying it); returns bytes read."""
    n = 0
    while chunk := fh.read(CHUNK):
        h.update(chunk)
        if out is not None:
            out.write(chunk)
        n += len(chunk)
    return n


def hash_files(paths: Iterable[Path]) -> str:
    """SHA-256 over the contents of ``paths`` in the order given (a ``.csv.gz``: over its
    CSV text, so a drop hashes the same compressed or not)."""
    h = hashlib.sha256()
    for p in paths:
        with open_data(p) as fh:
            hash_stream(fh, h)
    return h.hexdigest()


def hash_and_keep(paths: Sequence[Path], into: Path | None) -> str:
    """:func:`hash_files`, copying each file into ``into`` on the way, compressed: a CSV is
    written as ``<name>.gz`` (gzip level :data:`RAW_GZIP_LEVEL`, in the same pass that hashes
    it), a ``.csv.gz`` is copied as it came. ISA-L and hashlib release the GIL on large
    buffers, so this runs beside DuckDB's reads at little cost."""
    h = hashlib.sha256()
    if into is not None:
        into.mkdir(parents=True, exist_ok=True)
    for p in paths:
        if is_gzip_name(p.name):
            with gzip.open(p, "rb") as fh:
                hash_stream(fh, h)
            if into is not None:
                shutil.copyfile(p, into / p.name)
            continue
        with open(p, "rb") as fh:
            if into is None:
                hash_stream(fh, h)
                continue
            with open(into / (p.name + GZ), "wb") as raw, igzip.IGzipFile(
                    filename=p.name, mode="wb", fileobj=raw, compresslevel=RAW_GZIP_LEVEL,
                    mtime=0) as out:
                hash_stream(fh, h, out)  # type: ignore[arg-type]
    return h.hexdigest()


def ends_with_newline(path: Path) -> bool:
    """Whether a file's last byte is a line end (a ``.csv.gz`` is read to its end, which
    happens only for the rare file whose last record is short)."""
    if is_gzip_name(path.name):
        last = b""
        with gzip.open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                last = chunk[-1:]
        return last in (b"\n", b"\r")
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        if fh.tell() == 0:
            return False
        fh.seek(-1, 2)
        return fh.read(1) in (b"\n", b"\r")


def extract_members(files: Sequence[DropFile], into: Path) -> tuple[dict[str, Path], str]:
    """Extract zip members into ``into`` (flat, under their base names) and hash them.

    Returns dataset-or-name -> extracted path, and the SHA-256 over the members' contents in
    sorted name order (the same hash the same files give when offered loose)."""
    into.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    out: dict[str, Path] = {}
    open_zips: dict[Path, zipfile.ZipFile] = {}
    try:
        for f in sorted(files, key=lambda f: f.name.lower()):
            assert f.member is not None
            zf = open_zips.get(f.path) or open_zips.setdefault(f.path, zipfile.ZipFile(f.path))
            target = into / f.name
            with zf.open(f.member) as src, open(target, "wb") as dst:
                hash_stream(src, h, dst)
            out[f.dataset or f.name] = target
    finally:
        for zf in open_zips.values():
            zf.close()
    return out, h.hexdigest()


def rewrite(src: Path, dst: Path, *, encoding: str = "utf-8", newlines: bool = False) -> None:
    """Write ``src`` as UTF-8 to ``dst``, streaming: the rare paths of a load.

    ``encoding="cp1252"`` transcodes from Windows-1252 (the five bytes it leaves undefined
    become U+FFFD rather than failing the load); ``newlines=True`` turns CRLF into LF, for a
    file whose lines end both ways (DuckDB's strict CSV parser refuses the mix). A UTF-8 BOM
    is dropped either way."""
    dec = codecs.getincrementaldecoder(encoding)(errors="replace")
    with open_data(src) as fin, open(dst, "w", encoding="utf-8", newline="") as fout:
        first, carry = True, b""
        while chunk := fin.read(CHUNK):
            chunk = carry + chunk
            carry = b""
            if first and chunk.startswith(codecs.BOM_UTF8):
                chunk = chunk[3:]
            first = False
            if newlines:
                if chunk.endswith(b"\r"):
                    chunk, carry = chunk[:-1], b"\r"
                chunk = chunk.replace(b"\r\n", b"\n")
            fout.write(dec.decode(chunk))
        fout.write(dec.decode(carry, final=True))


def copy_files(paths: Iterable[Path], into: Path) -> None:
    """Copy files byte for byte (names kept) into the folder ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    for p in paths:
        shutil.copyfile(p, into / p.name)
