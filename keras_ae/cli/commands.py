"""Run a parsed `keras-ae` command line: the table of commands, and the one-line errors."""

import contextlib
import importlib
import os
import sys

from keras_ae.cli.common import CLIError

# command -> "module:function", imported when the command runs (so a command's imports load only for it)
COMMANDS = {
    "list": "catalog:cmd_list", "info": "catalog:cmd_info",
    "train": "train:cmd_train",
    "score": "scoring:cmd_score", "export": "exporting:cmd_export",
    "sample": "figures:cmd_sample", "reconstruct": "figures:cmd_reconstruct", "demo": "figures:cmd_demo",
    "notebooks": "figures:cmd_notebooks",
}


def command(name):
    """The function that runs command `name`."""
    module, function = COMMANDS[name].split(":")
    return getattr(importlib.import_module(f"keras_ae.cli.{module}"), function)


def start_backend():
    """Start the backend's devices now, with their start-up lines held back (keras_ae/_quiet.py)."""
    from keras_ae._quiet import import_keras, start_devices

    import_keras()
    start_devices()


def run(args, backend_chosen=None):
    """Run a parsed command line; return the exit code. Errors are one line on stderr."""
    try:
        with contextlib.ExitStack() as stack:
            if args.quiet:
                stack.enter_context(contextlib.redirect_stdout(open(os.devnull, "w")))
            if backend_chosen and not args.quiet:
                print(f"(backend: {backend_chosen}; choose with --backend or $KERAS_BACKEND)")
            command(args.command)(args)
    except (CLIError, ValueError, FileNotFoundError, OSError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"keras-ae: error: {msg}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("keras-ae: interrupted", file=sys.stderr)
        return 130
    return 0
