// The status page's script (served as /static/status.js; the page's CSP allows no inline script).
// It loads a group's values when the group is opened, asks before deleting, copies commands and keeps
// the "… ago" times current. Every value from the server is put into the page as text, never as HTML.

(() => {
  const serverNow = Number(document.body.dataset.now) || Date.now();
  const skew = Date.now() - serverNow;

  // accrueAgo: shared/format/ago.ts, put in front of this script by the server (service/status/assets.ts).
  function ago(ms) {
    return accrueAgo(ms, Date.now() - skew);
  }

  function tick() {
    for (const t of document.querySelectorAll('time[data-ms]')) t.textContent = ago(Number(t.dataset.ms));
  }
  setInterval(tick, 5000);

  function el(tag, props, children) {
    const e = document.createElement(tag);
    if (props) for (const [k, v] of Object.entries(props)) e.setAttribute(k, v);
    for (const c of children || []) e.append(c);
    return e;
  }

  function labelText(labels) {
    const names = Object.keys(labels).sort();
    return names.length
      ? `{${names.map((n) => `${n}=${JSON.stringify(labels[n])}`).join(', ')}}`
      : '(no labels)';
  }

  function scalarTable(f) {
    const body = f.series.map((s) =>
      el('tr', null, [
        el('td', null, [el('code', null, [labelText(s.labels)])]),
        el('td', { class: 'num' }, [s.value]),
      ]),
    );
    return el('table', { class: 'values' }, [
      el('thead', null, [
        el('tr', null, [el('th', { scope: 'col' }, ['series']), el('th', { scope: 'col' }, ['value'])]),
      ]),
      el('tbody', null, body),
    ]);
  }

  // A histogram series as a bucket table, with a bar per bucket of its own (non-cumulative) count.
  function histogramTable(s) {
    let prev = 0;
    const own = s.buckets.map((b) => {
      const c = Number(b.count);
      const n = c - prev;
      prev = c;
      return n;
    });
    const max = Math.max(1, ...own);
    const body = s.buckets.map((b, i) =>
      el('tr', null, [
        el('td', { class: 'num' }, [`≤ ${b.le}`]),
        el('td', { class: 'num' }, [b.count]),
        el('td', null, [
          el('meter', {
            min: '0',
            max: String(max),
            value: String(own[i]),
            'aria-label': `${own[i]} in bucket le ${b.le}`,
          }),
        ]),
      ]),
    );
    return el('table', { class: 'values histogram' }, [
      el('caption', null, [`${labelText(s.labels)} — count ${s.count}, sum ${s.sum}`]),
      el('thead', null, [
        el('tr', null, [
          el('th', { scope: 'col' }, ['le']),
          el('th', { scope: 'col' }, ['cumulative count']),
          el('th', { scope: 'col' }, ['in this bucket']),
        ]),
      ]),
      el('tbody', null, body),
    ]);
  }

  function summaryTable(s) {
    const body = s.quantiles.map((q) =>
      el('tr', null, [el('td', { class: 'num' }, [q.quantile]), el('td', { class: 'num' }, [q.value])]),
    );
    return el('table', { class: 'values' }, [
      el('caption', null, [`${labelText(s.labels)} — count ${s.count}, sum ${s.sum}`]),
      el('thead', null, [
        el('tr', null, [el('th', { scope: 'col' }, ['quantile']), el('th', { scope: 'col' }, ['value'])]),
      ]),
      el('tbody', null, body),
    ]);
  }

  function familyBlock(f) {
    const parts = [
      el('h2', { class: 'family-name' }, [
        el('code', null, [f.name]),
        ' ',
        el('span', { class: 'type' }, [f.type]),
      ]),
    ];
    if (f.help) parts.push(el('p', { class: 'help' }, [f.help]));
    if (f.type === 'histogram') for (const s of f.series) parts.push(histogramTable(s));
    else if (f.type === 'summary') for (const s of f.series) parts.push(summaryTable(s));
    else parts.push(scalarTable(f));
    if (f.omitted > 0)
      parts.push(el('p', { class: 'muted' }, [`… and ${f.omitted} more series (see /metrics)`]));
    return el('div', { class: 'family' }, parts);
  }

  async function load(details) {
    const box = details.querySelector('.families');
    if (!box || details.dataset.loaded) return;
    details.dataset.loaded = '1';
    box.replaceChildren(el('p', { class: 'muted' }, ['Loading…']));
    try {
      const r = await fetch(`/api/v1/accrue/group/${details.dataset.path}`, { credentials: 'same-origin' });
      if (!r.ok) throw new Error(`HTTP ${r.status} ${(await r.text()).trim()}`);
      const doc = await r.json();
      const fams = doc.data.families;
      box.replaceChildren(
        ...(fams.length ? fams.map(familyBlock) : [el('p', { class: 'muted' }, ['No families.'])]),
      );
    } catch (e) {
      delete details.dataset.loaded;
      box.replaceChildren(el('p', { class: 'bad' }, [`Could not load the values: ${e.message}`]));
    }
  }

  for (const d of document.querySelectorAll('details.group')) {
    d.addEventListener('toggle', () => {
      if (d.open) void load(d);
    });
  }

  const notice = document.getElementById('notice');
  const dialog = document.getElementById('confirm-delete');
  let pending;
  for (const b of document.querySelectorAll('button.delete')) {
    b.addEventListener('click', () => {
      pending = b;
      const fam = Number(b.dataset.families);
      document.getElementById('confirm-text').textContent =
        `This removes the group ${b.dataset.group} with its ${fam} ${fam === 1 ? 'family' : 'families'} ` +
        `(${b.dataset.series} series) from the store and from /metrics. ` +
        'A later push or event for this group creates it again.';
      dialog.returnValue = '';
      dialog.showModal();
    });
  }
  dialog?.addEventListener('close', async () => {
    const b = pending;
    pending = undefined;
    if (!b || dialog.returnValue !== 'delete') return;
    b.disabled = true;
    const r = await fetch(`/metrics/${b.dataset.path}`, { method: 'DELETE', credentials: 'same-origin' });
    if (r.ok) {
      location.reload();
    } else {
      b.disabled = false;
      notice.textContent = `Delete failed: HTTP ${r.status} ${(await r.text()).trim()}`;
      notice.className = 'bad';
    }
  });

  for (const b of document.querySelectorAll('button.copy')) {
    b.addEventListener('click', async () => {
      const text = document.getElementById(b.dataset.copy).textContent;
      try {
        await navigator.clipboard.writeText(text);
        notice.textContent = 'Copied to the clipboard.';
      } catch {
        const range = document.createRange();
        range.selectNodeContents(document.getElementById(b.dataset.copy));
        getSelection().removeAllRanges();
        getSelection().addRange(range);
        notice.textContent = 'Selected: press Ctrl+C to copy.';
      }
    });
  }
})();
