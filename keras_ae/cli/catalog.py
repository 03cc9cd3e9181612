"""`keras-ae list` and `keras-ae info`: the zoo's entries, their metadata, data set and licence."""

import json
import os

from keras_ae.cli.common import CLIError


def cmd_list(args):
    from keras_ae import zoo
    from keras_ae.zoo.index import entry_dataset

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
        dataset, licence = entry_dataset(entry)
        print(f"{name:32s} {entry.get('params', 0):>9,d} params  {dataset or '-':13s}  {shown}"
              + (f"  licence: {licence}" if licence else ""))
    if not names:
        print(f"no zoo model matches {args.pattern!r}")
    if broken:
        raise CLIError(f"{len(broken)} zoo entr{'y is' if len(broken) == 1 else 'ies are'} broken: "
                       + ", ".join(broken))


def cmd_info(args):
    from keras_ae import zoo
    from keras_ae.zoo.index import entry_dataset

    entry = zoo.info(args.name)
    if not args.config:
        entry.pop("config", None)
    _, licence = entry_dataset(entry)
    if licence:  # second, after the name, where it is seen: some data sets are for non-commercial use only
        entry.pop("licence", None)
        entry = {**{k: entry[k] for k in ("name",) if k in entry}, "licence": licence, **entry}
    print(json.dumps(entry, indent=2))
