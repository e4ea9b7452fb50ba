"""Text-to-SQL data: questions over databases, from the shipped business databases or a local folder.

A dataset is named by a string: ``"sqlgym"`` (the generated business databases shipped with the
package), ``"spider:<dir>"`` or ``"bird:<dir>"`` (a local copy of those benchmarks); the databases
themselves are opened by :mod:`sqlgym.db.datasets` (``load_dataset``).
"""

from sqlgym.scenarios.text2sql.question import DIFFICULTIES, KINDS, SPLITS, Question, QuestionSet

__all__ = ["DIFFICULTIES", "KINDS", "SPLITS", "Question", "QuestionSet"]
