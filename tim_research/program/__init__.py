"""A mentoring program's data: the table contract, data packages, and planted effects.

- :mod:`tim_research.program.schema`: the linked tables (two required, seven optional), their
  Frictionless schemas and the :class:`Program` container.
- :mod:`tim_research.program.package`: read, validate and write a data package folder.
- :mod:`tim_research.program.effects`: the effects planted in a synthetic program.
"""

from tim_research.program.effects import Effects
from tim_research.program.package import (
    ValidationReport,
    read_program,
    validate_program,
    write_program,
)
from tim_research.program.schema import (
    CLOSURE_REASONS,
    GOAL_DOMAINS,
    GOAL_REVIEWS,
    MENTOR_WAVES,
    OPTIONAL_TABLES,
    RELATIONSHIP_WAVE_MONTHS,
    RELATIONSHIP_WAVES,
    REQUIRED_TABLES,
    SURVEY_STATUS,
    TABLE_DESCRIPTIONS,
    TABLE_NEEDS,
    TABLES,
    WAVE_MONTHS,
    WAVES,
    Program,
    field_dtype,
    instrument_note,
    item_columns,
    item_instrument,
    table_schemas,
)

__all__ = [
    "CLOSURE_REASONS",
    "GOAL_DOMAINS",
    "GOAL_REVIEWS",
    "MENTOR_WAVES",
    "RELATIONSHIP_WAVES",
    "RELATIONSHIP_WAVE_MONTHS",
    "OPTIONAL_TABLES",
    "REQUIRED_TABLES",
    "SURVEY_STATUS",
    "TABLES",
    "TABLE_DESCRIPTIONS",
    "TABLE_NEEDS",
    "WAVES",
    "WAVE_MONTHS",
    "Effects",
    "Program",
    "ValidationReport",
    "field_dtype",
    "instrument_note",
    "item_columns",
    "item_instrument",
    "read_program",
    "table_schemas",
    "validate_program",
    "write_program",
]
