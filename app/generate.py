"""A deterministic synthetic data set for load tests (``portal generate``).

Builds members with organisations, published programmes (every vocabulary code used, about
15% members-only, text composed in seven languages, some with translations), published
evaluations with outcomes (every design, risk of bias and outcome kind used) and the
programmes' ratings, straight into the tables the services fill, with bulk inserts of
``BATCH`` rows. Nothing goes through the services row by row: the shapes written here
(columns, ``programme_term`` mirror, version snapshots) follow
``app.programmes.service._mirror`` and ``app.evidence.service._mirror``.

Every row is marked ``is_demo`` where the table has that column; members get addresses at
example.org with a suffix derived from the seed and no password, so they cannot sign in.
Identifiers are assigned here (after the highest existing one; PostgreSQL sequences are
moved past them at the end), so the same seed on an empty database gives the same rows.

Refusals (:class:`GenerateRefused`): the database holds programmes or evaluations that are
not demo data (a real catalogue is never mixed with synthetic records), or data for the
same seed exists already. Otherwise the set is added beside what is there.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.orm import Session

import app.models  # noqa: F401  (every table in the metadata)
from app.db import Base
from app.evidence import rating as rules
from app.evidence.models import DESIGNS, MEASURES, OUTCOME_KINDS, RISKS_OF_BIAS
from app.vocabularies.builtin import VOCABULARIES

BATCH = 5_000
MEMBERS_ONLY_SHARE = 0.15
TRANSLATED_SHARE = 0.35
# A fixed "now", so timestamps do not depend on the day the set is generated.
ANCHOR = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)
LANGS = ("en", "de", "fr", "pt", "pl", "es", "it")
LANG_WEIGHTS = (40, 12, 12, 9, 9, 9, 9)
LANG_COUNTRIES: dict[str, tuple[str, ...]] = {
    "en": ("GB", "IE", "MT"),
    "de": ("DE", "AT", "CH"),
    "fr": ("FR", "BE", "LU"),
    "pt": ("PT",),
    "pl": ("PL",),
    "es": ("ES",),
    "it": ("IT",),
}


class GenerateRefused(Exception):
    """The database is not one to fill with synthetic data."""


class Reporter(Protocol):
    """Progress of one table at a time (the CLI draws a bar)."""

    def begin(self, label: str, total: int) -> None: ...

    def advance(self, count: int) -> None: ...

    def end(self) -> None: ...


class _Silent:
    def begin(self, label: str, total: int) -> None:
        pass

    def advance(self, count: int) -> None:
        pass

    def end(self) -> None:
        pass


@dataclass
class GenerateReport:
    organisations: int = 0
    members: int = 0
    programmes: int = 0
    evaluations: int = 0
    outcomes: int = 0
    ratings: int = 0
    levels: dict[str, int] = field(default_factory=dict)


# --- phrase banks (aligned: the same index means the same thing in every language) ---------

_TYPES: dict[str, tuple[str, ...]] = {
    "en": (
        "school workshop",
        "parenting course",
        "anonymous helpline",
        "online self-help programme",
        "group therapy programme",
        "awareness campaign",
        "peer education programme",
        "training for professionals",
    ),
    "de": (
        "Schulworkshop",
        "Elternkurs",
        "anonymes Beratungstelefon",
        "Online-Selbsthilfeprogramm",
        "Gruppentherapieprogramm",
        "Aufklärungskampagne",
        "Peer-Education-Programm",
        "Fortbildung für Fachkräfte",
    ),
    "fr": (
        "atelier scolaire",
        "formation parentale",
        "ligne d'écoute anonyme",
        "programme d'auto-assistance en ligne",
        "programme de thérapie de groupe",
        "campagne de sensibilisation",
        "programme d'éducation par les pairs",
        "formation des professionnels",
    ),
    "pt": (
        "oficina escolar",
        "curso para pais",
        "linha de apoio anónima",
        "programa de autoajuda online",
        "programa de terapia de grupo",
        "campanha de sensibilização",
        "programa de educação entre pares",
        "formação para profissionais",
    ),
    "pl": (
        "warsztaty szkolne",
        "kurs dla rodziców",
        "anonimowy telefon zaufania",
        "internetowy program samopomocy",
        "program terapii grupowej",
        "kampania społeczna",
        "program edukacji rówieśniczej",
        "szkolenie dla specjalistów",
    ),
    "es": (
        "taller escolar",
        "curso para padres",
        "línea de ayuda anónima",
        "programa de autoayuda en línea",
        "programa de terapia de grupo",
        "campaña de sensibilización",
        "programa de educación entre iguales",
        "formación para profesionales",
    ),
    "it": (
        "laboratorio scolastico",
        "corso per genitori",
        "linea di ascolto anonima",
        "programma di auto-aiuto online",
        "programma di terapia di gruppo",
        "campagna di sensibilizzazione",
        "programma di educazione tra pari",
        "formazione per professionisti",
    ),
}

_AUDIENCES: dict[str, tuple[str, ...]] = {
    "en": (
        "for parents",
        "for teachers",
        "for young people",
        "for children aged 6 to 11",
        "for people worried about their sexual thoughts",
        "for foster carers",
        "for sports coaches",
        "for local communities",
    ),
    "de": (
        "für Eltern",
        "für Lehrkräfte",
        "für Jugendliche",
        "für Kinder von 6 bis 11 Jahren",
        "für Menschen, die sich um ihre sexuellen Gedanken sorgen",
        "für Pflegeeltern",
        "für Trainerinnen und Trainer im Sport",
        "für Gemeinden",
    ),
    "fr": (
        "pour les parents",
        "pour les enseignants",
        "pour les jeunes",
        "pour les enfants de 6 à 11 ans",
        "pour les personnes inquiètes de leurs pensées sexuelles",
        "pour les familles d'accueil",
        "pour les entraîneurs sportifs",
        "pour les communautés locales",
    ),
    "pt": (
        "para pais",
        "para professores",
        "para jovens",
        "para crianças dos 6 aos 11 anos",
        "para pessoas preocupadas com os seus pensamentos sexuais",
        "para famílias de acolhimento",
        "para treinadores desportivos",
        "para comunidades locais",
    ),
    "pl": (
        "dla rodziców",
        "dla nauczycieli",
        "dla młodzieży",
        "dla dzieci w wieku od 6 do 11 lat",
        "dla osób zaniepokojonych swoimi myślami seksualnymi",
        "dla rodzin zastępczych",
        "dla trenerów sportowych",
        "dla społeczności lokalnych",
    ),
    "es": (
        "para padres y madres",
        "para docentes",
        "para jóvenes",
        "para niños de 6 a 11 años",
        "para personas preocupadas por sus pensamientos sexuales",
        "para familias de acogida",
        "para entrenadores deportivos",
        "para comunidades locales",
    ),
    "it": (
        "per genitori",
        "per insegnanti",
        "per ragazzi e ragazze",
        "per bambini dai 6 agli 11 anni",
        "per persone preoccupate dai propri pensieri sessuali",
        "per famiglie affidatarie",
        "per allenatori sportivi",
        "per comunità locali",
    ),
}

_SENTENCES: dict[str, tuple[str, ...]] = {
    "en": (
        "It helps participants recognise early warning signs and act on them.",
        "Sessions are led by trained facilitators and follow a written manual.",
        "Participants learn how to talk about bodies, boundaries and consent.",
        "The programme works closely with local child protection services.",
        "Each module ends with a short exercise to practise at home.",
        "Feedback from participants is collected after every session.",
        "Materials are available free of charge in several languages.",
        "The approach builds on research about protective factors in families.",
        "Staff receive regular supervision to keep the quality high.",
        "Anyone can take part without giving their name.",
    ),
    "de": (
        "Es hilft den Teilnehmenden, frühe Warnzeichen zu erkennen und zu handeln.",
        "Die Sitzungen werden von geschulten Fachkräften nach einem Handbuch geleitet.",
        "Die Teilnehmenden lernen, über Körper, Grenzen und Einvernehmen zu sprechen.",
        "Das Programm arbeitet eng mit dem örtlichen Kinderschutz zusammen.",
        "Jedes Modul endet mit einer kurzen Übung für zu Hause.",
        "Nach jeder Sitzung wird die Rückmeldung der Teilnehmenden eingeholt.",
        "Die Materialien sind kostenlos in mehreren Sprachen erhältlich.",
        "Der Ansatz stützt sich auf Forschung zu Schutzfaktoren in Familien.",
        "Die Mitarbeitenden erhalten regelmäßig Supervision.",
        "Alle können teilnehmen, ohne ihren Namen zu nennen.",
    ),
    "fr": (
        "Il aide les participants à reconnaître les signes d'alerte et à agir.",
        "Les séances sont animées par des intervenants formés selon un manuel.",
        "Les participants apprennent à parler du corps, des limites et du consentement.",
        "Le programme travaille étroitement avec les services locaux de protection de l'enfance.",
        "Chaque module se termine par un court exercice à faire à la maison.",
        "L'avis des participants est recueilli après chaque séance.",
        "Les supports sont disponibles gratuitement en plusieurs langues.",
        "L'approche s'appuie sur la recherche sur les facteurs de protection familiaux.",
        "L'équipe bénéficie d'une supervision régulière.",
        "Chacun peut participer sans donner son nom.",
    ),
    "pt": (
        "Ajuda os participantes a reconhecer sinais de alerta precoces e a agir.",
        "As sessões são conduzidas por facilitadores formados, segundo um manual.",
        "Os participantes aprendem a falar sobre o corpo, limites e consentimento.",
        "O programa trabalha em estreita ligação com as comissões de proteção de crianças.",
        "Cada módulo termina com um pequeno exercício para fazer em casa.",
        "A opinião dos participantes é recolhida após cada sessão.",
        "Os materiais estão disponíveis gratuitamente em várias línguas.",
        "A abordagem baseia-se na investigação sobre fatores de proteção nas famílias.",
        "A equipa recebe supervisão regular.",
        "Qualquer pessoa pode participar sem dar o seu nome.",
    ),
    "pl": (
        "Pomaga uczestnikom rozpoznawać wczesne sygnały ostrzegawcze i reagować.",
        "Zajęcia prowadzą przeszkoleni trenerzy według podręcznika.",
        "Uczestnicy uczą się rozmawiać o ciele, granicach i zgodzie.",
        "Program ściśle współpracuje z lokalnymi służbami ochrony dzieci.",
        "Każdy moduł kończy się krótkim ćwiczeniem do wykonania w domu.",
        "Po każdych zajęciach zbierane są opinie uczestników.",
        "Materiały są bezpłatne i dostępne w kilku językach.",
        "Podejście opiera się na badaniach nad czynnikami chroniącymi w rodzinie.",
        "Zespół korzysta z regularnej superwizji.",
        "Każdy może wziąć udział bez podawania nazwiska.",
    ),
    "es": (
        "Ayuda a los participantes a reconocer señales de alerta tempranas y a actuar.",
        "Las sesiones las dirigen facilitadores formados siguiendo un manual.",
        "Los participantes aprenden a hablar del cuerpo, los límites y el consentimiento.",
        "El programa colabora estrechamente con los servicios locales de protección infantil.",
        "Cada módulo termina con un breve ejercicio para practicar en casa.",
        "Se recogen las opiniones de los participantes después de cada sesión.",
        "Los materiales están disponibles gratuitamente en varios idiomas.",
        "El enfoque se basa en la investigación sobre factores de protección familiares.",
        "El equipo recibe supervisión periódica.",
        "Cualquier persona puede participar sin dar su nombre.",
    ),
    "it": (
        "Aiuta i partecipanti a riconoscere i segnali di allarme precoci e ad agire.",
        "Gli incontri sono condotti da facilitatori formati secondo un manuale.",
        "I partecipanti imparano a parlare di corpo, confini e consenso.",
        "Il programma collabora strettamente con i servizi locali di tutela dei minori.",
        "Ogni modulo termina con un breve esercizio da fare a casa.",
        "Dopo ogni incontro si raccolgono le opinioni dei partecipanti.",
        "I materiali sono disponibili gratuitamente in diverse lingue.",
        "L'approccio si basa sulla ricerca sui fattori di protezione nelle famiglie.",
        "Il personale riceve una supervisione regolare.",
        "Chiunque può partecipare senza dare il proprio nome.",
    ),
}

_HEADINGS: dict[str, tuple[str, str]] = {
    "en": ("Aims", "How it works"),
    "de": ("Ziele", "So funktioniert es"),
    "fr": ("Objectifs", "Fonctionnement"),
    "pt": ("Objetivos", "Como funciona"),
    "pl": ("Cele", "Jak to działa"),
    "es": ("Objetivos", "Cómo funciona"),
    "it": ("Obiettivi", "Come funziona"),
}

_SYLLABLES = ("ka", "lo", "mi", "ra", "ve", "no", "sa", "ti", "lu", "de", "fa", "ri", "zo", "be")
_GIVEN = (
    "Anna", "Jonas", "Marie", "Luca", "Sofia", "Piotr", "Inês", "Mateo", "Elena", "Tomás",
    "Clara", "Ahmed", "Eva", "Karin", "Paolo", "Zofia", "Hugo", "Nora", "Jan", "Lea",
)  # fmt: skip
_FAMILY = (
    "Müller", "Novak", "Silva", "Rossi", "Dubois", "Kowalska", "García", "Jensen", "Horvat",
    "Papadopoulos", "Virtanen", "Murphy", "Schmidt", "Costa", "Lambert", "Nowak", "Bianchi",
    "Fernández", "Berg", "Kovács",
)  # fmt: skip
_ORG_KINDS = (
    ("university", "Institute for Prevention Research"),
    ("ngo", "Child Safety Association"),
    ("public_authority", "Regional Youth Office"),
    ("health_service", "Centre for Sexual Health"),
    ("law_enforcement", "Police Prevention Unit"),
    ("other", "Foundation for Safe Childhoods"),
)
_VENUES = (
    "Journal of Prevention Studies",
    "European Review of Safeguarding Research",
    "Child Safety Practice Quarterly",
    "Sexual Abuse Prevention Reports",
)
_OUTCOME_NAMES: dict[str, tuple[tuple[str, bool], ...]] = {
    "abuse_or_offending": (
        ("Self-reported sexual offending", True),
        ("Police-recorded sexual reoffending", True),
        ("Disclosed abuse incidents", True),
    ),
    "risk_or_protective_factor": (
        ("Parental monitoring", False),
        ("Sexual preoccupation score", True),
        ("Emotional regulation", False),
    ),
    "knowledge_or_attitude": (
        ("Body-safety knowledge", False),
        ("Attitudes supporting abuse", True),
        ("Confidence to intervene", False),
    ),
    "other": (("Help-seeking", False), ("Wellbeing", False), ("Programme satisfaction", False)),
}
_ABSTRACT = (
    "We evaluated {brand}, a {type} {audience}.",
    "Participants were recruited through schools, services and community centres.",
    "Outcomes were measured before the programme, at its end and at follow-up.",
    "Analyses followed the intention-to-treat principle.",
    "Implementation fidelity was monitored with session checklists.",
    "The findings are discussed with regard to practice and future research.",
    "Limitations include the reliance on self-report measures.",
)
_DESIGN_WEIGHTS = {
    "rct": 20,
    "cluster_rct": 10,
    "quasi_experimental": 15,
    "pre_post": 20,
    "qualitative": 10,
    "case_study": 5,
    "systematic_review": 5,
    "meta_analysis": 5,
    "other": 10,
}
_DESIGN_TITLES = {
    "rct": "A randomised controlled trial of",
    "cluster_rct": "A cluster-randomised trial of",
    "quasi_experimental": "A quasi-experimental evaluation of",
    "pre_post": "Changes before and after",
    "qualitative": "Experiences of participants in",
    "case_study": "A case study of",
    "systematic_review": "A systematic review of programmes like",
    "meta_analysis": "A meta-analysis of programmes like",
    "other": "An evaluation of",
}


# --- helpers ------------------------------------------------------------------------------


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _batches(total: int) -> Iterator[range]:
    for start in range(0, total, BATCH):
        yield range(start, min(start + BATCH, total))


def _next_id(session: Session, name: str) -> int:
    table = _table(name)
    return int(session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0) + 1


def _seed_tag(seed: int) -> str:
    return hashlib.sha256(f"portal-generate:{seed}".encode()).hexdigest()[:8]


def _email(seed: int, index: int) -> str:
    return f"gen-{_seed_tag(seed)}-{index:06d}@example.org"


def _when(rng: random.Random, days_back: int) -> datetime:
    return ANCHOR - timedelta(days=rng.randrange(days_back), seconds=rng.randrange(86_400))


def _brand(rng: random.Random) -> str:
    word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))
    return word.capitalize()


@dataclass(frozen=True)
class _Text:
    brand: str
    kind: int
    audience: int
    sentences: tuple[int, ...]
    extra: tuple[int, ...]

    def title(self, lang: str) -> str:
        return f"{self.brand}: {_TYPES[lang][self.kind]} {_AUDIENCES[lang][self.audience]}"

    def summary(self, lang: str) -> str:
        return " ".join(_SENTENCES[lang][index] for index in self.sentences)

    def description(self, lang: str) -> str:
        aims, how = _HEADINGS[lang]
        return f"## {aims}\n\n{self.summary(lang)}\n\n## {how}\n\n" + " ".join(
            _SENTENCES[lang][index] for index in self.extra
        )


def _compose(rng: random.Random) -> _Text:
    picked = rng.sample(range(len(_SENTENCES["en"])), 6)
    return _Text(
        brand=_brand(rng),
        kind=rng.randrange(len(_TYPES["en"])),
        audience=rng.randrange(len(_AUDIENCES["en"])),
        sentences=tuple(picked[: rng.randint(2, 3)]),
        extra=tuple(picked[3:]),
    )


@dataclass
class _Vocab:
    codes: dict[str, list[str]]
    parents: dict[str, str]


def _vocabulary(session: Session) -> _Vocab:
    terms = _table("vocabulary_term")
    codes: dict[str, list[str]] = {name: [] for name in VOCABULARIES}
    parents: dict[str, str] = {}
    rows = session.execute(
        select(terms.c.vocabulary, terms.c.code, terms.c.parent_code)
        .where(terms.c.retired_at.is_(None))
        .order_by(terms.c.vocabulary, terms.c.position, terms.c.code)
    )
    for vocabulary, code, parent in rows:
        if vocabulary in codes:
            codes[vocabulary].append(code)
            if parent:
                parents[code] = parent
    for name in ("target_groups", "countries", "languages", "prevention_level"):
        if not codes[name]:
            raise GenerateRefused(f"The vocabulary {name} has no active terms.")
    return _Vocab(codes=codes, parents=parents)


def _check(session: Session, seed: int) -> None:
    programme, evaluation, member = _table("programme"), _table("evaluation"), _table("member")
    real = session.scalar(
        select(func.count()).select_from(programme).where(programme.c.is_demo.is_(False))
    ) or session.scalar(
        select(func.count()).select_from(evaluation).where(evaluation.c.is_demo.is_(False))
    )
    if real:
        raise GenerateRefused(
            "The database holds programmes or evaluations that are not demo data: "
            "synthetic records are only added to a test or demo database."
        )
    if session.scalar(select(member.c.id).where(member.c.email == _email(seed, 0)).limit(1)):
        raise GenerateRefused(f"Data for seed {seed} was generated in this database already.")


# --- the generator ------------------------------------------------------------------------


def generate(
    session: Session,
    *,
    programmes: int,
    evaluations: int,
    members: int,
    seed: int,
    reporter: Reporter | None = None,
) -> GenerateReport:
    """Add the synthetic set to the session's database (the caller commits)."""
    if min(programmes, evaluations, members) < 0:
        raise GenerateRefused("Counts cannot be negative.")
    if evaluations and not programmes:
        raise GenerateRefused("Evaluations need at least one programme.")
    _check(session, seed)
    progress: Reporter = reporter or _Silent()
    vocab = _vocabulary(session)
    report = GenerateReport()
    org_ids, member_ids = _members(session, seed, members, vocab, progress, report)
    manuals, first_programme = _programmes(
        session, seed, programmes, vocab, org_ids, member_ids, progress, report
    )
    studies = _evaluations(
        session, seed, evaluations, manuals, first_programme, vocab, member_ids, progress, report
    )
    _ratings(session, manuals, first_programme, studies, progress, report)
    _move_sequences(session)
    _index(session, org_ids, member_ids, first_programme, programmes, progress)
    # Statistics for the planner after a bulk load (SQLite has none until asked).
    session.execute(text("ANALYZE"))
    return report


