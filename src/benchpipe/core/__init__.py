"""Pure logic: no subprocess, no printing; files are read only by the readers that take a path."""
