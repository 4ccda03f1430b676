"""Tests of tap-salesforce-accounts."""
