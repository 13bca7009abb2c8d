"""Which environment variables the code under test may see: none that holds a credential.

The code benchpipe measures may be a stranger's pull request. Every process started for it (``go list`` and
``go test -c`` builds, test binaries, runs under valgrind, profiling runs) gets the environment
:func:`for_build` or :func:`for_run` leaves. Removed, whatever their value:

- cloud and CI credentials: every variable starting with ``AWS_``, ``AZURE_``, ``ARM_``, ``GOOGLE_``,
  ``GCLOUD_``, ``CLOUDSDK_``, ``ACTIONS_`` (the runner's ``ACTIONS_RUNTIME_TOKEN``,
  ``ACTIONS_ID_TOKEN_REQUEST_*`` and cache URLs), ``CI_JOB_`` (GitLab's ``CI_JOB_TOKEN``, ``CI_JOB_JWT*``),
  ``CI_REGISTRY_``, ``CI_DEPLOY_``;
- ``GITHUB_TOKEN``, ``GH_TOKEN``, ``GITLAB_TOKEN`` and every variable whose name contains ``TOKEN``,
  ``SECRET``, ``PASSWORD``, ``PASSWD``, ``KEY`` or ``CREDENTIAL`` (in any case), and ``DOCKER_AUTH_CONFIG``.

Go itself needs none of these: no variable of Go's own (``go help environment``) matches. What a build may
need for private modules, ``GOAUTH``, ``NETRC``, ``GIT_ASKPASS``, ``SSH_AUTH_SOCK`` and ``GIT_SSH_COMMAND``
(:data:`BUILD_ONLY`), reaches the builds and never a test binary; nor does ``GOPROXY`` when it holds a user
name or password (``https://user:pass@host``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

DENY_PREFIXES = (
    "AWS_",
    "AZURE_",
    "ARM_",
    "GOOGLE_",
    "GCLOUD_",
    "CLOUDSDK_",
    "ACTIONS_",
    "CI_JOB_",
    "CI_REGISTRY_",
    "CI_DEPLOY_",
)
DENY_NAMES = frozenset({"GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN", "DOCKER_AUTH_CONFIG"})
DENY_WORDS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL")
BUILD_ONLY = frozenset({"GOAUTH", "NETRC", "GIT_ASKPASS", "SSH_ASKPASS", "SSH_AUTH_SOCK", "GIT_SSH_COMMAND"})
_USERINFO = re.compile(r"://[^/@,|\s]*@")


def is_credential(name: str) -> bool:
    """A variable no process for the code under test gets."""
    upper = name.upper()
    return upper.startswith(DENY_PREFIXES) or upper in DENY_NAMES or any(w in upper for w in DENY_WORDS)


def for_build(env: Mapping[str, str]) -> dict[str, str]:
    """The environment of a build or a ``go list`` of the code under test."""
    return {k: v for k, v in env.items() if not is_credential(k)}


def for_run(env: Mapping[str, str]) -> dict[str, str]:
    """The environment of a process that runs the code under test (a test binary, directly or under a
    tool)."""
    out = {k: v for k, v in for_build(env).items() if k.upper() not in BUILD_ONLY}
    if _USERINFO.search(out.get("GOPROXY", "")):
        del out["GOPROXY"]
    return out


def removed(env: Mapping[str, str], kept: Mapping[str, str]) -> list[str]:
    """The names of the variables ``kept`` lacks (for a note; never their values)."""
    return sorted(set(env) - set(kept))
