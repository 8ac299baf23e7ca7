// The web console in a real browser: Debian's Chromium driven by Playwright, run by the lab test ConsoleTests inside
// the gateway's network namespace, so the browser can reach the admin listener (127.0.0.1 there) and nothing else.
// It talks to the test both ways: "STEP name [value]" lines on stdout for the test, and files the test writes into
// the signal folder for the browser to wait on (each wait bounded). Screenshots go to the shots folder.
//   node console-lab.mjs BASE_URL TOKEN_FILE SHOTS_DIR SIGNALS_DIR
import { chromium } from 'playwright-core';
import { readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const [base, tokenFile, shots, signals] = process.argv.slice(2);
const token = readFileSync(tokenFile, 'utf8').trim();
const timeout = 30_000;
mkdirSync(shots, { recursive: true });

const step = (name, value) => console.log(`STEP ${name}${value === undefined ? '' : ' ' + value}`);

async function waitForSignal(name) {
  const path = join(signals, name);
  const deadline = Date.now() + 60_000;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`the test never wrote ${name}`);
    await new Promise(resolve => setTimeout(resolve, 100));
  }
  return readFileSync(path, 'utf8').trim();
}

// Reloads the page until the condition holds in it (the console shows state as of its last load).
async function until(page, description, condition) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`the console never showed ${description}`);
    await page.reload();
    await page.waitForSelector('#view[data-page]');
  }
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
const page = await context.newPage();
page.setDefaultTimeout(timeout);
const shot = name => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
// Nothing but the admin listener: any other request fails the run.
const foreign = [];
page.on('request', request => { if (!request.url().startsWith(base) && !request.url().startsWith('data:') && !request.url().startsWith('blob:')) foreign.push(request.url()); });

