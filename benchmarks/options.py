"""The command-line options of `python -m benchmarks` that take lists or need another option, and the command
as results.json records it."""

from benchmarks.report_images import TITLES as IMAGE_DATASETS

PATH_OPTIONS = ("--fid-cache", "--out")  # folders of this machine: results.json records them as DIR


def shown_command(argv):
    """The command as results.json records it, with the folders of `PATH_OPTIONS` as `DIR` (no machine path)."""
    shown = []
    for i, arg in enumerate(argv):
        if i and argv[i - 1] in PATH_OPTIONS:
            arg = "DIR"
        elif arg.split("=", 1)[0] in PATH_OPTIONS and "=" in arg:
            arg = arg.split("=", 1)[0] + "=DIR"
        shown.append(arg)
    return " ".join(["python -m benchmarks", *shown])


def image_datasets(text, parser):
    """`--datasets`: names of `IMAGE_DATASETS` (case and - for _ forgiven), in the given order."""
    return name_list(text, IMAGE_DATASETS, "--datasets", parser)


def name_list(text, allowed, option, parser):
    """Comma-separated names of `allowed` given to `option` (case and - for _ forgiven), each once, in order."""
    names = [t.strip().lower().replace("-", "_") for t in text.split(",") if t.strip()]
    unknown = sorted(set(names) - set(allowed))
    if unknown or not names:
        parser.error(f"unknown {option} {unknown}; expected some of {list(allowed)}")
    return list(dict.fromkeys(names))


def vq_temperature_list(text, vq_fid, parser):
    """`--vq-temperatures`: positive numbers, each once, in the given order; (1.0,) when not given."""
    if text is None:
        return (1.0,)
    if not vq_fid:
        parser.error(f"--vq-temperatures needs --vq --vq-fid. Received: --vq-temperatures {text} without --vq-fid")
    try:
        values = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        values = []
    if not values or any(not 0 < v < float("inf") for v in values):  # NaN fails both comparisons
        parser.error(f"--vq-temperatures takes positive numbers, e.g. 1,0.8,0.6. Received: {text}")
    return tuple(dict.fromkeys(values))


def option_names(text, given, needs, allowed, option, parser):
    """Names of `allowed` given to `option`, which only a run with the option `needs` (`given`) takes; None
    when `option` is not given."""
    if text is None:
        return None
    if not given:
        parser.error(f"{option} needs {needs}. Received: {option} {text} without {needs}")
    return name_list(text, allowed, option, parser)


def conv_arch_list(text, conv_speed, parser):
    """`--conv-archs`: names of `benchmarks.conv_speed.ARCHS`, each once, in the given order; None when not given."""
    from benchmarks.report_targets_open import CONV_ARCHS

    return option_names(text, conv_speed, "--conv-speed", CONV_ARCHS, "--conv-archs", parser)


def speed_part_list(text, speed, parser):
    """`--speed-parts`: names of `benchmarks.speed.PARTS`; every part when not given."""
    from benchmarks.speed import PARTS

    return option_names(text, speed, "--speed", PARTS, "--speed-parts", parser) or list(PARTS)
