"""What a programme's evidence looks like to one viewer: rating, studies, pooled results.

:func:`programme_evidence` gathers everything the programme page's "How strong is the
evidence" section and ``GET /api/v1/programmes/{id}/evidence`` show, in four queries: the
current rating, the published evaluations with their outcomes (two) and the registry
ratings.

Hidden studies: the rating is computed from ALL published evidence, including studies
visible to members only. When a visitor may not see such a study, the reasons that rest on
it say "a study visible to members" instead of its title and give no link to it, and the
list of studies, the pooled results and the forest plots leave it out (``hidden_count``
says how many were left out). The rating itself is shown unchanged: hiding a study must not
change what the network says about a programme.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from babel import Locale
from markupsafe import Markup
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.evidence import content, effects, forest, pooling, ratings
from app.evidence import deps as evidence_deps
from app.evidence import permissions as evidence_permissions
from app.evidence import rating as rules
from app.evidence.models import Evaluation, Outcome, ProgrammeRating, RegistryRating
from app.kit.i18n import N_, _, get_locale
from app.members import permissions as member_permissions
from app.members.models import Member
from app.programmes.models import Programme

HIDDEN_STUDY = N_("a study visible to members")
POOLING_METHOD = N_("random-effects (DerSimonian–Laird)")  # noqa: RUF001
RATIO_NOTE = N_(
    "Ratios are pooled on the log scale; the estimate and its confidence interval are "
    "shown back on the ratio scale."
)
DIRECTION_LABELS: dict[str, str] = {
    "favourable": N_("Favourable"),
    "harmful": N_("Harmful"),
    "unclear": N_("Unclear"),
}

RULE_LABELS: dict[str, str] = {
    "harmful_rigorous": N_("A rigorous study found a harmful effect."),
    "effective_two_rigorous": N_(
        "Two rigorous studies found a favourable effect, one with a follow-up of 12 months or "
        "more, and a manual is available."
    ),
    "effective_review": N_("A systematic review with low risk of bias finds it effective."),
    "promising_rigorous": N_("A rigorous study found a favourable effect."),
    "no_effect_rigorous": N_("Rigorous studies found no clear effect."),
    "prudent_non_rigorous": N_("Studies that are not rigorous point to benefit."),
    "pioneering": N_("The programme has been evaluated, but no other rule applies."),
    "not_rated": N_("No evaluation has been published yet."),
}
# The badge colour of each level (classes of portal.css).
LEVEL_BADGES: dict[str, str] = {
    "effective": "badge--success",
    "promising": "badge--success",
    "prudent": "badge--accent",
    "pioneering": "badge--accent",
    "no_effect": "badge--neutral",
    "not_rated": "badge--neutral",
    "possibly_harmful": "badge--danger",
}


def rule_label(rule: str) -> str:
    return _(RULE_LABELS[rule]) if rule in RULE_LABELS else rule


def direction_label(code: str | None) -> str:
    return _(DIRECTION_LABELS[code]) if code in DIRECTION_LABELS else ""


@dataclass(frozen=True)
class ReasonView:
    """One reason of the rating in the current language.

    ``evaluation_ids`` are the studies it rests on that the viewer may open (links);
    ``mentions_hidden`` says that it also rests on a study the viewer cannot see.
    """

    text: str
    evaluation_ids: list[int]
    mentions_hidden: bool = False
    # (evaluation id, "Authors year") of each study in ``evaluation_ids``, for links.
    links: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class RatingView:
    """The current rating of a programme, ready to show."""

    id: int
    level: str
    label: str
    description: str
    rule: str
    rule_label: str
    reasons: list[ReasonView]
    raise_by: list[str]
    overridden: bool
    justification: str | None
    computed_level: str
    computed_label: str
    computed_description: str
    reviewed_on: date
    due_for_review: bool
    # The studies the rating rests on (all of them, visible or not).
    evaluation_ids: list[int]

    @property
    def badge(self) -> str:
        return LEVEL_BADGES.get(self.level, "badge--neutral")

    @property
    def computed_badge(self) -> str:
        return LEVEL_BADGES.get(self.computed_level, "badge--neutral")


@dataclass(frozen=True)
class OutcomeView:
    outcome: Outcome
    kind_label: str
    measure_label: str
    estimate_text: str
    ci_text: str
    direction: str
    direction_label: str


@dataclass(frozen=True)
class StudyView:
    """A published evaluation the viewer may see, with its labelled outcomes."""

    evaluation: Evaluation
    short_citation: str
    citation: str
    design_label: str
    risk_of_bias_label: str
    country_label: str
    outcomes: list[OutcomeView]

    @property
    def id(self) -> int:
        return self.evaluation.id


@dataclass(frozen=True)
class PooledGroup:
    """Outcomes of one kind and measure from two or more visible studies, pooled."""

    kind: str
    kind_label: str
    measure: str
    measure_label: str
    lower_is_better: bool
    is_ratio: bool
    studies: list[pooling.StudyEffect]
    pooled: pooling.Pooled
    summary: str
    method: str
    svg: Markup
    rows: list[forest.ForestRow]
    # A unique, safe id for the group's heading and plot on the page.
    anchor: str

    @property
    def heading(self) -> str:
        return _("%(kind)s: %(measure)s", kind=self.kind_label, measure=self.measure_label)

    @property
    def ratio_note(self) -> str:
        return _(RATIO_NOTE) if self.is_ratio else ""

    @staticmethod
    def direction_label(code: str | None) -> str:
        return direction_label(code)


@dataclass(frozen=True)
class ProgrammeEvidence:
    programme_id: int
    rating: RatingView | None
    # The published evaluations the viewer may see, newest first, outcomes loaded.
    evaluations: list[Evaluation]
    studies: list[StudyView]
    pooled_groups: list[PooledGroup]
    registry_ratings: list[RegistryRating]
    # Published evaluations the viewer may not see (they count towards the rating).
    hidden_count: int = 0
    # Whether the viewer coordinates one of the programme's countries (or the network):
    # may override or confirm the rating and record other registries' ratings.
    can_manage: bool = False
    # Whether the viewer may add an evaluation (members in good standing).
    can_add_evaluation: bool = False

    @property
    def is_rated(self) -> bool:
        return self.rating is not None and self.rating.level != "not_rated"

    @property
    def has_evidence(self) -> bool:
        return bool(self.evaluations) or self.hidden_count > 0


# -- labels -------------------------------------------------------------------------------


def _family_name(author: str) -> str:
    author = " ".join(author.split())
    if "," in author:
        return author.split(",", 1)[0].strip()
    parts = author.split(" ")
    return parts[-1] if parts else author


def short_authors(authors: list[str]) -> str:
    """Short author names (Smith; Smith & Jones; Smith et al.) from "Family, Given" entries."""
    names = [_family_name(author) for author in authors if author.strip()]
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return _("%(first)s & %(second)s", first=names[0], second=names[1])
    return _("%(first)s et al.", first=names[0])


def short_citation(evaluation: Evaluation) -> str:
    """Short authors and year, as in Smith et al. 2021 (the title when no author is known)."""
    who = short_authors(list(evaluation.authors or [])) or evaluation.title
    return f"{who} {evaluation.year}"


def citation_line(evaluation: Evaluation) -> str:
    """Authors (year). Title. Venue."""
    authors = "; ".join(author for author in (evaluation.authors or []) if author.strip())
    parts = [f"{authors} ({evaluation.year})." if authors else f"({evaluation.year})."]
    title = evaluation.title.strip()
    parts.append(title if title.endswith((".", "?", "!")) else title + ".")
    if evaluation.venue:
        venue = evaluation.venue.strip()
        parts.append(venue if venue.endswith(".") else venue + ".")
    return " ".join(parts)


def country_label(code: str | None) -> str:
    if not code:
        return ""
    territories = Locale.parse(get_locale()).territories
    return str(territories.get(code, code))


def level_label(level: str) -> str:
    return _(rules.LEVEL_LABELS[level]) if level in rules.LEVEL_LABELS else level


def level_description(level: str) -> str:
    return _(rules.LEVEL_DESCRIPTIONS[level]) if level in rules.LEVEL_DESCRIPTIONS else ""


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


# -- the rating ---------------------------------------------------------------------------


def reason_view(data: dict[str, object], visible: dict[int, str]) -> ReasonView:
    """A stored reason in the current language, hiding studies the viewer cannot see.

    ``visible`` maps the ids of the studies the viewer may see to their short citations.
    """
    reason = rules.Reason.from_dict(dict(data))
    shown = [eid for eid in reason.evaluation_ids if eid in visible]
    hidden = len(shown) < len(reason.evaluation_ids)
    if hidden and "study" in reason.params:
        params = {**reason.params, "study": _(HIDDEN_STUDY)}
        text = _capitalised(_(reason.message, **params))
    else:
        text = reason.text
    return ReasonView(
        text=text,
        evaluation_ids=shown,
        mentions_hidden=hidden,
        links=[(eid, visible[eid]) for eid in shown],
    )


def rating_view(
    row: ProgrammeRating, visible: dict[int, str], today: date | None = None
) -> RatingView:
    today = today or date.today()
    return RatingView(
        id=row.id,
        level=row.level,
        label=level_label(row.level),
        description=level_description(row.level),
        rule=row.rule,
        rule_label=rule_label(row.rule),
        reasons=[reason_view(reason, visible) for reason in row.reasons or []],
        raise_by=[_(message) for message in row.raise_by or []],
        overridden=row.overridden,
        justification=row.override_justification,
        computed_level=row.computed_level,
        computed_label=level_label(row.computed_level),
        computed_description=level_description(row.computed_level),
        reviewed_on=row.reviewed_on,
        due_for_review=rules.needs_rereview(row.reviewed_on, today),
        evaluation_ids=list(row.evaluation_ids or []),
    )


# -- studies and pooling --------------------------------------------------------------------


def outcome_view(outcome: Outcome) -> OutcomeView:
    direction = effects.direction(
        outcome.measure, outcome.ci_low, outcome.ci_high, outcome.lower_is_better
    )
    return OutcomeView(
        outcome=outcome,
        kind_label=content.label(content.OUTCOME_KIND_LABELS, outcome.kind),
        measure_label=content.label(content.MEASURE_LABELS, outcome.measure),
        estimate_text=effects.format_value(outcome.estimate, 2),
        ci_text=_(
            forest.CI_RANGE,
            low=effects.format_value(outcome.ci_low, 2),
            high=effects.format_value(outcome.ci_high, 2),
        ),
        direction=direction,
        direction_label=direction_label(direction),
    )


def study_view(evaluation: Evaluation) -> StudyView:
    return StudyView(
        evaluation=evaluation,
        short_citation=short_citation(evaluation),
        citation=citation_line(evaluation),
        design_label=content.label(content.DESIGN_LABELS, evaluation.design),
        risk_of_bias_label=content.label(content.RISK_OF_BIAS_LABELS, evaluation.risk_of_bias),
        country_label=country_label(evaluation.country),
        outcomes=[outcome_view(outcome) for outcome in evaluation.outcomes],
    )


def pooled_groups(programme_id: int, evaluations: list[Evaluation]) -> list[PooledGroup]:
    """One pooled group per (kind, measure) with two or more effects among ``evaluations``.

    Studies are plotted oldest first; each is labelled "Authors year: outcome".
    """
    by_id = {evaluation.id: evaluation for evaluation in evaluations}
    ordered = sorted(evaluations, key=lambda evaluation: (evaluation.year, evaluation.id))
    outcomes = [outcome for evaluation in ordered for outcome in evaluation.outcomes]
    groups: list[PooledGroup] = []
    for (kind, measure), members in pooling.poolable_groups(outcomes).items():
        studies = [
            pooling.study_effect(
                outcome,
                f"{short_citation(by_id[outcome.evaluation_id])}: {outcome.name}",
                ref=outcome.evaluation_id,
            )
            for outcome in members
        ]
        pooled = pooling.pool(studies)
        if pooled is None:  # pragma: no cover - poolable groups have two or more
            continue
        lower_is_better = members[0].lower_is_better
        anchor = re.sub(r"[^a-z0-9-]", "-", f"pooled-{programme_id}-{kind}-{measure}".lower())
        kind_label = content.label(content.OUTCOME_KIND_LABELS, kind)
        measure_label = content.label(content.MEASURE_LABELS, measure)
        groups.append(
            PooledGroup(
                kind=kind,
                kind_label=kind_label,
                measure=measure,
                measure_label=measure_label,
                lower_is_better=lower_is_better,
                is_ratio=effects.is_ratio(measure),
                studies=studies,
                pooled=pooled,
                summary=forest.pooled_summary(pooled),
                method=_(POOLING_METHOD),
                svg=forest.forest_plot_svg(
                    studies,
                    pooled,
                    measure,
                    lower_is_better=lower_is_better,
                    title=_(
                        "Forest plot: %(kind)s, %(measure)s",
                        kind=kind_label,
                        measure=measure_label,
                    ),
                    id_prefix=anchor + "-plot",
                ),
                rows=forest.forest_table_rows(studies, pooled, measure, lower_is_better),
                anchor=anchor,
            )
        )
    return groups


# -- the whole section ------------------------------------------------------------------------


def registry_ratings(session: Session, programme_id: int) -> list[RegistryRating]:
    """Other registries' ratings of a programme, the most recent year first."""
    return list(
        session.scalars(
            select(RegistryRating)
            .where(RegistryRating.programme_id == programme_id)
            .order_by(
                RegistryRating.year.is_(None),
                RegistryRating.year.desc(),
                RegistryRating.id.desc(),
            )
        )
    )


