"""Every behavioural parameter of the national model, in one place.

Each parameter has a unit, a default, hard bounds (what is meaningful at all and keeps a run
within memory and minutes; finite, enforced on load) and a plausible range (what the literature
or the 2011 record makes credible; these are the calibration priors). ``source`` says where the
default and range come from; keys such as ``K-epsteinPM`` refer to ``seeds/reference/domain-2011.md`` §8.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Where a parameter's default and plausible range come from. A calibration fitted to a window of the
#: 2011 record may only use parameters whose evidence lies inside that window (``evidence_end``).
EVIDENCE = {
    "literature": "published studies or official figures, not the 2011 incident record",
    "policy": "the documented policy timeline (law dates), not incidents",
    "record_jan_sep": "the 2011 incident record up to 30 September (seeds/incidents.csv)",
    "assumption": "an assumption, with a wide plausible range",
}


@dataclass(frozen=True)
class Parameter:
    """One model parameter.

    Attributes:
        evidence: a key of :data:`EVIDENCE`: what the default and the plausible range rest on.
    """

    name: str
    default: float
    unit: str
    bounds: tuple[float, float]
    plausible: tuple[float, float]
    source: str
    description: str
    integer: bool = False
    evidence: str = "assumption"

    @property
    def evidence_end(self) -> str | None:
        """Last day of the 2011 record the plausible range was set from (None: none of it)."""
        return "2011-09-30" if self.evidence == "record_jan_sep" else None


def _p(name, default, unit, bounds, plausible, source, description, integer=False, evidence="assumption") -> Parameter:
    return Parameter(name, default, unit, bounds, plausible, source, description, integer, evidence)


PROBABILITY = (0.0, 1.0)
LIT, POLICY, JAN_SEP = "literature", "policy", "record_jan_sep"

PARAMETERS: tuple[Parameter, ...] = (
    # --- Civilians: Epstein's core ---------------------------------------------------------
    _p("legitimacy", 0.80, "1 (share)", PROBABILITY, (0.6, 0.95), "K-epsteinPM; Mesa default L=0.8",
       "perceived legitimacy of the state, L in G = H(1-L)", evidence=LIT),
    _p("activation_threshold", 0.10, "1 (grievance units)", (0.0, 1.0), (0.05, 0.3), "K-epsteinPM: T=0.1",
       "T: a group sympathises openly when G - R*P > T", evidence=LIT),
    _p("arrest_constant", 2.3, "1", (0.0, 20.0), (1.0, 4.0), "K-mesaAgents: k=2.3 gives P=0.9 at C/A=1",
       "k in the estimated arrest probability P = 1 - exp(-k * round(C/A))", evidence=LIT),
    _p("vision", 1, "grid cells", (0, 10), (1, 2), "assumption: one cell (~0.75 deg, ~80 km) is a local community",
       "radius (Moore) within which civilians count police and sympathisers", integer=True),
    _p("police_per_agent_equivalent", 40.0, "officers", (1.0, 1e6), (10.0, 60.0),
       "assumption: converts officers to Epstein's 'cops'; above ~50 the model tips into Epstein-style mass "
       "sympathy, below ~10 patrols stop deterring (calibrated)",
       "officers that count as one 'cop' in the C/A ratio"),
    _p("sympathiser_per_agent_equivalent", 3000.0, "people", (1.0, 1e7), (1500.0, 6000.0),
       "assumption: converts sympathisers to Epstein's 'actives' (calibrated with the previous one)",
       "sympathisers that count as one 'active' in the C/A ratio"),
    _p("religiosity_mean", 0.25, "1 (share)", PROBABILITY, (0.1, 0.5),
       "assumption: share of practising believers most exposed to the 2011 law (K-F18-1768: smaller "
       "Muslim communities outside the Muslim Board were hit hardest)",
       "mean religiosity (Beta-distributed across groups)"),
    _p("religiosity_concentration", 4.0, "1", (0.1, 100.0), (1.0, 10.0), "assumption",
       "Beta concentration a+b of religiosity across groups (lower = more polarised)"),
    _p("hardship_shift_west", 0.10, "1 (hardship units)", (-0.5, 0.5), (0.0, 0.3),
       "K-IWPR: locals in the oil west voiced 'specific grievances against the police'",
       "extra mean hardship in Aktobe, Atyrau, Mangystau and West Kazakhstan", evidence=LIT),
    _p("legitimacy_gap_west", 0.05, "1 (share)", (0.0, 0.5), (0.0, 0.2),
       "K-IWPR (July 2011: locals in the oil west spoke of 'specific grievances against the police'); size: "
       "assumption, the range includes no gap",
       "legitimacy the western regions grant the state below the national level", evidence=LIT),
    # --- Radicalisation and militant cells -------------------------------------------------
    _p("radicalisation_rate", 0.002, "1/day", PROBABILITY, (0.0005, 0.01), "assumption (Genkin & Gutfraind, K-genkin)",
       "daily probability that a sympathising group is drawn into the recruit stage near a militant cell"),
    _p("cell_formation_rate", 5.0e-8, "cells per sympathiser-day", (0.0, 1e-5), (1e-8, 1e-6),
       "order of magnitude: at least two groups active by September 2011 (seeds/incidents.csv, May and "
       "June-July; domain notes §1) from between ten thousand and half a million supporters",
       "hazard that a new militant cell forms, per sympathiser per day", evidence=JAN_SEP),
    _p("recruitment_rate", 0.02, "members per cell-day", (0.0, 1.0), (0.005, 0.08),
       "the Temir group had 12 members by July 2011 (K-RUwikiTemir)",
       "daily rate at which a militant cell gains a member from recruit-stage groups nearby", evidence=JAN_SEP),
    _p("initial_members", 3, "people", (1, 50), (2, 6), "assumption", "members of a newly formed militant cell",
       integer=True),
    _p("split_size", 12, "people", (2, 200), (8, 20), "K-RUwikiTemir: Temir group of 12 (July 2011)",
       "a militant cell larger than this splits in two", integer=True, evidence=JAN_SEP),
    _p("resource_gain", 0.02, "capability per member-day", (0.0, 1.0), (0.005, 0.05), "assumption",
       "daily growth of a militant cell's capability per member (weapons, money, skills)"),
    _p("attack_rate", 0.013, "1/day", PROBABILITY, (0.002, 0.08),
       "order of magnitude: three militant attacks in January-September 2011 by at least three groups "
       "(seeds/incidents.csv); default: the range's geometric middle",
       "daily probability that a capable militant cell attacks, before deterrence, "
       "contagion and triggers", evidence=JAN_SEP),
    _p("attack_cost", 1.0, "capability", (0.0, 100.0), (0.5, 3.0), "assumption",
       "capability a militant cell needs and spends to attack"),
    _p("suicide_share", 0.6, "1", PROBABILITY, (0.1, 0.8),
       "2011 record, January-September: 2 of 3 militant attacks involved self-detonation (seeds/incidents.csv); "
       "default (2 + 1) / (3 + 2)",
       "share of attacks that are suicide bombings", evidence=JAN_SEP),
    _p("bombing_share", 0.2, "1", PROBABILITY, (0.05, 0.5),
       "assumption: no non-suicide bombing by militants in January-September 2011 to set it from",
       "share of attacks that are bombings (of the non-suicide rest: armed attacks)"),
    _p("police_target_share", 0.75, "1", PROBABILITY, (0.5, 0.95),
       "2011 record, January-September: all 3 victims of militant attacks were security personnel",
       "share of attack victims who are security personnel", evidence=JAN_SEP),
    _p("severity_alpha", 2.0, "1", (1.1, 5.0), (1.7, 2.5), "K-clauset: frequency ~ severity^-alpha, alpha~2",
       "power-law exponent of deaths per lethal attack", evidence=LIT),
    _p("severity_max", 30, "people", (1, 1000), (10, 100), "assumption: caps the power law",
       "most deaths in one attack", integer=True),
    _p("lethal_attack_share", 0.6, "1", PROBABILITY, (0.2, 0.8),
       "2011 record, January-September: 2 of 3 militant attacks killed a victim (seeds/incidents.csv); default "
       "(2 + 1) / (3 + 2)",
       "share of attacks that kill at least one victim (attackers' own deaths aside)", evidence=JAN_SEP),
    _p("attacker_death_share", 0.325, "1", PROBABILITY, (0.05, 0.6),
       "assumption: the one armed attack of January-September 2011 (seeds/incidents.csv) left its attackers alive; "
       "default: the range's middle",
       "probability that an armed attacker or bomber (not suicide) dies in the attack"),
    _p("injuries_per_death", 0.4, "people per death", (0.0, 10.0), (0.1, 2.0),
       "2011 record, January-September: 2 injured against 5 deaths in militant attacks (seeds/incidents.csv)",
       "mean injured per person killed in an attack (Poisson)", evidence=JAN_SEP),
    # --- Contagion and triggers ------------------------------------------------------------
    _p("contagion_jump_local", 1.0, "1 (hazard multiplier)", (0.0, 10.0), (0.0, 3.0),
       "K-lewis2012: 37-50 % of insurgent events self-excited; K-braithwaite: attacks cluster in space and time",
       "increase of the attack-hazard multiplier in the attack's region after each attack", evidence=LIT),
    _p("contagion_jump_national", 0.3, "1 (hazard multiplier)", (0.0, 10.0), (0.0, 1.0),
       "K-midlarsky: contagion between places; K-porter (self-exciting attack counts)",
       "increase of the national attack-hazard multiplier after each attack", evidence=LIT),
    _p("contagion_decay_days", 20.0, "days", (0.1, 1000.0), (7.0, 60.0),
       "K-lewis2012: the self-excitation of insurgent attacks lasts about 2-6 weeks",
       "e-folding time of contagion (regional and national)", evidence=LIT),
    _p("raid_retaliation", 0.5, "1 (hazard multiplier)", (-1.0, 10.0), (-0.5, 2.0),
       "K-lyall (shelling deterred: negative), K-braithwaite, K-ojp (indiscriminate action provoked: positive)",
       "change of the attack-hazard multiplier in a region after a raid there that killed someone "
       "(negative: deterrence)",
       evidence=LIT),
    _p("trigger_strength", 1.0, "relative hazard per 0.01 grievance", (0.0, 20.0), (0.0, 5.0),
       "K-ojp, K-korte (backlash: state interventions raised the hazard of new attacks within months), "
       "K-lichbach (repressing non-violent dissent raises violent activity); size: assumption, the range "
       "includes no effect",
       "increase of a militant cell's attack hazard per 0.01 of recent rise in its region's mean grievance"),
    _p("trigger_memory_days", 21.0, "days", (1.0, 365.0), (5.0, 90.0), "assumption",
       "time scale over which a region's grievance rise stops counting as recent (its running mean adapts)"),
    _p("deterrence", 0.2, "1 per (officers per 1000 people)", (0.0, 10.0), (0.0, 2.0),
       "K-epsteinPM; Operation Motorman deterrence (K-ojp)",
       "attack hazard is multiplied by exp(-deterrence * local police per 1000 people)", evidence=LIT),
    # --- Police --------------------------------------------------------------------------------
    _p("police_per_100k", 445.0, "officers per 100,000 people", (1.0, 5000.0), (300.0, 550.0),
       "K-azh5078, K-kstnews: 445-448 per 100,000", "patrol police density, allocated by population",
       evidence=LIT),
    _p("patrol_unit_size", 500, "officers", (50, 100000), (100, 2000), "assumption: a district department",
       "officers per PoliceUnit agent", integer=True),
    _p("special_units", 3, "units", (0, 50), (2, 5), "K-kt, K-EN63800: Arystan (KNB), Arlan, Berkut (MVD)",
       "special-forces units (based in Almaty, Astana, Aktobe)", integer=True, evidence=LIT),
    _p("tip_rate", 0.01, "intelligence per member-day at full informing", (0.0, 1.0), (0.002, 0.05),
       "assumption (Kalyvas: selective violence needs denunciations, K-kalyvasSum)",
       "daily intelligence per cell member, times the informing share of people within vision"),
    _p("inform_propensity_mean", 0.3, "1", PROBABILITY, (0.1, 0.6), "assumption",
       "mean propensity of quiet civilians to inform police"),
    _p("leaderless_resource_factor", 0.5, "1", PROBABILITY, (0.2, 1.0),
       "K-gutfraind: losing the leader weakens but rarely ends a group",
       "resource gain of a militant cell whose founding leader was killed or arrested, relative to one with a "
       "leader", evidence=LIT),
    _p("targeted_arrest_share", 0.5, "1", PROBABILITY, (0.2, 0.8),
       "assumption: arrest operations in 2011 took part of a group at a time (Temir: accomplices detained in "
       "the days after the siege, July)", "probability that each member is taken in a targeted arrest"),
    _p("targeted_arrest_intel_fraction", 0.5, "1", PROBABILITY, (0.2, 0.9), "assumption",
       "share of the raid threshold at which police start targeted arrests"),
    _p("special_unit_size", 100.0, "officers", (1.0, 10000.0), (50.0, 300.0),
       "assumption: unit sizes are unverified (domain notes §4)", "officers in each special-forces unit"),
    _p("targeted_arrest_rate", 0.014, "1/day", PROBABILITY, (0.002, 0.1),
       "assumption; default: the range's geometric middle",
       "daily probability of targeted arrests on a militant cell known to police but below the raid threshold"),
    _p("attack_intel", 0.32, "intelligence", (0.0, 10.0), (0.1, 1.0),
       "2011 record, January-September: the group behind the one armed attack was found within days and besieged "
       "after a nine-day manhunt (seeds/incidents.csv, K-IWPR); default: the range's geometric middle",
       "intelligence police gain on a militant cell from each attack it carries out",
       evidence=JAN_SEP),
    _p("intel_decay_days", 60.0, "days", (1.0, 10000.0), (20.0, 180.0), "assumption",
       "e-folding time of stale intelligence"),
    _p("raid_surrender", 0.2, "1", PROBABILITY, (0.0, 0.5),
       "2011 record, January-September: the one large raid (Temir, July) ended without surrender",
       "probability that a raided militant cell surrenders when offered the chance (2011 practice)",
       evidence=JAN_SEP),
    _p("raid_officer_risk", 0.15, "officers killed per militant", (0.0, 10.0), (0.02, 0.4),
       "2011 record, January-September: Temir siege, 2 officers killed against a group of 12 (July)",
       "mean officers killed per member of a raided militant cell that does not surrender (Poisson)",
       evidence=JAN_SEP),
    _p("informant_yield", 1.0, "tip multiplier per unit of effort", (0.0, 10.0), (0.0, 2.0),
       "assumption (denunciations need trust: K-kalyvasSum; community policing: K-dugan)",
       "extra informants' tips per unit of community-policing effort (1 doubles the tips)"),
    _p("community_legitimacy_gain", 0.03, "1 (share) per unit of effort", (0.0, 0.5), (0.0, 0.05),
       "K-dugan: conciliatory actions are followed by less terrorism (direction; size assumed)",
       "legitimacy added per unit of community-policing effort"),
    # --- Repression and backlash ------------------------------------------------------------
    _p("backlash_per_detainee", 0.08, "hardship per uninvolved detainee", (0.0, 1.0), (0.0, 0.2),
       "K-ojp, K-cjra (internment backlash), K-dugan, K-lyall2015",
       "hardship added to the group of each uninvolved person detained in a sweep", evidence=LIT),
    _p("backlash_decay_days", 120.0, "days", (1.0, 10000.0), (30.0, 365.0), "assumption",
       "e-folding time of backlash"),
    _p("detention_days", 30.0, "days", (1.0, 3650.0), (7.0, 90.0),
       "K-caravan301667: Atyrau suspects held about a month before warrants (August-September 2011)",
       "mean detention of sweep detainees", evidence=JAN_SEP),
    # --- The religion law: how strongly people respond to it ------------------------------
    _p("law_hardship_effect", 0.10, "hardship per unit of religiosity", (0.0, 0.5), (0.0, 0.3),
       "assumption, wide and including no effect: communities called re-registration 'complex', 'arbitrary', "
       "'expensive' (K-F18-1768); the Grand Mufti warned it could anger the pious (K-dziennik)",
       "hardship the 2011 law adds at full effect, per unit of religiosity, for the law's full scope"),
    _p("law_legitimacy_effect", 0.05, "legitimacy per unit of religiosity", (0.0, 0.5), (0.0, 0.2),
       "assumption, wide and including no effect (K-F18list: 'those who adopted such laws will answer before "
       "Allah')", "legitimacy the 2011 law withdraws at full effect, per unit of religiosity, for its full scope"),
    _p("law_lead_days", 14.0, "days", (0.0, 120.0), (0.0, 40.0),
       "policy timeline (seeds/policy_events.csv): Senate vote 29 Sep is 26 days before entry into force on "
       "25 Oct, signature 11-13 Oct 12-14 days before", "days before entry into force that people start to "
       "respond to the law (debate, vote, signature)", evidence=POLICY),
    _p("law_ramp_days", 30.0, "days", (0.0, 365.0), (1.0, 120.0),
       "policy timeline: closures of prayer rooms before entry into force, re-registration deadline one year "
       "later (K-F18list, K-wwrn)", "days from the start of the response to its full effect (linear)",
       evidence=POLICY),
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
    evidence (what the range rests on, :data:`EVIDENCE`), source and description. Ranges are closed
    intervals; an infinite upper bound is open.
    """
    lines = [
        "| parameter | unit | default | plausible range | bounds | evidence | source | description |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in PARAMETERS:
        low, high = p.bounds
        bounds = f"[{_number(low, p.integer)}, {_number(high, p.integer)}" + (")" if high == float("inf") else "]")
        plausible = f"[{_number(p.plausible[0], p.integer)}, {_number(p.plausible[1], p.integer)}]"
        cells = (f"`{p.name}`", p.unit, _number(p.default, p.integer), plausible, bounds, p.evidence, p.source,
                 p.description)
        lines.append("| " + " | ".join(_cell(str(c)) for c in cells) + " |")
    return "\n".join(lines) + "\n"
