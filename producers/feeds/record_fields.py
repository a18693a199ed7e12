"""Field types that case and record exports share: UK dates and times, Y/N flags, a postcode or grid reference,
and people's pseudonyms (pure, no I/O; blanks and age bands are in row_values)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from producers.anonymisation.pseudonyms import person_identifier
from producers.feed import RowValueError, SourceContext
from producers.feeds.row_values import age_band, blank_to_none, check_coordinate_pair, check_month
from sharing_protocols.envelope import BngPoint, PostcodeLocation
from sharing_protocols.postcode_format import normalise

_DAY_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")
_MOMENT_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")
_FLAGS = {"y": True, "yes": True, "true": True, "1": True, "n": False, "no": False, "false": False, "0": False}


def _strptime(value: object, formats: tuple[str, ...], expected: str) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        text = value.strip()
        for fmt in formats:
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
    raise ValueError(f"must be {expected}")


def _day(value: object) -> object:
    value = blank_to_none(value)
    return uk_date(value) if isinstance(value, str) else value


def uk_date(text: str) -> date:
    """A date written DD/MM/YYYY (or YYYY-MM-DD); ValueError otherwise."""
    return _strptime(text, _DAY_FORMATS, "a date as DD/MM/YYYY").date()


def _moment(value: object) -> object:
    value = blank_to_none(value)
    return None if value is None else _strptime(value, _MOMENT_FORMATS, "a date and time as DD/MM/YYYY HH:MM")


def _flag(value: object) -> object:
    value = blank_to_none(value)
    if value is None or isinstance(value, bool):
        return value
    flag = _FLAGS.get(str(value).strip().lower())
    if flag is None:
        raise ValueError("must be Y or N")
    return flag


def normalise_postcode(value: object) -> object:
    """A full UK postcode in its canonical form ("bn214uh" -> "BN21 4UH"); rejects anything else."""
    value = blank_to_none(value)
    if value is None:
        return None
    postcode = normalise(str(value))
    if postcode is None:
        raise ValueError("must be a full UK postcode")
    return postcode


# Column types; the Maybe- forms read a blank cell as None.
UkDate = Annotated[date, BeforeValidator(_day)]
MaybeUkDate = Annotated[date | None, BeforeValidator(_day)]
UkDateTime = Annotated[datetime, BeforeValidator(_moment)]
MaybeUkDateTime = Annotated[datetime | None, BeforeValidator(_moment)]
Flag = Annotated[bool, BeforeValidator(_flag)]
MaybePostcode = Annotated[str | None, BeforeValidator(normalise_postcode)]
Month = Annotated[str, AfterValidator(check_month)]


def day_period(day: date) -> dict[str, object]:
    """One day, as the fields of an OccurrencePeriod."""
    return {"start": day, "end": day, "precision": "day"}


def days_period(start: date, end: date) -> dict[str, object]:
    """A run of whole days, as the fields of an OccurrencePeriod."""
    return {"start": start, "end": end, "precision": "day"}


class SourceRecord(BaseModel):
    """A row of a partner export: columns by their names (aliases), surrounding spaces ignored.

    A subclass names in `blank_is_none` the fields whose blank cell (empty or all spaces) is read as None; one pass
    over the row does it for them all, before any field is validated (a subclass's list adds to its parents')."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, str_strip_whitespace=True)

    blank_is_none: ClassVar[tuple[str, ...]] = ()
    _blank_keys: ClassVar[frozenset[str]] = frozenset()  # those fields' names and column names (aliases)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        names = {name for klass in cls.__mro__ for name in vars(klass).get("blank_is_none", ())}
        fields = cls.model_fields
        cls._blank_keys = frozenset(names) | {alias for name in names if (alias := fields[name].alias)}

    @model_validator(mode="before")
    @classmethod
    def _blank_cells(cls, data: Any) -> Any:
        keys = cls._blank_keys
        if not keys or not isinstance(data, dict):
            return data
        blank = [key for key in keys if isinstance(value := data.get(key), str) and not value.strip()]
        return {**data, **dict.fromkeys(blank, None)} if blank else data


class PlaceColumns(SourceRecord):
    """Where a record is: a grid reference (Easting, Northing), or else a postcode; either or both may be given."""

    easting: float | None = Field(default=None, alias="Easting", ge=0, le=700_000)
    northing: float | None = Field(default=None, alias="Northing", ge=0, le=1_300_000)
    postcode: MaybePostcode = Field(default=None, alias="Postcode")

    blank_is_none: ClassVar[tuple[str, ...]] = ("easting", "northing")

    @model_validator(mode="after")
    def _both_coordinates(self) -> PlaceColumns:
        check_coordinate_pair(self.easting, self.northing, "Easting", "Northing")
        return self

    def location(self) -> BngPoint | PostcodeLocation | None:
        """The grid point when given (the finer), else the postcode, else nothing."""
        if self.easting is not None and self.northing is not None:
            return BngPoint(easting=self.easting, northing=self.northing)
        return PostcodeLocation(postcode=self.postcode) if self.postcode else None


def age_band_at(born: date | None, on: date, column: str) -> str | None:
    """The age band of someone born on `born` at `on` (None without a date); a RowValueError naming `column`."""
    if born is None:
        return None
    try:
        return age_band(born, on)
    except ValueError as exc:
        raise RowValueError(column, str(exc)) from None


def person_pseudonym(ctx: SourceContext, field: str, surname: str, forename: str, born: date) -> str:
    """The keyed pseudonym of a person (surname, forename, date of birth) for the linkage attribute `field`."""
    return ctx.pseudonymise(field, person_identifier(surname, forename, born))
