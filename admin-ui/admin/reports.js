// reports.js - moderation reports this host forwarded to the moderation service.
import { api, $ } from '/static/common/app.js';
import { setup, fail, fill, row, when, badge } from '/static/admin/admin.js';

setup();

api('/admin/api/reports')
  .then((d) => {
    $('service').textContent = d.serviceUrl
      ? `Reports go to ${d.serviceUrl} (${d.serviceDid}). This host keeps a record of each one it forwarded.`
      : 'No report service is configured (PDS_REPORT_SERVICE_URL / PDS_MOD_SERVICE_URL): reports cannot be forwarded.';
    fill('reports', d.reports.map((r) => row(when(r.at), r.reporter, (r.reasonType || '').replace(/^com\.atproto\.moderation\.defs#/, ''), r.subject || '', r.reason || '', r.status >= 200 && r.status < 300 ? badge(String(r.status), 'active') : badge(String(r.status || 'unreachable'), 'bad'))), 'No reports forwarded yet.');
  })
  .catch(fail);
