// Draws the sample site's figure, "Meta's AI model lineage" (content/guides/meta/lineage.png), from
// the SVG below with sharp: `node scripts/sample-figure.mjs`. Kept so that the PNG can be redrawn.
import sharp from 'sharp';

const W = 1440;
const H = 640;
const releases = [
  ['Jul 2023', 'Llama 2', 'open weights, base and chat', 'open'],
  ['Aug 2023', 'Code Llama', 'code models on Llama 2', 'open'],
  ['Apr 2024', 'Llama 3', 'capability upgrade', 'open'],
  ['Jul 2024', 'Llama 3.1', '405B, multilingual', 'open'],
  ['Sep 2024', 'Llama 3.2', 'first multimodal, edge', 'open'],
  ['Apr 2025', 'Llama 4', 'Scout and Maverick, MoE', 'open'],
  ['Apr 2026', 'Muse Spark', 'closed weights, MSL', 'closed'],
];
const left = 170;
const step = (W - 2 * left) / (releases.length - 1);
const axis = 330;
const nodes = releases
  .map(([date, name, note, kind], i) => {
    const x = left + i * step;
    const up = i % 2 === 0;
    const colour = kind === 'open' ? '#2f6f4f' : '#b4452c';
    // Labels above the line for every other release, below for the rest: date, name, note.
    const [stemEnd, date_, name_, note_] = up ? [axis - 100, axis - 190, axis - 152, axis - 118] : [axis + 100, axis + 132, axis + 170, axis + 204];
    return `
  <line x1="${x}" y1="${axis}" x2="${x}" y2="${stemEnd}" stroke="${colour}" stroke-width="3"/>
  <circle cx="${x}" cy="${axis}" r="16" fill="${colour}"/>
  <text x="${x}" y="${date_}" text-anchor="middle" font-family="sans-serif" font-size="22" fill="#5b5750">${date}</text>
  <text x="${x}" y="${name_}" text-anchor="middle" font-family="sans-serif" font-size="30" font-weight="bold" fill="#1d1b18">${name}</text>
  <text x="${x}" y="${note_}" text-anchor="middle" font-family="sans-serif" font-size="20" fill="#5b5750">${note}</text>`;
  })
  .join('');
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
  <rect width="100%" height="100%" fill="#f7f5f0"/>
  <text x="${left - 40}" y="64" font-family="sans-serif" font-size="34" font-weight="bold" fill="#1d1b18">Meta's AI model lineage</text>
  <line x1="${left - 40}" y1="${axis}" x2="${W - left + 40}" y2="${axis}" stroke="#8a857c" stroke-width="4"/>${nodes}
  <circle cx="${left - 30}" cy="${H - 50}" r="12" fill="#2f6f4f"/>
  <text x="${left - 8}" y="${H - 42}" font-family="sans-serif" font-size="22" fill="#1d1b18">open weights</text>
  <circle cx="${left + 200}" cy="${H - 50}" r="12" fill="#b4452c"/>
  <text x="${left + 222}" y="${H - 42}" font-family="sans-serif" font-size="22" fill="#1d1b18">closed weights</text>
</svg>`;
await sharp(Buffer.from(svg)).png({ compressionLevel: 9, palette: true }).toFile(new URL('../content/guides/meta/lineage.png', import.meta.url).pathname);
