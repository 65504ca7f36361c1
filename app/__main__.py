"""``python -m app``: same as the ``radiai`` command."""

import sys

from app.main import main

sys.exit(main())
