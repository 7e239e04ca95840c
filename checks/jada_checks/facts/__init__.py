"""Fact gathering: everything that touches a target lives in this package."""
