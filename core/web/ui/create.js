// Making a video: prompt, model (those the plan may use), length and size the model and plan
// allow, an optional image (a file button, or dropped on the field), a seed under "advanced",
// or a remix of an earlier video. The plan's limits are shown before anyone submits, and the
// server's errors land at the field they are about.
import { html, useEffect, useRef, useState } from './preact-htm.js';
import { api, newIdempotencyKey } from './api.js';
import { t } from './i18n.js';
import { Field, Loaded, Notice, Page, Submit, navigate, useForm, useLoad } from './ui.js';

function sidesOf(size) {
  const [width, height] = size.split('x').map(Number);
  return { width, height };
}

function ImagePicker({ file, onFile, error, disabled }) {
  const [preview, setPreview] = useState('');
  const [over, setOver] = useState(false);
  useEffect(() => {
    if (!file) return setPreview('');
    const url = URL.createObjectURL(file);
    setPreview(url);
    return () => URL.revokeObjectURL(url);
  }, [file]);
  const drop = (event) => {
    event.preventDefault();
    setOver(false);
    const dropped = event.dataTransfer.files[0];
    if (dropped) onFile(dropped);
  };
  return html`<div class=${`drop${over ? ' drop-over' : ''}`} onDragOver=${(event) => { event.preventDefault(); setOver(true); }}
      onDragLeave=${() => setOver(false)} onDrop=${drop}>
    <div class="field">
      <label for="create-image">${t('create.image')}</label>
      <p class="hint" id="create-image-hint">${disabled ? t('create.image_unsupported') : t('create.image_hint')}</p>
      <input id="create-image" name="input_reference" type="file" accept="image/png,image/jpeg,image/webp" disabled=${disabled}
        aria-describedby=${error ? 'create-image-hint create-image-error' : 'create-image-hint'}
        aria-invalid=${error ? 'true' : undefined} onChange=${(event) => onFile(event.currentTarget.files[0] ?? null)} />
      ${error && html`<p class="error" id="create-image-error">${error}</p>`}
    </div>
    ${preview && html`<figure class="preview"><img src=${preview} alt=${t('create.image_preview')} />
      <button type="button" class="button button-quiet" onClick=${() => onFile(null)}>${t('create.image_remove')}</button></figure>`}
  </div>`;
}

function Limits({ subscription, maxSeconds }) {
  const { usage, entitlements, plan } = subscription;
  const left = Math.max(0, entitlements.videos_per_day - usage.videos_last_24_hours);
  return html`<p class="limits" id="create-limits">
    ${t('create.limits', { used: usage.videos_last_24_hours, limit: entitlements.videos_per_day, plan })}
    ${' · '}${t('create.longest', { seconds: maxSeconds })}
    ${left === 0 && html`<strong> ${t('create.limit_reached')}</strong>`}
  </p>`;
}

