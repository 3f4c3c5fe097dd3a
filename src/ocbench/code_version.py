"""The version of the code that computes a result, as a short hash of the source it runs.

Each run's request (``jobs.uptodate.run_request``) carries the version of the code *it* uses
(``run_version``), and each shared autoencoder's request the version of the code that
trains it (``autoencoder_version``); the workflow puts both in every training job's
plan. An edit to that code changes the version, so the next run refits exactly the runs
(and autoencoders) that use it, where Snakemake alone would rerun nothing (its ``code``
trigger sees only a rule's own command).

What a run uses is found by reading import statements, never by importing (the config
parse stays free of torch and scikit-learn): the files of its *roots* and, transitively,
every ocbench module that they import, at module level or inside a function
(``imported_files``). The roots of a run:

- its method: the module of its detector class (a plugin's class: the plugin file, with the
  modules beside it that it imports);
- its network, for a deep or hybrid method: the net's module under ``ocbench.nets``,
  and the net's registered definition (``NetSpec``: classes and arguments), which a
  plugin may give;
- its dataset: the modules that define its source's functions (``fetch``, ``prepare``,
  ``check_mirror``; a plugin dataset's: the plugin file);
- what every run calls (``RUN_MODULES``: the split's data, the metrics, the registry);
- the job layer (``JOB_FILES``), by its own source only: its imports inside functions
  serve every kind of job and method (a shallow job never imports torch), and what a run
  uses of them is in the roots above.

So an edit to ``detectors/ocnn.py`` refits the OC-NN runs, an edit to ``training.py``
every deep method (and the autoencoders), an edit to a plugin file the runs of what it
defines, and adding a plugin refits nothing that existed. (An edit to ``training.py``
refits the shallow methods too while ``data/adversarial.py``, which every run's data
loading imports, imports the training loop for its classifier.) A module that only reads
results (``report``), parses arguments (``cli``) or resolves the config (``config``:
what it resolves is in the plan already) is no run's root, so an edit to a figure or a
message refits nothing. Shared modules tie many runs together: ``data/`` (every run
loads its split through it, and ``data/registry.py`` imports every built-in dataset
module), ``detectors/__init__.py`` (the registry) and whatever these import.

``code_version`` is the version of the whole installation and of the plugins imported so
far, reported in ``summary.md``.
"""
from __future__ import annotations

import ast
import hashlib
import inspect
import sys
from functools import lru_cache
from pathlib import Path

from .plugins import loaded_sources

PACKAGE = Path(__file__).resolve().parent
#: what decides a result: data and splits, networks, detectors, the training loop, a run
COMPUTING = ("data", "nets", "detectors", "training.py", "jobs", "metrics.py", "files.py", "errors.py")
#: the job layer: files (or folders of them) hashed into every run's version, imports not followed
JOB_FILES = ("jobs",)
#: what every run calls, whatever its method: the split's data, the metrics, the method registry
RUN_MODULES = ("ocbench.data", "ocbench.metrics", "ocbench.detectors")
#: the method that trains the shared autoencoder
AUTOENCODER_MODULE = "detectors/autoencoder.py"


def code_version() -> str:
    """The version of this installation's computing modules and of the plugins imported so far
    (ocbench.plugins: what they add computes results too)."""
    return _with_plugins(_package_version(), tuple(loaded_sources()))


@lru_cache(maxsize=1)
def _package_version() -> str:
    return source_version(PACKAGE)


