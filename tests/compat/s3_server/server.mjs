// An S3-compatible store on loopback for the storage_s3 tests: s3rver (which stores objects but
// accepts any signature) behind a front that holds every request to what AWS S3 demands:
//
//   * the SigV4 signature, recomputed with AWS's own signer (@smithy/signature-v4) from the
//     headers the request says it signed — a mismatch is `403 SignatureDoesNotMatch`, and
//     nothing reaches the store;
//   * x-amz-content-sha256 (the body's hash, or UNSIGNED-PAYLOAD), Content-MD5 when sent and
//     required on DeleteObjects, x-amz-date within 15 minutes, the right key id and region;
//   * virtual-hosted-style requests (Host: <bucket>.<endpoint>) as well as path-style ones;
//   * AbortMultipartUpload and ListMultipartUploads, which s3rver lacks, done on s3rver's own
//     upload directories — so "no orphaned parts" is checked against what is really on disk;
//   * ListObjectsV2 answered from s3rver's own files in S3's order (s3rver walks directories in
//     the order the file system gives, so its pages skip keys, and makes continuation tokens
//     with DES, which OpenSSL 3 no longer offers).
//
// A control port (plain HTTP, loopback) lets a test inject faults — answer the next N matching
// requests with an S3 error, break the connection before answering (status 0), or pass the
// request on and break the connection after `truncate_after` bytes of the answer's body — and
// read what was asked:
//   POST /faults  [{"method":"PUT","query":"partNumber","status":503,"code":"SlowDown","times":2}]
//   DELETE /faults · GET /log (the requests, newest last) · GET /uploads (open multipart uploads)
//
//   node server.mjs --directory DIR --bucket NAME --access-key-id ID --secret-access-key KEY
//                   [--region us-east-1] [--cert server.pem --key server.key]
// prints "listening on <s3 port> <control port>" once both listen.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { escapeUri } from '@smithy/util-uri-escape';
import S3rver from 's3rver';

const { values: options } = parseArgs({
  options: {
    directory: { type: 'string' },
    bucket: { type: 'string' },
    'access-key-id': { type: 'string' },
    'secret-access-key': { type: 'string' },
    region: { type: 'string', default: 'us-east-1' },
    cert: { type: 'string' },
    key: { type: 'string' },
  },
});
for (const required of ['directory', 'bucket', 'access-key-id', 'secret-access-key']) {
  if (!options[required]) throw new Error(`--${required} is required`);
}

const signer = new SignatureV4({
  credentials: { accessKeyId: options['access-key-id'], secretAccessKey: options['secret-access-key'] },
  region: options.region,
  service: 's3',
  sha256: Sha256,
  uriEscapePath: false, // S3 signs the path as sent, encoded once
  applyChecksum: true,
});

const store = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: options.directory,
  configureBuckets: [{ name: options.bucket }],
});
const storeAddress = await store.run();

let faults = [];
const log = [];

function xmlEscape(text) {
  return String(text).replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]);
}

function answer(response, status, body = '', headers = {}) {
  response.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), ...headers });
  response.end(body);
}

