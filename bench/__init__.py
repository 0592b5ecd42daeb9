"""Load generator and benchmark scenarios: `python -m bench.run --help`."""
