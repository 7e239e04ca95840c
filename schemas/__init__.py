"""The JSON Schemas of jada-checks (profile, settings.json, waivers, report): package data,
loaded with importlib.resources."""
