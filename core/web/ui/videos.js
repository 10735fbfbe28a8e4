// The person's videos: those being made, live (Server-Sent Events, or polling where the
// stream fails), with their place in the queue, progress in the tab's title, cancel and
// retry; and the gallery of finished ones, a page at a time (so that thousands cost what 24
// do), filtered by prompt words and dates, each with a thumbnail that plays on hover or
// focus, a player, download, delete, "reuse settings" and remix.
import { Component, html, useEffect, useRef, useState } from './preact-htm.js';
import { api, newIdempotencyKey } from './api.js';
import { formatDateTime, t } from './i18n.js';
import { Dialog, Field, Notice, Page, messageOf, useForm } from './ui.js';

const PAGE_SIZE = 24;
const isActive = (video) => video.status === 'queued' || video.status === 'in_progress';
const contentUrl = async (video, variant = 'video') =>
  (await api('GET', `/v1/videos/${encodeURIComponent(video.id)}/content-url?variant=${variant}`)).url;

// Follows one video until it ends: its events stream, or GET every 2 s where the stream
// cannot be used. Calls `onChange` with each new state.
function follow(video, onChange) {
  let timer = 0;
  let stream = null;
  let stopped = false;
  const poll = async () => {
    try {
      const now = await api('GET', `/v1/videos/${encodeURIComponent(video.id)}`);
      onChange(now);
      if (isActive(now) && !stopped) timer = setTimeout(poll, 2000);
    } catch {
      if (!stopped) timer = setTimeout(poll, 5000);
    }
  };
  if (typeof EventSource === 'function') {
    stream = new EventSource(`/v1/videos/${encodeURIComponent(video.id)}/events`);
    const update = (event) => onChange(JSON.parse(event.data));
    stream.addEventListener('video.progress', update);
    for (const end of ['video.completed', 'video.failed']) {
      stream.addEventListener(end, (event) => {
        update(event);
        stream.close();
      });
    }
    stream.onerror = () => {
      // The stream ended (the server closes it after the last event) or cannot be used.
      if (stream.readyState === EventSource.CLOSED && !stopped) poll();
    };
  } else {
    poll();
  }
  return () => {
    stopped = true;
    clearTimeout(timer);
    stream?.close();
  };
}

function Progress({ video }) {
  const percent = video.progress ?? 0;
  const label = video.status === 'queued'
    ? (video.status_reason ?? t('queue.position', { position: video.queue_position ?? '?' }))
    : t('queue.percent', { percent });
  return html`<div class="progress">
    <progress max="100" value=${video.status === 'queued' ? undefined : percent} aria-label=${t('queue.progress_of', { prompt: video.prompt })}>${percent}%</progress>
    <span>${label}</span>
  </div>`;
}

async function retry(video) {
  const body = { prompt: video.prompt, model: video.model, seconds: video.seconds, size: video.size };
  if (video.seed !== undefined) body.seed = String(video.seed);
  if (video.input_image_id) body.input_image_id = video.input_image_id;
  return api('POST', '/v1/videos', body, { headers: { 'Idempotency-Key': newIdempotencyKey() } });
}

function Queue({ active, failed, onChanged }) {
  const [failure, setFailure] = useState('');
  const act = (action) => async () => {
    setFailure('');
    try {
      await action();
      onChanged();
    } catch (error) {
      setFailure(messageOf(error));
    }
  };
  if (active.length === 0 && failed.length === 0) return null;
  return html`<section aria-labelledby="queue-title" class="queue">
    <h2 id="queue-title">${t('queue.title')}</h2>
    <${Notice} kind="error">${failure}</${Notice}>
    <ul class="queue-list" aria-live="polite">
      ${active.map((video) => html`<li key=${video.id}>
        <p class="prompt">${video.prompt}</p>
        <${Progress} video=${video} />
        <button type="button" class="button button-secondary"
          onClick=${act(() => api('POST', `/v1/videos/${encodeURIComponent(video.id)}/cancel`))}>${t('queue.cancel')}</button>
      </li>`)}
      ${failed.map((video) => html`<li key=${video.id} class="failed">
        <p class="prompt">${video.prompt}</p>
        <p class="error">${video.error?.code === 'canceled' ? t('queue.canceled') : t('queue.failed', { message: video.error?.message ?? '' })}</p>
        <button type="button" class="button button-secondary" onClick=${act(() => retry(video))}>${t('queue.retry')}</button>
        <button type="button" class="button button-quiet"
          onClick=${act(() => api('DELETE', `/v1/videos/${encodeURIComponent(video.id)}`))}>${t('action.dismiss')}</button>
      </li>`)}
    </ul>
  </section>`;
}

