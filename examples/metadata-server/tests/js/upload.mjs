// Asset upload as go-sequence's `CollectionsService.UploadAsset` sends it
// (services/metadata/collections.go): the npm package @0xsequence/metadata has no upload
// method (its `SequenceCollections` carries a TODO pointing there), so web apps and Node
// code send this request themselves. Runs unchanged in Node and in the browser (fetch,
// FormData and Blob are globals in both).

/**
 * Uploads `bytes` as the content of asset `assetId`: `PUT {base}/projects/{p}/collections/{c}/assets/{a}/upload`,
 * multipart/form-data with the bytes in the field `file` (file name "asset", as go-sequence
 * names it), `Authorization: BEARER <jwt>` (the SDK's spelling). Resolves to the updated
 * Asset; rejects with an Error carrying `status` and the parsed webrpc error (`code`,
 * `error`, `cause`) when the answer is not 200, as go-sequence fails on any other status.
 */
export async function uploadAsset({ baseUrl, jwt, projectId, collectionId, assetId, bytes, type }) {
  const form = new FormData()
  form.append('file', new Blob([bytes], type ? { type } : {}), 'asset')
  const url = `${baseUrl.replace(/\/+$/, '')}/projects/${projectId}/collections/${collectionId}/assets/${assetId}/upload`
  const res = await fetch(url, {
    method: 'PUT',
    headers: { Authorization: `BEARER ${jwt}` },
    body: form
  })
  const text = await res.text()
  if (res.status !== 200) {
    let body = {}
    try {
      body = JSON.parse(text)
    } catch {
      body = { cause: text }
    }
    const err = new Error(`upload asset failed: ${res.status} ${body.error || ''} ${body.cause || ''}`)
    Object.assign(err, { status: res.status, code: body.code, error: body.error, cause: body.cause })
    throw err
  }
  return JSON.parse(text)
}
