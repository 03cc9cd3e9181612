"""What every RESULTS.md section shares: number and table formatting, verdicts, and the line under a
section's heading that says which command made its figures, and when."""


def _f(v, fmt="{:.2f}"):
    return "—" if v is None else fmt.format(v)


def _table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def _verdict(ok):
    return "met" if ok else "**not met**"


def _run_text(run):
    backend = f" (Keras backend: {run['backend']})" if run.get("backend") else ""
    when = f" on {run['date']}" if run.get("date") else " (date not recorded)"
    return f"`{run['command']}`{backend}{when}"


def made_by(*parts):
    """The line under a section's heading that names the command that made the section, and when.

    Args:
        *parts: run records as results.json's `runs` holds them (`{"command", "date"}`, and `backend`
            where the run recorded it), or `(record, what)` pairs when the section's figures come from
            several runs; `what` says which figures that run made. A record may be None (not recorded).

    Returns:
        One line of Markdown, e.g. "Made by `python -m benchmarks --tabular` on 2026-11-29T20:17:30."
    """
    parts = [p if isinstance(p, tuple) else (p, None) for p in parts]
    groups = []  # one entry per distinct run, with what it made
    for run, what in parts:
        key = None if not run or not run.get("command") else (run["command"], run.get("date"), run.get("backend"))
        for group in groups:
            if group[0] == key:
                group[2].append(what)
                break
        else:
            groups.append((key, run, [what]))
    texts = []
    for key, run, whats in groups:
        text = _run_text(run) if key else "a command not recorded in results.json"
        whats = [w for w in whats if w]
        if whats and len(groups) > 1:
            text += f" ({', '.join(whats)})"
        texts.append(text)
    return "Made by " + "; ".join(texts) + "."