// A finished video's card: the thumbnail (through the session cookie), which plays a muted
// preview while hovered or focused; the buttons that open the player and act on it.
function Card({ video, onOpen, onDelete }) {
  const [preview, setPreview] = useState('');
  const wanted = useRef(false);
  const start = async () => {
    wanted.current = true;
    try {
      const url = await contentUrl(video);
      if (wanted.current) setPreview(url);
    } catch {
      // no preview; the thumbnail stays
    }
  };
  const stop = () => {
    wanted.current = false;
    setPreview('');
  };
  return html`<li class="card" onMouseEnter=${start} onMouseLeave=${stop} onFocusIn=${start} onFocusOut=${stop}>
    <div class="thumb">
      ${preview
        ? html`<video src=${preview} muted autoplay loop playsinline aria-hidden="true"></video>`
        : html`<img src=${`/v1/videos/${encodeURIComponent(video.id)}/content?variant=thumbnail`} alt="" loading="lazy" decoding="async" />`}
    </div>
    <p class="prompt">${video.prompt}</p>
    <p class="meta">${formatDateTime(video.created_at)} · ${t('create.seconds_value', { seconds: video.seconds })} · ${video.size}</p>
    <div class="actions">
      <button type="button" class="button button-secondary" onClick=${() => onOpen(video)}
        aria-label=${t('gallery.play_named', { prompt: video.prompt })}>${t('gallery.play')}</button>
      <a class="button button-quiet" href=${`#/?reuse=${encodeURIComponent(video.id)}`}>${t('gallery.reuse')}</a>
      <a class="button button-quiet" href=${`#/?remix=${encodeURIComponent(video.id)}`}>${t('gallery.remix')}</a>
      <button type="button" class="button button-quiet" onClick=${() => onDelete(video)}>${t('action.delete')}</button>
    </div>
  </li>`;
}

function Player({ video, onClose }) {
  const [url, setUrl] = useState('');
  const [failure, setFailure] = useState('');
  useEffect(() => {
    setUrl('');
    if (video) contentUrl(video).then(setUrl, (error) => setFailure(messageOf(error)));
  }, [video?.id]);
  return html`<${Dialog} open=${Boolean(video)} title=${t('player.title')} onClose=${onClose}>
    ${video && html`<p class="prompt">${video.prompt}</p>
      <${Notice} kind="error">${failure}</${Notice}>
      ${url && html`<video class="player" src=${url} controls autoplay playsinline></video>
        <p><a class="button button-primary" href=${url} download=${`${video.id}.mp4`}>${t('player.download')}</a></p>`}`}
  </${Dialog}>`;
}

function dayStart(date) {
  return date ? Math.floor(new Date(`${date}T00:00:00`).getTime() / 1000) : undefined;
}

// A card renders again only when its video changes, so that showing the next page costs that
// page alone however many are shown already (its handlers do the same whichever render made them).
class GalleryCard extends Component {
  shouldComponentUpdate(next) {
    return next.video !== this.props.video;
  }

  render(props) {
    return html`<${Card} ...${props} />`;
  }
}

export function Videos({ route }) {
  const [active, setActive] = useState([]);
  const [failed, setFailed] = useState([]);
  // One page of the gallery at a time, however many videos there are: `cursors` holds where
  // each page up to this one starts (keyset paging, as the API pages).
  const [gallery, setGallery] = useState({ items: [], hasMore: false, loading: true, error: null, cursors: [''] });
  const [playing, setPlaying] = useState(null);
  const [version, setVersion] = useState(0);
  const filters = useForm({ q: '', from: '', to: '' });
  const [applied, setApplied] = useState({ q: '', from: '', to: '' });
  const refresh = () => setVersion((v) => v + 1);

  // The queue: what is being made, and what failed lately.
  useEffect(() => {
    api('GET', '/v1/videos?limit=100').then((page) => {
      setActive(page.data.filter(isActive));
      setFailed(page.data.filter((video) => video.status === 'failed' && video.error?.code !== 'canceled').slice(0, 5));
    }, () => {});
  }, [version]);
  const activeIds = active.map((video) => video.id).join(',');
  useEffect(() => {
    const stops = active.map((video) => follow(video, (now) => {
      if (isActive(now)) setActive((list) => list.map((item) => (item.id === now.id ? now : item)));
      else refresh();
    }));
    return () => stops.forEach((stop) => stop());
  }, [activeIds]);

  // The tab's title says how it goes while the person looks elsewhere.
  let titlePrefix = '';
  if (active.length === 1) titlePrefix = `(${active[0].progress ?? 0}%) `;
  else if (active.length > 1) titlePrefix = `(${t('queue.generating', { count: active.length })}) `;

  const loadPage = async (after) => {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE), status: 'completed' });
    if (applied.q) query.set('q', applied.q);
    if (applied.from) query.set('created_from', String(dayStart(applied.from)));
    if (applied.to) query.set('created_to', String(dayStart(applied.to) + 86400));
    if (after) query.set('after', after);
    return api('GET', `/v1/videos?${query}`);
  };
  const heading = useRef(null);
  const show = async (cursors, { moved = false } = {}) => {
    setGallery((old) => ({ ...old, loading: true }));
    try {
      const page = await loadPage(cursors[cursors.length - 1]);
      setGallery({ items: page.data, hasMore: page.has_more, loading: false, error: null, cursors });
      if (moved) heading.current?.focus();  // a new page: reading starts at the gallery again
    } catch (error) {
      setGallery((old) => ({ ...old, loading: false, error }));
    }
  };
  // A change (a video made or deleted) shows the same page again; new filters, the first one.
  const shownFilters = useRef(applied);
  useEffect(() => {
    const samePage = shownFilters.current === applied;
    shownFilters.current = applied;
    show(samePage ? gallery.cursors : ['']);
  }, [version, applied]);
  const older = () => show([...gallery.cursors, gallery.items[gallery.items.length - 1].id], { moved: true });
  const newer = () => show(gallery.cursors.slice(0, -1), { moved: true });
  // The last video of a later page deleted: the page before it.
  useEffect(() => {
    if (!gallery.loading && !gallery.error && gallery.items.length === 0 && gallery.cursors.length > 1) newer();
  }, [gallery]);
  const remove = async (video) => {
    if (!confirm(t('gallery.delete_confirm', { prompt: video.prompt }))) return;
    try {
      await api('DELETE', `/v1/videos/${encodeURIComponent(video.id)}`);
      setGallery((old) => ({ ...old, items: old.items.filter((item) => item.id !== video.id) }));
    } catch (error) {
      setGallery((old) => ({ ...old, error }));
    }
  };
  const made = route.query.get('made');

  return html`<${Page} title=${t('nav.videos')} titlePrefix=${titlePrefix}>
    ${made && html`<${Notice} kind="success">${t('queue.submitted')}</${Notice}>`}
    <${Queue} active=${active} failed=${failed} onChanged=${refresh} />
    <section aria-labelledby="gallery-title">
      <h2 id="gallery-title" tabindex="-1" ref=${heading}>${t('gallery.title')}</h2>
      <form class="filters" role="search" onSubmit=${(event) => { event.preventDefault(); setApplied({ ...filters.values }); }}>
        <${Field} label=${t('gallery.search')} name="q" type="search" value=${filters.values.q} onInput=${filters.set('q')} />
        <${Field} label=${t('gallery.from')} name="from" type="date" value=${filters.values.from} onInput=${filters.set('from')} />
        <${Field} label=${t('gallery.to')} name="to" type="date" value=${filters.values.to} onInput=${filters.set('to')} />
        <button type="submit" class="button button-secondary">${t('gallery.filter')}</button>
      </form>
      ${gallery.error && html`<${Notice} kind="error">${messageOf(gallery.error)}</${Notice}>`}
      ${!gallery.loading && gallery.items.length === 0 && html`<p>${applied.q || applied.from || applied.to ? t('gallery.none_match') : t('gallery.empty')}
        ${' '}<a href="#/">${t('gallery.make_one')}</a></p>`}
      <ul class="gallery">
        ${gallery.items.map((video) => html`<${GalleryCard} key=${video.id} video=${video} onOpen=${setPlaying} onDelete=${remove} />`)}
      </ul>
      <p role="status" class="count">${gallery.items.length > 0 && t('gallery.page', { page: gallery.cursors.length })}
        ${gallery.loading && t('state.loading')}</p>
      ${(gallery.cursors.length > 1 || gallery.hasMore) && html`<nav class="pager" aria-label=${t('gallery.pages')}>
        <button type="button" class="button button-secondary" onClick=${newer} disabled=${gallery.loading || gallery.cursors.length === 1}>
          ${t('gallery.newer')}</button>
        <button type="button" class="button button-secondary" onClick=${older} disabled=${gallery.loading || !gallery.hasMore}>
          ${t('gallery.older')}</button>
      </nav>`}
    </section>
    <${Player} video=${playing} onClose=${() => setPlaying(null)} />
  </${Page}>`;
}
