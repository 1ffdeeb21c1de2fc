import sys

from conda2docker.cli import main

sys.exit(main())
