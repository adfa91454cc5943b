"""Exercise checks, one module per lesson (``lesson1``, ``lesson2``, ...).

Each check takes the learner's answer and returns a
:class:`helpers.lessons.feedback.Feedback` that says right or wrong and why.
"""
