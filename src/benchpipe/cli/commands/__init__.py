"""One module per ``benchpipe`` subcommand: ``register(sub)`` adds its parser, ``run(args)`` runs it."""

from benchpipe.cli.commands import (
    annotate,
    baseline,
    bench,
    bisect,
    calibrate,
    comment,
    compare,
    gate,
    history,
    init,
    merge,
    parse,
    pipeline,
    profile,
    publish,
    record,
    report,
    schemas,
    settings,
)

ALL = [init, bench, parse, compare, calibrate, bisect, gate, profile, record, report, history, baseline, annotate, settings,
       pipeline, schemas, merge, publish, comment]
