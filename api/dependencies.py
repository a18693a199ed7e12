"""FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from deploy.protocol_files import configured_register
from sharing_protocols.decision import ProtocolRegister
from warehouse.db import get_engine


def get_session() -> Iterator[Session]:
    with Session(get_engine()) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
RegisterDep = Annotated[ProtocolRegister, Depends(configured_register)]
