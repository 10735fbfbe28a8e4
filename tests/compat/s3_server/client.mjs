// AWS's own S3 client (@aws-sdk/client-s3), for the tests to read back what storage_s3 wrote:
//   node client.mjs --endpoint URL --bucket B --access-key-id ID --secret-access-key KEY \
//                   [--region us-east-1] get KEY FILE | list PREFIX | uploads PREFIX
// `get` writes the object's bytes to FILE; `list` and `uploads` print JSON. A private CA is
// given the Node way: NODE_EXTRA_CA_CERTS.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

import { GetObjectCommand, ListMultipartUploadsCommand, S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';

const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    endpoint: { type: 'string' },
    bucket: { type: 'string' },
    region: { type: 'string', default: 'us-east-1' },
    'access-key-id': { type: 'string' },
    'secret-access-key': { type: 'string' },
  },
});
const client = new S3Client({
  endpoint: options.endpoint,
  region: options.region,
  forcePathStyle: true,
  credentials: { accessKeyId: options['access-key-id'], secretAccessKey: options['secret-access-key'] },
});
const Bucket = options.bucket;
const [command, argument, file] = positionals;

if (command === 'get') {
  const object = await client.send(new GetObjectCommand({ Bucket, Key: argument }));
  await writeFile(file, await object.Body.transformToByteArray());
} else if (command === 'list') {
  const objects = [];
  for await (const page of paginateListObjectsV2({ client, pageSize: 100 }, { Bucket, Prefix: argument })) {
    for (const object of page.Contents ?? []) objects.push({ key: object.Key, size: object.Size });
  }
  console.log(JSON.stringify(objects));
} else if (command === 'uploads') {
  const listed = await client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: argument }));
  console.log(JSON.stringify((listed.Uploads ?? []).map((upload) => ({ key: upload.Key, id: upload.UploadId }))));
} else {
  console.error('usage: client.mjs [options] get KEY FILE | list PREFIX | uploads PREFIX');
  process.exit(2);
}