def programme_countries(session: Session, programme: Programme) -> set[str]:
    """The programme's listed countries, from its loaded terms if they are loaded."""
    if "terms" not in inspect(programme).unloaded:
        return set(programme.codes("countries"))
    return evidence_deps.programme_countries(session, programme)


def can_manage(session: Session, viewer: Member | None, programme: Programme) -> bool:
    """Whether ``viewer`` coordinates the programme (override, confirm, registry ratings).

    Costs no query for anyone but coordinators.
    """
    if not member_permissions.is_coordinator(viewer) or viewer is None:
        return False
    if "coordinator_countries" in inspect(viewer).unloaded:
        session.refresh(viewer, ["coordinator_countries"])
    return evidence_permissions.can_override_rating(viewer, programme_countries(session, programme))


def programme_evidence(
    session: Session,
    viewer: Member | None,
    programme: Programme,
    *,
    today: date | None = None,
) -> ProgrammeEvidence:
    """Everything the viewer may see of a programme's evidence (four queries; up to two
    more for a coordinator whose countries or the programme's terms are not loaded yet).

    The caller has checked that the viewer may see the programme.
    """
    row = ratings.current(session, programme.id)
    published = ratings.evidence_of(session, programme.id)
    visible = [
        evaluation
        for evaluation in published
        if evidence_permissions.can_see_listed(viewer, evaluation)
    ]
    citations = {evaluation.id: short_citation(evaluation) for evaluation in visible}
    return ProgrammeEvidence(
        programme_id=programme.id,
        rating=rating_view(row, citations, today) if row is not None else None,
        evaluations=visible,
        studies=[study_view(evaluation) for evaluation in visible],
        pooled_groups=pooled_groups(programme.id, visible),
        registry_ratings=registry_ratings(session, programme.id),
        hidden_count=len(published) - len(visible),
        can_manage=can_manage(session, viewer, programme),
        can_add_evaluation=evidence_permissions.can_create(viewer),
    )
