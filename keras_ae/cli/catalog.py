"""`keras-ae list` and `keras-ae info`: the zoo's entries and their metadata."""

import json
import os

from keras_ae.cli.common import CLIError


def cmd_list(args):
    from keras_ae import zoo

    if not os.path.isdir(zoo.zoo_dir()):
        raise CLIError(f"the zoo folder {zoo.zoo_dir()!r} does not exist (check ${zoo.ENV_ZOO})")
    names = zoo.list_models(args.pattern)
    if args.markdown:
        print(zoo.markdown_table(args.pattern))
        return
    broken = []
    for name in names:
        try:
            entry = zoo.info(name)
        except zoo.ZooError as e:
            broken.append(name)
            print(f"{name:32s} BROKEN: {e}")
            continue
        metrics = entry.get("metrics", {}).get("test", {})
        shown = ", ".join(f"{k}={v}" for k, v in metrics.items() if k != "n_test")
        print(f"{name:32s} {entry.get('params', 0):>9,d} params  {shown}")
    if not names:
        print(f"no zoo model matches {args.pattern!r}")
    if broken:
        raise CLIError(f"{len(broken)} zoo entr{'y is' if len(broken) == 1 else 'ies are'} broken: "
                       + ", ".join(broken))


def cmd_info(args):
    from keras_ae import zoo

    entry = zoo.info(args.name)
    if not args.config:
        entry.pop("config", None)
    print(json.dumps(entry, indent=2))
