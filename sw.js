// Distlab's service worker: after the first visit the app works offline.
//
// - install: fetch /index.html, take the asset URLs Trunk wrote into it (the app's .js and
//   _bg.wasm, the stylesheet, the favicon, /public/...), and cache them with the page in a
//   cache named after a hash of index.html (a new build is a new cache).
// - activate: take control of open pages (clients.claim) and drop older caches.
// - fetch: navigations (any route, e.g. /lesson/raft?step=3) go to the network first and
//   fall back to the cached index.html; when the network's index.html is a new build, its
//   assets are cached in a new cache and the old one dropped, so the app is never stale
//   for more than one visit. Other same-origin GETs: the cache first, then the network
//   (and the answer is cached).
//
// Registered by src/main.rs; copied to the site root by Trunk (index.html, copy-file).

const PREFIX = 'distlab-';
const INDEX = '/index.html';
// Assets the app cannot start without: installing fails if one cannot be fetched.
const REQUIRED = /\.(js|wasm|css)$/;

/** A short hex SHA-256 of `text`: the cache's version. */
async function versionOf(text) {
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return PREFIX + Array.from(bytes.slice(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The same-origin URLs (path and query) that `html` refers to: links, scripts, and the
 *  module and wasm paths in Trunk's loader script. */
function assetsOf(html) {
  const urls = new Set();
  const re = /\b(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)')|["'`](\/[^"'`\s]+\.(?:js|wasm|css|svg|png|ico|json|webmanifest))["'`]/g;
  for (const m of html.matchAll(re)) {
    const raw = m[1] ?? m[2] ?? m[3];
    if (!raw || raw.startsWith('#') || raw.startsWith('data:')) continue;
    try {
      const u = new URL(raw, self.location.origin + '/');
      if (u.origin === self.location.origin && u.pathname !== '/' && u.pathname !== INDEX) urls.add(u.pathname + u.search);
    } catch {
      // Not a URL: nothing to cache.
    }
  }
  return [...urls];
}

/** Whether `html` is the app's page (Trunk's loader names a _bg.wasm), not an error page. */
const isApp = (html) => /_bg\.wasm/.test(html);

/** Caches the page `html` and its assets in the cache of its version; returns its name. */
async function precache(html) {
  const name = await versionOf(html);
  const cache = await caches.open(name);
  await Promise.all(assetsOf(html).map(async (url) => {
    try {
      const res = await fetch(url, { cache: 'no-cache' });
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
      await cache.put(url, res);
    } catch (e) {
      if (REQUIRED.test(new URL(url, self.location.origin).pathname)) throw e;
    }
  }));
  await cache.put(INDEX, new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8' } }));
  return name;
}

/** Deletes every Distlab cache but `keep`. */
async function dropOthers(keep) {
  for (const key of await caches.keys()) {
    if (key.startsWith(PREFIX) && key !== keep) await caches.delete(key);
  }
}

/** The newest Distlab cache (caches.keys() lists in creation order), if any. */
async function current() {
  const keys = (await caches.keys()).filter((k) => k.startsWith(PREFIX));
  return keys.length ? keys[keys.length - 1] : null;
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const res = await fetch(INDEX, { cache: 'no-cache' });
    if (!res.ok) throw new Error(`${INDEX}: HTTP ${res.status}`);
    await precache(await res.text());
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const keep = await current();
    if (keep) await dropOthers(keep);
    await self.clients.claim();
  })());
});

/** After a navigation answered by the network: a new build's page gets its own cache. */
async function refresh(res) {
  if (!(res.headers.get('content-type') || '').includes('text/html')) return;
  const html = await res.text();
  if (!isApp(html)) return;
  const name = await versionOf(html);
  if (await caches.has(name)) return;
  await precache(html);
  await dropOthers(name);
}

async function navigate(event) {
  try {
    const res = await fetch(event.request);
    if (res.ok) event.waitUntil(refresh(res.clone()).catch(() => {}));
    return res;
  } catch (e) {
    const cached = await caches.match(INDEX);
    if (cached) return cached;
    throw e;
  }
}

async function cacheFirst(event) {
  const cached = await caches.match(event.request);
  if (cached) return cached;
  const res = await fetch(event.request);
  if (res.ok && res.type === 'basic') {
    const name = await current();
    if (name) {
      const copy = res.clone();
      event.waitUntil(caches.open(name).then((c) => c.put(event.request, copy)).catch(() => {}));
    }
  }
  return res;
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return;
  if (req.mode === 'navigate') event.respondWith(navigate(event));
  else event.respondWith(cacheFirst(event));
});
