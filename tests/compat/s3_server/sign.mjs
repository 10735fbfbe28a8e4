// Signs requests with AWS's own SigV4 signer (@smithy/signature-v4), to cross-check
// storage_s3's signer. Reads a JSON array on stdin:
//   [{"method", "host", "path" (as sent: encoded once), "query": {name: value}, "headers": {name: value},
//     "payload_sha256", "date" ("20260101T000000Z"), "region", "access_key_id", "secret_access_key"}]
// and prints the Authorization header of each, in order, as a JSON array.
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const requests = JSON.parse(Buffer.concat(chunks).toString());
const authorizations = [];
for (const request of requests) {
  const signer = new SignatureV4({
    credentials: { accessKeyId: request.access_key_id, secretAccessKey: request.secret_access_key },
    region: request.region,
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
  });
  const [, y, mo, d, h, mi, s] = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(request.date).map(Number);
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'https:',
      hostname: request.host,
      path: request.path,
      query: request.query,
      headers: { ...request.headers, host: request.host, 'x-amz-content-sha256': request.payload_sha256 },
    },
    { signingDate: new Date(Date.UTC(y, mo - 1, d, h, mi, s)) },
  );
  authorizations.push(signed.headers.authorization);
}
console.log(JSON.stringify(authorizations));
