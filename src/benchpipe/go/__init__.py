"""Drivers of external programs: the Go toolchain, git, facts about the machine."""
