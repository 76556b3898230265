import os
import sys

from evals.run import main

try:
    sys.exit(main())
except BrokenPipeError:  # `python -m evals | head`: the reader has gone, nothing to say
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
    sys.exit(1)
