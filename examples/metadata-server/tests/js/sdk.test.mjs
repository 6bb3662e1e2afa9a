// Sequence's published npm package @0xsequence/metadata, unchanged, against the local
// metadata-server: the Collections calls a project makes (collections, tokens, assets,
// publish, list), the asset upload request, and the typed errors the SDK turns answers into.
//
// Run by `cargo test -p metadata-server --test sdk_js`, which starts the server and sets
// METADATA_URL / METADATA_JWT / METADATA_JWT_SECRET; or by hand against a running server:
//   METADATA_URL=… METADATA_JWT=… METADATA_JWT_SECRET=… node --test sdk.test.mjs
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  SequenceCollections,
  ResourceStatus,
  WebrpcError,
  NotFoundError,
  UnauthorizedError,
  SessionExpiredError,
  PermissionDeniedError,
  InvalidArgumentError,
  RequestConflictError
} from '@0xsequence/metadata'
import { serverFromEnv, hs256, png } from './common.mjs'
import { uploadAsset } from './upload.mjs'

const server = serverFromEnv()
const api = new SequenceCollections(server.baseUrl, server.jwt)
const projectId = server.projectId

/** A token's metadata with every field the SDK's TokenMetadata type requires. */
const tokenMetadata = (tokenId, name, extra = {}) => ({
  tokenId,
  name,
  source: '',
  status: ResourceStatus.AVAILABLE,
  attributes: [{ trait_type: 'colour', value: 'teal' }],
  ...extra
})

/** Asserts `promise` rejects with an instance of `ErrorClass` with the given code and status. */
async function rejectsWith(promise, ErrorClass, code, status) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof ErrorClass, `expected ${ErrorClass.name}, got ${err?.constructor?.name}: ${err}`)
    assert.ok(err instanceof WebrpcError)
    assert.equal(err.code, code)
    assert.equal(err.status, status)
    return true
  })
}

