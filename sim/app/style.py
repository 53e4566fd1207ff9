"""The page's style sheet: projector-sized text (16 px and up), a sticky toolbar, figures at full width."""

CSS = """
html, body, .v-application, .kazsim-app { font-size: 16px !important; line-height: 1.45; }
.kazsim-app *:not(h2):not(h3):not(.kazsim-day):not(.kazsim-caption), .v-overlay-container * {
    font-size: 16px !important; }
.kazsim-app { display: grid; grid-template-columns: 320px minmax(0, 1fr); gap: 12px; padding: 0 8px 8px 0;
              color: #1a1a1a; }
.kazsim-sidebar { position: sticky; top: 0; align-self: start; max-height: 100vh; overflow-y: auto;
                  padding: 8px 12px; background: #f5f5f5; border-right: 1px solid #ddd; }
.kazsim-sidebar h2, .kazsim-main h2 { font-size: 20px; margin: 8px 0 4px 0; font-weight: 600; }
.kazsim-sidebar h3 { font-size: 17px; margin: 12px 0 2px 0; font-weight: 600; }
.kazsim-toolbar { position: sticky; top: 0; z-index: 10; background: #ffffff; display: flex; flex-wrap: wrap;
                  align-items: center; gap: 12px; padding: 6px 0; border-bottom: 1px solid #ddd; }
.kazsim-day { font-size: 20px; font-weight: 600; }
.kazsim-control { margin: 4px 0 6px 0; }
.kazsim-control-label { font-size: 16px; }
.kazsim-control-value { font-weight: 700; white-space: nowrap; }
.kazsim-figure img, img.kazsim-figure { width: 100%; max-width: 100%; height: auto; display: block; }
.kazsim-caption { display: block; font-size: 18px !important; font-weight: 700; margin: 8px 0 2px 0; }
.kazsim-figure-box { position: relative; }
.kazsim-today { position: absolute; width: 2px; margin-left: -1px; background: rgba(0, 0, 0, 0.65);
                pointer-events: none; }
.kazsim-worlds { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; align-items: start; }
.kazsim-main div:has(> .kazsim-figure) { height: auto !important; min-height: 0; }
.kazsim-notes { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.kazsim-app table { border-collapse: collapse; font-size: 16px; }
.kazsim-app td, .kazsim-app th { white-space: normal; padding: 2px 8px; text-align: left; vertical-align: top;
                                 border-bottom: 1px solid #e0e0e0; }
.kazsim-app .v-label, .kazsim-app .v-field-label, .kazsim-app .v-btn, .kazsim-app .v-field__input,
.kazsim-app .v-select__selection-text, .v-list-item-title, .kazsim-app .v-selection-control .v-label {
    font-size: 16px !important; opacity: 1 !important; }
.kazsim-app .v-btn { text-transform: none; letter-spacing: normal; }
.kazsim-app :focus-visible { outline: 3px solid #0072B2 !important; outline-offset: 2px; }
.kazsim-control .v-slider .v-input__prepend, .kazsim-control .v-slider > .v-label {
    position: absolute !important; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
.kazsim-control .v-slider { margin-inline: 4px; }
.kazsim-guide p, .kazsim-guide li { margin: 0 0 8px 0; }
.kazsim-message { color: #8a1c00; font-weight: 600; }
@media (max-width: 1000px) { .kazsim-app { grid-template-columns: 1fr; } .kazsim-sidebar { position: static; }
                             .kazsim-worlds, .kazsim-notes { grid-template-columns: 1fr; } }
"""
