"""What the tests share: the repository's paths, config checks, the shipped configs, plugin
files, run directories, and the Snakemake and SLURM commands.

Tests import these as ``from helpers.<module> import ...`` (pyproject.toml's pytest
``pythonpath`` puts tests/ on the path); no test imports another test file.
"""