describe('@0xsequence/metadata against metadata-server', () => {
  const state = {}

  it('creates a collection, private, with its base URIs', async () => {
    const { collection } = await api.createCollection({
      projectId,
      collection: {
        metadata: { name: 'SDK collection', description: 'made by the npm SDK', properties: { edition: 1 } }
      }
    })
    assert.ok(collection.id > 0)
    assert.equal(collection.projectId, projectId)
    assert.equal(collection.private, true)
    assert.equal(collection.metadata.name, 'SDK collection')
    assert.deepEqual(collection.metadata.properties, { edition: 1 })
    assert.equal(
      collection.baseURIs.contractMetadataURI,
      `${server.baseUrl}/projects/${projectId}/collections/${collection.id}.json`
    )
    assert.equal(
      collection.baseURIs.tokenMetadataURI,
      `${server.baseUrl}/projects/${projectId}/collections/${collection.id}/tokens/`
    )
    state.collection = collection
  })

  it('gets and updates the collection; updatedAt moves forward', async () => {
    const { collection: got } = await api.getCollection({ projectId, collectionId: state.collection.id })
    assert.deepEqual(got.metadata, state.collection.metadata)
    const { collection: updated } = await api.updateCollection({
      projectId,
      collection: { ...got, metadata: { ...got.metadata, description: 'updated by the npm SDK' } }
    })
    assert.equal(updated.id, got.id)
    assert.equal(updated.metadata.description, 'updated by the npm SDK')
    assert.ok(Date.parse(updated.updatedAt) >= Date.parse(got.updatedAt), `${updated.updatedAt} >= ${got.updatedAt}`)
    assert.notEqual(updated.updatedAt, got.updatedAt)
    state.collection = updated
  })

  it('creates, updates, lists and deletes tokens', async () => {
    const collectionId = state.collection.id
    const created = []
    for (const [id, name] of [['1', 'First'], ['2', 'Second'], ['3', 'Third']]) {
      const { token } = await api.createToken({ projectId, collectionId, token: tokenMetadata(id, name) })
      assert.equal(token.tokenId, id)
      assert.equal(token.name, name)
      created.push(token)
    }
    await rejectsWith(
      api.createToken({ projectId, collectionId, token: tokenMetadata('1', 'Again') }),
      RequestConflictError,
      1004,
      409
    )

    const { token: updated } = await api.updateToken({
      projectId,
      collectionId,
      tokenId: '2',
      token: tokenMetadata('2', 'Second, renamed', { description: 'renamed' })
    })
    assert.equal(updated.name, 'Second, renamed')
    const { token: got } = await api.getToken({ projectId, collectionId, tokenId: '2' })
    assert.equal(got.description, 'renamed')

    await api.deleteToken({ projectId, collectionId, tokenId: '3' })
    await rejectsWith(api.getToken({ projectId, collectionId, tokenId: '3' }), NotFoundError, 3000, 400)

    const first = await api.listTokens({ projectId, collectionId, page: { pageSize: 1 } })
    assert.equal(first.tokens.length, 1)
    assert.equal(first.page.more, true)
    const rest = await api.listTokens({ projectId, collectionId, page: first.page })
    assert.deepEqual(
      [...first.tokens, ...rest.tokens].map((t) => t.tokenId),
      ['1', '2']
    )
    assert.equal(rest.page.more, false)
  })

  it('creates an asset and uploads a PNG as go-sequence UploadAsset does', async () => {
    const collectionId = state.collection.id
    const { asset } = await api.createAsset({
      projectId,
      asset: { id: 0, collectionId, tokenId: '1', metadataField: 'image' }
    })
    assert.ok(asset.id > 0)
    assert.equal(asset.collectionId, collectionId)
    assert.equal(asset.tokenId, '1')

    const bytes = png(5, 3, (x, y) => [x * 50, y * 100, 200, 255])
    const uploaded = await uploadAsset({
      baseUrl: server.baseUrl,
      jwt: server.jwt,
      projectId,
      collectionId,
      assetId: asset.id,
      bytes
    })
    assert.equal(uploaded.id, asset.id)
    assert.equal(uploaded.filesize, bytes.length)
    assert.equal(uploaded.mimeType, 'image/png')
    assert.equal(uploaded.width, 5)
    assert.equal(uploaded.height, 3)
    assert.ok(uploaded.url.startsWith(`${server.baseUrl}/projects/${projectId}/collections/${collectionId}/assets/${asset.id}/`))

    const { asset: got } = await api.getAsset({ projectId, assetId: asset.id })
    assert.equal(got.url, uploaded.url)
    assert.equal(got.filesize, bytes.length)

    // Not published yet: the file is not served.
    assert.equal((await fetch(uploaded.url)).status, 404)
    state.asset = uploaded
    state.png = bytes
  })

  it('publishes the collection; the public metadata and the file are served', async () => {
    const collectionId = state.collection.id
    const { collection } = await api.publishCollection({ projectId, collectionId, recursive: true })
    assert.equal(collection.private, false)

    const contract = await fetch(collection.baseURIs.contractMetadataURI)
    assert.equal(contract.status, 200)
    assert.equal((await contract.json()).name, 'SDK collection')

    const token = await fetch(`${collection.baseURIs.tokenMetadataURI}1`)
    assert.equal(token.status, 200)
    const tokenJson = await token.json()
    assert.equal(tokenJson.name, 'First')
    assert.deepEqual(tokenJson.attributes, [{ trait_type: 'colour', value: 'teal' }])

    const file = await fetch(state.asset.url)
    assert.equal(file.status, 200)
    assert.equal(file.headers.get('content-type'), 'image/png')
    assert.equal(file.headers.get('x-content-type-options'), 'nosniff')
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), state.png)
  })

  it('lists collections page by page', async () => {
    const { collection: second } = await api.createCollection({
      projectId,
      collection: { metadata: { name: 'SDK collection two' } }
    })
    const seen = []
    let page = { pageSize: 1 }
    for (let i = 0; i < 1000; i++) {
      const answer = await api.listCollections({ projectId, page })
      assert.ok(answer.collections.length <= 1)
      seen.push(...answer.collections.map((c) => c.id))
      if (!answer.page.more) break
      page = answer.page
    }
    assert.ok(seen.includes(state.collection.id) && seen.includes(second.id), `${seen}`)
    assert.equal(new Set(seen).size, seen.length, `no collection listed twice: ${seen}`)
    state.second = second
  })

  it('turns error answers into the typed SDK errors', async () => {
    const collectionId = state.collection.id
    // A collection that does not exist.
    await rejectsWith(api.getCollection({ projectId, collectionId: 987654321 }), NotFoundError, 3000, 400)
    await rejectsWith(api.listTokens({ projectId, collectionId: 987654321 }), NotFoundError, 3000, 400)
    // A token id that is not a decimal number.
    await rejectsWith(
      api.createToken({ projectId, collectionId, token: tokenMetadata('0x1', 'hex id') }),
      InvalidArgumentError,
      2001,
      400
    )
    // A JWT signed with another secret, a garbled one, an expired one, another project's.
    const now = Math.floor(Date.now() / 1000)
    const wrongSecret = new SequenceCollections(server.baseUrl, hs256({ project: projectId, iat: now }, 'not the secret'))
    await rejectsWith(wrongSecret.getCollection({ projectId, collectionId }), UnauthorizedError, 1000, 401)
    const garbled = new SequenceCollections(server.baseUrl, 'not.a.jwt')
    await rejectsWith(garbled.listCollections({ projectId }), UnauthorizedError, 1000, 401)
    const expired = new SequenceCollections(
      server.baseUrl,
      hs256({ project: projectId, iat: now - 120, exp: now - 60 }, server.secret)
    )
    await rejectsWith(expired.getCollection({ projectId, collectionId }), SessionExpiredError, 1002, 403)
    await rejectsWith(api.getCollection({ projectId: projectId + 1, collectionId }), PermissionDeniedError, 1001, 403)
    // No token at all.
    const anonymous = new SequenceCollections(server.baseUrl)
    await rejectsWith(anonymous.getCollection({ projectId, collectionId }), UnauthorizedError, 1000, 401)
  })

  it('answers bad uploads with webrpc errors', async () => {
    const collectionId = state.collection.id
    const upload = (overrides) =>
      uploadAsset({
        baseUrl: server.baseUrl,
        jwt: server.jwt,
        projectId,
        collectionId,
        assetId: state.asset.id,
        bytes: state.png,
        ...overrides
      })
    await assert.rejects(upload({ assetId: 987654321 }), { status: 400, code: 3000, error: 'NotFound' })
    await assert.rejects(upload({ jwt: 'not.a.jwt' }), { status: 401, code: 1000, error: 'Unauthorized' })
    await assert.rejects(upload({ projectId: projectId + 1 }), { status: 403, code: 1001, error: 'PermissionDenied' })
  })

  it('unpublishes and deletes; the public URLs go away', async () => {
    const collectionId = state.collection.id
    const { collection } = await api.unpublishCollection({ projectId, collectionId })
    assert.equal(collection.private, true)
    assert.equal((await fetch(collection.baseURIs.contractMetadataURI)).status, 404)
    assert.equal((await fetch(state.asset.url)).status, 404)

    await api.deleteCollection({ projectId, collectionId })
    await api.deleteCollection({ projectId, collectionId: state.second.id })
    await rejectsWith(api.getCollection({ projectId, collectionId }), NotFoundError, 3000, 400)
    await rejectsWith(api.getAsset({ projectId, assetId: state.asset.id }), NotFoundError, 3000, 400)
  })
})
