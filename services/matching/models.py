"""The matching service's own tables. It reads the register's tables and writes only these.

- `scoring_policies`: versioned weights (a new version is a new row; runs cite the version).
- `match_runs`: one national (or scoped) run; at most one runs at a time across every
  process (a PostgreSQL advisory lock while it runs, and a unique index on the running row).
- `match_proposals`: per unit, the proposed household (or none), its explained score and a
  ranked shortlist; written in the same transaction that marks the run succeeded.
- `declined_pairs`: a family finder's "no" to a pairing; later runs never propose it.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.core.database import Base, TextEnum
from services.matching.vocabulary import ProposalStatus, RunStatus


class ScoringPolicyVersion(Base):
    __tablename__ = "scoring_policies"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB)
    note: Mapped[str] = mapped_column(Text, server_default="")
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MatchRun(Base):
    __tablename__ = "match_runs"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'succeeded', 'failed')", name="status_known"),
        Index("uq_match_runs_one_running", text("(true)"), unique=True, postgresql_where=text("status = 'running'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    ref: Mapped[str] = mapped_column(Text, unique=True)
    status: Mapped[RunStatus] = mapped_column(TextEnum(RunStatus))
    requested_by: Mapped[str] = mapped_column(Text)
    scope: Mapped[dict[str, Any]] = mapped_column(JSONB)  # regions, agency refs
    lexicographic: Mapped[bool] = mapped_column(Boolean)
    policy_version: Mapped[int | None] = mapped_column(ForeignKey("scoring_policies.version"))
    policy_settings: Mapped[dict[str, Any]] = mapped_column(JSONB)  # as used (what-if runs included)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")  # counts and a hash
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    timings: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    error: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MatchProposal(Base):
    __tablename__ = "match_proposals"
    __table_args__ = (
        CheckConstraint("status IN ('proposed', 'accepted', 'declined', 'unmatched')", name="status_known"),
        Index("ix_match_proposals_run_group", "run_id", "sibling_group_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    ref: Mapped[str] = mapped_column(Text, unique=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("match_runs.id"))
    sibling_group_id: Mapped[int] = mapped_column(ForeignKey("sibling_groups.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    components: Mapped[dict[str, int]] = mapped_column(JSONB)
    shortlist: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    status: Mapped[ProposalStatus] = mapped_column(TextEnum(ProposalStatus))
    decided_by: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, server_default="")
    no_eligible_household: Mapped[dict[str, int] | None] = mapped_column(JSONB)
    not_top: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class DeclinedPair(Base):
    __tablename__ = "declined_pairs"
    __table_args__ = (Index("uq_declined_pairs_pair", "sibling_group_id", "household_id", unique=True),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    sibling_group_id: Mapped[int] = mapped_column(ForeignKey("sibling_groups.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("match_proposals.id"))
    reason: Mapped[str] = mapped_column(Text)
    declined_by: Mapped[str] = mapped_column(Text)
    declined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MatchingPoolChange(Base):
    """A transaction that changed what live candidates read (households, links, declined
    pairs, interests): written by a statement trigger, once per transaction (migration
    0013). See services/matching/live_pool.py."""

    __tablename__ = "matching_pool_changes"

    xid: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False, server_default=text("pg_current_xact_id()::text::bigint")
    )
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
