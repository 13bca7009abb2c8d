"""Pure logic: no subprocess (one exception: :func:`benchpipe.core.benchfmt.read_pair` forks itself to read
two files side by side, no program is run), no printing; files are read only by the readers that take a
path."""
