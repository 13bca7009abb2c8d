"""Work across git revisions: paired interleaved runs, calibration (A/A), bisection."""
