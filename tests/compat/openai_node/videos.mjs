// The official OpenAI Node client against a Framehouse server: what a program written for the
// OpenAI Videos API does, with only the base URL and key changed. Exits non-zero on the first
// difference. Usage: FRAMEHOUSE_URL=http://host:port FRAMEHOUSE_KEY=fhk_... IMAGE=file.png node videos.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import OpenAI, { BadRequestError, NotFoundError, UnprocessableEntityError, toFile } from 'openai';

// Debian 12's Node 18 has File in node:buffer but not as a global, where the client looks.
globalThis.File ??= (await import('node:buffer')).File;

const client = new OpenAI({ baseURL: `${process.env.FRAMEHOUSE_URL}/v1`, apiKey: process.env.FRAMEHOUSE_KEY });

async function untilDone(video) {
  while (video.status === 'queued' || video.status === 'in_progress') {
    await new Promise((resolve) => setTimeout(resolve, 200));
    video = await client.videos.retrieve(video.id);
  }
  return video;
}

// The models this server offers, through the client's Models API; "sora-2" (the client's
// default) is one of the names of the default model.
const models = [];
for await (const model of client.models.list()) models.push(model);
assert.ok(models.some((model) => model.id === 'procedural-1' && model.object === 'model'), JSON.stringify(models));
assert.equal((await client.models.retrieve('sora-2')).id, 'sora-2');

// The client sends multipart/form-data and its own default model.
const created = await client.videos.create({ prompt: 'a red kite over green hills', seconds: '4' });
assert.equal(created.object, 'video');
assert.ok(['queued', 'in_progress'].includes(created.status), created.status);
assert.equal(created.size, '720x1280');
assert.equal(created.seconds, '4');
const done = await untilDone(created);
assert.equal(done.status, 'completed', JSON.stringify(done.error));
assert.equal(done.progress, 100);
assert.ok(done.completed_at >= done.created_at);
assert.ok(done.expires_at > done.completed_at);

const mp4 = Buffer.from(await (await client.videos.downloadContent(done.id)).arrayBuffer());
assert.equal(mp4.subarray(4, 8).toString('latin1'), 'ftyp');
const thumbnail = Buffer.from(await (await client.videos.downloadContent(done.id, { variant: 'thumbnail' })).arrayBuffer());
assert.ok(thumbnail.length > 0);

// Image to video, the image as a file part.
const image = await toFile(fs.readFileSync(process.env.IMAGE), 'reference.png', { type: 'image/png' });
const animated = await untilDone(await client.videos.create({ prompt: 'my garden', input_reference: image, seconds: '4', size: '1280x720' }));
assert.equal(animated.status, 'completed', JSON.stringify(animated.error));

const remix = await untilDone(await client.videos.remix(done.id, { prompt: 'a blue kite over green hills' }));
assert.equal(remix.remixed_from_video_id, done.id);
assert.equal(remix.status, 'completed', JSON.stringify(remix.error));

// The cursor list, page by page as the client's iterator walks it.
const seen = [];
for await (const video of client.videos.list({ limit: 1 })) seen.push(video.id);
assert.deepEqual(new Set(seen), new Set([done.id, animated.id, remix.id]));
assert.equal(seen.length, 3);

// A bad request: the client's error carries the field and the code (OpenAI's error shape).
await assert.rejects(client.videos.create({ prompt: 'x', size: '999x999' }), (error) => {
  assert.ok(error instanceof UnprocessableEntityError, String(error));
  assert.equal(error.param, 'size');
  assert.equal(error.code, 'validation_failed');
  assert.equal(error.type, 'invalid_request_error');
  assert.match(error.message, /size must be one of/);
  assert.ok(error.requestID, 'the request id reaches the client');
  return true;
});

// What no engine here can do is refused in OpenAI's shape, naming the field.
const notSupported = (param) => (error) => {
  assert.ok(error instanceof BadRequestError, String(error));
  assert.equal(error.code, 'not_supported');
  assert.equal(error.param, param);
  return true;
};
await assert.rejects(client.videos.edit({ video: { id: done.id }, prompt: 'bluer' }), notSupported('video'));
await assert.rejects(client.videos.extend({ video: { id: done.id }, prompt: 'longer', seconds: '4' }), notSupported('video'));
await assert.rejects(client.videos.downloadContent(done.id, { variant: 'spritesheet' }), notSupported('variant'));

const deleted = await client.videos.delete(done.id);
assert.deepEqual(deleted, { id: done.id, object: 'video.deleted', deleted: true });
await assert.rejects(client.videos.retrieve(done.id), NotFoundError);
console.log(`openai-node: ${seen.length} videos made, listed, downloaded and deleted`);
