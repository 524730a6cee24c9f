"""Uploaded images and the stored files of their sizes (original, zoom, page, gallery)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contest.extensions import db
from contest.models.types import UTCDateTime, utcnow

RENDITIONS = ("original", "zoom", "page", "gallery")


class Image(db.Model):
    """One uploaded picture, re-encoded by contest.images; its files are its renditions."""

    __tablename__ = "image"

    id: Mapped[int] = mapped_column(primary_key=True)
    format: Mapped[str] = mapped_column(String(8))  # of the upload, detected from its content
    width: Mapped[int]
    height: Mapped[int]
    byte_size: Mapped[int]  # of the upload
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    dhash: Mapped[str] = mapped_column(String(16), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    files: Mapped[list[ImageFile]] = relationship(back_populates="image", cascade="all, delete-orphan",
                                                  lazy="selectin")

    def size_of(self, name: str) -> tuple[int, int]:
        from contest.images import rendition_size

        return rendition_size((self.width, self.height), name)

    @property
    def aspect(self) -> float:
        return self.width / self.height if self.height else 1.0


class ImageFile(db.Model):
    """Where one rendition of an image is stored: the backend is recorded so files resolve after it changes."""

    __tablename__ = "image_file"

    image_id: Mapped[int] = mapped_column(ForeignKey("image.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(12), primary_key=True)  # one of RENDITIONS
    backend: Mapped[str] = mapped_column(String(12))
    key: Mapped[str] = mapped_column(String(255), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    byte_size: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]

    image: Mapped[Image] = relationship(back_populates="files")