function CreateForm({ models, subscription, source, remix }) {
  const plan = subscription.entitlements;
  const first = models.find((model) => model.id === source?.model) ?? models[0];
  const form = useForm({
    prompt: source?.prompt ?? '',
    model: first?.id ?? '',
    seconds: source?.seconds ?? '4',
    size: source?.size ?? '',
    seed: source && !remix ? String(source.seed ?? '') : '',
  });
  const [file, setFile] = useState(null);
  // One key per video the person means to make: pressing the button again after a lost answer
  // gets the same video back, not a second one.
  const idempotencyKey = useRef(newIdempotencyKey());
  const [advanced, setAdvanced] = useState(Boolean(form.values.seed));
  const model = models.find((item) => item.id === form.values.model) ?? first;
  const maxSeconds = Math.min(model?.max_seconds ?? plan.max_seconds, plan.max_seconds);
  const sizes = (model?.sizes ?? []).filter((size) => {
    const { width, height } = sidesOf(size);
    return Math.max(width, height) <= plan.max_side;
  });
  const size = sizes.includes(form.values.size) ? form.values.size : sizes[0] ?? '';
  const secondsOptions = Array.from({ length: maxSeconds }, (_, i) => String(i + 1));
  const seconds = secondsOptions.includes(form.values.seconds) ? form.values.seconds : secondsOptions[Math.min(3, maxSeconds - 1)];

  const submit = (event) => {
    event.preventDefault();
    form.run(async (values) => {
      const headers = { 'Idempotency-Key': idempotencyKey.current };
      let video;
      if (remix) {
        video = await api('POST', `/v1/videos/${encodeURIComponent(source.id)}/remix`, { prompt: values.prompt }, { headers });
      } else {
        const body = new FormData();
        body.set('prompt', values.prompt);
        body.set('model', model.id);
        body.set('seconds', seconds);
        body.set('size', size);
        if (values.seed.trim()) body.set('seed', values.seed.trim());
        if (file) body.set('input_reference', file);
        else if (source?.input_image_id) body.set('input_image_id', source.input_image_id);
        video = await api('POST', '/v1/videos', body, { headers });
      }
      idempotencyKey.current = newIdempotencyKey();
      navigate(`#/videos?made=${encodeURIComponent(video.id)}`);
    });
  };

  return html`<form onSubmit=${submit} novalidate aria-describedby="create-limits">
    <${Limits} subscription=${subscription} maxSeconds=${maxSeconds} />
    ${remix && html`<${Notice}>${t('create.remixing', { prompt: source.prompt })}</${Notice}>`}
    <${Notice} kind="error">${form.failure}</${Notice}>
    <${Field} label=${t('create.prompt')} name="prompt" rows="4" value=${form.values.prompt} onInput=${form.set('prompt')}
      error=${form.errors.prompt} hint=${t('create.prompt_hint')} required maxlength="32000" />
    ${!remix && html`<div class="row">
      <${Field} label=${t('create.model')} name="model" value=${model?.id} onInput=${form.set('model')} error=${form.errors.model}
        options=${models.map((item) => ({ value: item.id, label: item.id }))} />
      <${Field} label=${t('create.seconds')} name="seconds" value=${seconds} onInput=${form.set('seconds')}
        error=${form.errors.seconds} options=${secondsOptions.map((value) => ({ value, label: t('create.seconds_value', { seconds: value }) }))} />
      <${Field} label=${t('create.size')} name="size" value=${size} onInput=${form.set('size')} error=${form.errors.size}
        options=${sizes.map((value) => ({ value, label: value.replace('x', ' × ') }))} />
    </div>
    <${ImagePicker} file=${file} onFile=${setFile} error=${form.errors.input_reference ?? form.errors.input_image_id}
      disabled=${!model?.image_input} />
    ${source?.input_image_id && !file && html`<p class="hint">${t('create.reusing_image')}</p>`}
    <details open=${advanced} onToggle=${(event) => setAdvanced(event.currentTarget.open)}>
      <summary>${t('create.advanced')}</summary>
      <${Field} label=${t('create.seed')} name="seed" value=${form.values.seed} onInput=${form.set('seed')} error=${form.errors.seed}
        hint=${t('create.seed_hint')} inputmode="numeric" />
    </details>`}
    <${Submit} busy=${form.busy}>${remix ? t('create.remix_submit') : t('create.submit')}</${Submit}>
    ${remix && html`<a class="button button-quiet" href="#/">${t('action.cancel')}</a>`}
  </form>`;
}

export function CreateVideo({ route }) {
  const sourceId = route.query.get('remix') ?? route.query.get('reuse');
  const remix = route.query.has('remix');
  const state = useLoad(async () => {
    const [models, subscription, source] = await Promise.all([
      api('GET', '/v1/models'),
      api('GET', '/v1/subscription'),
      sourceId ? api('GET', `/v1/videos/${encodeURIComponent(sourceId)}`) : null,
    ]);
    return { models: models.data, subscription, source };
  }, [sourceId]);
  return html`<${Page} title=${remix ? t('create.remix_title') : t('create.title')}>
    <${Loaded} state=${state}>${({ models, subscription, source }) => (models.length === 0
      ? html`<${Notice} kind="warning">${t('create.no_models')}</${Notice}>`
      : html`<${CreateForm} key=${sourceId ?? 'new'} models=${models} subscription=${subscription} source=${source} remix=${remix} />`)}
    </${Loaded}>
  </${Page}>`;
}
