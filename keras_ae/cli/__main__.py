import sys

from keras_ae.cli import main

sys.exit(main())
