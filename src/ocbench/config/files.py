"""Config files: YAML read with one-line syntax errors (file, line, column), and errors named by file."""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

from ..errors import OcbenchError
from .checks import load_and_validate
from .schema import SCHEMA_PATH


def _yaml_error_line(err: yaml.YAMLError) -> str:
    """A YAML syntax error in one line: where it is (line and column, from 1) and what is wrong."""
    mark, problem = getattr(err, "problem_mark", None), getattr(err, "problem", None)
    if mark is None or problem is None:
        return " ".join(str(err).split())
    line = f"YAML syntax error at line {mark.line + 1}, column {mark.column + 1}: {problem}"
    context, context_mark = getattr(err, "context", None), getattr(err, "context_mark", None)
    if context and context_mark is not None:
        line += f" ({context} at line {context_mark.line + 1}, column {context_mark.column + 1})"
    return line


def read_config_file(path: str | Path):
    """The YAML content of a config file, unvalidated; an unreadable file or a syntax error
    is one ``OcbenchError`` line naming the file (and the line and column of the error)."""
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise OcbenchError(f"cannot read config file {path}: {getattr(err, 'strerror', None) or err}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise OcbenchError(f"{path}: {_yaml_error_line(err)}") from None


def in_config_files(files, err: OcbenchError) -> OcbenchError:
    """``err`` of a config check prefixed with the config file(s) it came from, as a compiler names
    its source: ``experiment.yaml: config method_params.ocsvm.nu: ...``."""
    names = " + ".join(str(name) for name in files) if isinstance(files, (list, tuple)) else str(files)
    if str(err).startswith(f"{names}: "):  # already named (read_config_file)
        return err
    return OcbenchError(f"{names}: {err}")


def exit_on_config_error(files, check, *args):
    """``check(*args)``; an ``OcbenchError`` ends the process with one line on stderr naming
    the config file(s) (``in_config_files``) and exit status 1: the workflow's config
    check, which Snakemake would otherwise report with a traceback into its Snakefile."""
    try:
        return check(*args)
    except OcbenchError as err:
        sys.exit(f"ocbench: error: {in_config_files(files, err)}")


def load_config_file(path: str | Path, schema_path: str | Path = SCHEMA_PATH) -> dict:
    """Read and validate a config file (``load_and_validate``); every error names the file."""
    config = read_config_file(path)
    try:
        return load_and_validate(config, schema_path)
    except OcbenchError as err:
        raise in_config_files(path, err) from None
