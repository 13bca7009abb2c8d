"""Drivers of the code forges' web APIs (GitHub, GitLab): the few REST calls that keep one benchpipe comment
on a pull request or merge request up to date. Beside :mod:`benchpipe.go` and :mod:`benchpipe.store`: they
talk to an external program (a web service), hold no state, and never see the code under test.

The token comes from the caller (the environment of a trusted job); it is sent only to the API base URL given
and never printed. Every failure is a :class:`~benchpipe.core.errors.BenchpipeError` of one line that names
the call and the HTTP status, never the token.
"""
