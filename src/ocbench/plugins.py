"""Methods, datasets and nets added from outside the package (docs/extending.md).

A plugin is a Python module, named in a config's ``plugins`` list either by its import
name (an installed package's module) or by the path of a ``.py`` file (relative to the
working directory: the workflow's ``--directory``). Importing it registers what it adds
with ``register_method``, ``register_dataset`` and ``register_net``, into the same
registries as the package's own entries, so the config checks, the jobs and the report
treat them alike.

The jobs of the workflow are separate processes: the config check imports the config's
plugins (``config.load_and_validate``), the Snakefile hands the list to the jobs in the
environment variable ``OCBENCH_PLUGINS``, and every ``ocbench`` command imports the
plugins it names before it runs (``load_environment_plugins``). A plugin's source is part
of ``code_version``, so an edit to it refits the runs, as an edit to the package does.

Loading a plugin again (a notebook that edits it) runs it again: what it registered
before is removed first, so its registrations are replaced rather than refused as taken.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from pathlib import Path

from .data.registry import DATASETS
from .detectors import DETECTOR_CLASSES, DETECTOR_MODULES, METHODS
from .errors import OcbenchError
from .files import one_line

#: the environment variable that names the plugins of the jobs, joined by os.pathsep
ENVIRONMENT = "OCBENCH_PLUGINS"

#: plugin entry -> the file of the module it imported (the sources code_version hashes)
_LOADED: dict[str, Path | None] = {}
#: plugin entry -> what it registered, as (registry, name) pairs: removed before it is loaded again
_REGISTERED: dict[str, list[tuple[dict, str]]] = {}
#: the entry being imported now, whose registrations are recorded
_loading: list[str] = []


# --------------------------------------------------------------------------- registration

def _refuse_taken(what: str, name: str, registry: dict) -> None:
    if name in registry:
        raise OcbenchError(f"a plugin registers {what} {name!r}, which is already registered; "
                           f"choose another name (taken: {', '.join(registry)})")


def _record(registry: dict, name: str) -> None:
    if _loading:
        _REGISTERED.setdefault(_loading[-1], []).append((registry, name))


def _unregister(entry: str) -> None:
    """Remove what ``entry`` registered when it was loaded before."""
    for registry, name in _REGISTERED.pop(entry, []):
        registry.pop(name, None)


def register_method(name: str, spec, detector: type) -> None:
    """Add method ``name``: a ``detectors.MethodSpec`` and its detector class.

    ``spec.detector_name`` must be the class's name; the class follows the detector API
    (``detectors.base.Detector``: ``fit`` ending with ``set_training_scores``,
    ``decision_function`` higher = more anomalous) and its ``__init__`` takes the
    hyper-parameters of ``spec.hyper_parameters`` (a deep method's training settings
    included), plus ``seed`` (and ``net``, ``device``, ``autoencoder`` for
    ``builds="encoder"``).
    """
    _refuse_taken("method", name, METHODS)
    if spec.detector_name != detector.__name__:
        raise OcbenchError(f"method {name!r}: its MethodSpec names detector {spec.detector_name!r} but the class "
                           f"given is {detector.__name__!r}; they must agree")
    if spec.detector_name in DETECTOR_MODULES or DETECTOR_CLASSES.get(spec.detector_name, detector) is not detector:
        raise OcbenchError(f"method {name!r}: detector class name {spec.detector_name!r} is taken by another "
                           "detector; rename the class")
    shown = {other.short_name or other_name: other_name for other_name, other in METHODS.items()}
    if (spec.short_name or name) in shown:
        raise OcbenchError(f"method {name!r}: its short name {spec.short_name or name!r} is that of method "
                           f"{shown[spec.short_name or name]!r} in the tables; give it another short_name")
    DETECTOR_CLASSES[spec.detector_name] = detector
    METHODS[name] = spec
    _record(DETECTOR_CLASSES, spec.detector_name)
    _record(METHODS, name)


def register_dataset(source) -> None:
    """Add a dataset: a ``data.source.DatasetSource``, with its ``sample_shape`` and
    ``class_sizes`` declared so that the config checks can size its splits and nets."""
    _refuse_taken("dataset", source.name, DATASETS)
    DATASETS[source.name] = source
    _record(DATASETS, source.name)


def register_net(name: str, spec) -> None:
    """Add a net: a ``nets.NetSpec`` of classes in ``ocbench.nets`` (``NetSpec("mlp", "MLP", ...)``) or of
    the plugin's own (``NetSpec.from_classes``); a dataset, or ``datasets.<name>.net``, then names it."""
    from .nets import NETS, NetSpec

    if not isinstance(spec, NetSpec):
        raise OcbenchError(f"net {name!r}: register_net takes an ocbench.nets.NetSpec, got {type(spec).__name__}")
    _refuse_taken("net", name, NETS)
    NETS[name] = spec
    _record(NETS, name)


