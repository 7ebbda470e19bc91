"""Hubject bridge use cases: CPO pushes and served commands, EMP pulls, authorisation, CDRs."""
