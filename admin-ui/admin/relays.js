// relays.js - each relay's view of this host, and asking one to crawl.
import { api, $, say } from '/static/common/app.js';
import { setup, fail, fill, relayRows, num } from '/static/admin/admin.js';

setup();

async function load() {
  try {
    const d = await api('/admin/api/relays');
    $('ours').textContent = `This host: ${d.hostname}, head seq ${num(d.headSeq)}, ${num(d.activeAccounts)} active accounts.`;
    fill('relays', relayRows(d, true), 'No relays configured (PDS_CRAWLERS is empty).');
  } catch (err) {
    fail(err);
  }
}

$('relays').addEventListener('click', async (e) => {
  const url = e.target.dataset?.url;
  if (!url) return;
  try {
    await api('/admin/api/relays/crawl', { url });
    say($('notice'), `${url} was asked to crawl this host.`, 'success');
    await load();
  } catch (err) {
    fail(err);
  }
});
load();
