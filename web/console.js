// huifang web console: a small self-contained app served by huifangd under
// /console. It reads the JSON API with the session cookie (same origin) and
// sends the session's CSRF token with every POST. Nothing is fetched from
// anywhere else; every chart is inline SVG drawn here; text is put into the
// page with textContent, never as HTML.
'use strict';

(function () {
  const CSRF = document.querySelector('meta[name="hf-csrf"]').content;
  const DATA = JSON.parse((document.getElementById('hf-data') || {}).textContent || '{}');
  const MILESTONES = DATA.milestones || [];
  const main = document.getElementById('main');

  // ---- names shown to people ------------------------------------------
  const ROLE = { pm: '项目经理', designer: '设计师', foreman: '工长', supervisor: '监理',
                 customer: '业主', cs_manager: '客服经理' };
  const CHANNEL = { wechat: '微信', sms: '短信', webhook: 'Webhook', wecom: '企业微信',
                    page: '网页' };
  const RESULT_STATE = { open: '待回复', answered: '已回复', unanswered: '未回复',
                         expired: '已过期', flagged: '待人工阅读' };
  const TICKET_STATE = { open: '待处理', reported: '已报告', resolved: '已解决' };
  const TICKET_FILTER = { open: '未解决', overdue: '已超时', reported: '已报告',
                          resolved: '已解决' };
  const CLOCK = { ok: '正常', due: '即将到期', overdue: '已超时' };
  const REASON = { survey: '回访低分', complaint: '客户投诉', repair_request: '保修报修',
                   reply: '回复投诉' };
  const MSG_STATE = { pending: '待发送', sending: '发送中', sent: '已发送', delivered: '已送达',
                      failed: '失败', expired: '已过期', cancelled: '已取消' };
  const KIND = { notice: '通知', survey: '回访问卷', alert: '内部提醒' };
  function milestoneName(id) {
    const m = MILESTONES.find((x) => x.id === id);
    return m ? m.name : id || '';
  }
  function label(map, v) { return (v != null && map[v]) || (v == null ? '' : String(v)); }

  // ---- DOM helpers ------------------------------------------------------
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
  const SVGNS = 'http://www.w3.org/2000/svg';
  function s(tag, attrs, text) {
    const el = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    if (text != null) el.textContent = String(text);
    return el;
  }
  function show(...nodes) {
    main.replaceChildren(...nodes.flat());
  }
  // "2026-11-24T15:05:00+08:00" -> "11-24 15:05" (the API already gives the
  // configured time zone; the browser's clock and zone do not matter).
  function when(iso) {
    if (!iso) return '';
    const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)/.exec(iso);
    return m ? `${m[2]}-${m[3]} ${m[4]}:${m[5]}` : iso;
  }
  function table(headers, rows, rowClass) {
    return h('div', { class: 'table-wrap' },
      h('table', {},
        h('thead', {}, h('tr', {}, headers.map((x) => h('th', {}, x)))),
        h('tbody', {}, rows.length ? rows.map((r, i) =>
          h('tr', { class: rowClass ? rowClass(i) : null }, r.map((c) =>
            c instanceof Node && c.tagName === 'TD' ? c : h('td', {}, c))))
          : h('tr', {}, h('td', { colspan: headers.length, class: 'muted' }, '暂无数据')))));
  }

  // ---- the API ----------------------------------------------------------
  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.error && body.error.message) || 'HTTP ' + status);
      this.status = status;
      this.body = body;
    }
  }
  async function api(method, path, body) {
    const opt = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (method !== 'GET') {
      opt.headers['X-CSRF-Token'] = CSRF;
      opt.headers['Content-Type'] = 'application/json';
      opt.body = JSON.stringify(body || {});
    }
    const r = await fetch(path, opt);
    let j = null;
    try { j = await r.json(); } catch (e) { j = null; }
    if (r.status === 401) {
      // The session ended (expired, or signed out elsewhere).
      location.href = '/console/login';
      throw new ApiError(401, j);
    }
    if (!r.ok) throw new ApiError(r.status, j);
    return j;
  }
  function qs(params) {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== '' && v != null) u.set(k, v);
    const t = u.toString();
    return t ? '?' + t : '';
  }
  function items(j, legacy) { return (j && (j.items || j[legacy])) || []; }
  function failure(e) {
    return h('p', { class: 'error', role: 'alert' },
      e.status === 404 ? '该数据暂不可用（接口未启用或记录不存在）。' : '读取失败：' + e.message);
  }
  function ticketClock(t) {
    if (t.clock) return t.clock;
    if (t.state === 'resolved') return 'ok';
    return t.report_overdue || t.answer_overdue ? 'overdue' : 'ok';
  }

  // ---- views ------------------------------------------------------------
  async function worklist() {
    const [tk, fl, ts] = await Promise.all([
      api('GET', '/v1/tickets' + qs({ state: 'open', limit: 200 })).catch((e) => e),
      api('GET', '/v1/results' + qs({ state: 'flagged', limit: 50 })).catch((e) => e),
      api('GET', '/v1/tasks' + qs({ state: 'open' })).catch((e) => e),
    ]);
    const out = [h('h2', {}, '今日待办')];
    if (tk instanceof Error) {
      out.push(failure(tk));
    } else {
      const order = { overdue: 0, due: 1, ok: 2 };
      const open = items(tk, 'tickets').filter((t) => t.state !== 'resolved')
        .sort((a, b) => order[ticketClock(a)] - order[ticketClock(b)] ||
                        String(a.answer_due_at).localeCompare(String(b.answer_due_at)));
      const n = (c) => open.filter((t) => ticketClock(t) === c).length;
      out.push(h('div', { class: 'stats' },
        h('div', { class: 'stat' }, h('b', { id: 'n-overdue' }, n('overdue')), '超时工单'),
        h('div', { class: 'stat' }, h('b', { id: 'n-due' }, n('due')), '即将到期'),
        h('div', { class: 'stat' }, h('b', { id: 'n-open' }, open.length), '未解决工单'),
        fl instanceof Error ? null :
          h('div', { class: 'stat' }, h('b', { id: 'n-flagged' },
            items(fl, 'results').filter((r) => r.flagged).length), '待阅读回复')));
      out.push(h('section', { class: 'card', id: 'worklist-tickets' },
        h('h3', {}, '投诉工单（超时和即将到期的在前）'),
        ticketTable(open)));
    }
    out.push(h('section', { class: 'card', id: 'worklist-tasks' },
      h('h3', {}, '员工任务（退单等流程，超时的在前）'),
      ts instanceof Error ? failure(ts) : taskTable(items(ts, 'tasks')
        .sort((a, b) => b.overdue - a.overdue || String(a.due_at).localeCompare(String(b.due_at))))));
    out.push(h('section', { class: 'card', id: 'worklist-flagged' },
      h('h3', {}, '无法自动识别的回复（请人工阅读）'),
      fl instanceof Error ? failure(fl) :
        resultTable(items(fl, 'results').filter((r) => r.flagged))));
    show(out);
  }

  // Open staff tasks, each with its "done" action (a note; some tasks
  // require one, and the API says so).
  function taskTable(list) {
    return table(['任务', '时限', '项目', '客户', '负责', '截止', '完成'], list.map((t) => {
      const note = h('input', { name: 'note', placeholder: t.note_required ? '结果（必填）' : '备注',
                                required: !!t.note_required, maxlength: 2000, size: 16 });
      const msg = h('span', { class: 'muted' });
      const form = h('form', { class: 'task-done', 'data-task': t.id }, note, ' ',
        h('button', { type: 'submit' }, '完成'), ' ', msg);
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const b = form.querySelector('button');
        b.disabled = true;
        try {
          await api('POST', `/v1/tasks/${t.id}/done`, note.value ? { note: note.value } : {});
          await worklist();
          document.body.setAttribute('data-view', 'worklist');
        } catch (e) {
          msg.className = 'error';
          msg.textContent = e.message;
          b.disabled = false;
        }
      });
      const c = t.overdue ? 'overdue' : 'ok';
      return [h('td', { class: 'wrap' }, t.title || t.task),
        h('span', { class: 'badge ' + c }, label(CLOCK, c)),
        h('a', { href: '#/project/' + encodeURIComponent(t.project_id) }, t.project_id),
        t.customer_name || t.customer_id || '', label(ROLE, t.role), when(t.due_at), form];
    }), (i) => (list[i].overdue ? 'overdue' : null));
  }

  function ticketTable(list) {
    return table(['工单', '状态', '时限', '项目', '客户', '原因', '内部报告截止', '答复截止'],
      list.map((t) => {
        const c = ticketClock(t);
        return [h('a', { href: '#/ticket/' + t.id }, '#' + t.id),
          label(TICKET_STATE, t.state),
          h('span', { class: 'badge ' + c }, label(CLOCK, c)),
          h('a', { href: '#/project/' + encodeURIComponent(t.project_id) }, t.project_id),
          t.customer_name || t.customer_id,
          h('td', { class: 'wrap' }, label(REASON, t.reason) + (t.detail ? '：' + t.detail : '')),
          when(t.report_due_at), when(t.answer_due_at)];
      }), (i) => { const c = ticketClock(list[i]); return c === 'ok' ? null : c; });
  }

  // The customer's own words (SMS, WeChat) first, else the page's answers
  // with their questions.
  function answerText(r) {
    if (r.replies) return r.replies;
    if (r.answers_text) return r.answers_text;
    return Object.entries(r.answers || {}).map(([k, v]) => `${k}: ${v}`).join('；');
  }

  function resultTable(list) {
    return table(['回访', '时间', '项目', '客户', '节点', '渠道', '状态', '评分', '回复内容', '项目经理'],
      list.map((r) => [
        String(r.id),
        when(r.answered_at || r.sent_at),
        h('a', { href: '#/project/' + encodeURIComponent(r.project_id || r.project) },
          r.project_id || r.project),
        r.customer_name || r.customer_id,
        milestoneName(r.milestone),
        label(CHANNEL, r.channel),
        h('span', {}, label(RESULT_STATE, r.state),
          r.flagged ? h('span', { class: 'badge flag' }, ' 待阅读') : null),
        r.score == null ? '' : h('span', { class: r.score <= 6 ? 'score-low' : null }, r.score),
        h('td', { class: 'wrap' }, answerText(r)),
        (r.staff && r.staff.pm) || '',
      ]));
  }

  const FILTERS = [
    ['since', '开始日期', 'date'], ['until', '结束日期', 'date'], ['project', '项目', 'text'],
    ['customer', '客户', 'text'], ['staff', '员工', 'text'], ['milestone', '节点', 'milestone'],
    ['channel', '渠道', 'channel'], ['state', '状态', 'state'], ['score_min', '最低分', 'score'],
    ['score_max', '最高分', 'score'],
  ];
  // Dates in the form are days in the configured zone; the API wants
  // RFC 3339 instants. (+08:00: the console's zone is the gateway's.)
  function toInstant(k, v) {
    if (!v) return '';
    if (k === 'until') {
      const d = new Date(v + 'T00:00:00Z');
      d.setUTCDate(d.getUTCDate() + 1);
      return d.toISOString().slice(0, 10) + 'T00:00:00' + (DATA.offset || '+08:00');
    }
    return v + 'T00:00:00' + (DATA.offset || '+08:00');
  }
  function resultParams(f) {
    const p = {};
    for (const [k] of FILTERS) {
      if (!f[k]) continue;
      if (k === 'since' || k === 'until') p[k] = toInstant(k, f[k]);
      else p[k] = f[k];
    }
    return p;
  }
  function routeParams() {
    const i = location.hash.indexOf('?');
    return Object.fromEntries(new URLSearchParams(i < 0 ? '' : location.hash.slice(i + 1)));
  }

  async function results() {
    const f = routeParams();
    const form = h('form', { class: 'filters card', id: 'filters' },
      FILTERS.map(([k, text, type]) => {
        let input;
        if (type === 'milestone') {
          input = h('select', { name: k }, h('option', { value: '' }, '全部'),
            MILESTONES.map((m) => h('option', { value: m.id, selected: f[k] === m.id }, m.name)));
        } else if (type === 'channel') {
          input = h('select', { name: k }, h('option', { value: '' }, '全部'),
            ['wechat', 'sms', 'page'].map((c) =>
              h('option', { value: c, selected: f[k] === c }, CHANNEL[c])));
        } else if (type === 'state') {
          input = h('select', { name: k }, h('option', { value: '' }, '全部'),
            ['answered', 'unanswered', 'flagged'].map((c) =>
              h('option', { value: c, selected: f[k] === c }, RESULT_STATE[c])));
        } else if (type === 'score') {
          input = h('select', { name: k }, h('option', { value: '' }, '不限'),
            [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) =>
              h('option', { value: n, selected: f[k] === String(n) }, n)));
        } else {
          input = h('input', { name: k, type, value: f[k] || '', size: 12 });
        }
        return h('label', {}, text, input);
      }),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary', id: 'apply' }, '筛选'),
        h('a', { class: 'button', href: '#/results', id: 'reset' }, '清除')));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const fd = new FormData(form);
      const p = {};
      for (const [k, v] of fd.entries()) if (v) p[k] = v;
      location.hash = '#/results' + qs(p);
    });
    const params = resultParams(f);
    const csv = '/v1/results' + qs(Object.assign({ format: 'csv' }, params));
    const out = [h('h2', {}, '回访结果'), form,
      h('p', {}, h('a', { class: 'button', href: csv, download: 'huifang-results.csv',
                          id: 'csv' }, '下载 CSV（Excel / WPS 可直接打开）'))];
    show(out.concat(h('p', { class: 'muted' }, '加载中…')));
    const list = h('section', { class: 'card', id: 'results' });
    let cursor = f.cursor || '';
    async function page() {
      try {
        const j = await api('GET', '/v1/results' + qs(Object.assign({ limit: 50 }, params,
                                                                     { cursor })));
        list.replaceChildren(resultTable(items(j, 'results')));
        const more = j.next_cursor;
        if (more != null) {
          list.append(h('p', {}, h('button', { type: 'button', id: 'next',
            onclick: () => { cursor = String(more); page(); } }, '下一页')));
        }
        list.setAttribute('data-count', items(j, 'results').length);
      } catch (e) {
        list.replaceChildren(failure(e));
      }
    }
    await page();
    show(out.concat(list));
  }

  async function tickets() {
    const f = routeParams();
    const sel = h('select', { name: 'state', id: 'ticket-state-filter',
      onchange: (ev) => { location.hash = '#/tickets' + qs({ state: ev.target.value }); } },
      h('option', { value: '' }, '全部'),
      Object.keys(TICKET_FILTER).map((c) =>
        h('option', { value: c, selected: f.state === c }, TICKET_FILTER[c])));
    const list = h('section', { class: 'card', id: 'tickets' });
    let cursor = '';
    async function page() {
      try {
        const j = await api('GET', '/v1/tickets' + qs({ state: f.state, limit: 50, cursor }));
        list.replaceChildren(ticketTable(items(j, 'tickets')));
        const csv = '/v1/tickets' + qs({ state: f.state, format: 'csv' });
        list.append(h('p', {}, h('a', { class: 'button', href: csv, download: '' }, '下载 CSV'),
          ' ', j.next_cursor != null ? h('button', { type: 'button',
            onclick: () => { cursor = String(j.next_cursor); page(); } }, '下一页') : null));
      } catch (e) {
        list.replaceChildren(failure(e));
      }
    }
    await page();
    show(h('h2', {}, '投诉工单'), h('p', {}, h('label', {}, '状态 ', sel)), list);
  }

  async function ticket(id) {
    let t;
    try {
      t = await api('GET', '/v1/tickets/' + encodeURIComponent(id));
    } catch (e) {
      show(h('h2', {}, '工单 #' + id), failure(e));
      return;
    }
    const c = ticketClock(t);
    const note = h('p', { id: 'ticket-notice', role: 'status' });
    function action(kind, field, text, button) {
      const ta = h('textarea', { name: field, id: kind + '-text', required: true,
                                 maxlength: 2000 });
      const form = h('form', { class: 'card', id: kind + '-form' }, h('h3', {}, text), ta,
        h('p', {}, h('button', { type: 'submit', class: kind === 'resolve' ? 'primary' : null,
                                 id: kind + '-submit' }, button)));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const b = form.querySelector('button');
        b.disabled = true;
        try {
          await api('POST', `/v1/tickets/${encodeURIComponent(id)}/${kind}`, { [field]: ta.value });
          sessionStorage.setItem('hf-notice', kind === 'resolve' ? '工单已解决，客户将在两三天后收到满意度回访。' : '内部报告已记录。');
          await ticket(id);
        } catch (e) {
          note.className = 'error';
          note.textContent = '提交失败：' + e.message;
          b.disabled = false;
        }
      });
      return form;
    }
    const flash = sessionStorage.getItem('hf-notice');
    sessionStorage.removeItem('hf-notice');
    if (flash) { note.className = 'ok'; note.textContent = flash; }
    const dl = (k, v) => [h('dt', {}, k), h('dd', {}, v)];
    show(h('h2', {}, '工单 #' + t.id + ' ', h('span', { class: 'badge ' + c, id: 'ticket-clock' },
      label(CLOCK, c))), note,
      h('section', { class: 'card' }, h('dl', { class: 'facts' },
        dl('状态', h('span', { id: 'ticket-state' }, label(TICKET_STATE, t.state))),
        dl('原因', label(REASON, t.reason) + (t.detail ? '：' + t.detail : '')),
        dl('项目', h('a', { href: '#/project/' + encodeURIComponent(t.project_id) },
          t.project_id)),
        dl('客户', t.customer_name || t.customer_id),
        dl('开单时间', when(t.opened_at)),
        dl('内部报告截止', when(t.report_due_at) + (t.reported_at ? '（已于 ' + when(t.reported_at) + ' 报告）' : '')),
        dl('答复客户截止', when(t.answer_due_at)),
        t.report_note ? dl('内部报告', t.report_note) : null,
        t.resolved_at ? dl('解决时间', when(t.resolved_at)) : null,
        t.resolution ? dl('处理结果', t.resolution) : null)),
      t.state === 'open' ? action('report', 'note', '内部报告（2 小时内）', '提交报告') : null,
      t.state !== 'resolved' ? action('resolve', 'resolution', '处理结果（答复客户后填写）', '标记为已解决') : null);
  }

  async function project(id) {
    show(h('h2', {}, '项目 ' + id), h('p', { class: 'muted' }, '加载中…'));
    let j;
    try {
      j = await api('GET', '/v1/projects/' + encodeURIComponent(id));
    } catch (e) {
      show(h('h2', {}, '项目 ' + id), failure(e));
      return;
    }
    const p = j.project || {};
    const c = j.customer || {};
    const staff = p.staff || {};
    const TYPE = { trigger: '节点', message: '消息', answer: '回复', ticket: '工单' };
    function line(ev) {
      let text;
      if (ev.type === 'trigger') text = '节点上报：' + milestoneName(ev.milestone);
      else if (ev.type === 'message') text = `${label(KIND, ev.kind)}（${milestoneName(ev.milestone)}）→ ${label(ROLE, ev.to || ev.recipient)}，${label(CHANNEL, ev.channel)}，${label(MSG_STATE, ev.state)}`;
      else if (ev.type === 'answer') text = `客户回复（${label(CHANNEL, ev.channel)}）${ev.score != null ? '评分 ' + ev.score + '：' : '：'}${ev.raw || ''}`;
      else if (ev.type === 'ticket') text = `投诉工单 #${ev.id}：${label(TICKET_STATE, ev.state)}${ev.detail ? '，' + ev.detail : ''}`;
      else text = ev.type;
      return h('li', { class: ev.type }, h('time', {}, when(ev.at)),
        h('span', { class: 'badge' }, label(TYPE, ev.type)), ' ',
        ev.type === 'ticket' ? h('a', { href: '#/ticket/' + ev.id }, text) : text);
    }
    show(h('h2', {}, '项目 ' + (p.id || id)),
      h('section', { class: 'card grid' },
        h('div', {}, h('h3', {}, '项目'), h('p', {}, p.address || ''),
          p.kickoff_date ? h('p', { class: 'muted' }, '开工日期 ' + p.kickoff_date) : null,
          h('p', { class: 'staff' }, (Array.isArray(staff) ? staff : Object.entries(staff).map(
            ([role, x]) => Object.assign({ role }, typeof x === 'object' ? x : { name: x })))
            .map((x) => h('span', { class: 'badge' }, `${label(ROLE, x.role)} ${x.name || ''}`)))),
        h('div', {}, h('h3', {}, '客户'),
          h('p', {}, (c.name || '') + (c.title || '')), h('p', {}, c.mobile || ''))),
      h('section', { class: 'card' }, h('h3', {}, '时间线'),
        h('ol', { class: 'timeline', id: 'timeline' }, (j.timeline || []).map(line))));
  }

  // ---- charts -------------------------------------------------------------
  // A horizontal bar chart: one row per item, bars scaled to @max.
  function barChart(rows, max, low) {
    const W = 900, left = 170, right = 60, rowH = 28;
    const H = rows.length * rowH + 24;
    const svg = s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img' });
    const scale = (v) => ((W - left - right) * v) / max;
    for (let g = 0; g <= max; g += max / 5) {
      svg.append(s('line', { class: 'gridline', x1: left + scale(g), x2: left + scale(g), y1: 0,
                             y2: H - 20 }));
      svg.append(s('text', { x: left + scale(g), y: H - 6, 'text-anchor': 'middle' }, g));
    }
    rows.forEach((r, i) => {
      const y = i * rowH + 4;
      svg.append(s('text', { x: left - 8, y: y + 15, 'text-anchor': 'end' }, r.label));
      const v = r.value == null ? 0 : r.value;
      svg.append(s('rect', { class: 'bar' + (low != null && v <= low ? ' low' : ''), x: left, y,
                             width: Math.max(0, scale(v)), height: rowH - 8 },
      ));
      svg.lastChild.append(s('title', {}, `${r.label}: ${r.value == null ? '—' : r.value}`));
      svg.append(s('text', { x: left + scale(v) + 6, y: y + 15 },
        r.value == null ? '—' : Number(r.value).toFixed(1)));
    });
    return svg;
  }
  // A line chart of values 0..1 per day (response rate).
  function lineChart(days) {
    const W = 900, H = 240, l = 44, r = 16, t = 10, b = 30;
    const svg = s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img' });
    const x = (i) => l + ((W - l - r) * i) / Math.max(1, days.length - 1);
    const y = (v) => t + (H - t - b) * (1 - v);
    for (const g of [0, 0.25, 0.5, 0.75, 1]) {
      svg.append(s('line', { class: 'gridline', x1: l, x2: W - r, y1: y(g), y2: y(g) }));
      svg.append(s('text', { x: l - 6, y: y(g) + 4, 'text-anchor': 'end' }, Math.round(g * 100) + '%'));
    }
    const pts = days.map((d, i) => [x(i), y(d.response_rate || 0)]);
    if (pts.length) {
      svg.append(s('polyline', { class: 'line', points: pts.map((p) => p.join(',')).join(' ') }));
    }
    days.forEach((d, i) => {
      const dot = s('circle', { class: 'dot', cx: pts[i][0], cy: pts[i][1], r: 3 });
      dot.append(s('title', {}, `${d.date}: ${Math.round((d.response_rate || 0) * 100)}%（${d.answered}/${d.sent}）`));
      svg.append(dot);
      if (i % Math.ceil(days.length / 6) === 0 || i === days.length - 1) {
        svg.append(s('text', { x: pts[i][0], y: H - 10, 'text-anchor': 'middle' },
          String(d.date).slice(5)));
      }
    });
    return svg;
  }

  async function reports() {
    const f = routeParams();
    const role = f.role || 'pm';
    const range = { since: toInstant('since', f.since), until: toInstant('until', f.until) };
    const form = h('form', { class: 'filters card', id: 'report-filters' },
      h('label', {}, '开始日期', h('input', { type: 'date', name: 'since', value: f.since || '' })),
      h('label', {}, '结束日期', h('input', { type: 'date', name: 'until', value: f.until || '' })),
      h('label', {}, '员工角色', h('select', { name: 'role' },
        ['pm', 'designer', 'foreman', 'supervisor'].map((r) =>
          h('option', { value: r, selected: r === role }, ROLE[r])))),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, '查看')));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const p = {};
      for (const [k, v] of new FormData(form).entries()) if (v) p[k] = v;
      location.hash = '#/reports' + qs(p);
    });
    show(h('h2', {}, '报表'), form, h('p', { class: 'muted' }, '加载中…'));
    const [ms, st, tr, tk] = await Promise.all([
      api('GET', '/v1/reports/milestones' + qs(range)).catch((e) => e),
      api('GET', '/v1/reports/staff' + qs(Object.assign({ role }, range))).catch((e) => e),
      api('GET', '/v1/reports/trend' + qs({ days: 30 })).catch((e) => e),
      api('GET', '/v1/reports/tickets' + qs(range)).catch((e) => e),
    ]);
    const csv = (path, p) => h('a', { class: 'button', href: path + qs(Object.assign({ format: 'csv' }, p)), download: '' }, 'CSV');
    const sections = [];
    sections.push(h('section', { class: 'card', id: 'chart-milestones' },
      h('h3', {}, '各节点平均分 ', csv('/v1/reports/milestones', range)),
      ms instanceof Error ? failure(ms) : [
        barChart((ms.rows || []).map((r) => ({ label: r.name || milestoneName(r.milestone),
                                                 value: r.avg_score })), 10, 6),
        table(['节点', '发送', '送达', '回复', '回复率', '平均分'], (ms.rows || []).map((r) => [
          r.name || milestoneName(r.milestone), r.sent, r.delivered, r.answered,
          Math.round((r.response_rate || 0) * 100) + '%',
          r.avg_score == null ? '—' : Number(r.avg_score).toFixed(1)]))]));
    sections.push(h('section', { class: 'card', id: 'chart-staff' },
      h('h3', {}, ROLE[role] + '平均分 ', csv('/v1/reports/staff', Object.assign({ role }, range))),
      st instanceof Error ? failure(st) : [
        barChart((st.rows || []).map((r) => ({ label: r.name || r.staff_id, value: r.avg_score })), 10, 6),
        table(['姓名', '回复数', '投诉', '平均分'], (st.rows || []).map((r) => [
          r.name || r.staff_id, r.answered, r.complaints,
          r.avg_score == null ? '—' : Number(r.avg_score).toFixed(1)]))]));
    sections.push(h('section', { class: 'card', id: 'chart-trend' },
      h('h3', {}, '近 30 天回复率 ', csv('/v1/reports/trend', { days: 30 })),
      tr instanceof Error ? failure(tr) : lineChart(tr.days || [])));
    sections.push(h('section', { class: 'card', id: 'report-tickets' },
      h('h3', {}, '工单时限 ', csv('/v1/reports/tickets', range)),
      tk instanceof Error ? failure(tk) : h('div', { class: 'stats' },
        h('div', { class: 'stat' }, h('b', {}, tk.opened), '新开工单'),
        h('div', { class: 'stat' }, h('b', {}, tk.closed), '已解决'),
        h('div', { class: 'stat' }, h('b', {}, tk.closed_within_clock), '时限内解决'),
        h('div', { class: 'stat' }, h('b', {}, tk.overdue_now), '当前超时'),
        h('div', { class: 'stat' }, h('b', {}, Math.round((tk.report_within_2h_rate || 0) * 100) + '%'), '2 小时内报告'),
        h('div', { class: 'stat' }, h('b', {}, Math.round((tk.answer_within_48h_rate || 0) * 100) + '%'), '48 小时内答复'))));
    show(h('h2', {}, '报表'), form, h('div', { class: 'reports' }, sections));
  }

  // ---- router -------------------------------------------------------------
  async function route() {
    const hash = location.hash || '#/worklist';
    const path = hash.slice(1).split('?')[0];
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    document.body.setAttribute('data-view', 'loading');
    for (const a of document.querySelectorAll('#nav a')) {
      a.classList.toggle('active', a.getAttribute('href') === '#/' + parts[0]);
    }
    try {
      if (parts[0] === 'results') await results();
      else if (parts[0] === 'tickets') await tickets();
      else if (parts[0] === 'ticket' && parts[1]) await ticket(parts[1]);
      else if (parts[0] === 'project' && parts[1]) await project(parts[1]);
      else if (parts[0] === 'reports') await reports();
      else await worklist();
    } catch (e) {
      if (e.status !== 401) show(failure(e));
    }
    document.body.setAttribute('data-view', parts[0] || 'worklist');
  }
  window.addEventListener('hashchange', route);
  route();
})();