try {
  // 1. Without a session, the console is the login form; a wrong token is refused.
  await page.goto(base + '/');
  await page.waitForURL(base + '/login');
  await page.fill('#token', 'not-the-admin-token-at-all');
  await page.click('#login-submit');
  await page.waitForSelector('#login-error');
  await shot('01-wrong-token');
  if ((await page.textContent('#login-error')).indexOf('not this gateway') < 0) throw new Error('no refusal shown');
  if (await page.evaluate(async () => (await fetch('/api/v1/peers')).status) !== 401) throw new Error('the API answered without a session');
  step('wrong-token-refused');

  // 2. Log in with the admin token.
  await page.fill('#token', token);
  await page.click('#login-submit');
  await page.waitForSelector('#view[data-page="overview"]');
  await shot('02-overview');
  step('logged-in');

  // 2b. CSRF: the session cookie alone changes nothing — not from this page without its token or with a wrong one,
  // and not from a form another site (here an opaque origin) sends to the console.
  const forged = await page.evaluate(async () => {
    const post = async extra => {
      const answer = await fetch('/api/v1/peers', { method: 'POST', headers: { 'Content-Type': 'application/json', ...extra },
        body: JSON.stringify({ name: 'forged' }) });
      return answer.status + ' ' + await answer.text();
    };
    return [await post({}), await post({ 'X-CSRF-Token': 'not-the-page-token' })];
  });
  for (const answer of forged)
    if (!answer.startsWith('403 ') || answer.indexOf('CSRF') < 0) throw new Error('a change without the page\'s CSRF token was not refused: ' + answer);
  const other = await context.newPage();
  await other.setContent(`<form id="f" method="post" action="${base}/logout"><input name="csrf" value="guessed"></form>`);
  const [crossSite] = await Promise.all([other.waitForResponse(r => r.url() === base + '/logout'),
    other.evaluate(() => document.getElementById('f').submit())]);
  await other.close();
  if (crossSite.status() !== 401 && crossSite.status() !== 403) throw new Error(`a cross-site logout form got ${crossSite.status()}`);
  if (await page.evaluate(async () => (await fetch('/api/v1/peers')).status) !== 200) throw new Error('the session did not survive a cross-site form');
  step('csrf-refused', [...forged.map(a => a.slice(0, 3)), crossSite.status()].join(','));

  // 3. Add a peer; its config appears once, with a QR code and a download.
  await page.click('#nav-peers');
  await page.waitForSelector('#view[data-page="peers"]');
  await page.fill('#peer-name', 'phone');
  await page.click('#peer-add-submit');
  await page.waitForSelector('#peer-config');
  await page.waitForSelector('#peer-qr');
  const config = await page.textContent('#peer-config');
  if (!/PrivateKey = /.test(config)) throw new Error('the config on the page has no private key');
  if ((await page.getAttribute('#peer-config-download', 'download')) !== 'phone.conf') throw new Error('no download');
  await shot('03-peer-added');
  writeFileSync(join(signals, 'phone.conf'), config, { mode: 0o600 });
  // The QR code as the screen shows it, for the test to scan.
  await page.locator('#peer-qr').screenshot({ path: join(signals, 'phone-qr.png') });
  step('config', join(signals, 'phone.conf'));

  // 4. The test connects a stock client with it; the peers page shows it connected.
  await waitForSignal('connected');
  await until(page, 'phone connected', async () =>
    (await page.textContent('tr[data-peer="phone"] td.connected').catch(() => '')) === 'connected');
  await shot('04-peer-connected');
  step('seen-connected');

  // 5. A static forward, which the test reaches from the remote host.
  await page.click('#nav-forwards');
  await page.waitForSelector('#view[data-page="forwards"]');
  await page.selectOption('#forward-peer', 'phone');
  await page.selectOption('#forward-protocol', 'tcp');
  await page.fill('#forward-external', '30000');
  await page.fill('#forward-internal', '8080');
  await page.click('#forward-add-submit');
  await page.waitForSelector('tr[data-forward="198.51.100.10/tcp/30000"]');
  await shot('05-forward-added');
  step('forward-added');

  // 6. The client maps a port itself; the mappings page shows it, checks it from outside, and revoking it takes it away.
  const port = await waitForSignal('mapped');
  const row = `tr[data-mapping="198.51.100.10/tcp/${port}"]`;
  await page.click('#nav-mappings');
  await until(page, `the mapping of port ${port}`, async () => (await page.$(row)) !== null);
  await page.click(`${row} button[data-action="check"]`);
  await page.waitForFunction(selector => {
    const text = document.querySelector(selector)?.textContent.trim();
    return text && text !== 'checking…';
  }, `${row} .check-result`);
  await shot('06-mappings');
  step('checked', (await page.textContent(`${row} .check-result`)).trim());
  // The overview counts what is live now: the peer, its mapping, its forward, its traffic.
  await page.click('#nav-overview');
  await page.waitForSelector('#view[data-page="overview"]');
  const card = async id => (await page.textContent(`#${id} .value`)).trim();
  await shot('06b-overview');
  step('overview', [await card('card-peers'), await card('card-mappings'), await card('card-forwards'),
    await card('card-forwarding'), await card('card-traffic')].join('|'));
  await page.click('#nav-mappings');
  await page.waitForSelector(row);
  await page.click(`${row} button[data-action="revoke"]`);
  await page.waitForSelector(row, { state: 'detached' });
  await shot('07-revoked');
  step('revoked', port);

  // 6b. The static forward goes from its row.
  await page.click('#nav-forwards');
  await page.waitForSelector('tr[data-forward="198.51.100.10/tcp/30000"]');
  await page.click('tr[data-forward="198.51.100.10/tcp/30000"] button[data-action="remove"]');
  await page.waitForSelector('tr[data-forward="198.51.100.10/tcp/30000"]', { state: 'detached' });
  step('forward-removed');

  // 7. Disable, enable and remove the peer from its row (removal asks first).
  page.on('dialog', dialog => dialog.accept());
  await page.click('#nav-peers');
  await page.waitForSelector('#view[data-page="peers"]');
  await page.click('tr[data-peer="phone"] button[data-action="disable"]');
  await page.waitForSelector('tr[data-peer="phone"] button[data-action="enable"]');
  await page.click('tr[data-peer="phone"] button[data-action="enable"]');
  await page.waitForSelector('tr[data-peer="phone"] button[data-action="disable"]');
  await page.click('tr[data-peer="phone"] button[data-action="remove"]');
  await page.waitForSelector('tr[data-peer="phone"]', { state: 'detached' });
  await shot('08-peer-removed');
  step('peer-removed');

  // 8. The policy page, then log out: the session is gone, for the page and for the API.
  await page.click('#nav-policy');
  await page.waitForSelector('#policy-form');
  await page.fill('#policy-port_range', '30-20');
  await page.click('#policy-save');
  await page.waitForSelector('#message.error');
  await shot('09-policy-refused');
  step('policy-refused', JSON.stringify(await page.textContent('#message')));
  await page.fill('#policy-port_range', '');
  await page.fill('#policy-max_per_peer', '2');
  await page.click('#policy-save');
  await page.waitForSelector('#message:not(.error)');
  await page.waitForSelector('#policy-max_per_peer[value="2"]');
  await shot('10-policy-saved');
  step('policy-saved', JSON.stringify(await page.textContent('#message')));
  // The inbound limits: a value that is no whole number is refused in the page, then both are saved and shown in force.
  await page.fill('#policy-inbound_new_per_second', 'fast');
  await page.click('#policy-save');
  await page.waitForSelector('#message.error');
  step('policy-limit-refused', JSON.stringify(await page.textContent('#message')));
  await page.fill('#policy-inbound_new_per_second', '7');
  await page.fill('#policy-inbound_max_connections', '50');
  await page.click('#policy-save');
  await page.waitForSelector('#message:not(.error)');
  await page.waitForSelector('#policy-inbound_max_connections[value="50"]');
  await shot('11-policy-limits');
  step('policy-limits-saved', [await page.textContent('#policy-effective-inbound_new_per_second'),
    await page.textContent('#policy-effective-inbound_max_connections'), await page.inputValue('#policy-max_per_peer')].join('|'));
  // Remote-peer filters per mapping: a value outside the API's range (0-43) is refused with the API's reason, then one
  // within it is saved and shown in force, the other overrides kept.
  await page.fill('#policy-max_filters_per_mapping', '44');
  await page.click('#policy-save');
  await page.waitForSelector('#message.error');
  step('policy-filters-refused', JSON.stringify(await page.textContent('#message')));
  await page.fill('#policy-max_filters_per_mapping', '3');
  await page.click('#policy-save');
  await page.waitForSelector('#message:not(.error)');
  await page.waitForSelector('#policy-max_filters_per_mapping[value="3"]');
  await shot('12-policy-filters');
  step('policy-filters-saved', [await page.textContent('#policy-effective-max_filters_per_mapping'),
    await page.inputValue('#policy-inbound_new_per_second'), await page.inputValue('#policy-max_per_peer')].join('|'));
  await page.click('#logout');
  await page.waitForURL(base + '/login');
  if (await page.evaluate(async () => (await fetch('/api/v1/peers')).status) !== 401) throw new Error('the API still answers after logout');
  await page.goto(base + '/');
  await page.waitForURL(base + '/login');
  step('logged-out');
  if (foreign.length > 0) throw new Error('the console asked for ' + foreign.join(', '));
  step('done');
} catch (e) {
  await shot('99-failure').catch(() => {});
  console.log(`FAIL ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
