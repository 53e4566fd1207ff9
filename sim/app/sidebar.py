"""The page's controls: the toolbar (play, step, speed, day) and the sidebar (scenario, worlds, seed, levers).

Every control is a native, focusable button, switch, slider, list or field (keyboard: Tab, Enter or Space,
arrow keys). Lever controls come from the lever registry through ``model_params`` and show their value and
unit beside their label; moving one during a run changes the steered world from the next day on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from html import escape
from typing import Any

import solara

from sim.app.controls import lever_controls, model_params, scenario_names, shown_value
from sim.app.session import SPEEDS, Frame, Session


def use_frame[T](session: Session, select: Callable[[Frame], T]) -> T:
    """The part of the session's latest frame that ``select`` picks; the component redraws when it changes."""
    value, set_value = solara.use_state(select(session.frame))

    def subscribe() -> Callable[[], None]:
        last = [select(session.frame)]
        set_value(last[0])

        def listener(frame: Frame) -> None:
            new = select(frame)
            if new != last[0]:
                last[0] = new
                set_value(new)

        return session.subscribe(listener)

    solara.use_effect(subscribe, [session])
    return value


@solara.component
def Toolbar(session: Session):
    """Play or pause, one day on, the speed, and where the run is (redrawn only when one of them changes)."""
    playing, finished, speed = use_frame(session, lambda f: (f.playing, f.day >= f.days, f.speed))
    with solara.Div(classes=["kazsim-toolbar"]):
        solara.Button("❚❚ Pause" if playing else "▶ Play", on_click=session.toggle, color="primary",
                      disabled=finished and not playing, classes=["kazsim-play"])
        solara.Button("Step +1 day", on_click=lambda: session.step(1), color="primary", outlined=True,
                      disabled=finished, classes=["kazsim-step"])
        solara.Select("Speed", values=[f"{s} days/s" for s in SPEEDS], value=f"{speed} days/s",
                      on_value=lambda text: session.set_speed(int(text.split()[0])), style={"max-width": "150px"},
                      classes=["kazsim-speed"])
        DayCounter(session)


@solara.component
def DayCounter(session: Session):
    """The day of the run and the date of the next day (the one part of the toolbar every frame changes)."""
    day, days, date = use_frame(session, lambda f: (f.day, f.days, f.date))
    solara.Text(f"Day {day} of {days}", classes=["kazsim-day"])
    solara.Text(f"next: {date:%d %B %Y}" if day < days else "the year is over", classes=["kazsim-date"])


@solara.component
def LeverControl(session: Session, name: str, spec: dict, value: Any, disabled: bool):
    """One lever control: its label with the value in force and unit, then the switch, slider or field."""
    _, control = lever_controls()[name]
    with solara.Div(classes=["kazsim-control", f"kazsim-control-{name}"]):
        if spec["type"] == "Checkbox":
            solara.Checkbox(label=f"{spec['label']}: {shown_value(control, value)}", value=bool(value),
                            on_value=lambda v: session.change(name, v), disabled=disabled)
            return
        with solara.Row(gap="6px", style={"align-items": "baseline", "flex-wrap": "wrap"}):
            solara.Text(spec["label"], classes=["kazsim-control-label"])
            solara.Text(shown_value(control, value), classes=["kazsim-control-value"])
        if spec["type"] == "InputText":
            solara.InputText("date (YYYY-MM-DD)", value=str(value or ""), continuous_update=False,
                             on_value=lambda v: session.change(name, v), disabled=disabled)
        else:
            slider = solara.SliderInt if spec["type"] == "SliderInt" else solara.SliderFloat
            slider(spec["label"], value=value, min=spec["min"], max=spec["max"], step=spec["step"],
                   on_value=lambda v: session.change(name, v), thumb_label=False, disabled=disabled)


@solara.component
def Sidebar(session: Session):
    """Scenario, one or two worlds, seed and Reset; then the levers of the steered world and the export."""
    setup, controls, message, changes, levers = use_frame(
        session, lambda f: (f.setup, f.controls, f.message, f.changes, f.levers))
    seed, set_seed = solara.use_state(setup.seed)
    params = solara.use_memo(lambda: model_params(setup.scenario), [setup.scenario])
    two = setup.side_by_side

    def reset(**changes: Any) -> None:
        session.reset(replace(setup, **{"seed": seed, "controls": {}, **changes}))

    with solara.Div(classes=["kazsim-sidebar"]):
        solara.HTML("h2", "kazsim · Kazakhstan 2011")
        solara.Select("Scenario", values=list(scenario_names()), value=setup.scenario,
                      on_value=lambda name: reset(scenario=name))
        solara.ToggleButtonsSingle(value="Side by side" if two else "One world",
                                   values=["One world", "Side by side"],
                                   on_value=lambda mode: reset(side_by_side=mode == "Side by side"))
        if two:
            solara.Checkbox(label="Same seed in both worlds", value=setup.same_seed,
                            on_value=lambda same: reset(same_seed=same))
        solara.InputText("Seed (blank: the scenario's)", value=seed, on_value=set_seed, continuous_update=True)
        solara.Button("Reset: start again", on_click=lambda: reset(controls=controls),
                      color="primary", outlined=True, classes=["kazsim-reset"])
        with solara.Div(classes=["kazsim-message-slot"]):  # a message coming or going moves no other control
            if message:
                solara.Error(message, classes=["kazsim-input-error", "kazsim-message"])
        heading = "Levers of world B (from the next day)" if two else "Levers (from the next day)"
        solara.HTML("h3", heading)
        if not levers:
            solara.Text("This model has no policy levers.")
        for name, spec in params.items():
            LeverControl(session, name, spec, controls.get(name, spec["value"]),
                         disabled=not levers).key(f"lever-{name}")
        if changes:
            solara.HTML("h3", "Policy changes in this run")
            solara.HTML("ul", "".join(f"<li>{escape(line)}</li>" for line in changes), classes=["kazsim-changes"])
        if levers:
            with solara.Div(classes=["kazsim-export"]):
                solara.FileDownload(lambda: session.export()[1].encode("utf-8"), filename=session.export_name(),
                                    label="Export this run as a scenario file")
