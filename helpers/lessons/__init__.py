"""The lesson layer: what only the notebooks need.

- :mod:`.checks`: exercise checks, one module per lesson.
- :mod:`.feedback`: :class:`~.feedback.Feedback` and the ``check`` decorator.
- :mod:`.notebooks`: re-execute and save lessons (``python -m helpers.lessons.notebooks``).
- :mod:`.environment`: lesson 0's report of the installed decoders and packages.
"""