# --------------------------------------------------------------------------- loading

def _failed_import(entry: str, path: Path | None, err: Exception) -> OcbenchError:
    """One line for a plugin whose import raised: its file, the line, the error (no traceback)."""
    if isinstance(err, SyntaxError):
        file = entry if err.filename and path and Path(err.filename).resolve() == path else err.filename
        return OcbenchError(f"plugin {file}, line {err.lineno}: SyntaxError: {err.msg}")
    # the deepest line of the plugin's own file (the error may come from a library it calls)
    frames = [frame for frame in traceback.extract_tb(err.__traceback__)
              if path is not None and Path(frame.filename).resolve() == path]
    where = f", line {frames[-1].lineno}" if frames else ""
    return OcbenchError(f"plugin {entry}{where}: {type(err).__name__}: {one_line(err)}")


def _import(entry: str):
    """Run the plugin ``entry`` (again, if it ran before: a module is reloaded) and return its module."""
    if entry.endswith(".py"):
        path = Path(entry).resolve()
        if not path.is_file():
            raise OcbenchError(f"plugin file {entry} does not exist (a path is read from the working directory, "
                               f"{Path.cwd()})")
        module_name = f"ocbench_plugin_{path.stem}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except ImportError as err:
            del sys.modules[module_name]
            raise OcbenchError(f"plugin file {entry} imports what is not installed ({err})") from None
        except OcbenchError:  # what it registers was refused: already one line
            del sys.modules[module_name]
            raise
        except Exception as err:  # a syntax error or a bug in the plugin: its file and line
            del sys.modules[module_name]
            raise _failed_import(entry, path, err) from None
        return module
    try:
        if entry in _LOADED and entry in sys.modules:
            return importlib.reload(sys.modules[entry])
        return importlib.import_module(entry)
    except ImportError as err:  # the module, or a package it imports, is missing
        raise OcbenchError(f"plugin module {entry!r} is not importable ({err}); install it, or give the path "
                           "of its .py file") from None
    except OcbenchError:
        raise
    except Exception as err:
        spec = importlib.util.find_spec(entry)
        origin = Path(spec.origin).resolve() if spec is not None and spec.origin else None
        raise _failed_import(entry, origin, err) from None


def _key(entry: str) -> str:
    """One name per plugin: a file's resolved path (``toy.py`` and ``./toy.py`` are one plugin)."""
    return str(Path(entry).resolve()) if entry.endswith(".py") else entry


def load_plugins(entries) -> None:
    """Import each plugin of ``entries`` (a module name or a ``.py`` path).

    A plugin loaded before is run again, its earlier registrations removed first, so
    that an edited plugin replaces what it registered (``hyper_parameter_names`` and
    the other readers look the registries up on every call).
    """
    for entry in entries or []:
        entry = str(entry)
        key = _key(entry)
        _unregister(key)
        _loading.append(key)
        try:
            module = _import(entry)
        except OcbenchError as err:  # named: the plugin missing, or what it registers refused
            raise OcbenchError(f"plugins: {err}" if entry in str(err) else f"plugins: {entry}: {err}") from None
        finally:
            _loading.pop()
        source = getattr(module, "__file__", None)
        _LOADED[key] = Path(source) if source else None


def load_environment_plugins() -> None:
    """Import the plugins named by ``OCBENCH_PLUGINS`` (set by the workflow for its jobs)."""
    value = os.environ.get(ENVIRONMENT, "")
    load_plugins([entry for entry in value.split(os.pathsep) if entry])


def environment_value(entries) -> str:
    """The ``OCBENCH_PLUGINS`` value that names ``entries`` for the jobs."""
    return os.pathsep.join(str(entry) for entry in entries or [])


def loaded_sources() -> list[Path]:
    """The source files of the plugins imported so far, in their order."""
    return [path for path in _LOADED.values() if path is not None]
