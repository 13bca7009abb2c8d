"""One module per dvc.yaml stage: read artifacts, call core, write artifacts."""
