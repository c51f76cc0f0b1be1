"""The display: one mechanism that shows a run as it happens, and the book's faces on it.

- ``figure``: the mechanism (a Jupyter figure redrawn in place, a terminal's progress bar,
  plain lines in a log, the figure saved at the end);
- ``plotting``: the book's pyplot helpers (``plot``, ``set_axes``, ``show_images``...);
- ``animator``: the Chinese edition's ``Animator``;
- ``progress_board``: the English edition's ``ProgressBoard``.
"""
