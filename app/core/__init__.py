"""Shared machinery: database types, errors, workflow tables, scoping, time, ids."""
