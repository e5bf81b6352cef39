"""The feedback page's look: one inline style sheet, light and dark."""

CSS = """
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--mute:#59636e;--card:#f6f8fa;
--line:#d1d9e0;--you:#0969da;--torch:#8c959f;--bad:#cf222e;--badbg:#ffebe9;--warn:#9a6700;
--ok:#1a7f37;--node:#fff;--on:#fff}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--mute:#9198a1;
--card:#151b23;--line:#3d444d;--you:#4493f8;--torch:#9198a1;--bad:#ff7b72;--badbg:#4b1113;
--warn:#d29922;--ok:#3fb950;--node:#0d1117;--on:#0d1117}}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}
main{max-width:1280px;margin:0 auto;padding:8px 24px 48px}
h1{font-size:22px;margin:12px 0 2px}h2{font-size:18px;margin:20px 0 6px}
h3{font-size:15px;margin:14px 0 4px;color:var(--mute)}
code,pre,svg text{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace}
.mute{color:var(--mute)}header{display:flex;justify-content:space-between;align-items:end;
gap:24px;border-bottom:1px solid var(--line);padding-bottom:8px}header p{margin:0}
.score{font-size:30px;font-weight:700;white-space:nowrap}
table{border-collapse:collapse}td,th{padding:2px 12px 2px 0;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.bar{width:160px;height:8px;background:var(--line);border-radius:4px;overflow:hidden}
.bar i{display:block;height:100%;background:var(--ok)}
.causes li{margin:0 0 12px}.causes p{margin:2px 0}
.case{border:1px solid var(--line);border-radius:8px;margin:8px 0;background:var(--card)}
.case>summary{cursor:pointer;padding:8px 12px;overflow-wrap:anywhere}
.case>div{padding:0 12px 12px}.case p{overflow-wrap:anywhere}
.st{display:inline-block;min-width:64px;text-align:center;border-radius:10px;padding:0 8px;
font-size:12px;font-weight:600;color:var(--on);background:var(--mute)}
.st.passed{background:var(--ok)}.st.failed,.st.error,.st.timeout{background:var(--bad)}
.st.blocked{background:var(--warn)}
.scroll{overflow-x:auto;background:var(--bg);border:1px solid var(--line);border-radius:6px;
margin:8px 0}.scroll.from-root{direction:rtl}.scroll svg{direction:ltr;display:block}
.local{border-left:4px solid var(--bad);background:var(--badbg);padding:6px 10px;margin:8px 0}
.local p{margin:2px 0}
pre{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:8px;
overflow-x:auto;user-select:all;font-size:13px}
svg text{font-size:11px;fill:var(--fg)}svg .mute{fill:var(--mute)}
.node rect{fill:var(--node);stroke:var(--line);stroke-width:1.5}
.node.root rect{stroke:var(--fg)}.node.differs rect{stroke:var(--warn);stroke-dasharray:5 3}
.node.first rect{stroke:var(--bad);stroke-width:3.5;fill:var(--badbg)}
.bad{fill:var(--bad)!important;font-weight:700}.bad-text{color:var(--bad);font-weight:700}
.edges{fill:none;stroke:var(--mute);stroke-width:1.2;opacity:.7}
.edge-local{fill:none;stroke:var(--bad);stroke-width:3.5}
.axis{stroke:var(--mute);stroke-width:1}.grid{stroke:var(--line);stroke-width:1}
.curve{fill:none;stroke-width:2.5;stroke-linejoin:round}
.curve.torch{stroke:var(--torch);stroke-width:6;opacity:.55}.curve.yours{stroke:var(--you)}
.mark{stroke:var(--bad);stroke-dasharray:4 3}
.neuron{fill:var(--node);stroke:var(--fg);stroke-width:1.5}.neuron.in{stroke:var(--mute)}
.neuron.first{stroke:var(--bad);stroke-width:4}
.param-first{stroke:var(--bad);stroke-width:4}
"""
