// dashboard.js - the dashboard's figures (GET /admin/api/dashboard) and the relays' view.
import { api, $ } from '/static/common/app.js';
import { setup, fail, bytes, num, fill, relayRows } from '/static/admin/admin.js';

setup();

function show(d) {
  $('acc-total').textContent = num(d.accounts.total);
  $('acc-active').textContent = num(d.accounts.active);
  $('acc-deactivated').textContent = num(d.accounts.deactivated);
  $('acc-takendown').textContent = num(d.accounts.takendown);
  $('st-repo').textContent = bytes(d.storage.repoBytes);
  $('st-blobs').textContent = bytes(d.storage.blobBytes);
  $('st-blobcount').textContent = `${num(d.storage.blobCount)} blobs (${d.storage.blobStore})`;
  $('st-db').textContent = bytes(d.storage.databaseBytes);
  if (d.storage.diskFreeBytes !== undefined) {
    $('st-disk').textContent = bytes(d.storage.diskFreeBytes);
    $('st-disktotal').textContent = `of ${bytes(d.storage.diskTotalBytes)}`;
  } else {
    $('st-disk').textContent = 'unknown';
  }
  $('fh-head').textContent = String(d.firehose.headSeq); // sequence numbers read best unbroken
  $('fh-subs').textContent = num(d.firehose.subscribers);
  if (d.writeBudget.available) {
    $('budget').textContent = `${Math.round((100 * d.writeBudget.used) / d.writeBudget.limit)}%`;
    $('budget-sub').textContent = `${num(d.writeBudget.used)} of ${num(d.writeBudget.limit)}`;
  } else {
    $('budget').textContent = 'not available';
    $('budget-sub').textContent = 'the host event budget is not known yet';
  }
  $('writes-hour').textContent = num(d.writesPerMinute.reduce((s, m) => s + m.count, 0));
}

api('/admin/api/dashboard').then(show).catch(fail);
api('/admin/api/relays')
  .then((d) => fill('relays', relayRows(d, false), 'No relays configured (PDS_CRAWLERS is empty).'))
  .catch(fail);
