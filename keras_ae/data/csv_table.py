"""A CSV table of numbers, read with pandas as spreadsheets and pandas write it.

- UTF-8 with or without a byte-order mark (Excel's "CSV UTF-8"); a file that
  is not UTF-8 is read as Latin-1, with a note;
- quoted numbers (`"1.5"`), `#` comment lines, blank lines, a trailing comma
  on every line;
- a header row or none (`header="auto"` decides, see `has_header`);
- a pandas index column (a header whose first cell is empty, as
  `DataFrame.to_csv` writes it) is dropped: it numbers the rows and is not a
  feature.

Text in a numeric column is refused, naming the column and the first row
that holds it. Rows are counted from 1, as a spreadsheet counts them, without
the header and comment lines.
"""

import warnings

import numpy as np

HEADER_CHOICES = ("auto", "yes", "no")
_SNIFF_ROWS = 100  # rows read as text to decide about the header


class UserDataNote(UserWarning):
    """Something about a user's data file worth a line (an encoding fallback, skipped files); the
    data was read. `keras-ae train` and `keras-ae score` print these as notes."""


# The cells pandas reads as a missing value (its default `na_values`): a missing value, not a header's text.
_MISSING = {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
            "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}


def _number(cell):
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _counts_up(cells):
    """Whether `cells` are integers, each one more than the one before (2019,2020,2021): three or more, or two
    after an empty first cell (a pandas index's header: `,0,1`)."""
    if cells and cells[0] == "":
        cells, least = cells[1:], 2
    else:
        least = 3
    if len(cells) < least or not all(c.lstrip("+-").isdigit() for c in cells):
        return False
    values = [int(c) for c in cells]
    return all(b - a == 1 for a, b in zip(values, values[1:]))


def _has_text(cells):
    return any(c not in _MISSING and not _number(c) for c in cells)


def has_header(rows):
    """Whether the first of `rows` (lists of stripped cell texts) is a header row.

    The rule, in order:

    1. a cell that is text (not a number, nor one of pandas's missing-value
       marks such as `NA` or an empty cell): a header;
    2. three or more cells that are consecutive integers, each one more than
       the one before (years such as `2019,2020,2021`, or column numbers
       `0,1,2`; two are enough after an empty first cell, a pandas index's
       header such as `,0,1`), when no other row of the first 100 counts up
       so: a header (`load_user_data` says so in a note);
    3. otherwise the first row is data.

    `--header yes|no` (`header=` of `load_user_data`) overrides the rule.
    """
    if _has_text(rows[0]):
        return True
    return _counts_up(rows[0]) and not any(_counts_up(r) for r in rows[1:])


def _pandas_read(path, encoding, **kwargs):
    import pandas as pd

    try:
        # index_col=False: a row with a trailing comma has one field more than the header; without it pandas
        # would take the first column for an index.
        return pd.read_csv(path, encoding=encoding, comment="#", index_col=False, skip_blank_lines=True,
                           **kwargs)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path!r} holds no rows (an empty CSV file)") from None
    except pd.errors.ParserError as e:
        detail = str(e).strip().splitlines()[0].replace("Error tokenizing data. C error: ", "")
        raise ValueError(f"{path!r} must be a comma-separated table with the same number of fields on every "
                         f"line: {detail}") from None


def _read(path, header, encoding):
    """`(values, column names or None)`, reading `path` with `encoding`."""
    sample = _pandas_read(path, encoding, header=None, dtype=str, keep_default_na=False, nrows=_SNIFF_ROWS)
    rows = [[c.strip() for c in row] for row in sample.to_numpy().tolist()]
    if not rows:
        raise ValueError(f"{path!r} holds no rows")
    with_header = has_header(rows) if header == "auto" else header == "yes"
    if header == "auto" and with_header and not _has_text(rows[0]):
        warnings.warn(f"{path}: the first row ({','.join(rows[0])}) is taken for a header: its numbers count up by "
                      "one, as years or column numbers do; --header no (header='no') reads it as data",
                      UserDataNote, stacklevel=4)
    frame = _pandas_read(path, encoding, header=0 if with_header else None)
    if with_header and frame.empty:
        raise ValueError(f"{path!r} holds a header row and no rows of data")
    first = rows[0]
    drop = []
    if with_header and first[0] == "" and any(first[1:]):
        drop.append(0)  # a pandas index column: it numbers the rows
    # A trailing comma on every line (the header's too) makes an empty last column: not a feature.
    while len(frame.columns) - len(drop) > 1 and first[-1] == "" and frame.iloc[:, -1].isna().all():
        frame = frame.iloc[:, :-1]
        first = first[:-1]
    keep = [i for i in range(len(frame.columns)) if i not in drop]
    frame = frame.iloc[:, keep]
    names = [str(first[i]) for i in keep] if with_header else None
    return _numbers(path, frame, names), names


def _numbers(path, frame, names):
    """The frame's values as float64; text in a column is refused, naming the column and the first row."""
    import pandas as pd

    columns = []
    for j in range(frame.shape[1]):
        col = frame.iloc[:, j]
        if col.dtype.kind not in "biuf":
            numeric = pd.to_numeric(col, errors="coerce")
            bad = col.notna() & numeric.isna()
            if bad.any():
                r = int(np.flatnonzero(bad.to_numpy())[0])
                value = str(col.iloc[r])
                hint = ("; is the file separated by ';' or tabs? keras-ae reads commas"
                        if (";" in value or "\t" in value) else "")
                raise ValueError(f"{path!r} must be a comma-separated table of numbers: column "
                                 f"{column_name(names, j)} holds text at row {r + 1}: {value!r}{hint}")
            col = numeric
        columns.append(col.to_numpy(dtype="float64", na_value=np.nan))
    return np.stack(columns, axis=1) if columns else np.zeros((len(frame), 0))


def column_name(names, j):
    """How a message names column `j` (0-based): its header `'b'`, else its number from 1."""
    return repr(names[j]) if names else str(j + 1)


def read_csv(path, header="auto"):
    """Read the CSV file `path`: `(values as float64 (n, features), column names or None)`.

    Args:
        path: the file.
        header: `"auto"` (see `has_header`), `"yes"` or `"no"`.
    """
    if header not in HEADER_CHOICES:
        raise ValueError(f"`header` must be one of {list(HEADER_CHOICES)}. Received: header={header!r}")
    try:
        return _read(path, header, "utf-8-sig")  # "-sig": a byte-order mark is not part of the first cell
    except UnicodeDecodeError as e:
        where = f" at byte {e.start}" if isinstance(getattr(e, "start", None), int) else ""
        warnings.warn(f"{path} is not UTF-8 (an invalid byte{where}): read as Latin-1 (ISO-8859-1); save it as "
                      "UTF-8 if its text looks wrong", UserDataNote, stacklevel=3)
        return _read(path, header, "latin-1")
