// The web page of browser.test.mjs, bundled for the browser by esbuild: what a web app built
// on @0xsequence/metadata does, from its own origin, against the metadata server on another
// (so every call with `Authorization` is preceded by a CORS preflight). It draws a PNG on a
// canvas, creates a collection and an asset, uploads the PNG, publishes, then fetches the
// public metadata and shows it with the image. The outcome goes to `window.result` and to
// <pre id="result"> as JSON: `{ ok: true, … }` or `{ ok: false, error }`.
import { SequenceCollections } from '@0xsequence/metadata'
import { uploadAsset } from './upload.mjs'

const config = JSON.parse(document.getElementById('config').textContent)
const log = (line) => {
  document.getElementById('log').textContent += `${line}\n`
}

function drawPng() {
  const canvas = document.createElement('canvas')
  canvas.width = 96
  canvas.height = 64
  const ctx = canvas.getContext('2d')
  const gradient = ctx.createLinearGradient(0, 0, 96, 64)
  gradient.addColorStop(0, '#0b7285')
  gradient.addColorStop(1, '#f08c00')
  ctx.fillStyle = gradient
  ctx.fillRect(0, 0, 96, 64)
  ctx.fillStyle = '#ffffff'
  ctx.font = 'bold 20px sans-serif'
  ctx.fillText('SEQ', 26, 40)
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('canvas.toBlob gave nothing'))), 'image/png')
  )
}

function loadImage(img, url) {
  return new Promise((resolve, reject) => {
    img.onload = () => resolve()
    img.onerror = () => reject(new Error(`the image at ${url} did not load`))
    img.src = url
  })
}

async function run() {
  const { baseUrl, jwt, projectId } = config
  const api = new SequenceCollections(baseUrl, jwt)

  const { collection } = await api.createCollection({
    projectId,
    collection: { metadata: { name: 'Browser collection', description: 'made in headless Chromium' } }
  })
  log(`created collection ${collection.id}`)

  const { asset } = await api.createAsset({
    projectId,
    asset: { id: 0, collectionId: collection.id, metadataField: 'image' }
  })
  const png = await drawPng()
  const uploaded = await uploadAsset({
    baseUrl,
    jwt,
    projectId,
    collectionId: collection.id,
    assetId: asset.id,
    bytes: await png.arrayBuffer(),
    type: 'image/png'
  })
  log(`uploaded ${uploaded.filesize} bytes as asset ${uploaded.id}: ${uploaded.url}`)

  const { collection: withImage } = await api.updateCollection({
    projectId,
    collection: { ...collection, metadata: { ...collection.metadata, image: uploaded.url } }
  })
  const { collection: published } = await api.publishCollection({ projectId, collectionId: withImage.id })
  log(`published: private=${published.private}`)

  const res = await fetch(published.baseURIs.contractMetadataURI)
  if (!res.ok) throw new Error(`public metadata: HTTP ${res.status}`)
  const metadata = await res.json()
  document.getElementById('metadata').textContent = JSON.stringify(metadata, null, 2)

  const img = document.getElementById('image')
  await loadImage(img, metadata.image)
  log(`image shown: ${img.naturalWidth}x${img.naturalHeight}`)

  return {
    ok: true,
    pageOrigin: window.location.origin,
    apiOrigin: new URL(baseUrl).origin,
    collectionId: published.id,
    private: published.private,
    asset: { filesize: uploaded.filesize, mimeType: uploaded.mimeType, width: uploaded.width, height: uploaded.height },
    pngBytes: png.size,
    metadata,
    image: { src: img.currentSrc, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight }
  }
}

function finish(result) {
  window.result = result
  document.getElementById('result').textContent = JSON.stringify(result, null, 2)
}

run().then(finish, (err) =>
  finish({ ok: false, error: `${err && err.name}: ${err && err.message}`, code: err && err.code, cause: err && err.cause })
)
