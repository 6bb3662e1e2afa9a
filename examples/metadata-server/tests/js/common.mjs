// Node-only helpers shared by the tests: the server to talk to (from the environment the
// Rust test `tests/sdk_js.rs` sets), HS256 tokens for the auth error cases, a PNG encoder.
import { createHmac } from 'node:crypto'
import { deflateSync } from 'node:zlib'

/** Where the server is and how to call it, from METADATA_URL, METADATA_JWT, METADATA_JWT_SECRET. */
export function serverFromEnv() {
  const baseUrl = process.env.METADATA_URL
  const jwt = process.env.METADATA_JWT
  const secret = process.env.METADATA_JWT_SECRET
  if (!baseUrl || !jwt || !secret) {
    throw new Error(
      'METADATA_URL, METADATA_JWT and METADATA_JWT_SECRET must be set; ' +
        '`cargo test -p metadata-server --test sdk_js` starts a server and sets them'
    )
  }
  const claims = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'))
  if (!Number.isInteger(claims.project) || claims.project <= 0) {
    throw new Error(`METADATA_JWT has no project claim: ${JSON.stringify(claims)}`)
  }
  return { baseUrl: baseUrl.replace(/\/+$/, ''), jwt, secret, projectId: claims.project }
}

/** An HS256 JWT over `claims` signed with `secret`. */
export function hs256(claims, secret) {
  const part = (v) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const signingInput = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`
  const sig = createHmac('sha256', secret).update(signingInput).digest('base64url')
  return `${signingInput}.${sig}`
}

/** CRC-32 (ISO-HDLC, as PNG chunks use), bitwise: node:zlib's crc32 needs Node 20.15+. */
function crc32(bytes) {
  let crc = 0xffffffff
  for (const byte of bytes) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1
  }
  return (crc ^ 0xffffffff) >>> 0
}

/** A `width`×`height` RGBA PNG filled by `pixel(x, y) -> [r, g, b, a]`. */
export function png(width, height, pixel) {
  const raw = Buffer.alloc((width * 4 + 1) * height)
  for (let y = 0; y < height; y++) {
    const row = y * (width * 4 + 1)
    raw[row] = 0 // filter: none
    for (let x = 0; x < width; x++) raw.set(pixel(x, y), row + 1 + x * 4)
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4)
    len.writeUInt32BE(data.length)
    const typed = Buffer.concat([Buffer.from(type, 'ascii'), data])
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(typed))
    return Buffer.concat([len, typed, crc])
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr.set([8, 6, 0, 0, 0], 8) // 8 bits, RGBA, deflate, no filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0))
  ])
}
