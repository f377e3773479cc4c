"""Text fields people and teams send: what may be in them. Text that is one line (a title,
a name, a place) holds no control character and no line or paragraph separator (U+2028,
U+2029): it ends up in email subjects and headers, where a line break cannot belong. Text of
several lines (a description) breaks lines with a new line (and may hold tabs), nothing else.
The patterns are in the OpenAPI document too, so clients know before they send."""

import re
from typing import Annotated

from pydantic import AfterValidator, Field

ONE_LINE = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"
MULTI_LINE = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"
_ONE_LINE = re.compile(ONE_LINE)
_MULTI_LINE = re.compile(MULTI_LINE)


def one_line(value: str) -> str:
    if not _ONE_LINE.match(value):
        raise ValueError("Use one line of text, without line breaks or control characters")
    return value


def plain_text(value: str) -> str:
    if not _MULTI_LINE.match(value):
        raise ValueError("Use text without control characters (break lines with a new line only)")
    return value


OneLine = Annotated[str, AfterValidator(one_line), Field(json_schema_extra={"pattern": ONE_LINE})]
PlainText = Annotated[str, AfterValidator(plain_text), Field(json_schema_extra={"pattern": MULTI_LINE})]
