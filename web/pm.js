// huifang project manager's page (/pm): the PM's projects, and a milestone
// reported from the building site with two taps. Same origin only, the
// session cookie plus the CSRF token; text goes in with textContent.
//
// Reporting a milestone: tapping it opens a confirmation that shows what
// will be sent and when (POST .../preview: the gateway's own plan, nothing
// stored). The idempotency key and the instant are made once, when the
// confirmation opens, and reused for every retry of that confirmation, so a
// double tap or a retry after a dropped connection never reports twice.
'use strict';

(function () {
  const CSRF = document.querySelector('meta[name="hf-csrf"]').content;
  const main = document.getElementById('main');
  const ROLE = { pm: '项目经理', designer: '设计师', foreman: '工长', supervisor: '监理',
                 customer: '业主', cs_manager: '客服经理' };
  const CHANNEL = { wechat: '微信', sms: '短信', webhook: 'Webhook', wecom: '企业微信' };
  const KIND = { notice: '通知', survey: '满意度回访', alert: '内部提醒' };

  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const k of kids.flat()) {
      if (k == null || k === false) continue;
      el.append(k instanceof Node ? k : document.createTextNode(String(k)));
    }
    return el;
  }
  function when(iso) {
    const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)/.exec(iso || '');
    return m ? `${+m[2]}月${+m[3]}日 ${m[4]}:${m[5]}` : iso || '';
  }
  // Now on the gateway's clock, as RFC 3339 in the gateway's offset: the
  // server's "now" when the projects were read plus the time since (a
  // phone's own clock may be wrong).
  let server = null;
  function nowIso() {
    const p = (n) => String(n).padStart(2, '0');
    const m = /([+-])(\d\d):(\d\d)$/.exec(server.now);
    const off = m ? (m[1] === '-' ? -1 : 1) * (60 * +m[2] + +m[3]) : 0;
    const d = new Date(Date.parse(server.now) + (performance.now() - server.at) + off * 60000);
    return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T` +
      `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}` +
      (m ? m[0] : 'Z');
  }
  function newKey() {
    const b = new Uint8Array(12);
    crypto.getRandomValues(b);
    return 'pm-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  async function api(method, path, body) {
    const opt = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (method !== 'GET') {
      opt.headers['X-CSRF-Token'] = CSRF;
      opt.headers['Content-Type'] = 'application/json';
      opt.body = JSON.stringify(body);
    }
    const r = await fetch(path, opt);
    let j = null;
    try { j = await r.json(); } catch (e) { j = null; }
    if (r.status === 401) {
      location.href = '/pm/login';
    }
    return { status: r.status, body: j };
  }
  function errText(res) {
    const e = res.body && res.body.error;
    if (res.status === 409) return '这个上报已用不同内容提交过，请关闭后重新点选节点。';
    if (res.status === 422) return '无法联系到该客户（没有可用的发送渠道），请联系客服。';
    if (res.status === 503) return '系统繁忙，请稍后点“重试”（不会重复发送）。';
    return (e && e.message) || '出错了（HTTP ' + res.status + '）';
  }

  function planList(messages) {
    return h('ul', { class: 'plan', id: 'plan' }, messages.map((m) =>
      h('li', {}, `${when(m.due_at)}　${KIND[m.kind] || m.kind} → ${ROLE[m.to] || m.to}` +
        `（${CHANNEL[m.channel] || m.channel}）`)));
  }

  function closeDialog() {
    const d = document.querySelector('.dialog-backdrop');
    if (d) d.remove();
  }

  async function confirmMilestone(project, ms) {
    closeDialog();
    // Made once per confirmation: every retry below reuses them.
    const req = { idempotency_key: newKey(), milestone: ms.id, occurred_at: nowIso() };
    const status = h('div', { id: 'dialog-status', role: 'status' },
      h('p', { class: 'muted' }, '正在计算将发送的消息…'));
    const ok = h('button', { type: 'button', class: 'primary', id: 'confirm', disabled: true },
      '确认上报');
    const cancel = h('button', { type: 'button', id: 'cancel', onclick: closeDialog }, '取消');
    const dialog = h('div', { class: 'dialog-backdrop' },
      h('div', { class: 'dialog', role: 'dialog', 'aria-modal': 'true' },
        h('h2', {}, '上报「' + ms.name + '」'),
        h('p', {}, project.address),
        h('p', { class: 'muted' }, `业主 ${project.customer_name || ''}${project.customer_title || ''}`),
        status, h('div', { class: 'buttons' }, cancel, ok)));
    document.body.append(dialog);
    const pre = await api('POST', `/v1/pm/projects/${encodeURIComponent(project.id)}/preview`, req);
    if (pre.status !== 200) {
      status.replaceChildren(h('p', { class: 'error' }, errText(pre)));
      return;
    }
    status.replaceChildren(h('p', {}, '确认后将发送：'), planList(pre.body.messages));
    ok.disabled = false;
    ok.addEventListener('click', async () => {
      ok.disabled = true;
      cancel.disabled = true;
      ok.textContent = '正在上报…';
      let res;
      try {
        res = await api('POST', `/v1/pm/projects/${encodeURIComponent(project.id)}/triggers`, req);
      } catch (e) {
        res = { status: 0, body: null };
      }
      if (res.status === 202 || res.status === 200) {
        status.replaceChildren(
          h('p', { class: 'ok', id: 'done' }, res.status === 202 ? '已上报，客户将按下列时间收到消息：'
                                                                 : '这次上报已经提交过，不会重复发送：'),
          planList(res.body.messages || []));
        ok.remove();
        cancel.disabled = false;
        cancel.textContent = '完成';
        cancel.addEventListener('click', load);
        return;
      }
      status.append(h('p', { class: 'error', id: 'trigger-error' },
        res.status === 0 ? '网络中断，请点“重试”（不会重复发送）。' : errText(res)));
      ok.disabled = false;
      cancel.disabled = false;
      ok.textContent = '重试';
    });
  }

  async function load() {
    closeDialog();
    document.body.removeAttribute('data-ready');
    const res = await api('GET', '/v1/pm/projects');
    if (res.status !== 200) {
      main.replaceChildren(h('p', { class: 'error' }, errText(res)));
      return;
    }
    const j = res.body;
    server = { now: j.now, at: performance.now() };
    const list = j.items || [];
    main.replaceChildren(...[
      h('h2', {}, '我的项目'),
      list.length ? null : h('p', { class: 'muted' }, '暂无项目。项目由公司系统在第一次上报节点时登记。'),
      list.map((p) => h('section', { class: 'project', 'data-project': p.id },
        h('h3', {}, p.address || p.id),
        h('p', { class: 'muted' }, `${p.id} · 业主 ${p.customer_name || ''}${p.customer_title || ''} ` +
          `${p.customer_mobile || ''}`),
        h('div', { class: 'milestones' }, (j.milestones || []).map((m) =>
          h('button', { type: 'button', 'data-milestone': m.id,
                        onclick: () => confirmMilestone(p, m) },
            h('span', {}, m.name),
            (p.milestones || []).includes(m.id) ? h('span', { class: 'done' }, '已上报') : null)))))]
      .flat().filter(Boolean));
    document.body.setAttribute('data-ready', '1');
  }
  load();
})();