def _index(
    session: Session,
    org_ids: list[int],
    member_ids: list[int],
    first_programme: int,
    programmes: int,
    progress: Reporter,
) -> None:
    """Add the new records to the search index (the rows were written around the ORM)."""
    from app.search import index

    evaluation = _table("evaluation")
    connection = session.connection()
    first_evaluation = connection.scalar(
        select(func.min(evaluation.c.id)).where(evaluation.c.doi.like("10.5555/gen.%"))
    )
    keys: list[tuple[str, int]] = [("organisation", i) for i in org_ids]
    keys += [("member", i) for i in member_ids]
    keys += [("programme", first_programme + i) for i in range(programmes)]
    if first_evaluation is not None:
        keys += [
            ("evaluation", i)
            for i in connection.scalars(
                select(evaluation.c.id).where(evaluation.c.id >= first_evaluation)
            )
        ]
    progress.begin("search index", len(keys))
    for start in range(0, len(keys), BATCH):
        index.refresh(connection, keys[start : start + BATCH])
        progress.advance(len(keys[start : start + BATCH]))
    progress.end()


def _insert(session: Session, name: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(_table(name)), rows)


def _members(
    session: Session,
    seed: int,
    count: int,
    vocab: _Vocab,
    progress: Reporter,
    report: GenerateReport,
) -> tuple[list[int], list[int]]:
    rng = random.Random(f"{seed}:members")  # noqa: S311
    org_count = max(1, (count + 4) // 5)
    first_org = _next_id(session, "organisation")
    org_ids = list(range(first_org, first_org + org_count))
    progress.begin("organisation", org_count)
    for batch in _batches(org_count):
        rows = []
        for index in batch:
            kind, label = _ORG_KINDS[index % len(_ORG_KINDS)]
            country = rng.choice(vocab.codes["countries"])
            created = _when(rng, 3_000)
            rows.append(
                {
                    "id": first_org + index,
                    "name": f"{_brand(rng)} {label} ({country}) {index + 1}",
                    "country": country,
                    "organisation_type": kind,
                    "website": f"https://org{index + 1}.example.org",
                    "is_demo": True,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        _insert(session, "organisation", rows)
        progress.advance(len(rows))
    progress.end()
    report.organisations = org_count

    first_member = _next_id(session, "member")
    member_ids = list(range(first_member, first_member + count))
    progress.begin("member", count)
    for batch in _batches(count):
        rows, links = [], []
        for index in batch:
            created = _when(rng, 2_000)
            member_id = first_member + index
            rows.append(
                {
                    "id": member_id,
                    "email": _email(seed, index),
                    "full_name": f"{rng.choice(_GIVEN)} {rng.choice(_FAMILY)}",
                    "password_hash": None,
                    "password_changed_at": None,
                    "email_verified_at": created,
                    "role": "member",
                    "coordinates_network": False,
                    "member_type": rng.choice(
                        ("researcher", "practitioner", "policy_maker", "other")
                    ),
                    "country": rng.choice(vocab.codes["countries"]),
                    "status": "active",
                    "membership_expires_on": (
                        ANCHOR + timedelta(days=rng.randint(400, 1500))
                    ).date(),
                    "profile_visibility": {},
                    "is_demo": True,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            for org_id in sorted(set(rng.sample(org_ids, min(len(org_ids), rng.randint(1, 2))))):
                links.append({"member_id": member_id, "organisation_id": org_id})
        _insert(session, "member", rows)
        _insert(session, "member_organisation", links)
        progress.advance(len(rows))
    progress.end()
    report.members = count
    return org_ids, member_ids


def _pick_list(
    rng: random.Random, codes: Sequence[str], index: int, extra: int, first: str | None = None
) -> list[str]:
    chosen = [first] if first else []
    forced = codes[index % len(codes)] if codes else None
    if forced and forced not in chosen:
        chosen.append(forced)
    for code in rng.sample(list(codes), min(len(codes), rng.randint(0, extra))):
        if code not in chosen:
            chosen.append(code)
    return chosen


def _programmes(
    session: Session,
    seed: int,
    count: int,
    vocab: _Vocab,
    org_ids: list[int],
    member_ids: list[int],
    progress: Reporter,
    report: GenerateReport,
) -> tuple[list[bool], int]:
    rng = random.Random(f"{seed}:programmes")  # noqa: S311
    first = _next_id(session, "programme")
    first_version = _next_id(session, "programme_version")
    codes = vocab.codes
    subgroups = codes["target_subgroups"]
    manuals: list[bool] = []
    progress.begin("programme", count)
    programme_table = _table("programme")
    for batch in _batches(count):
        rows, versions, terms, translations, maintainers = [], [], [], [], []
        for index in batch:
            programme_id = first + index
            lang = rng.choices(LANGS, LANG_WEIGHTS)[0]
            words = _compose(rng)
            # Every code of every vocabulary is used: programme i takes code i (modulo).
            subgroup = subgroups[index % len(subgroups)] if subgroups else None
            parent = vocab.parents.get(subgroup or "")
            groups = _pick_list(rng, codes["target_groups"], index, 1, parent)
            allowed = [code for code in subgroups if vocab.parents.get(code) in groups]
            chosen_subgroups = [subgroup] if subgroup else []
            for code in rng.sample(allowed, min(len(allowed), rng.randint(0, 2))):
                if code not in chosen_subgroups:
                    chosen_subgroups.append(code)
            home = rng.choice(
                [c for c in LANG_COUNTRIES[lang] if c in codes["countries"]] or codes["countries"]
            )
            content_language = lang if lang in codes["languages"] else codes["languages"][0]
            values: dict[str, Any] = {
                "title": words.title(lang)[:200],
                "summary": words.summary(lang),
                "description": words.description(lang),
                "content_language": content_language,
                "target_groups": groups,
                "target_subgroups": chosen_subgroups,
                "prevention_level": codes["prevention_level"][index]
                if index < len(codes["prevention_level"])
                else rng.choice(codes["prevention_level"]),
                "settings": _pick_list(rng, codes["settings"], index, 2),
                "delivery": _pick_list(rng, codes["delivery"], index, 1),
                "abuse_addressed": (
                    codes["abuse_addressed"][index % len(codes["abuse_addressed"])]
                    if index < len(codes["abuse_addressed"])
                    else rng.choice(codes["abuse_addressed"])
                )
                if codes["abuse_addressed"]
                else None,
                "countries": _pick_list(rng, codes["countries"], index, 2, home),
                "languages": _pick_list(rng, codes["languages"], index, 1, content_language),
            }
            if values["prevention_level"] not in codes["prevention_level"]:
                values["prevention_level"] = rng.choice(codes["prevention_level"])
            age_min = rng.choice((None, 0, 3, 6, 10, 12, 14, 16, 18))
            age_max = None if age_min is None else min(120, age_min + rng.choice((3, 5, 8, 12, 40)))
            manual = rng.random() < 0.6
            provider = rng.choice(org_ids) if org_ids else None
            creator = rng.choice(member_ids) if member_ids else None
            languages_for_translation = [
                code for code in LANGS if code != content_language and code in codes["languages"]
            ]
            entries = []
            if rng.random() < TRANSLATED_SHARE:
                for other in sorted(rng.sample(languages_for_translation, rng.randint(1, 2))):
                    entries.append(
                        {
                            "language": other,
                            "title": words.title(other)[:200],
                            "summary": words.summary(other),
                        }
                    )
            values.update(
                {
                    "age_min": age_min,
                    "age_max": age_max,
                    "manual_available": manual,
                    "training_required": rng.random() < 0.5,
                    "cost": rng.choice((None, "Free of charge", "Paid by the school")),
                    "duration": rng.choice(
                        (None, "8 weekly sessions", "One day", "12 months", "Ongoing")
                    ),
                    "start_year": rng.randint(1995, 2025),
                    "still_running": rng.random() < 0.85,
                    "provider_organisation_id": provider,
                    "provider_name": None,
                    "contact_name": f"{rng.choice(_GIVEN)} {rng.choice(_FAMILY)}",
                    "contact_email": f"contact{programme_id}@example.org",
                    "website": f"https://programme{programme_id}.example.org",
                    "visibility": "members" if rng.random() < MEMBERS_ONLY_SHARE else "public",
                    "adapted_from_id": None,
                    "translations": entries,
                    "attachment_ids": [],
                }
            )
            published = _when(rng, 3_500)
            created = published - timedelta(days=rng.randint(1, 60))
            manuals.append(manual)
            row = {
                name: values[name]
                for name in (
                    "title",
                    "summary",
                    "description",
                    "content_language",
                    "prevention_level",
                    "abuse_addressed",
                    "age_min",
                    "age_max",
                    "manual_available",
                    "training_required",
                    "cost",
                    "duration",
                    "start_year",
                    "still_running",
                    "provider_organisation_id",
                    "provider_name",
                    "contact_name",
                    "contact_email",
                    "website",
                    "visibility",
                    "adapted_from_id",
                )
            }
            row.update(
                {
                    "id": programme_id,
                    "status": "published",
                    "published_version_id": None,
                    "published_at": published,
                    "content_updated_at": published,
                    "archived_at": None,
                    "archive_reason": None,
                    "created_by_id": creator,
                    "is_demo": True,
                    "rating_level": "not_rated",
                    "created_at": created,
                    "updated_at": published,
                }
            )
            rows.append(row)
            versions.append(
                {
                    "id": first_version + index,
                    "programme_id": programme_id,
                    "number": 1,
                    "state": "published",
                    "data": values,
                    "revision": 1,
                    "created_by_id": creator,
                    "updated_by_id": creator,
                    "submitted_at": created,
                    "submitted_by_id": creator,
                    "decided_at": published,
                    "decided_by_id": None,
                    "published_at": published,
                    "created_at": created,
                    "updated_at": published,
                }
            )
            for name, multiple in VOCABULARIES.items():
                listed = values[name] if multiple else [values[name]]
                for position, code in enumerate(code for code in listed if code):
                    terms.append(
                        {
                            "programme_id": programme_id,
                            "field": name,
                            "code": code,
                            "position": position,
                        }
                    )
            for entry in entries:
                translations.append({"programme_id": programme_id, **entry})
            if creator is not None:
                maintainers.append(
                    {"programme_id": programme_id, "member_id": creator, "added_at": created}
                )
        _insert(session, "programme", rows)
        _insert(session, "programme_version", versions)
        _insert(session, "programme_term", terms)
        _insert(session, "programme_translation", translations)
        _insert(session, "programme_maintainer", maintainers)
        low, high = first + batch.start, first + batch.stop - 1
        session.execute(
            update(programme_table)
            .where(programme_table.c.id.between(low, high))
            .values(
                published_version_id=programme_table.c.id + (first_version - first),
                updated_at=programme_table.c.updated_at,
            )
        )
        progress.advance(len(rows))
    progress.end()
    report.programmes = count
    return manuals, first


def _effect(rng: random.Random, measure: str, lower_is_better: bool) -> tuple[float, float, float]:
    """An estimate with a valid 95% CI (ratios on the log scale), mostly beneficial."""
    benefit = rng.gauss(0.22, 0.25)
    half = 1.96 * rng.uniform(0.05, 0.3)
    if measure == "smd":
        # "+ 0.0" turns -0.0 into 0.0, which SQLite would store anyway.
        estimate = round(-benefit if lower_is_better else benefit, 3) + 0.0
        half = round(half, 3)
        return estimate, round(estimate - half, 3) + 0.0, round(estimate + half, 3) + 0.0
    log_estimate = -benefit if lower_is_better else benefit
    return (
        round(math.exp(log_estimate), 3),
        round(math.exp(log_estimate - half), 3),
        round(math.exp(log_estimate + half), 3),
    )


def _evaluations(
    session: Session,
    seed: int,
    count: int,
    manuals: list[bool],
    first_programme: int,
    vocab: _Vocab,
    member_ids: list[int],
    progress: Reporter,
    report: GenerateReport,
) -> dict[int, list[rules.StudyInput]]:
    rng = random.Random(f"{seed}:evaluations")  # noqa: S311
    text_rng = random.Random(f"{seed}:evaluation-text")  # noqa: S311
    first = _next_id(session, "evaluation")
    first_version = _next_id(session, "evaluation_version")
    next_outcome = _next_id(session, "outcome")
    # About a fifth of the programmes have no evaluation (they stay "not rated").
    evaluated = [index for index in range(len(manuals)) if rng.random() < 0.8] or list(
        range(len(manuals))
    )
    designs = list(_DESIGN_WEIGHTS)
    weights = list(_DESIGN_WEIGHTS.values())
    studies: dict[int, list[rules.StudyInput]] = {}
    table = _table("evaluation")
    progress.begin("evaluation", count)
    for batch in _batches(count):
        rows, versions, outcome_rows, links = [], [], [], []
        for index in batch:
            evaluation_id = first + index
            design = DESIGNS[index] if index < len(DESIGNS) else rng.choices(designs, weights)[0]
            risk = (
                RISKS_OF_BIAS[index % len(RISKS_OF_BIAS)]
                if index < 2 * len(RISKS_OF_BIAS)
                else rng.choice(RISKS_OF_BIAS)
            )
            linked = sorted(
                {first_programme + rng.choice(evaluated) for _ in range(rng.randint(1, 2))}
            )
            words = _compose(text_rng)
            year = rng.randint(1998, 2025)
            follow_up = (
                None
                if design in ("qualitative", "case_study")
                else rng.choice((None, 0, 3, 6, 12, 18, 24, 36))
            )
            outcomes: list[dict[str, Any]] = []
            outcome_total = 0 if design in ("qualitative", "case_study") else rng.randint(1, 3)
            for position in range(outcome_total):
                kind = (
                    OUTCOME_KINDS[(index + position) % len(OUTCOME_KINDS)]
                    if index < 2 * len(OUTCOME_KINDS)
                    else rng.choice(OUTCOME_KINDS)
                )
                name, lower_is_better = rng.choice(_OUTCOME_NAMES[kind])
                measure = (
                    MEASURES[index % len(MEASURES)]
                    if index < 2 * len(MEASURES)
                    else rng.choices(MEASURES, (60, 25, 15))[0]
                )
                estimate, ci_low, ci_high = _effect(rng, measure, lower_is_better)
                n_t, n_c = rng.randint(20, 600), rng.randint(20, 600)
                outcome = {
                    "name": name,
                    "kind": kind,
                    "measure": measure,
                    "lower_is_better": lower_is_better,
                    "input_kind": "effect",
                    "estimate": estimate,
                    "ci_low": ci_low,
                    "ci_high": ci_high,
                    "n_treatment": n_t,
                    "n_control": n_c,
                    "mean_t": None,
                    "sd_t": None,
                    "mean_c": None,
                    "sd_c": None,
                    "events_t": None,
                    "events_c": None,
                    "computation": None,
                }
                outcomes.append(outcome)
                outcome_rows.append(
                    {
                        "id": next_outcome,
                        "evaluation_id": evaluation_id,
                        "position": position,
                        "name": name,
                        "kind": kind,
                        "measure": measure,
                        "estimate": estimate,
                        "ci_low": ci_low,
                        "ci_high": ci_high,
                        "n_treatment": n_t,
                        "n_control": n_c,
                        "lower_is_better": lower_is_better,
                        "input_kind": "effect",
                        "inputs": {},
                        "computation": None,
                    }
                )
                next_outcome += 1
            country = rng.choice(vocab.codes["countries"])
            title = (
                f"{_DESIGN_TITLES[design]} {words.brand}, a {_TYPES['en'][words.kind]} "
                f"{_AUDIENCES['en'][words.audience]}, in {country}"
            )
            authors = [
                f"{rng.choice(_FAMILY)}, {rng.choice(_GIVEN)}" for _ in range(rng.randint(1, 4))
            ]
            abstract = " ".join(
                [
                    _ABSTRACT[0].format(
                        brand=words.brand,
                        type=_TYPES["en"][words.kind],
                        audience=_AUDIENCES["en"][words.audience],
                    ),
                    *rng.sample(_ABSTRACT[1:], 3),
                ]
            )
            values: dict[str, Any] = {
                "programme_ids": linked,
                "title": title,
                "authors": authors,
                "year": year,
                "venue": rng.choice(_VENUES),
                "doi": f"10.5555/gen.{seed}.{index + 1}",
                "url": None,
                "abstract": abstract,
                "design": design,
                "country": country,
                "sample_size": sum((o["n_treatment"] + o["n_control"]) for o in outcomes[:1])
                or rng.randint(8, 60),
                "follow_up_months": follow_up,
                "risk_of_bias": risk,
                "visibility": "members" if rng.random() < 0.1 else "public",
                "outcomes": outcomes,
            }
            published = datetime(year, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(360))
            published = min(published, ANCHOR)
            creator = rng.choice(member_ids) if member_ids else None
            rows.append(
                {
                    "id": evaluation_id,
                    "status": "published",
                    **{k: values[k] for k in ("title", "authors", "year", "venue", "doi")},
                    "url": None,
                    "abstract": abstract,
                    "design": design,
                    "country": country,
                    "sample_size": values["sample_size"],
                    "follow_up_months": follow_up,
                    "risk_of_bias": risk,
                    "visibility": values["visibility"],
                    "published_version_id": None,
                    "published_at": published,
                    "unpublished_at": None,
                    "unpublish_reason": None,
                    "created_by_id": creator,
                    "is_demo": True,
                    "created_at": published,
                    "updated_at": published,
                }
            )
            versions.append(
                {
                    "id": first_version + index,
                    "evaluation_id": evaluation_id,
                    "number": 1,
                    "state": "published",
                    "data": values,
                    "revision": 1,
                    "created_by_id": creator,
                    "submitted_at": None,
                    "decided_at": published,
                    "decided_by_id": creator,
                    "decision_comment": None,
                    "published_at": published,
                    "created_at": published,
                    "updated_at": published,
                }
            )
            for programme_id in linked:
                links.append({"evaluation_id": evaluation_id, "programme_id": programme_id})
            study = rules.StudyInput(
                evaluation_id=evaluation_id,
                title=title,
                year=year,
                design=design,
                risk_of_bias=risk,
                follow_up_months=follow_up,
                outcomes=[
                    rules.OutcomeInput(
                        name=o["name"],
                        kind=o["kind"],
                        measure=o["measure"],
                        estimate=o["estimate"],
                        ci_low=o["ci_low"],
                        ci_high=o["ci_high"],
                        lower_is_better=o["lower_is_better"],
                    )
                    for o in outcomes
                ],
            )
            for programme_id in linked:
                studies.setdefault(programme_id, []).append(study)
        _insert(session, "evaluation", rows)
        _insert(session, "evaluation_version", versions)
        _insert(session, "outcome", outcome_rows)
        _insert(session, "evaluation_programme", links)
        low, high = first + batch.start, first + batch.stop - 1
        session.execute(
            update(table)
            .where(table.c.id.between(low, high))
            .values(
                published_version_id=table.c.id + (first_version - first),
                updated_at=table.c.updated_at,
            )
        )
        report.outcomes += len(outcome_rows)
        progress.advance(len(rows))
    progress.end()
    report.evaluations = count
    return studies


def _ratings(
    session: Session,
    manuals: list[bool],
    first_programme: int,
    studies: dict[int, list[rules.StudyInput]],
    progress: Reporter,
    report: GenerateReport,
) -> None:
    first_rating = _next_id(session, "programme_rating")
    programme = _table("programme")
    reviewed_on = ANCHOR.date()
    by_level: dict[str, list[int]] = {}
    rows: list[dict[str, Any]] = []
    progress.begin("programme_rating", len(manuals))

    def flush() -> None:
        _insert(session, "programme_rating", rows)
        rows.clear()

    for index, manual in enumerate(manuals):
        programme_id = first_programme + index
        evidence = sorted(
            studies.get(programme_id, []), key=lambda s: (s.year, s.evaluation_id), reverse=True
        )
        result = rules.rate(rules.ProgrammeInput(manual_available=manual, studies=evidence))
        report.levels[result.level] = report.levels.get(result.level, 0) + 1
        if result.level != "not_rated":
            by_level.setdefault(result.level, []).append(programme_id)
            rows.append(
                {
                    "id": first_rating + report.ratings,
                    "programme_id": programme_id,
                    "level": result.level,
                    "computed_level": result.level,
                    "rule": result.rule,
                    "reasons": [reason.to_dict() for reason in result.reasons],
                    "raise_by": list(result.raise_by),
                    "evaluation_ids": list(result.evaluation_ids),
                    "overridden": False,
                    "override_justification": None,
                    "changed_by_id": None,
                    "created_at": ANCHOR,
                    "reviewed_on": reviewed_on,
                }
            )
            report.ratings += 1
        if len(rows) >= BATCH:
            flush()
        progress.advance(1)
    flush()
    for level, ids in sorted(by_level.items()):
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            session.execute(
                update(programme)
                .where(programme.c.id.in_(chunk))
                .values(rating_level=level, updated_at=programme.c.updated_at)
            )
    progress.end()


def _move_sequences(session: Session) -> None:
    """On PostgreSQL, let the next ordinary insert take an id after the generated ones."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for name in (
        "organisation",
        "member",
        "programme",
        "programme_version",
        "evaluation",
        "evaluation_version",
        "outcome",
        "programme_rating",
    ):
        table = _table(name)
        following = select(func.coalesce(func.max(table.c.id), 0) + 1).scalar_subquery()
        session.execute(
            select(func.setval(func.pg_get_serial_sequence(name, "id"), following, False))
        )


# --- checking -----------------------------------------------------------------------------

DIGEST_TABLES = (
    "organisation",
    "member",
    "member_organisation",
    "programme",
    "programme_version",
    "programme_term",
    "programme_translation",
    "programme_maintainer",
    "evaluation",
    "evaluation_version",
    "outcome",
    "evaluation_programme",
    "programme_rating",
)


def digest(session: Session) -> str:
    """A SHA-256 over every row of the tables the generator fills, in key order."""
    hasher = hashlib.sha256()
    for name in DIGEST_TABLES:
        table = _table(name)
        keys = list(table.primary_key.columns)
        hasher.update(name.encode())
        for row in session.execute(select(table).order_by(*keys)):
            hasher.update(
                json.dumps([_plain(value) for value in row], sort_keys=True, default=str).encode()
            )
    return hasher.hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value
