// Portcullis web console: one page, no framework. Every action is a call to /api/v1 (the CLI's API), authenticated
// by the session cookie, with the page's CSRF token in a header for anything that changes state. Values from the
// API are put into the page as text only (textContent), never as markup.
'use strict';

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const view = document.getElementById('view');
const message = document.getElementById('message');

class ApiError extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}

async function api(method, path, body) {
  const headers = { 'X-CSRF-Token': csrf };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch('/api/v1' + path, {
    method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) { location.href = '/login'; throw new ApiError(401, 'Logged out'); }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, (data && (data.detail || data.title)) || response.statusText);
  return data;
}

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function say(text, isError) {
  message.hidden = !text;
  message.textContent = text || '';
  message.className = isError ? 'error' : '';
}

function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0; let v = Number(n || 0);
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? v : v.toFixed(1)) + ' ' + units[i];
}

function ago(iso) {
  if (!iso) return 'never';
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return seconds < 120 ? seconds + ' s ago' : Math.round(seconds / 60) + ' min ago';
}

function limitText(n) { return n ? String(n) + ' per forward' : 'no limit'; }

function yesNo(value, yes, no) { return el('span', { class: value ? 'yes' : 'no' }, value ? yes : no); }

function table(id, headings, rows) {
  return el('table', { id },
    el('thead', {}, el('tr', {}, headings.map(h => el('th', {}, h)))),
    el('tbody', {}, rows));
}

// Runs an action, shows its error (the API's reason) or a confirmation, then redraws the page.
async function act(what, action) {
  try {
    await action();
    say(what, false);
  } catch (e) {
    say(e.message, true);
    return false;
  }
  await route(false);
  return true;
}

