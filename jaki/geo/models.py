"""Area rows (province, kota/kabupaten, kecamatan, kelurahan) and the outlines of the regions around Jakarta."""

from __future__ import annotations

from sqlalchemy import Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from jaki.db import Base, TimestampMixin

LEVELS = ("provinsi", "kota", "kabupaten", "kecamatan", "kelurahan")


class Area(TimestampMixin, Base):
    __tablename__ = "areas"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)  # dotted Kemendagri: 31.74.05.1001
    level: Mapped[str] = mapped_column(String(12), index=True)
    name: Mapped[str] = mapped_column(String(120))
    parent_code: Mapped[str | None] = mapped_column(String(20), index=True)
    bps_code: Mapped[str | None] = mapped_column(String(20))
    geometry: Mapped[str | None] = mapped_column(Text)  # GeoJSON geometry, kelurahan only
    # The map's simplified GeoJSON geometry (kelurahan, kecamatan, kota), derived by jaki.geo.outlines.
    outline: Mapped[str | None] = mapped_column(Text)
    min_lat: Mapped[float | None] = mapped_column(Float)
    min_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)

    @property
    def bbox(self) -> list[float] | None:
        """[min_lon, min_lat, max_lon, max_lat], the order of GeoJSON's bbox."""
        box = (self.min_lon, self.min_lat, self.max_lon, self.max_lat)
        return None if None in box else [round(v, 6) for v in box]  # 6 decimals: 0.1 m


class NeighbourRegion(TimestampMixin, Base):
    """A kota/kabupaten around Jakarta, by its (coarse) outline: says whose land a point outside Jakarta is on."""

    __tablename__ = "neighbour_regions"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)  # Kemendagri: 36.71 Kota Tangerang
    name: Mapped[str] = mapped_column(String(120))
    province_code: Mapped[str] = mapped_column(String(2))
    geometry: Mapped[str] = mapped_column(Text)  # GeoJSON Polygon or MultiPolygon
    min_lat: Mapped[float] = mapped_column(Float)
    min_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
