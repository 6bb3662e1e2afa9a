// @0xsequence/metadata in a real headless Chromium: a page served by a static server on one
// origin (127.0.0.1, a port of its own) calls the metadata server on another, so the CORS
// preflights are the browser's own. The page (browser-app.mjs, bundled with esbuild) creates
// a collection, uploads a PNG drawn on a canvas, publishes, and shows the public metadata and
// the image; this test reads its result and takes a screenshot.
//
// Run by `cargo test -p metadata-server --test sdk_js` (which starts the server and sets
// METADATA_URL / METADATA_JWT / METADATA_JWT_SECRET, and METADATA_SCREENSHOT: where the
// screenshot goes). Chromium is Debian's, /usr/bin/chromium (CHROMIUM overrides it); playwright
// never downloads a browser.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { chromium } from 'playwright-core'
import { serverFromEnv } from './common.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const server = serverFromEnv()
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium'
// Without these, Chromium on a machine with no outside network stalls on its own services.
const chromiumFlags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
]

/** Bundles browser-app.mjs (with the SDK from node_modules) into one script. */
async function bundle() {
  const out = await build({
    entryPoints: [join(here, 'browser-app.mjs')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    write: false,
    logLevel: 'silent'
  })
  return out.outputFiles[0].text
}

function page(config) {
  // `<` escaped so the JSON cannot close the script element.
  const json = JSON.stringify(config).replace(/</g, '\\u003c')
  return `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>@0xsequence/metadata against metadata-server</title>
<style>body{font:14px sans-serif;margin:16px}pre{background:#f4f4f4;padding:8px;white-space:pre-wrap;word-break:break-all}
img{border:1px solid #888;width:192px;height:128px;image-rendering:pixelated}</style></head>
<body><h1>@0xsequence/metadata in Chromium</h1>
<p>page: <code id="origin"></code> → API: <code>${server.baseUrl}</code></p>
<img id="image" alt="uploaded asset">
<h2>Public metadata</h2><pre id="metadata"></pre>
<h2>Log</h2><pre id="log"></pre>
<h2>Result</h2><pre id="result"></pre>
<script id="config" type="application/json">${json}</script>
<script>document.getElementById('origin').textContent = location.origin</script>
<script src="/app.js"></script>
</body></html>`
}

/** A static server on 127.0.0.1, port 0, serving the page and the bundle. */
async function startStatic(files) {
  const http = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname
    const file = files[path]
    if (!file) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body)
  })
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve))
  return { http, origin: `http://127.0.0.1:${http.address().port}` }
}

test('a page on another origin creates, uploads, publishes and shows the image', async (t) => {
  const script = await bundle()
  const { http, origin } = await startStatic({
    '/': {
      type: 'text/html; charset=utf-8',
      body: page({ baseUrl: server.baseUrl, jwt: server.jwt, projectId: server.projectId })
    },
    '/app.js': { type: 'text/javascript; charset=utf-8', body: script }
  })
  assert.notEqual(origin, new URL(server.baseUrl).origin, 'the page and the API are on different origins')

  const userDataDir = mkdtempSync(join(tmpdir(), 'metadata-chromium-'))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: chromiumFlags,
    viewport: { width: 900, height: 900 },
    timeout: 60_000
  })
  // Cleanup in reverse order of start (t.after hooks run first-registered first).
  t.after(async () => {
    await context.close()
    rmSync(userDataDir, { recursive: true, force: true })
    http.close()
  })

  const browserPage = context.pages()[0] || (await context.newPage())
  const problems = []
  browserPage.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  browserPage.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`)
  })
  browserPage.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()} for ${response.url()}`)
  })
  // The calls the page makes to the API, as Chromium sent them (preflights are not listed).
  const apiCalls = []
  browserPage.on('requestfinished', async (request) => {
    if (request.url().startsWith(server.baseUrl)) {
      const response = await request.response()
      apiCalls.push(`${request.method()} ${new URL(request.url()).pathname} ${response?.status()}`)
    }
  })

  await browserPage.goto(`${origin}/`, { timeout: 60_000 })
  // Wait for the page's outcome: the <pre id=result> is filled by `finish` (`window.result`
  // alone would not do: before `finish` runs it names that element, by HTML's named access).
  await browserPage.waitForFunction(
    () => (document.getElementById('result')?.textContent || '').trim() !== '',
    null,
    { timeout: 60_000 }
  )
  const result = JSON.parse(await browserPage.evaluate(() => JSON.stringify(window.result)))
  const shown = JSON.parse(await browserPage.textContent('#result'))

  const screenshot = process.env.METADATA_SCREENSHOT || join(tmpdir(), 'metadata-sdk-browser.png')
  await browserPage.screenshot({ path: screenshot, fullPage: true })
  console.log(`screenshot: ${screenshot}`)
  console.log(`api calls: ${JSON.stringify(apiCalls)}`)

  assert.deepEqual(shown, result, 'the <pre id=result> shows window.result')
  assert.equal(result.ok, true, `the page failed: ${JSON.stringify(result)}; ${problems.join('; ')}`)
  assert.deepEqual(problems, [])
  assert.equal(result.pageOrigin, origin)
  assert.notEqual(result.pageOrigin, result.apiOrigin)
  assert.equal(result.private, false)
  assert.equal(result.metadata.name, 'Browser collection')
  assert.equal(result.asset.mimeType, 'image/png')
  assert.equal(result.asset.filesize, result.pngBytes)
  assert.equal(result.asset.width, 96)
  assert.equal(result.asset.height, 64)
  assert.equal(result.image.src, result.metadata.image)
  assert.ok(result.image.src.startsWith(server.baseUrl), result.image.src)
  assert.equal(result.image.naturalWidth, 96)
  assert.equal(result.image.naturalHeight, 64)
  for (const call of ['POST /rpc/Collections/CreateCollection 200', 'POST /rpc/Collections/PublishCollection 200']) {
    assert.ok(apiCalls.includes(call), `${call} in ${JSON.stringify(apiCalls)}`)
  }
  assert.ok(apiCalls.some((c) => /^PUT \/projects\/\d+\/collections\/\d+\/assets\/\d+\/upload 200$/.test(c)), JSON.stringify(apiCalls))
})
