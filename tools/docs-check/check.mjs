// Load every page of the built site in headless Chromium and check what a
// reader would see: images that do not load, links to pages that do not
// exist, console errors, pictures wider than the page, Doxygen's "--" turned
// into an en dash (a command that cannot be pasted), HTML tags and Markdown
// (backticks, **bold**, [text](link)) shown as text, code wider than its box or
// squeezed beside the table of contents, and plots whose series all sit in a
// sliver of their axis. Writes a whole-page screenshot of each page under
// build/docs/shots/.
// Usage: node tools/docs-check/check.mjs HTML_DIR SHOTS_DIR
import { chromium } from 'playwright-core';
import { createServer } from 'node:http';
import { readFile, readdir, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, extname, normalize } from 'node:path';

const [html, shots] = process.argv.slice(2);
const types = { '.html': 'text/html', '.css': 'text/css', '.js': 'text/javascript',
                '.png': 'image/png', '.svg': 'image/svg+xml', '.map': 'text/plain' };
const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
  if (path === '/favicon.ico') { res.writeHead(204); res.end(); return; }   // the browser asks; the site has none
  try {
    const body = await readFile(join(html, path === '/' ? 'index.html' : path));
    res.writeHead(200, { 'content-type': types[extname(path)] || 'application/octet-stream' });
    res.end(body);
  } catch {
    res.writeHead(404); res.end('not found');
  }
});
await new Promise(r => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}/`;

// The pages a reader opens: the start page, every chapter, the workshop, the glossary.
const files = (await readdir(html)).filter(f =>
  /^(index|ch\d\d_[a-z0-9_]+|glossary|md_docs_workshop_workshop)\.html$/.test(f)).sort();
await mkdir(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
let problems = 0;
const say = (f, what) => { problems++; console.log(`docs-check: ${f}: ${what}`); };

for (const f of files) {
  const errors = [];
  const onConsole = m => { if (m.type() === 'error') errors.push(`console error: ${m.text()} (${(m.location().url || '').replace(base, '')})`); };
  const onPageError = e => errors.push(`script error: ${e.message}`);
  const onResponse = r => { if (r.status() >= 400) errors.push(`${r.status()} for ${r.url().replace(base, '')}`); };
  const onFailed = r => errors.push(`request failed: ${r.url().replace(base, '')}`);
  page.on('console', onConsole); page.on('pageerror', onPageError);
  page.on('response', onResponse); page.on('requestfailed', onFailed);
  await page.goto(base + f, { waitUntil: 'load' });
  await page.waitForTimeout(300);                       // the navigation tree's scripts
  // The scripts add images (the search box's, the tree's sync icon) after
  // 'load'; on a cold first page they may still be on their way. Wait until
  // every image has either loaded or failed (complete), up to 10 s; one that
  // failed still counts below.
  await page.waitForFunction(() => [...document.images].every(i => i.complete), null,
                             { timeout: 10000 }).catch(() => {});
  const found = await page.evaluate(() => {
    const out = [];
    const width = document.documentElement.clientWidth;
    for (const img of document.querySelectorAll('img')) {
      if (!img.complete || img.naturalWidth === 0) out.push(`image does not load: ${img.getAttribute('src')}`);
    }
    for (const el of document.querySelectorAll('div.contents img, div.contents object, div.contents svg, div.contents iframe')) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > width + 1)
        out.push(`${el.tagName.toLowerCase()} ${el.getAttribute('src') || el.getAttribute('data') || ''} is ${Math.round(r.width)} px wide and ends at ${Math.round(r.right)} px, past the page's ${width} px`);
    }
    const text = document.querySelector('div.contents')?.innerText || '';
    for (const m of text.matchAll(/(^|[\s(`])\u2013([a-z][a-z-]*)/g))
      out.push(`"\u2013${m[2]}": Doxygen turned "--${m[2]}" into an en dash`);
    for (const m of text.matchAll(/<\/?(tt|code|b|i|em)>/g)) out.push(`an HTML tag shown as text: ${m[0]}`);
    const walk = document.createTreeWalker(document.querySelector('div.contents') || document.body,
                                           NodeFilter.SHOW_TEXT);
    for (let n; (n = walk.nextNode());) {      // prose only: code may hold asterisks, backticks, brackets
      if (n.parentElement.closest('code, pre, .fragment, tt, script, style')) continue;
      const t = n.nodeValue, show = `"${t.trim().slice(0, 60)}"`;
      if (t.includes('**')) out.push(`Markdown bold shown as asterisks: ${show}`);
      if (/`[^`\s][^`\n]*`/.test(t)) out.push(`Markdown code shown as backticks: ${show}`);
      if (/\[[^\]\n]+\]\([^)\s]+\)/.test(t)) out.push(`a Markdown link shown as text: ${show}`);
    }
    // code wider than its box, or squeezed beside the floating table of contents
    const area = document.querySelector('div.contents')?.getBoundingClientRect();
    const toc = document.querySelector('div.toc')?.getBoundingClientRect();
    for (const el of document.querySelectorAll('div.contents pre, div.contents div.fragment')) {
      const r = el.getBoundingClientRect(), first = `"${el.innerText.trim().split('\n')[0].slice(0, 50)}"`;
      if (el.scrollWidth > el.clientWidth + 1 || (area && r.right > area.right + 1) ||
          [...el.querySelectorAll('.line')].some(l => l.scrollWidth > l.clientWidth + 1))
        out.push(`code wider than its box: ${first} (${el.scrollWidth} px in ${el.clientWidth} px)`);
      if (toc && toc.height > 0 && r.top < toc.bottom && r.bottom > toc.top)
        out.push(`code beside the table of contents, squeezed to ${Math.round(r.width)} px: ${first}`);
    }
    const title = document.querySelector('div.headertitle')?.innerText.trim() || '';
    const h1 = document.querySelector('div.contents h1')?.innerText.trim() || '';
    if (title && h1 && title === h1) out.push(`the title is shown twice: "${title}"`);
    const links = [...document.querySelectorAll('div.contents a[href]')].map(a => a.getAttribute('href'));
    return { out, links };
  });
  for (const href of found.links) {
    if (/^[a-z]+:/.test(href) || href.startsWith('#')) continue;
    const target = href.split('#')[0];
    if (target && !existsSync(join(html, target))) errors.push(`broken link: ${href}`);
  }
  for (const e of [...found.out, ...errors]) say(f, e);
  // Doxygen scrolls inside #doc-content (resize.js sets its height to the
  // window's): let it grow to its content, so the full-page shot holds it all.
  await page.addStyleTag({ content: '#doc-content { height: auto !important; overflow: visible !important; }' });
  await page.screenshot({ path: join(shots, f.replace(/\.html$/, '.png')), fullPage: true });
  page.off('console', onConsole); page.off('pageerror', onPageError);
  page.off('response', onResponse); page.off('requestfailed', onFailed);
}
// Plots (gnuplot SVG, shown as images): fail when every series together sits in
// under a quarter of the y axis, a scale that cannot tell them apart.
for (const f of (await readdir(html)).filter(f => f.endsWith('.svg')).sort()) {
  const svg = await readFile(join(html, f), 'utf8');
  const box = svg.match(/d='M([\d.]+),([\d.]+) L\1,([\d.]+) L([\d.]+),\3 L\4,\2 L\1,\2 Z/);
  if (!svg.includes('id="gnuplot_plot_') || !box) continue;
  const ys = [];
  for (const part of svg.split('<g id="gnuplot_plot_').slice(1)) {
    const p = [...part.matchAll(/#gpPt\d+' transform='translate\([\d.]+,([\d.]+)\)/g)].map(m => +m[1]);
    if (part.includes('<text>')) p.pop();          // a titled series: its last point is the key's sample
    ys.push(...p);
  }
  const span = Math.max(...ys) - Math.min(...ys), height = box[3] - box[2];
  if (ys.length > 1 && span > 0 && span < height / 4)
    say(f, `every series drawn within ${Math.round(span)} px of a ${Math.round(height)} px axis: the scale does not separate them`);
}
await browser.close();
server.close();
console.log(problems ? `docs-check: ${problems} problems in ${files.length} pages (screenshots: ${shots})`
                     : `docs-check: ${files.length} pages load clean in Chromium (screenshots: ${shots})`);
process.exit(problems ? 1 : 0);
