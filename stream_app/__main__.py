"""``python -m stream_app`` does what the ``vasowatch`` command does."""

from stream_app.cli import main

raise SystemExit(main())
