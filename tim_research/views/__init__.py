"""Views for notebooks: a :class:`~tim_research.program.Program` in, display tables out.

- :mod:`~tim_research.views.notebook`: ``setup`` and ``show`` for a notebook's first cells.
- :mod:`~tim_research.views.tables`: analysis-ready frames (scores per youth, matches, waves).
- :mod:`~tim_research.views.describe`: descriptive report tables with small cells suppressed.
"""
