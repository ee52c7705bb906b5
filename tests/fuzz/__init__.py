"""Fuzzing support: seed corpus (``seeds/``), the seed capture helper and the atheris harness."""
