"""What the benchmark tests share: the repository on `sys.path` (`benchmarks` is a folder of the repository,
not an installed package), and a data set's description for fixtures that have no file."""

import os
import sys

from keras_ae.data.registry import DATASETS

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


class Info:
    """What the harness reads of a `DatasetInfo`, describing the fixture without a file."""

    def __init__(self, name, described):
        self.name, self.licence, self.described = name, DATASETS[name].licence, described

    def describe(self, source):
        return self.described
