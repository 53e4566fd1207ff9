"""Every behavioural parameter of the national model, in one place.

Each parameter has a unit, a default, hard bounds (what is meaningful at all and keeps a run
within memory and minutes; finite, enforced on load) and a plausible range (what the literature
or the 2011 record makes credible; these are the calibration priors). ``source`` says where the
default and range come from; keys such as ``K-epsteinPM`` refer to ``seeds/reference/domain-2011.md`` §8.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Parameter:
    """One model parameter."""

    name: str
    default: float
    unit: str
    bounds: tuple[float, float]
    plausible: tuple[float, float]
    source: str
    description: str
    integer: bool = False


def _p(name, default, unit, bounds, plausible, source, description, integer=False) -> Parameter:
    return Parameter(name, default, unit, bounds, plausible, source, description, integer)


PROBABILITY = (0.0, 1.0)

PARAMETERS: tuple[Parameter, ...] = (
    # --- Civilians: Epstein's core ---------------------------------------------------------
    _p("legitimacy", 0.80, "1 (share)", PROBABILITY, (0.6, 0.95), "K-epsteinPM; Mesa default L=0.8",
       "perceived legitimacy of the state, L in G = H(1-L)"),
    _p("activation_threshold", 0.10, "1 (grievance units)", (0.0, 1.0), (0.05, 0.3), "K-epsteinPM: T=0.1",
       "T: a group sympathises openly when G - R*P > T"),
    _p("arrest_constant", 2.3, "1", (0.0, 20.0), (1.0, 4.0), "K-mesaAgents: k=2.3 gives P=0.9 at C/A=1",
       "k in the estimated arrest probability P = 1 - exp(-k * round(C/A))"),
    _p("vision", 1, "grid cells", (0, 10), (1, 2), "assumption: one cell (~0.75 deg, ~80 km) is a local community",
       "radius (Moore) within which civilians count police and sympathisers", integer=True),
    _p("police_per_agent_equivalent", 40.0, "officers", (1.0, 1e6), (10.0, 60.0),
       "set so that at baseline about half the groups estimate P in the sensitive range (C/A near 1-2) and "
       "doubling patrols deters measurably; above ~50 the model tips into Epstein-style mass sympathy",
       "officers that count as one 'cop' in the C/A ratio"),
    _p("sympathiser_per_agent_equivalent", 3000.0, "people", (1.0, 1e7), (1500.0, 6000.0),
       "set with police_per_agent_equivalent: at 1500 the religion law tips the baseline into mass sympathy "
       "(Epstein cascade), at 5000 patrols no longer deter",
       "sympathisers that count as one 'active' in the C/A ratio"),
    _p("religiosity_mean", 0.25, "1 (share)", PROBABILITY, (0.1, 0.5),
       "assumption: share of practising believers most exposed to the 2011 law (K-F18-1768: smaller "
       "Muslim communities outside the Muslim Board were hit hardest)",
       "mean religiosity (Beta-distributed across groups)"),
    _p("religiosity_concentration", 4.0, "1", (0.1, 100.0), (1.0, 10.0), "assumption",
       "Beta concentration a+b of religiosity across groups (lower = more polarised)"),
    _p("hardship_shift_west", 0.10, "1 (hardship units)", (-0.5, 0.5), (0.0, 0.2),
       "assumption from K-IWPR 'specific grievances against the police' in the oil west",
       "extra mean hardship in Aktobe, Atyrau, Mangystau and West Kazakhstan"),
    # --- Radicalisation and cells -----------------------------------------------------------
    _p("radicalisation_rate", 0.002, "1/day", PROBABILITY, (0.0005, 0.01), "assumption (Genkin & Gutfraind, K-genkin)",
       "daily probability that a sympathising group is drawn into the recruit stage near a cell"),
    _p("cell_formation_rate", 5.0e-8, "cells per sympathiser-day", (0.0, 1e-5), (1e-8, 2e-7),
       "order of magnitude: 6-10 groups active in 2011 (domain notes §1) from ~0.4 million sympathisers",
       "hazard that a new cell forms, per sympathiser per day"),
    _p("recruitment_rate", 0.02, "members per cell-day", (0.0, 1.0), (0.005, 0.08),
       "assumption: 2011 groups of 5-12 members formed within months (S4, K-RUwikiTemir)",
       "daily rate at which a cell gains a member from recruit-stage groups nearby"),
    _p("initial_members", 3, "people", (1, 50), (2, 6), "assumption", "members of a newly formed cell", integer=True),
    _p("split_size", 12, "people", (2, 200), (8, 20), "K-RUwikiTemir: Temir group of 12",
       "a cell larger than this splits in two", integer=True),
    _p("resource_gain", 0.02, "capability per member-day", (0.0, 1.0), (0.005, 0.05), "assumption",
       "daily growth of a cell's capability per member (weapons, money, skills)"),
    _p("attack_rate", 0.02, "1/day", PROBABILITY, (0.005, 0.08),
       "order of magnitude set to ~8 militant attacks in 2011 (seeds/incidents.csv)",
       "daily probability that a capable cell attacks, before deterrence and contagion"),
    _p("attack_cost", 1.0, "capability", (0.0, 100.0), (0.5, 3.0), "assumption",
       "capability a cell needs and spends to attack"),
    _p("suicide_share", 0.35, "1", PROBABILITY, (0.1, 0.6),
       "2011 record: 3 of 8 militant attacks involved self-detonation (seeds/incidents.csv)",
       "share of attacks that are suicide bombings"),
    _p("bombing_share", 0.2, "1", PROBABILITY, (0.05, 0.4), "2011 record (Atyrau 31 Oct, Almaty 3 Oct)",
       "share of attacks that are bombings (of the non-suicide rest: armed attacks)"),
    _p("police_target_share", 0.75, "1", PROBABILITY, (0.5, 0.95),
       "2011 record: police were the main target (S2: 'cops remain in the firing line')",
       "share of attack victims who are security personnel"),
    _p("severity_alpha", 2.0, "1", (1.1, 5.0), (1.7, 2.5), "K-clauset: frequency ~ severity^-alpha, alpha~2",
       "power-law exponent of deaths per lethal attack"),
    _p("severity_max", 30, "people", (1, 1000), (10, 100), "assumption: caps the power law",
       "most deaths in one attack",
       integer=True),
    _p("lethal_attack_share", 0.55, "1", PROBABILITY, (0.3, 0.8),
       "2011 record: 4 of 7 seed-documented attacks killed a victim (seeds/incidents.csv)",
       "share of attacks that kill at least one victim (attackers' own deaths aside)"),
    _p("attacker_death_share", 0.3, "1", PROBABILITY, (0.1, 0.6), "2011 record: 1 of 3 armed attacks (Taraz) ended "
       "with the attacker dead", "probability that an armed attacker or bomber (not suicide) dies in the attack"),
    _p("injuries_per_death", 0.3, "people per death", (0.0, 10.0), (0.1, 1.0),
       "2011 record: 5 injured against 16 deaths in seed-documented militant attacks (seeds/incidents.csv)",
       "mean injured per person killed in an attack (Poisson)"),
    _p("contagion_jump", 0.8, "1", (0.0, 10.0), (0.0, 2.0), "K-porter; K-braithwaite: attacks cluster in time",
       "increase of the national attack hazard multiplier after each attack"),
    _p("contagion_decay_days", 20.0, "days", (0.1, 1000.0), (5.0, 60.0), "K-braithwaite: decay within weeks",
       "e-folding time of the contagion excitation"),
    _p("deterrence", 0.2, "1 per (officers per 1000 people)", (0.0, 10.0), (0.0, 2.0),
       "K-epsteinPM; Operation Motorman deterrence (K-ojp)",
       "attack hazard is multiplied by exp(-deterrence * local police per 1000 people)"),
    # --- Police -----------------------------------------------------------------------------
    _p("police_per_100k", 445.0, "officers per 100,000 people", (1.0, 5000.0), (300.0, 550.0),
       "K-azh5078, K-kstnews: 445-448 per 100,000", "patrol police density, allocated by population"),
    _p("patrol_unit_size", 500, "officers", (50, 100000), (100, 2000), "assumption: a district department",
       "officers per PoliceUnit agent", integer=True),
    _p("special_units", 3, "units", (0, 50), (2, 5), "K-kt, K-EN63800: Arystan (KNB), Arlan, Berkut (MVD)",
       "special-forces units (based in Almaty, Astana, Aktobe)", integer=True),
    _p("tip_rate", 0.01, "intelligence per member-day at full informing", (0.0, 1.0), (0.002, 0.05),
       "assumption (Kalyvas: selective violence needs denunciations, K-kalyvasSum)",
       "daily intelligence per cell member, times the informing share of people within vision"),
    _p("inform_propensity_mean", 0.3, "1", PROBABILITY, (0.1, 0.6), "assumption",
       "mean propensity of quiet civilians to inform police"),
    _p("leaderless_resource_factor", 0.5, "1", PROBABILITY, (0.2, 1.0),
       "K-gutfraind: losing the leader weakens but rarely ends a group",
       "resource gain of a cell whose founding leader was killed or arrested, relative to one with a leader"),
    _p("targeted_arrest_share", 0.5, "1", PROBABILITY, (0.2, 0.8), "2011 record: 3 of a ring of 4 (S2)",
       "probability that each member is taken in a targeted arrest"),
    _p("targeted_arrest_intel_fraction", 0.5, "1", PROBABILITY, (0.2, 0.9), "assumption",
       "share of the raid threshold at which police start targeted arrests"),
    _p("special_unit_size", 100.0, "officers", (1.0, 10000.0), (50.0, 300.0),
       "assumption: unit sizes are unverified (domain notes §4)", "officers in each special-forces unit"),
    _p("targeted_arrest_rate", 0.02, "1/day", PROBABILITY, (0.005, 0.1),
       "2011 record: arrests announced 9 Nov (3) and 30 Nov (6) after investigations (S2, S4)",
       "daily probability of targeted arrests on a cell known to police but below the raid threshold"),
    _p("attack_intel", 0.35, "intelligence", (0.0, 10.0), (0.1, 1.0),
       "2011 record: most attackers' groups were found within weeks (Taraz, Almaty)",
       "intelligence police gain on a cell from each attack it carries out"),
    _p("intel_decay_days", 60.0, "days", (1.0, 10000.0), (20.0, 180.0), "assumption",
       "e-folding time of stale intelligence"),
    # --- Repression and backlash ------------------------------------------------------------
    _p("backlash_per_detainee", 0.08, "hardship per uninvolved detainee", (0.0, 1.0), (0.0, 0.2),
       "K-ojp, K-cjra (internment backlash), K-dugan, K-lyall2015",
       "hardship added to the group of each uninvolved person detained in a sweep"),
    _p("backlash_decay_days", 120.0, "days", (1.0, 10000.0), (30.0, 365.0), "assumption", "e-folding time of backlash"),
    _p("detention_days", 30.0, "days", (1.0, 3650.0), (7.0, 90.0),
       "K-caravan301667: Atyrau suspects held about a month before warrants", "mean detention of sweep detainees"),
)

BY_NAME: dict[str, Parameter] = {p.name: p for p in PARAMETERS}


def defaults() -> dict[str, float]:
    """Every parameter at its default value."""
    return {p.name: (int(p.default) if p.integer else float(p.default)) for p in PARAMETERS}


def _number(value: float, integer: bool = False) -> str:
    if value == float("inf"):
        return "∞"
    if value == float("-inf"):
        return "−∞"
    return str(int(value)) if integer else f"{value:g}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table() -> str:
    """The registry as a Markdown table (pasted into ``docs/ODD.md``; a test keeps them equal).

    Columns: parameter, unit, default, plausible range (the calibration prior), hard bounds,
    source and description. Ranges are closed intervals; an infinite upper bound is open.
    """
    lines = [
        "| parameter | unit | default | plausible range | bounds | source | description |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in PARAMETERS:
        low, high = p.bounds
        bounds = f"[{_number(low, p.integer)}, {_number(high, p.integer)}" + (")" if high == float("inf") else "]")
        plausible = f"[{_number(p.plausible[0], p.integer)}, {_number(p.plausible[1], p.integer)}]"
        cells = (f"`{p.name}`", p.unit, _number(p.default, p.integer), plausible, bounds, p.source, p.description)
        lines.append("| " + " | ".join(_cell(str(c)) for c in cells) + " |")
    return "\n".join(lines) + "\n"
