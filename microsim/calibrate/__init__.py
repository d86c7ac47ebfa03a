"""Calibration: target files of published figures, the free parameters that reproduce them,
a deterministic fit on common random numbers, and the fitted values written back with their
provenance (`microsim calibrate`, docs/calibration.md)."""
