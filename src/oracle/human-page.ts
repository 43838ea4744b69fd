/** The self-contained labeling page of the human oracle (no external assets). */
export function labelPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>synapse-g: label candidates</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,-apple-system,"DejaVu Sans",sans-serif;max-width:820px;margin:2em auto;padding:0 1em;color:#1b1b1b}
h1{font-size:1.2em;margin:0 0 .8em}
#text{font-size:1.35em;line-height:1.45;padding:1em;border:1px solid #ccc;border-radius:8px;min-height:3em;background:#fafafa}
#seed{color:#555;margin:.6em 0 1.2em;font-size:.95em}
.keys button{font-size:1em;margin-right:.5em;padding:.5em 1em;border-radius:6px;border:1px solid #999;background:#fff;cursor:pointer}
.keys button.y{border-color:#2b7a2b}.keys button.n{border-color:#a33}
#progress{height:10px;background:#eee;border-radius:5px;margin:1em 0 .3em;overflow:hidden}#bar{height:100%;width:0;background:#4a7bd0}
#status{color:#333;font-size:.95em}#done{display:none;font-size:1.2em;color:#2b7a2b;margin:1em 0}
svg{border:1px solid #ddd;border-radius:6px;margin-top:1em;background:#fff}
</style></head><body>
<h1>Is this a positive example of the rare event?</h1>
<div id="text">Loading…</div>
<div id="seed"></div>
<div class="keys">
<button class="y" data-key="y"><b>y</b> positive</button><button class="n" data-key="n"><b>n</b> negative</button>
<button data-key="s"><b>s</b> skip</button><button data-key="u"><b>u</b> undo</button>
</div>
<div id="progress"><div id="bar"></div></div>
<div id="status"></div>
<div id="done">All candidates of this round are labeled. The next round appears here when mining proposes it.</div>
<svg id="chart" width="780" height="180" role="img" aria-label="positives found against queries"></svg>
<script>
const token = new URLSearchParams(location.search).get('token');
let current = null, sending = false;
function esc(s){return String(s).replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));}
function render(s){
  current = s.current;
  document.getElementById('text').innerHTML = current ? esc(current.text) : '<i>Waiting for candidates…</i>';
  document.getElementById('seed').innerHTML = current && current.nearestSeed ? 'Nearest seed (similarity ' + Number(current.similarity).toFixed(3) + '): ' + esc(current.nearestSeed) : '';
  const r = s.round;
  document.getElementById('bar').style.width = r && r.total ? (100 * r.done / r.total) + '%' : '0';
  document.getElementById('status').textContent = (r ? 'This round: ' + r.done + ' of ' + r.total + ' labeled. ' : '') + 'Positives found: ' + s.stats.positives + ' of ' + s.stats.queried + ' labeled.';
  document.getElementById('done').style.display = !current && r ? 'block' : 'none';
  document.body.dataset.state = current ? 'labeling' : 'idle';
  document.body.dataset.queried = s.stats.queried;
  chart(s.stats.history);
}
function chart(h){
  const svg = document.getElementById('chart'), W = 780, H = 180, P = 30;
  const mx = Math.max(1, ...h.map(p => p[0])), my = Math.max(1, ...h.map(p => p[1]));
  const pts = h.map(p => (P + (W - 2*P) * p[0] / mx).toFixed(1) + ',' + (H - P - (H - 2*P) * p[1] / my).toFixed(1)).join(' ');
  svg.innerHTML = '<line x1="'+P+'" y1="'+(H-P)+'" x2="'+(W-P)+'" y2="'+(H-P)+'" stroke="#999"/><line x1="'+P+'" y1="'+P+'" x2="'+P+'" y2="'+(H-P)+'" stroke="#999"/>' +
    '<polyline fill="none" stroke="#4a7bd0" stroke-width="2" points="'+pts+'"/>' +
    '<text x="'+(W/2)+'" y="'+(H-8)+'" font-size="12" text-anchor="middle">queries ('+mx+')</text>' +
    '<text x="12" y="'+(H/2)+'" font-size="12" transform="rotate(-90 12 '+(H/2)+')" text-anchor="middle">positives ('+my+')</text>';
}
async function refresh(){ const r = await fetch('/api/state?token=' + token); render(await r.json()); }
async function send(key){
  if (sending) return; sending = true;
  try {
    const r = await fetch('/api/answer?token=' + token, {method:'POST', headers:{'content-type':'application/json'}, body: JSON.stringify({key, id: current ? current.id : undefined})});
    render(await r.json());
  } finally { sending = false; }
}
document.addEventListener('keydown', e => { if (['y','n','s','u'].includes(e.key)) { e.preventDefault(); send(e.key); } });
document.querySelectorAll('button[data-key]').forEach(b => b.addEventListener('click', () => send(b.dataset.key)));
refresh(); setInterval(() => { if (!sending) refresh(); }, 1000);
</script></body></html>`;
}
