"""Accounts, the demo population registry, OTP challenges and the refresh-token ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jaki.auth import nik as nik_mod
from jaki.auth.crypto import cipher, nik_index
from jaki.db import Base, TimestampMixin, new_uuid, utcnow

# command_center watches the city's numbers (jaki.stats, the /command-center page) and changes nothing.
COMMAND_CENTER = "command_center"
# validator: validates resolved reports in their areas before citizens see them done (issue 15), nothing else.
ROLES = ("citizen", "officer", "agency_admin", "admin", COMMAND_CENTER, "validator")
STAFF_ROLES = ("officer", "agency_admin", "admin", COMMAND_CENTER, "validator")


class EncryptedNik:
    """A NIK held as AES-GCM ciphertext (nik_encrypted) and found by its HMAC blind index (nik_index)."""

    nik_encrypted: Mapped[str]
    nik_index: Mapped[str]

    @property
    def nik(self) -> str:
        return cipher().decrypt(self.nik_encrypted, "nik")

    @nik.setter
    def nik(self, value: str) -> None:
        self.nik_encrypted = cipher().encrypt(value, "nik")
        self.nik_index = nik_index(value)


class User(EncryptedNik, TimestampMixin, Base):
    __answer_owner__ = "id"  # a change drops this person's kept answers (jaki.caching)
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    role: Mapped[str] = mapped_column(String(20), default="citizen", index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | active | disabled
    nik_index: Mapped[str] = mapped_column(String(64), unique=True)
    nik_encrypted: Mapped[str] = mapped_column(String(200))
    full_name: Mapped[str] = mapped_column(String(150))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    phone_encrypted: Mapped[str] = mapped_column(String(200))
    phone_verified_at: Mapped[datetime | None]
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(200))
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Where the person lives now (from Dukcapil's address), never inferred from the NIK's prefix.
    home_kelurahan_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    kk_index: Mapped[str | None] = mapped_column(String(64), index=True)  # household (Kartu Keluarga)
    agency_code: Mapped[str | None] = mapped_column(ForeignKey("agencies.code"), index=True)

    areas: Mapped[list[StaffArea]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def nik_masked(self) -> str:
        return nik_mod.mask(self.nik)

    @property
    def phone(self) -> str:
        return cipher().decrypt(self.phone_encrypted, "phone")

    @phone.setter
    def phone(self, value: str) -> None:
        self.phone_encrypted = cipher().encrypt(value, "phone")

    @property
    def phone_masked(self) -> str:
        phone = self.phone
        return phone[:4] + "*" * max(len(phone) - 7, 0) + phone[-3:]

    @property
    def area_codes(self) -> list[str]:
        return sorted(a.area_code for a in self.areas)

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"

    @property
    def tokens_valid_from(self) -> int:
        """Tokens issued before this instant (a password change) are dead (tokens.checked_user)."""
        return int(self.password_changed_at.timestamp()) if self.password_changed_at else 0


class StaffArea(Base):
    """An officer's working areas (kota, kecamatan or kelurahan codes; a kota covers all below it)."""

    __answer_owner__ = "user_id"  # a change drops this person's kept answers (jaki.caching)

    __tablename__ = "staff_areas"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    area_code: Mapped[str] = mapped_column(String(20), primary_key=True)


class Resident(EncryptedNik, TimestampMixin, Base):
    """The population registry as the embedded default knows it (demo stand-in for Dukcapil)."""

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(primary_key=True)
    nik_index: Mapped[str] = mapped_column(String(64), unique=True)
    nik_encrypted: Mapped[str] = mapped_column(String(200))
    full_name: Mapped[str] = mapped_column(String(150))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    kk_index: Mapped[str] = mapped_column(String(64), index=True)
    kk_encrypted: Mapped[str] = mapped_column(String(200))
    family_relation: Mapped[str] = mapped_column(String(30))  # kepala_keluarga | istri | suami | anak | ...
    address: Mapped[str] = mapped_column(String(300))
    kelurahan_code: Mapped[str | None] = mapped_column(String(20))

    @property
    def kk_number(self) -> str:
        return cipher().decrypt(self.kk_encrypted, "kk")

    @kk_number.setter
    def kk_number(self, value: str) -> None:
        self.kk_encrypted = cipher().encrypt(value, "kk")
        self.kk_index = cipher().blind_index(value, "kk")


@dataclass(frozen=True)
class Person:
    """What the population registry answers about one NIK: a Resident row here, or Dukcapil's answer over HTTP."""

    full_name: str
    birth_date: date
    sex: str
    kk_index: str
    family_relation: str
    kelurahan_code: str | None
    address: str


class OtpChallenge(Base):
    __tablename__ = "otp_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(30))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[datetime | None]


class RefreshToken(Base):
    """Every refresh token issued: rotation marks the old one used; reuse of a used one burns the family."""

    __tablename__ = "refresh_tokens"

    jti: Mapped[str] = mapped_column(String(36), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class RevokedToken(Base):
    """Revocation list for the embedded default (Redis keys with a TTL in production)."""

    __tablename__ = "revoked_tokens"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80))  # "jti:<id>" or "fam:<id>"
    expires_at: Mapped[datetime] = mapped_column(index=True)


class LoginThrottle(Base):
    """Failed-login counter per NIK (by blind index), kept whether or not an account exists for it,
    so that lockout cannot be used to learn which NIKs have accounts."""

    __tablename__ = "login_throttles"

    nik_index: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]


class RecordedMessage(Base):
    """What the embedded default's SMS and push senders "sent": a developer reads OTPs and pushes here."""

    __tablename__ = "recorded_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), index=True)  # sms | push
    recipient: Mapped[str] = mapped_column(String(200), index=True)  # phone (encrypted) or push target
    body: Mapped[str] = mapped_column(String(4000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
