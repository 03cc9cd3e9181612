"""keras-ae benchmarks: `python -m benchmarks --quality --speed [--quick]`."""
