"""The credential filter's rules (core.credentials): what is removed, what builds keep, what Go keeps."""

from __future__ import annotations

from benchpipe.core import credentials


def test_credentials_are_removed_and_go_keeps_what_it_needs() -> None:
    env = {
        "AWS_ACCESS_KEY_ID": "a",
        "AWS_ENDPOINT_URL": "http://x",
        "GITHUB_TOKEN": "t",
        "ACTIONS_RUNTIME_URL": "u",
        "CI_JOB_TOKEN": "j",
        "CI_JOB_JWT_V2": "j",
        "GOOGLE_APPLICATION_CREDENTIALS": "g",
        "AZURE_TENANT_ID": "z",
        "NPM_TOKEN": "n",
        "my_secret": "s",
        "DB_PASSWORD": "p",
        "SIGNING_KEY": "k",
        "DOCKER_AUTH_CONFIG": "d",
        "PATH": "/bin",
        "HOME": "/h",
        "GOPATH": "/g",
        "GOCACHE": "/c",
        "GOFLAGS": "-mod=mod",
        "GOPRIVATE": "x",
        "GONOSUMDB": "x",
        "GOMAXPROCS": "2",
        "TMPDIR": "/t",
        "GOAUTH": "netrc",
        "NETRC": "/n",
        "SSH_AUTH_SOCK": "/s",
        "GOPROXY": "https://u:p@proxy.invalid,direct",
        "CI": "true",
        "GITHUB_SHA": "abc",
    }
    build = credentials.for_build(env)
    run = credentials.for_run(env)
    kept = {
        "PATH",
        "HOME",
        "GOPATH",
        "GOCACHE",
        "GOFLAGS",
        "GOPRIVATE",
        "GONOSUMDB",
        "GOMAXPROCS",
        "TMPDIR",
        "CI",
        "GITHUB_SHA",
    }
    assert set(run) == kept, set(run) ^ kept
    assert set(build) == kept | {"GOAUTH", "NETRC", "SSH_AUTH_SOCK", "GOPROXY"}
    assert credentials.for_run({"GOPROXY": "https://proxy.golang.org,direct"}) == {
        "GOPROXY": "https://proxy.golang.org,direct"
    }
    assert credentials.removed(env, run)[:3] == [
        "ACTIONS_RUNTIME_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_ENDPOINT_URL",
    ]