const pages = {
  async overview() {
    const [status, peers, policy] = await Promise.all([api('GET', '/status'), api('GET', '/peers'), api('GET', '/policy')]);
    const received = peers.reduce((sum, p) => sum + (p.received_bytes || 0), 0);
    const sent = peers.reduce((sum, p) => sum + (p.sent_bytes || 0), 0);
    const card = (id, value, label) => el('div', { class: 'card', id }, el('div', { class: 'value' }, value), el('div', { class: 'label' }, label));
    return [
      el('h1', {}, 'Overview'),
      el('div', { class: 'cards' },
        card('card-gateway', status.interface, 'gateway ' + status.public_addresses.join(', ') + ' · port ' + status.listen_port),
        card('card-peers', status.connected_peers + ' / ' + status.peers, 'peers connected'),
        card('card-mappings', String(status.dynamic_mappings), 'dynamic mappings'),
        card('card-forwards', String(status.live_static_forwards), 'static forwards live'),
        card('card-traffic', bytes(received) + ' ↓ ' + bytes(sent) + ' ↑', 'traffic from / to peers'),
        card('card-forwarding', policy.effective.enabled ? 'enabled' : 'disabled', 'port forwarding')),
      el('p', { class: 'no' }, 'Version ' + status.version + ', up since ' + new Date(status.started_utc).toLocaleString() + '.'),
    ];
  },

  async peers() {
    const peers = await api('GET', '/peers');
    const rows = peers.map(p => el('tr', { 'data-peer': p.name },
      el('td', {}, p.name), el('td', {}, p.tunnel_address), el('td', {}, p.dedicated_address || '–'),
      el('td', {}, yesNo(p.enabled, 'enabled', 'disabled')),
      el('td', { class: 'connected' }, yesNo(p.connected, 'connected', 'not connected')),
      el('td', {}, ago(p.last_handshake_utc)),
      el('td', {}, bytes(p.received_bytes) + ' ↓ ' + bytes(p.sent_bytes) + ' ↑'),
      el('td', {},
        el('button', { class: 'secondary', 'data-action': p.enabled ? 'disable' : 'enable',
          onclick: () => act((p.enabled ? 'Disabled ' : 'Enabled ') + p.name, () => api('POST', '/peers/' + encodeURIComponent(p.name) + (p.enabled ? '/disable' : '/enable'))) },
          p.enabled ? 'Disable' : 'Enable'), ' ',
        el('button', { class: 'danger', 'data-action': 'remove',
          onclick: () => confirm('Remove ' + p.name + '? Its session, forwards and mappings end now.') &&
            act('Removed ' + p.name, () => api('DELETE', '/peers/' + encodeURIComponent(p.name))) }, 'Remove'))));
    const form = el('form', { class: 'inline', id: 'peer-add' },
      el('label', {}, 'Name', el('input', { name: 'name', id: 'peer-name', required: true, pattern: '[A-Za-z0-9._@-]{1,64}' })),
      el('label', {}, 'Public key (empty: the gateway makes a key pair)', el('input', { name: 'public_key', id: 'peer-key', size: 46 })),
      el('label', {}, 'Dedicated address (optional)', el('input', { name: 'dedicated_address', id: 'peer-dedicated', size: 15 })),
      el('button', { type: 'submit', id: 'peer-add-submit' }, 'Add peer'));
    form.addEventListener('submit', async event => {
      event.preventDefault();
      const body = { name: form.elements.name.value.trim() };
      if (form.elements.public_key.value.trim()) body.public_key = form.elements.public_key.value.trim();
      if (form.elements.dedicated_address.value.trim()) body.dedicated_address = form.elements.dedicated_address.value.trim();
      try {
        const added = await api('POST', '/peers?qr=svg', body);
        await route(false);
        say('Added ' + added.peer.name + '. Its config is shown once: save it or scan it now.', false);
        view.append(shownOnce(added));
      } catch (e) { say(e.message, true); }
    });
    return [el('h1', {}, 'Peers'), table('peers', ['Name', 'Tunnel address', 'Dedicated', 'State', 'Session', 'Last handshake', 'Traffic', ''], rows),
      el('h2', {}, 'Add a peer'), form];
  },

  async forwards() {
    const [forwards, peers] = await Promise.all([api('GET', '/forwards'), api('GET', '/peers')]);
    const rows = forwards.map(f => el('tr', { 'data-forward': f.public_address + '/' + f.protocol + '/' + f.external_port },
      el('td', {}, f.public_address + ':' + f.external_port), el('td', {}, f.protocol), el('td', {}, f.peer_name),
      el('td', {}, String(f.internal_port)), el('td', {}, yesNo(f.live, 'live', 'waiting for the peer')),
      el('td', {}, el('button', { class: 'danger', 'data-action': 'remove',
        onclick: () => act('Removed the forward of port ' + f.external_port,
          () => api('DELETE', '/forwards/' + f.public_address + '/' + f.protocol + '/' + f.external_port)) }, 'Remove'))));
    const form = el('form', { class: 'inline', id: 'forward-add' },
      el('label', {}, 'Peer', el('select', { name: 'peer', id: 'forward-peer' }, peers.map(p => el('option', { value: p.name }, p.name)))),
      el('label', {}, 'Protocol', el('select', { name: 'protocol', id: 'forward-protocol' },
        el('option', { value: 'tcp' }, 'tcp'), el('option', { value: 'udp' }, 'udp'), el('option', { value: 'both' }, 'both'))),
      el('label', {}, 'Public port', el('input', { name: 'external_port', id: 'forward-external', type: 'number', min: 1, max: 65535, required: true })),
      el('label', {}, 'Peer\'s port (empty: the same)', el('input', { name: 'internal_port', id: 'forward-internal', type: 'number', min: 1, max: 65535 })),
      el('label', {}, 'Public address (empty: the peer\'s dedicated one, else the default)', el('input', { name: 'public_address', id: 'forward-address', size: 15 })),
      el('button', { type: 'submit', id: 'forward-add-submit' }, 'Add forward'));
    form.addEventListener('submit', event => {
      event.preventDefault();
      const body = { peer: form.elements.peer.value, protocol: form.elements.protocol.value, external_port: Number(form.elements.external_port.value) };
      if (form.elements.internal_port.value) body.internal_port = Number(form.elements.internal_port.value);
      if (form.elements.public_address.value.trim()) body.public_address = form.elements.public_address.value.trim();
      act('Added the forward of port ' + body.external_port, () => api('POST', '/forwards', body));
    });
    const dedicated = peers.filter(p => p.dedicated_address).map(p => el('tr', { 'data-dedicated': p.dedicated_address },
      el('td', {}, p.dedicated_address), el('td', {}, p.name), el('td', {}, yesNo(p.connected, 'in use', 'waiting for the peer'))));
    return [el('h1', {}, 'Static and dedicated forwards'),
      el('h2', {}, 'Dedicated addresses (set when a peer is added)'),
      dedicated.length ? table('dedicated', ['Address', 'Peer', 'State'], dedicated) : el('p', { class: 'no' }, 'No peer has a dedicated address.'),
      el('h2', {}, 'Static forwards'),
      table('forwards', ['Public', 'Protocol', 'Peer', 'Peer\'s port', 'State', ''], rows), el('h2', {}, 'Add a forward'), form];
  },

  async mappings() {
    const mappings = await api('GET', '/mappings');
    const rows = mappings.map(m => {
      const key = m.public_address + '/' + m.protocol + '/' + m.public_port;
      const result = el('span', { class: 'check-result' });
      return el('tr', { 'data-mapping': key },
        el('td', {}, m.public_address + ':' + m.public_port), el('td', {}, m.protocol), el('td', {}, m.peer_name || m.peer_id),
        el('td', {}, m.tunnel_address + ':' + m.internal_port), el('td', {}, new Date(m.expires_utc).toLocaleTimeString()),
        el('td', {},
          el('button', { class: 'secondary', 'data-action': 'check', onclick: async () => {
            result.textContent = ' checking…';
            try { result.textContent = ' ' + (await api('POST', '/mappings/' + key + '/check')).result; } catch (e) { result.textContent = ' ' + e.message; }
          } }, 'Check'), ' ',
          el('button', { class: 'danger', 'data-action': 'revoke',
            onclick: () => act('Revoked port ' + m.public_port, () => api('DELETE', '/mappings/' + key)) }, 'Revoke'), result));
    });
    return [el('h1', {}, 'Mappings (NAT-PMP / PCP leases)'),
      mappings.length ? table('mappings', ['Public', 'Protocol', 'Peer', 'Peer\'s side', 'Expires', ''], rows) : el('p', { id: 'no-mappings' }, 'No live mappings.')];
  },

  async policy() {
    const policy = await api('GET', '/policy');
    const e = policy.effective; const o = policy.overrides;
    const tri = (name, value) => el('select', { name, id: 'policy-' + name },
      el('option', { value: 'default', selected: value === null }, 'from the config file'),
      el('option', { value: 'on', selected: value === true }, 'on'),
      el('option', { value: 'off', selected: value === false }, 'off'));
    const limit = (name, text) => el('label', {}, text + ' (0: no limit)',
      el('input', { name, id: 'policy-' + name, inputmode: 'numeric', value: o[name] ?? '', placeholder: String(e[name]) }));
    const form = el('form', { class: 'inline', id: 'policy-form' },
      el('label', {}, 'Port forwarding', tri('forwarding_enabled', o.forwarding_enabled)),
      el('label', {}, 'Port range (empty: the file\'s)', el('input', { name: 'port_range', id: 'policy-port_range',
        value: o.port_range ? o.port_range.first + '-' + o.port_range.last : '', placeholder: e.port_range.first + '-' + e.port_range.last })),
      el('label', {}, 'Mappings per peer', el('input', { name: 'max_per_peer', id: 'policy-max_per_peer', value: o.max_per_peer ?? '', placeholder: String(e.max_per_peer) })),
      el('label', {}, 'Every port of dedicated addresses', tri('forward_all_dedicated_ports', o.forward_all_dedicated_ports)),
      limit('inbound_new_per_second', 'New inbound connections per second, per forward'),
      limit('inbound_max_connections', 'Inbound connections at once, per forward'),
      el('label', {}, 'Remote-peer filters per mapping (PCP FILTER; 0: filtered mappings refused)',
        el('input', { name: 'max_filters_per_mapping', id: 'policy-max_filters_per_mapping', inputmode: 'numeric',
          value: o.max_filters_per_mapping ?? '', placeholder: String(e.max_filters_per_mapping) })),
      el('button', { type: 'submit', id: 'policy-save' }, 'Save'));
    form.addEventListener('submit', event => {
      event.preventDefault();
      const value = name => form.elements[name].value.trim();
      const flag = name => value(name) === 'default' ? null : value(name) === 'on';
      // PUT replaces every override: a field left out would clear what the CLI set.
      const body = { forwarding_enabled: flag('forwarding_enabled'), port_range: null, max_per_peer: null,
        forward_all_dedicated_ports: flag('forward_all_dedicated_ports'), inbound_new_per_second: null, inbound_max_connections: null,
        max_filters_per_mapping: null };
      if (value('port_range')) {
        const [first, last] = value('port_range').split('-').map(Number);
        body.port_range = { first, last };
      }
      if (value('max_per_peer')) body.max_per_peer = Number(value('max_per_peer'));
      const zero = { inbound_new_per_second: 'no limit', inbound_max_connections: 'no limit', max_filters_per_mapping: 'filtered mappings refused' };
      for (const name of Object.keys(zero)) {
        if (!value(name)) continue;
        // Refused here, before anything is sent: the API would take '1e3' or '2.5' as a number it then refuses less clearly.
        // The range is the API's to check (it names it in its 400).
        if (!/^[0-9]{1,9}$/.test(value(name))) {
          say(name + ': \'' + value(name) + '\' is not a whole number of 0 or more (0: ' + zero[name] + '; empty: the config file\'s)', true);
          form.elements[name].focus();
          return;
        }
        body[name] = Number(value(name));
      }
      act('Policy saved', () => api('PUT', '/policy', body));
    });
    return [el('h1', {}, 'Policy'),
      table('policy-effective', ['In force', ''], [
        el('tr', {}, el('td', {}, 'Port forwarding'), el('td', {}, yesNo(e.enabled, 'enabled', 'disabled'))),
        el('tr', {}, el('td', {}, 'Port range'), el('td', {}, e.port_range.first + '–' + e.port_range.last)),
        el('tr', {}, el('td', {}, 'Mappings per peer'), el('td', {}, String(e.max_per_peer))),
        el('tr', {}, el('td', {}, 'Lease lifetime'), el('td', {}, e.min_lifetime_seconds + '–' + e.max_lifetime_seconds + ' s')),
        el('tr', {}, el('td', {}, 'Every port of dedicated addresses'), el('td', {}, yesNo(e.forward_all_dedicated_ports, 'on', 'off'))),
        el('tr', {}, el('td', {}, 'New inbound connections per second'), el('td', { id: 'policy-effective-inbound_new_per_second' }, limitText(e.inbound_new_per_second))),
        el('tr', {}, el('td', {}, 'Inbound connections at once'), el('td', { id: 'policy-effective-inbound_max_connections' }, limitText(e.inbound_max_connections))),
        el('tr', {}, el('td', {}, 'Remote-peer filters per mapping'), el('td', { id: 'policy-effective-max_filters_per_mapping' },
          e.max_filters_per_mapping ? String(e.max_filters_per_mapping) : 'none: filtered mappings refused'))]),
      el('h2', {}, 'Overrides (stored; they win over the config file)'), form];
  },
};

