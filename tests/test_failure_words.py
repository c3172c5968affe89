"""Every way the engine refuses an edit has its own words for people, not the generic line."""

from __future__ import annotations

import editing.errors as engine_errors
from tasks.failure_words import for_people


def _refusals() -> list[type[engine_errors.EditError]]:
    kinds = [value for value in vars(engine_errors).values()
             if isinstance(value, type) and issubclass(value, engine_errors.EditError)]
    # a class with subclasses is a family name; the engine raises its members
    return [kind for kind in kinds if not kind.__subclasses__()]


def test_each_refusal_of_the_engine_is_told_in_its_own_words() -> None:
    generic = for_people(engine_errors.EditError("x"), attempts=0)
    untold = [kind.__name__ for kind in _refusals()
              if kind is not engine_errors.EditError
              and for_people(kind.__new__(kind), attempts=0) == generic]
    assert untold == []


def test_the_attempts_are_counted_in_the_sentence() -> None:
    assert for_people(engine_errors.AmbiguousIndentationError("x", edit_index=0),
                      attempts=3) == (
        "the model's change left out its line's indentation, and how to indent its new lines "
        "was unclear (after 3 attempt(s))")
