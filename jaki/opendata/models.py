"""Published open-data files, built by a periodic task and served as they were built."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from jaki.db import Base


class OpenDataFile(Base):
    """One published file (reports.csv, reports.json, reports.geojson, catalog.json) and when it was built."""

    __tablename__ = "open_data_files"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    etag: Mapped[str] = mapped_column(String(64))
    generated_at: Mapped[datetime]