// The config of a peer just added, its QR code and a download: in the page once, never fetched again.
function shownOnce(added) {
  const blob = new Blob([added.client_config], { type: 'text/plain' });
  const qr = added.client_config_qr_svg
    ? el('img', { id: 'peer-qr', alt: 'QR code of the client config', src: 'data:image/svg+xml;base64,' + btoa(unescape(encodeURIComponent(added.client_config_qr_svg))) })
    : null;
  return el('div', { class: 'once', id: 'peer-config-once' },
    el('div', {}, el('h2', {}, 'Client config for ' + added.peer.name),
      el('pre', { id: 'peer-config' }, added.client_config),
      el('a', { id: 'peer-config-download', href: URL.createObjectURL(blob), download: added.peer.name + '.conf' }, 'Download ' + added.peer.name + '.conf')),
    qr);
}

async function route(clearMessage) {
  const name = (location.hash.replace(/^#\//, '') || 'overview');
  const page = pages[name] || pages.overview;
  for (const link of document.querySelectorAll('nav a')) link.classList.toggle('active', link.id === 'nav-' + name);
  if (clearMessage) say('', false);
  try {
    const content = await page();
    view.replaceChildren(...content);
    view.dataset.page = name;
  } catch (e) {
    view.replaceChildren(el('p', { class: 'error' }, 'Could not load this page: ' + e.message));
  }
}

window.addEventListener('hashchange', () => route(true));
route(true);
