"""Bulk actions in two steps, the one path for the API and the pages: the dry run confirms a set, the run
acts on exactly that set.

A dry run returns how many entries (or queued jobs) the action would change, a sample of them and a
token naming their exact ids (kept an hour). The run takes that token and acts on those ids only: an
entry gone meanwhile is skipped and counted, and entries that match the filter now but were not in the
dry run are left alone and counted as "new since your dry run". A run without a token is refused: it
would act on whatever matches by then. The token is bound to its Resque, its action and the actor who
made it. A run that stops (Redis gone) says how far it got; the same token resumes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ..resque.confirmed_runs import KIND_FAILED, KIND_QUEUED, describe_failed
from ..resque.datastore import DataStore
from ..resque.mutations import (
    ConfirmedSet,
    ConfirmedSetBusy,
    FailedAction,
    FailedEntry,
    FailedFilter,
    Progress,
    QueuedJob,
    RunStep,
    is_element_id,
)
from .audit import Action
from .auth import Principal
from .errors import Invalid, Refused, Stale, Unavailable
from .service import RemediationService, check_filter, filter_details

BULK_ACTIONS: dict[FailedAction, Action] = {
    "retry": "bulk_retry",
    "retry_and_remove": "bulk_retry_and_remove",
    "remove": "bulk_remove",
}
T = TypeVar("T")


@dataclass
class BulkOutcome(Generic[T]):
    """A dry run's or a run's result. Dry run: ``changed`` would change, with its ``token`` and a ``sample``.
    Run: ``changed`` in this request (a resumed run: since it resumed), ``new`` matches left alone, and the
    set's ``progress`` over every request that ran it."""

    changed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    token: str | None = None
    expires_at: float | None = None
    sample: tuple[T, ...] = ()
    new: int | None = None
    progress: Progress | None = None
    confirmed: ConfirmedSet | None = None
    already_run: bool = False  # the token's run had finished before: nothing was done now


def run_first_message(what: str) -> str:
    return (
        f'a bulk {what} acts only on what its dry run showed: send this request with "dry_run": true first, '
        'then again with "dry_run": false and the dry run\'s `token`'
    )


