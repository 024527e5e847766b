// Screenshots of pages for people to look at: node e2e/shoot.mjs OUT_DIR URL_PATH... (server must run on :8080)
import { launch } from './browser.mjs';
import fs from 'node:fs';
const [out, ...paths] = process.argv.slice(2);
fs.mkdirSync(out, { recursive: true });
const browser = await launch();
for (const [w, h] of [[1280, 720], [1440, 900]]) {
  const page = await browser.newPage({ viewport: { width: w, height: h } });
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.log(`[console.${m.type()}] ${m.text()}`); });
  page.on('pageerror', (e) => console.log('[pageerror]', e.message));
  for (const p of paths) {
    await page.goto(`http://127.0.0.1:8080${p}`);
    await page.waitForTimeout(1500);
    const name = `${out}/${p.replace(/[^a-z0-9]+/gi, '_')}_${w}x${h}.png`;
    await page.screenshot({ path: name, fullPage: false });
    console.log(name);
  }
  await page.close();
}
await browser.close();
