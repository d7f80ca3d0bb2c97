from setuptools import setup

# Thin shim: all metadata lives in pyproject.toml.
setup()
