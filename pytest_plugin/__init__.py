"""pytest-mlqa: the thin pytest side of mlqa (options, markers, recording, JUnit, bundle).

Loaded by pytest for every run where mlqa is installed, so nothing here imports mlqa's checks,
numpy or anything heavy at import time: the library is touched only once a test uses it.
"""
