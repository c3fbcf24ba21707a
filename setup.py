"""Kept for tools that expect it; the package is described in pyproject.toml."""
from setuptools import setup

setup()
