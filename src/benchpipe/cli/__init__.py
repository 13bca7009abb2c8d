"""The ``benchpipe`` command line."""
