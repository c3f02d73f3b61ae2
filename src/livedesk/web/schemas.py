"""Request bodies' building blocks: strict models (no unknown fields, valid Unicode) and UTC times."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator


def unicode_only(value: Any) -> Any:
    """Strings (also inside lists) must be valid Unicode: JSON can carry a lone surrogate
    (`"\\ud800"`), which no database or page can hold."""
    for text in value if isinstance(value, list) else [value]:
        if isinstance(text, str):
            try:
                text.encode()
            except UnicodeEncodeError as error:
                raise ValueError(f"holds a lone surrogate at character {error.start}: not valid Unicode") from None
    return value


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range: the time must fall between the years 1 and 9999 in UTC") from None


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_in_utc)]
LAST_DAY = date.max - timedelta(days=1)  # the day after it must exist too


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    _unicode_only = field_validator("*")(unicode_only)


class MediaIn(Strict):
    kind: Literal["image", "video", "embed"] | None = None
    url: str | None = Field(None, max_length=2000)
    alt: str | None = Field(None, max_length=1000)
    caption: str | None = Field(None, max_length=2000)
    credit: str | None = Field(None, max_length=300)
    title: str | None = Field(None, max_length=500)
    duration_s: int | None = Field(None, ge=0, le=86400 * 7)
    source: str | None = Field(None, max_length=300)
    author: str | None = Field(None, max_length=300)
    thumbnail: str | None = Field(None, pattern=r"^/media/[0-9a-f]{24}-\d{1,5}\.jpg$", description="an embed card's thumbnail, kept here")
    upload: str | None = Field(None, pattern=r"^[0-9a-f]{24}$", description="an uploaded photo's id, from POST /api/media")
    width: int | None = Field(None, ge=1, le=20000)
    height: int | None = Field(None, ge=1, le=20000)
    widths: list[Annotated[int, Field(ge=1, le=1600)]] | None = Field(None, max_length=3, description="an upload's renditions")