@lru_cache(maxsize=8)
def _with_plugins(version: str, plugins: tuple[Path, ...]) -> str:
    if not plugins:
        return version
    digest = hashlib.sha256(version.encode() + b"\0")
    for source in plugins:
        digest.update(source.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def source_version(package: Path) -> str:
    """sha256 (first 12 hex digits) of the computing modules under ``package``, by relative path."""
    return _digest(package, _files(package, COMPUTING))


# --------------------------------------------------------------------------- per run

@lru_cache(maxsize=None)
def run_version(method: str, dataset: str, net: str | None, package: Path = PACKAGE) -> str:
    """The version of the code a run of ``method`` on ``dataset`` uses (``net``: its network, or None
    for a method that trains none and reads no codes). ``package``: the ocbench source tree."""
    from .detectors import DETECTOR_CLASSES, DETECTOR_MODULES, METHODS

    spec = METHODS[method]
    if spec.detector_name in DETECTOR_CLASSES:  # a plugin's class, imported already
        method_files = _defining_files(DETECTOR_CLASSES[spec.detector_name], package)
    else:
        method_files = [package / "detectors" / f"{DETECTOR_MODULES[spec.detector_name]}.py"]
    return _version(package, method_files, dataset, net)


@lru_cache(maxsize=None)
def autoencoder_version(dataset: str, net: str, package: Path = PACKAGE) -> str:
    """The version of the code that trains the shared autoencoder of ``net`` on ``dataset``."""
    return _version(package, [package / AUTOENCODER_MODULE], dataset, net)


def _version(package: Path, method_files: list[Path], dataset: str, net: str | None) -> str:
    from .data.registry import DATASETS

    source = DATASETS[dataset]
    roots = [*method_files, *(_module_file(package, name.split(".")[1:]) for name in RUN_MODULES)]
    roots += [path for fn in (source.fetch, source.prepare, source.check_mirror) if fn is not None
              for path in _defining_files(fn, package)]
    definitions = []
    if net is not None:
        from .nets import NETS

        spec = NETS[net]
        roots += _net_files(package, spec.module)
        definitions.append(repr(spec))  # plain data: the classes and arguments the net is built with
    files = set(_files(package, JOB_FILES)) | set(imported_files(tuple(roots), package))
    return _digest(package, sorted(files), definitions)


def _net_files(package: Path, module: str) -> list[Path]:
    inside = package / "nets" / f"{module}.py"
    if inside.is_file():
        return [inside]
    loaded = sys.modules.get(module)  # a net module of a plugin's, imported by then
    return _defining_files(loaded, package) if loaded is not None else []


def _defining_files(obj, package: Path) -> list[Path]:
    """The source file of a class, function or module (none for a built-in); one of this package's
    own as the file of the same name under ``package``."""
    obj = getattr(obj, "func", obj)  # functools.partial
    try:
        source = inspect.getsourcefile(obj)
    except TypeError:
        return []
    if not source:
        return []
    source = Path(source).resolve()
    return [package / source.relative_to(PACKAGE) if source.is_relative_to(PACKAGE) else source]


# --------------------------------------------------------------------------- imports

def imported_files(roots: tuple[Path, ...], package: Path = PACKAGE) -> list[Path]:
    """``roots`` and every ocbench module they import, transitively, as files under ``package``
    (and a plugin's own modules in its folder).

    Every ``import`` and ``from … import`` counts, at module level or inside a function (a
    lazy import is still code the module may run); importing a submodule imports its
    packages too. Imports of other installed packages are left out (each run records the
    versions of the main ones, ``metrics.versions``).
    """
    seen: set[Path] = set()
    todo = [Path(root).resolve() for root in roots]
    while todo:
        path = todo.pop()
        if path not in seen and path.is_file():
            seen.add(path)
            todo.extend(_imports_of(path, package))
    return sorted(seen)


@lru_cache(maxsize=None)
def _imports_of(path: Path, package: Path) -> tuple[Path, ...]:
    """The ocbench modules one file imports, as files; for a file outside the package (a plugin), also
    the modules it imports that are files beside it."""
    inside = path.is_relative_to(package)
    here = ["ocbench", *path.relative_to(package).parent.parts] if inside else []  # the file's package
    found = set()
    for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: only a module inside the package has a package to be relative to
                if not inside or node.level - 1 > len(here) - 1:
                    continue
                base = ".".join(here[:len(here) - (node.level - 1)] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]  # a name may be a submodule
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "ocbench":
                root, parts = package, parts[1:]
            elif not inside:  # a plugin's own module: a file beside it
                root = path.parent
            else:
                continue
            for depth in range(len(parts) + 1):  # ocbench.data.splits imports ocbench and ocbench.data too
                module = _module_file(root, parts[:depth]) if depth or root == package else None
                if module is not None:
                    found.add(module)
    return tuple(sorted(found))


def _module_file(package: Path, parts: list[str]) -> Path | None:
    base = package.joinpath(*parts)
    for candidate in (base.with_suffix(".py") if parts else None, base / "__init__.py"):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


# --------------------------------------------------------------------------- hashing

def _files(package: Path, names) -> list[Path]:
    """The ``.py`` files of ``names`` under ``package``: a module (``metrics``, ``runs.py``), or a
    package or folder (``data``: every file below it)."""
    files = []
    for name in names:
        path = package / name
        if path.is_dir():
            files += sorted(path.rglob("*.py"))
        elif path.with_suffix(".py").is_file():
            files.append(path.with_suffix(".py"))
    return files


def _digest(package: Path, files, definitions=()) -> str:
    """sha256 (first 12 hex digits) of each file's name and bytes, then of ``definitions``. A file
    under ``package`` is named by its relative path, any other (a plugin) by its file name, so the
    version does not depend on where the source tree or the working directory is."""
    named = {}
    for path in map(Path, files):
        named[path.relative_to(package).as_posix() if path.is_relative_to(package) else f"plugin:{path.name}"] = path
    digest = hashlib.sha256()
    for name in sorted(named):  # by name: the order of absolute paths changes with where each folder is
        digest.update(name.encode() + b"\0" + named[name].read_bytes() + b"\0")
    for definition in definitions:
        digest.update(definition.encode() + b"\0")
    return digest.hexdigest()[:12]


def clear_cache() -> None:
    """Forget the versions worked out so far (each is computed once per process): after an edit to a
    source file or a plugin loaded again in the same process."""
    for cached in (run_version, autoencoder_version, _imports_of, _package_version, _with_plugins):
        cached.cache_clear()
