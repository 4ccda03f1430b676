"""Reproducible benchmarks against the local Salesforce emulator (see benchmarks/README.md)."""
