"""The `keras-ae` command line.

`parser` reads the command line and chooses the backend without importing Keras;
`commands` runs a parsed command line, with one module per group of commands beside it:
`catalog` (list, info), `train`, `scoring` (score), `exporting` (export) and `figures` (sample,
reconstruct, demo, notebooks). `python -m keras_ae.cli` is the `keras-ae` console script.
"""


def main(argv=None):
    """Entry point of the `keras-ae` console script; returns the exit code."""
    from keras_ae.cli.parser import main as parse_and_run

    return parse_and_run(argv)
