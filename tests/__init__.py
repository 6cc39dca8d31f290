"""The test suite (a package, so that `-p tests.nbval_capture` and the test modules resolve to this
folder, not to a `tests` package some dependency installs)."""