function s3Error(response, status, code, message) {
  answer(response, status,
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`);
}

// The raw query as S3 reads it: decoded names and values, in order.
function parseQuery(raw) {
  const query = {};
  for (const part of raw.split('&').filter(Boolean)) {
    const equals = part.indexOf('=');
    const name = decodeURIComponent(equals < 0 ? part : part.slice(0, equals));
    const value = equals < 0 ? '' : decodeURIComponent(part.slice(equals + 1));
    if (name in query) query[name] = [].concat(query[name], value);
    else query[name] = value;
  }
  return query;
}

// Turns a virtual-hosted-style request into the bucket and key s3rver knows.
function bucketAndKey(host, rawPath) {
  const hostname = host.replace(/:\d+$/, '');
  const pathStyle = hostname === '127.0.0.1' || hostname === 'localhost';
  const segments = rawPath.split('/').slice(1).map((segment) => decodeURIComponent(segment));
  if (pathStyle) return { bucket: segments[0] ?? '', key: segments.slice(1).join('/') };
  return { bucket: hostname.slice(0, hostname.indexOf('.')), key: segments.join('/') };
}

function parseAmzDate(text) {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text ?? '');
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number);
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

// Null when the request is what S3 would accept; otherwise [status, code, message].
async function verify(request, body, rawPath, query) {
  const authorization = request.headers.authorization ?? '';
  const parsed = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/
    .exec(authorization);
  if (!parsed) return [403, 'AccessDenied', 'Access Denied: no valid AWS4-HMAC-SHA256 Authorization header'];
  const [, accessKeyId, day, region, signedHeaderList, signature] = parsed;
  if (accessKeyId !== options['access-key-id']) return [403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'];
  if (region !== options.region) return [400, 'AuthorizationHeaderMalformed', `the region '${region}' is wrong; expecting '${options.region}'`];
  const signedAt = parseAmzDate(request.headers['x-amz-date']);
  if (!signedAt || request.headers['x-amz-date'].slice(0, 8) !== day) return [403, 'AccessDenied', 'x-amz-date is missing or does not match the credential scope'];
  if (Math.abs(Date.now() - signedAt.getTime()) > 15 * 60 * 1000) return [403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.'];
  const signedHeaders = signedHeaderList.split(';');
  for (const required of ['host', 'x-amz-content-sha256', 'x-amz-date']) {
    if (!signedHeaders.includes(required)) return [403, 'AccessDenied', `${required} must be signed`];
  }
  const contentSha256 = request.headers['x-amz-content-sha256'];
  if (contentSha256 !== 'UNSIGNED-PAYLOAD' && contentSha256 !== createHash('sha256').update(body).digest('hex')) {
    return [400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed."];
  }
  const contentMd5 = request.headers['content-md5'];
  if (contentMd5 !== undefined && contentMd5 !== createHash('md5').update(body).digest('base64')) {
    return [400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.'];
  }
  if (request.method === 'POST' && 'delete' in query && contentMd5 === undefined) {
    return [400, 'InvalidRequest', 'Missing required header for this request: Content-MD5'];
  }
  const headers = {};
  for (const name of signedHeaders) {
    if (request.headers[name] === undefined) return [403, 'AccessDenied', `the signed header ${name} is missing`];
    headers[name] = request.headers[name];
  }
  const canonicalPath = rawPath.split('/').map((segment) => escapeUri(decodeURIComponent(segment))).join('/');
  const expected = await signer.sign(
    { method: request.method, protocol: 'https:', hostname: request.headers.host, path: canonicalPath, query, headers, body },
    { signingDate: signedAt },
  );
  const [, expectedSignedHeaders, expectedSignature] =
    /SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(expected.headers.authorization);
  if (expectedSignedHeaders !== signedHeaderList || expectedSignature !== signature) {
    return [403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.'];
  }
  return null;
}

function uploadsDirectory(bucket) {
  return path.join(options.directory, bucket, '._S3rver_uploads');
}

async function openUploads(bucket) {
  const directory = uploadsDirectory(bucket);
  const entries = await fs.readdir(directory).catch(() => []);
  const uploads = [];
  for (const id of entries) {
    const key = await fs.readFile(path.join(directory, id, 'key'), 'utf8').catch(() => null);
    if (key !== null) uploads.push({ id, key });
  }
  return uploads;
}

async function abortUpload(response, bucket, uploadId) {
  if (!/^[0-9a-f]+$/.test(uploadId)) return s3Error(response, 404, 'NoSuchUpload', 'The specified upload does not exist.');
  const directory = path.join(uploadsDirectory(bucket), uploadId);
  try {
    await fs.access(directory);
  } catch {
    return s3Error(response, 404, 'NoSuchUpload', 'The specified upload does not exist.');
  }
  await fs.rm(directory, { recursive: true, force: true });
  answer(response, 204);
}

async function listUploads(response, bucket, query) {
  const prefix = query.prefix ?? '';
  const uploads = (await openUploads(bucket)).filter((upload) => upload.key.startsWith(prefix));
  const entries = uploads.map((upload) =>
    `<Upload><Key>${xmlEscape(upload.key)}</Key><UploadId>${upload.id}</UploadId><Initiated>${new Date().toISOString()}</Initiated></Upload>`);
  answer(response, 200, `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult><Bucket>${xmlEscape(bucket)}</Bucket>` +
    `<Prefix>${xmlEscape(prefix)}</Prefix><IsTruncated>false</IsTruncated>${entries.join('')}</ListMultipartUploadsResult>`);
}

const OBJECT_SUFFIX = '._S3rver_object';

async function storedKeys(bucket) {
  const root = path.join(options.directory, bucket);
  const keys = [];
  const walk = async (directory, prefix) => {
    for (const entry of await fs.readdir(directory, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory()) {
        if (!entry.name.startsWith('._S3rver_')) await walk(path.join(directory, entry.name), `${prefix}${entry.name}/`);
      } else if (entry.name.endsWith(OBJECT_SUFFIX)) {
        const file = path.join(directory, entry.name);
        const info = await fs.stat(file);
        keys.push({ key: prefix + entry.name.slice(0, -OBJECT_SUFFIX.length), size: info.size, modified: info.mtime });
      }
    }
  };
  await walk(root, '');
  // S3 lists in UTF-8 binary order.
  return keys.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
}

async function listObjectsV2(response, bucket, query) {
  const prefix = query.prefix ?? '';
  const maxKeys = Math.min(1000, Number(query['max-keys'] ?? 1000));
  const token = query['continuation-token'];
  const after = token !== undefined ? Buffer.from(token, 'base64url').toString() : (query['start-after'] ?? '');
  const matching = (await storedKeys(bucket)).filter((object) => object.key.startsWith(prefix) && object.key > after);
  const page = matching.slice(0, maxKeys);
  const truncated = matching.length > page.length;
  const contents = page.map((object) => `<Contents><Key>${xmlEscape(object.key)}</Key><LastModified>${object.modified.toISOString()}</LastModified>` +
    `<Size>${object.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`);
  const next = truncated ? `<NextContinuationToken>${Buffer.from(page[page.length - 1].key).toString('base64url')}</NextContinuationToken>` : '';
  const given = token !== undefined ? `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>` : '';
  answer(response, 200, `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
    `<Name>${xmlEscape(bucket)}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>` +
    `<IsTruncated>${truncated}</IsTruncated>${given}${next}${contents.join('')}</ListBucketResult>`);
}

function takeFault(method, query) {
  const fault = faults.find((candidate) =>
    (!candidate.method || candidate.method === method) && (!candidate.query || candidate.query in query) && candidate.times > 0);
  if (fault) fault.times -= 1;
  return fault;
}

function forward(request, response, body, bucket, key, rawQuery, entry, truncateAfter) {
  const headers = { ...request.headers, host: `127.0.0.1:${storeAddress.port}`, 'content-length': String(body.length) };
  delete headers.authorization; // the front has checked it; s3rver would only half-check it
  delete headers['transfer-encoding'];
  const target = `/${encodeURIComponent(bucket)}${key ? '/' + key.split('/').map(encodeURIComponent).join('/') : ''}` +
    (rawQuery ? `?${rawQuery}` : '');
  const upstream = http.request({ host: '127.0.0.1', port: storeAddress.port, method: request.method, path: target, headers }, (reply) => {
    entry.status = reply.statusCode;
    response.writeHead(reply.statusCode, reply.headers);
    if (truncateAfter === undefined) return reply.pipe(response);
    let sent = 0;
    reply.on('data', (chunk) => {
      const room = truncateAfter - sent;
      if (room > 0) response.write(chunk.subarray(0, room));
      sent += chunk.length;
      if (sent >= truncateAfter) {
        reply.destroy();
        response.socket.destroy();
      }
    });
    reply.on('end', () => response.end());
  });
  upstream.on('error', (error) => s3Error(response, 500, 'InternalError', error.message));
  upstream.end(body);
}

async function handle(request, response) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  const [rawPath, rawQuery = ''] = request.url.split('?', 2);
  const query = parseQuery(rawQuery);
  const { bucket, key } = bucketAndKey(request.headers.host ?? '', rawPath);
  const entry = { method: request.method, bucket, key, query: Object.keys(query), range: request.headers.range ?? null, size: body.length };
  log.push(entry);
  if (log.length > 100_000) log.shift(); // a bound for a long-running store; the tests stay far below

  const refused = await verify(request, body, rawPath, query);
  if (refused) {
    entry.status = refused[0];
    entry.error = refused[1];
    return s3Error(response, ...refused);
  }
  const fault = takeFault(request.method, query);
  if (fault && fault.truncate_after !== undefined) {
    entry.truncated = true;
    return forward(request, response, body, bucket, key, rawQuery, entry, fault.truncate_after);
  }
  if (fault) {
    entry.status = fault.status ?? 0;
    if (fault.status === 0) return request.socket.destroy(); // the connection breaks
    return s3Error(response, fault.status, fault.code ?? 'InternalError', 'injected by the test');
  }
  if (bucket !== options.bucket) return s3Error(response, 404, 'NoSuchBucket', 'The specified bucket does not exist');
  if (request.method === 'DELETE' && 'uploadId' in query) return abortUpload(response, bucket, query.uploadId);
  if (request.method === 'GET' && !key && 'uploads' in query) return listUploads(response, bucket, query);
  if (request.method === 'GET' && !key && query['list-type'] === '2' && !query.delimiter) return listObjectsV2(response, bucket, query);
  forward(request, response, body, bucket, key, rawQuery, entry);
}

function serve(request, response) {
  handle(request, response).catch((error) => s3Error(response, 500, 'InternalError', String(error)));
}

const front = options.cert
  ? https.createServer({ cert: await fs.readFile(options.cert), key: await fs.readFile(options.key) }, serve)
  : http.createServer(serve);
front.keepAliveTimeout = 30_000;

const control = http.createServer(async (request, response) => {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  const json = (status, value) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(value));
  };
  if (request.method === 'POST' && request.url === '/faults') {
    faults = faults.concat(JSON.parse(Buffer.concat(chunks).toString() || '[]'));
    return json(200, faults);
  }
  if (request.method === 'DELETE' && request.url === '/faults') {
    faults = [];
    return json(200, faults);
  }
  if (request.method === 'GET' && request.url === '/log') return json(200, log);
  if (request.method === 'GET' && request.url === '/uploads') return json(200, await openUploads(options.bucket));
  json(404, { error: 'no such control route' });
});

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
const [frontPort, controlPort] = await Promise.all([listen(front), listen(control)]);
console.log(`listening on ${frontPort} ${controlPort}`);

const stop = () => {
  front.close();
  control.close();
  store.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