class BulkActions:
    """Two-step bulk actions on the service's Resques, audited like every action."""

    def __init__(self, service: RemediationService) -> None:
        self.service = service

    # -- failure entries -----------------------------------------------------------------------------------
    def failed(
        self,
        principal: Principal,
        resque: str,
        action: FailedAction,
        flt: FailedFilter | None,
        *,
        dry_run: bool,
        token: str | None = None,
        force: bool = False,
        limit: int | None = None,
    ) -> BulkOutcome[FailedEntry]:
        """The dry run (``flt`` required) or the run of ``token``'s set (``flt``, if given, must be the dry run's)."""
        audit_action = BULK_ACTIONS[action]
        details: dict[str, Any] = {"filter": filter_details(flt) if flt else None, "dry_run": dry_run,
                                   "force": force or None, "limit": limit, "token": token}  # fmt: skip
        with self.service.guarded(principal, resque, audit_action, (), **details) as handle:
            if dry_run:
                if flt is None:
                    raise Invalid("a dry run needs a filter (`{}` selects every entry)")
                if token is not None:
                    raise Invalid("a dry run makes a token; it takes none")
                check_filter(flt)
                with self.service.reading(handle.name) as store:
                    dry = store.dry_run_failed(
                        action, flt, actor=principal.name, resque=resque, force=force, limit=limit
                    )
                outcome = BulkOutcome(dry.ids, dry.skipped, dry.confirmed.token, dry.confirmed.expires_at,
                                      dry.sample, confirmed=dry.confirmed)  # fmt: skip
                self.service.audited(principal, resque, audit_action, "dry_run", outcome.changed,
                                     skipped=len(outcome.skipped), **{**details, "token": outcome.token})  # fmt: skip
                return outcome
            if token is None:
                raise Refused(run_first_message("run"), dry_run_first=True)
            with self.service.reading(handle.name) as store:
                confirmed = self._confirmed(store, token, KIND_FAILED, resque, action, principal)
            if flt is not None and describe_failed(flt, force=False, limit=None) != _filter_part(confirmed.filter):
                raise Refused(
                    "the filter differs from the one the dry run of this token used; "
                    "send the dry run's filter, or none",
                    dry_run_filter=_filter_part(confirmed.filter),
                )
            outcome = self._run(handle.name, confirmed, lambda store: store.run_failed(confirmed))
            self.service.audited(
                principal, resque, audit_action, "ok", outcome.changed, skipped=len(outcome.skipped),
                new=outcome.new, already_run=outcome.already_run or None, **{**details, "filter": confirmed.filter},
            )  # fmt: skip
            return outcome

    # -- queued jobs ---------------------------------------------------------------------------------------
    def queued(
        self,
        principal: Principal,
        resque: str,
        queue: str,
        *,
        ids: Sequence[str] = (),
        job_class: str | None = None,
        dry_run: bool,
        token: str | None = None,
    ) -> BulkOutcome[QueuedJob]:
        """Remove exact jobs by id (every copy; the ids are the confirmation), or every job of a class in two
        steps: the dry run (``job_class``) confirms a set, the run (``token``) removes exactly those jobs."""
        details: dict[str, Any] = {"queue": queue, "class": job_class, "dry_run": dry_run, "token": token}
        with self.service.guarded(principal, resque, "remove_queued", list(ids), **details) as handle:
            if ids:
                if job_class is not None or token is not None:
                    raise Invalid("give `ids`, or `class` (and the dry run's `token` to run it), not both")
                bad = [i for i in ids if not is_element_id(i)]
                if bad:
                    raise Invalid(f"not job ids (32 lowercase hex characters): {', '.join(repr(b) for b in bad[:5])}")
                with self.service.reading(handle.name) as store:
                    removal = store.remove_queued(queue, ids=ids, dry_run=dry_run)
                outcome = BulkOutcome[QueuedJob](removal.removed, [(i, "gone") for i in removal.missing])
            elif dry_run:
                if job_class is None or token is not None:
                    raise Invalid("a dry run needs `class` (or `ids`) and takes no token")
                with self.service.reading(handle.name) as store:
                    dry = store.dry_run_queued(queue, job_class, actor=principal.name, resque=resque)
                outcome = BulkOutcome(dry.ids, [], dry.confirmed.token, dry.confirmed.expires_at, dry.sample,
                                      confirmed=dry.confirmed)  # fmt: skip
            else:
                if token is None:
                    if job_class is None:
                        raise Invalid("give either `ids` or `class`, not both and not neither")
                    raise Refused(run_first_message("removal by class"), dry_run_first=True)
                with self.service.reading(handle.name) as store:
                    confirmed = self._confirmed(store, token, KIND_QUEUED, resque, "remove", principal)
                shown = {"queue": queue, "class": job_class or confirmed.filter["class"]}
                if shown != confirmed.filter:
                    raise Refused("the queue or class differs from the dry run of this token", dry_run=confirmed.filter)
                outcome = self._run(handle.name, confirmed, lambda store: store.run_queued(confirmed))
            missing = [i for i, _ in outcome.skipped]
            self.service.audited(
                principal, resque, "remove_queued", "dry_run" if dry_run else "ok", outcome.changed,
                missing=missing or None, new=outcome.new, **{**details, "token": outcome.token or token},
            )  # fmt: skip
            return outcome

    # -- shared ----------------------------------------------------------------------------------------------
    def _confirmed(
        self, store: DataStore, token: str, kind: str, resque: str, action: str, principal: Principal
    ) -> ConfirmedSet:
        """The set of ``token``, if it is one this caller made for this Resque and action."""
        confirmed = store.confirmed_sets().get(token)
        if confirmed is None:
            raise Stale(
                f"no dry run with token {token[:32]!r} in Resque {resque!r}: it expired (a dry run is kept an hour) "
                "or never existed; do the dry run again"
            )
        mine = (confirmed.kind, confirmed.resque, confirmed.action, confirmed.actor)
        if mine != (kind, resque, action, principal.name):
            raise Refused(
                f"this token confirms {confirmed.actor!r}'s dry run of {confirmed.kind} {confirmed.action} in "
                f"Resque {confirmed.resque!r}; a run takes a token from your own dry run of the same action",
                token_kind=confirmed.kind, token_action=confirmed.action,
            )  # fmt: skip
        return confirmed

    def _run(
        self, resque: str, confirmed: ConfirmedSet, steps: Callable[[DataStore], Iterator[RunStep]]
    ) -> BulkOutcome[T]:
        """Run a set's steps; a finished set is not run again (its result stands), a stopped one resumes."""
        outcome = BulkOutcome[T](token=confirmed.token, confirmed=confirmed)
        if confirmed.progress.state == "finished":
            outcome.already_run, outcome.new, outcome.progress = True, confirmed.progress.new, confirmed.progress
            return outcome
        new = 0
        try:
            with self.service.reading(resque) as store:
                for step in steps(store):
                    outcome.changed += step.changed
                    outcome.skipped += step.skipped
                    new += step.new
                after = store.confirmed_sets().get(confirmed.token)
        except ConfirmedSetBusy:
            raise Refused(
                "another request is running this dry run's set right now; wait for it (its result is the set's)"
            ) from None
        except Unavailable as exc:
            done = confirmed.progress.done + len(outcome.changed)
            stopped = Unavailable(
                f"{exc.message}. The run stopped after {len(outcome.changed):,} changes in this request "
                f"({done:,} of {confirmed.progress.total:,} in all); send the same request again with the same "
                "token to resume it",
                token=confirmed.token, done=done, total=confirmed.progress.total,
            )  # fmt: skip
            stopped.reason = exc.reason
            raise stopped from None
        outcome.new = new
        outcome.progress = after.progress if after is not None else None
        return outcome


def _filter_part(description: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in description.items() if k not in ("force", "limit")}, "force": False, "limit": None}
