"""Pure parsers of target data: text in, structures out, no I/O."""
