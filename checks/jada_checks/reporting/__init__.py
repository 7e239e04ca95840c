"""Reports of a run: JSON, JUnit properties, Markdown, HTML, terminal summary."""
