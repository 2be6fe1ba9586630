// 运营台: the staff dashboard for every role. Plain JavaScript over the public GraphQL API: POST
// /graphql for queries and mutations, graphql-transport-ws on /graphql/ws for queueStats and
// productionProgress. No framework, no build step; the charts use Chart.js, bundled from npm by
// build.rs and served at /dashboard/charts.js (without it the numbers show as tables only).
// Each page and button names the roles that may use it (data-roles); the others never see it.
'use strict';

const HTTP_URL = '/graphql';
const WS_URL = `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/graphql/ws`;
const TOKEN_KEY = 'campus-photo.dashboard.token';
const SESSION_ENDED = '会话已结束（账号可能已被停用或调整），请重新登录。';

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

/** A new element: `el('td', { className: 'x' }, 'text', child)`. */
function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** How long a claim lasts (REVIEW_CLAIM_TTL_SECS, 5 minutes by default). */
const CLAIM_SECONDS = 300;

let token = sessionStorage.getItem(TOKEN_KEY);
let viewer = null;
let socket = null;
let reasons = [];
let stopStats = null;
let stopBatch = null;

// ---- GraphQL over HTTP -----------------------------------------------------------------------

async function gql(query, variables = {}) {
  const headers = { 'content-type': 'application/json' };
  const sent = token;
  if (sent) headers.authorization = `Bearer ${sent}`;
  const response = await fetch(HTTP_URL, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = await response.json();
  if (body.errors && body.errors.length > 0) {
    const error = new Error(body.errors.map((e) => e.message).join('; '));
    error.code = body.errors[0].extensions && body.errors[0].extensions.code;
    // The session ended (a disabled account, a password reset): back to the sign-in screen.
    if (error.code === 'UNAUTHENTICATED' && sent && sent === token) signOut(SESSION_ENDED);
    throw error;
  }
  return body.data;
}

/** A payload's userErrors as one message, or null. */
function userErrors(payload) {
  const errors = (payload && payload.userErrors) || [];
  return errors.length ? errors.map((e) => `${e.message} (${e.code})`).join('; ') : null;
}

// ---- graphql-transport-ws --------------------------------------------------------------------

/** One socket for all subscriptions; reconnects with back-off and subscribes again. */
class Socket {
  constructor(authToken) {
    this.token = authToken;
    this.subs = new Map();
    this.nextId = 1;
    this.ready = false;
    this.closed = false;
    this.retry = 0;
    this.connect();
  }

  connect() {
    const ws = new WebSocket(WS_URL, 'graphql-transport-ws');
    this.ws = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${this.token}` } }));
    };
    ws.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      const sub = message.id ? this.subs.get(message.id) : null;
      switch (message.type) {
        case 'connection_ack':
          this.ready = true;
          this.retry = 0;
          setLive(true);
          for (const [id, s] of this.subs) this.send(id, s);
          break;
        case 'ping':
          ws.send(JSON.stringify({ type: 'pong' }));
          break;
        case 'next':
          if (sub) {
            if (message.payload.errors) sub.onError(message.payload.errors);
            else sub.onData(message.payload.data);
          }
          break;
        case 'error':
          if (sub) {
            this.subs.delete(message.id);
            sub.onError(message.payload);
          }
          break;
        case 'complete':
          if (sub) {
            this.subs.delete(message.id);
            if (sub.onComplete) sub.onComplete();
          }
          break;
        default:
          break;
      }
    };
    ws.onclose = (event) => {
      this.ready = false;
      setLive(false);
      if (this.closed) return;
      if (event.code === 4403) {
        // The account was disabled (or its role changed): its sessions end at once.
        signOut(SESSION_ENDED);
        return;
      }
      const delay = Math.min(30000, 500 * 2 ** this.retry);
      this.retry += 1;
      setTimeout(() => {
        if (!this.closed) this.connect();
      }, delay);
    };
  }

  send(id, sub) {
    this.ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query: sub.query, variables: sub.variables } }));
  }

  subscribe(query, variables, handlers) {
    const id = String(this.nextId);
    this.nextId += 1;
    const sub = { query, variables, ...handlers };
    this.subs.set(id, sub);
    if (this.ready) this.send(id, sub);
    return () => {
      if (this.subs.delete(id) && this.ready) this.ws.send(JSON.stringify({ id, type: 'complete' }));
    };
  }

  close() {
    this.closed = true;
    this.ws.close(1000);
  }
}

function setLive(on) {
  const live = $('#live');
  live.textContent = on ? 'live' : 'offline';
  live.title = on ? '实时更新中' : '未连接';
  live.className = on ? 'live on' : 'live off';
}

// ---- sign-in ----------------------------------------------------------------------------------

async function signIn(username, password) {
  const data = await gql(
    `mutation($input: SignInStaffInput!) { signInStaff(input: $input) { token userErrors { code message } } }`,
    { input: { username, password } },
  );
  const problem = userErrors(data.signInStaff);
  if (problem) throw new Error(problem);
  token = data.signInStaff.token;
  sessionStorage.setItem(TOKEN_KEY, token);
}

function signOut(message) {
  if (token) gql('mutation { signOut }').catch(() => {});
  token = null;
  viewer = null;
  sessionStorage.removeItem(TOKEN_KEY);
  if (socket) socket.close();
  socket = null;
  stopStats = null;
  stopBatch = null;
  $('#tasks').replaceChildren();
  for (const status of ['#claim-status', '#batch-status', '#batch-counts', '#stats-at']) $(status).textContent = '';
  for (const cell of $$('#stats [data-stat]')) cell.textContent = '–';
  for (const body of $$('#work table.list tbody')) body.replaceChildren();
  for (const list of ['#support-list', '#registry-list', '#refund-order']) $(list).replaceChildren();
  knownStaff.clear();
  $('#batch').hidden = true;
  $('#work').hidden = true;
  $('#who').hidden = true;
  $('#password').value = '';
  $('#signin').hidden = false;
  $('#signin-form').hidden = false;
  $('#password-form').hidden = true;
  $('#signin-error').textContent = message || '';
}

/** The account must choose a new password first (an operator reset it). */
function askForNewPassword(temporary) {
  $('#signin-form').hidden = true;
  $('#password-form').hidden = false;
  $('#current-password').value = temporary || '';
  $('#new-password').value = '';
  $('#password-error').textContent = '';
}

async function changePassword(event) {
  event.preventDefault();
  $('#password-error').textContent = '';
  try {
    const data = await gql(
      `mutation($input: ChangePasswordInput!) { changePassword(input: $input) { account { id } userErrors { code message } } }`,
      { input: { currentPassword: $('#current-password').value, newPassword: $('#new-password').value } },
    );
    const problem = userErrors(data.changePassword);
    if (problem) throw new Error(problem);
    $('#password-form').hidden = true;
    $('#signin-form').hidden = false;
    await start();
  } catch (error) {
    $('#password-error').textContent = error.message;
  }
}

const ROLE_LABELS = { ADMIN: '管理员', SCHOOL_ADMIN: '学校管理员', REVIEWER: '审核员', PRODUCER: '制作员', STUDENT: '学生' };

/** Shows only what the viewer's role may use: every element with data-roles. */
function applyRole(role) {
  for (const node of $$('[data-roles]')) node.hidden = !node.dataset.roles.split(' ').includes(role);
}

async function start() {
  const data = await gql(
    `{ viewer { account { id role username mustChangePassword school { code name } } }
       rejectionReasons { code title message } }`,
  );
  if (data.viewer && data.viewer.account.mustChangePassword) {
    // Just signed in: the password typed is the temporary one.
    askForNewPassword($('#password').value);
    return;
  }
  if (!data.viewer || data.viewer.account.role === 'STUDENT') {
    signOut(data.viewer ? '此页面仅供工作人员使用。' : '');
    return;
  }
  viewer = data.viewer.account;
  reasons = data.rejectionReasons;
  $('#who-name').textContent = `${viewer.username} · ${ROLE_LABELS[viewer.role] || viewer.role} (${viewer.role})${viewer.school ? ` · ${viewer.school.name}` : ''}`;
  $('#school').value = viewer.school ? viewer.school.code : '';
  $('#school').disabled = Boolean(viewer.school);
  $('#signin').hidden = true;
  $('#who').hidden = false;
  $('#work').hidden = false;
  applyRole(viewer.role);
  const first = $('#nav button:not([hidden])');
  showPage(first ? first.dataset.page : null);
  socket = new Socket(token);
  watchStats();
}

function schoolCode() {
  const value = $('#school').value.trim();
  return value === '' ? null : value;
}

/** The school a page works on, or null after telling the operator to pick one. */
function requireSchool(status) {
  const code = schoolCode();
  if (!code) status.textContent = '请先在上方填写学校代码。';
  return code;
}

// ---- navigation ---------------------------------------------------------------------------------

const LOADERS = {};

function showPage(page) {
  for (const section of $$('.page')) section.hidden = section.id !== `page-${page}`;
  for (const button of $$('#nav button')) button.classList.toggle('current', button.dataset.page === page);
  const load = LOADERS[page];
  if (load) load();
}

// ---- queue stats --------------------------------------------------------------------------------

const STATS = `subscription($schoolCode: String) {
  queueStats(schoolCode: $schoolCode) {
    pendingPayment pendingReview claimed rejected pendingProduction inProduction completed at
  }
}`;

function watchStats() {
  if (stopStats) stopStats();
  stopStats = socket.subscribe(STATS, { schoolCode: schoolCode() }, {
    onData(data) {
      // pendingReview counts every order awaiting review, claimed or not: 待审核 shows the
      // unclaimed ones, 审核中 the claimed ones, so the two are counted apart.
      const stats = { ...data.queueStats, pendingReview: Math.max(0, data.queueStats.pendingReview - data.queueStats.claimed) };
      for (const cell of $$('#stats [data-stat]')) {
        const value = stats[cell.dataset.stat];
        if (cell.textContent !== String(value)) {
          cell.textContent = String(value);
          cell.classList.remove('changed');
          // Restart the highlight animation.
          void cell.offsetWidth;
          cell.classList.add('changed');
        }
      }
      $('#stats-at').textContent = new Date(stats.at).toLocaleTimeString('zh-CN');
    },
    onError(errors) {
      $('#stats-at').textContent = `出错：${describe(errors)}`;
    },
  });
}

function describe(errors) {
  if (Array.isArray(errors)) return errors.map((e) => e.message).join('; ');
  return String((errors && errors.message) || errors);
}

function formatTime(value) {
  return value ? new Date(value).toLocaleString('zh-CN', { hour12: false }) : '';
}

/** A `datetime-local` value for an ISO time, and back. */
function toLocalInput(value) {
  if (!value) return '';
  const d = new Date(value);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
function fromLocalInput(value) {
  return value ? new Date(value).toISOString() : null;
}

/** Runs a mutation, shows its outcome in `status`, and returns the payload (or null). */
async function mutate(status, query, variables, field, done) {
  status.textContent = '处理中…';
  try {
    const data = await gql(query, variables);
    const payload = data[field];
    const problem = userErrors(payload);
    if (problem) {
      status.textContent = problem;
      return null;
    }
    status.textContent = done || '已完成';
    return payload;
  } catch (error) {
    status.textContent = error.message;
    return null;
  }
}

// ---- review -------------------------------------------------------------------------------------

const CLAIM = `mutation($input: ClaimReviewTasksInput!) {
  claimReviewTasks(input: $input) {
    orders {
      id number statusLabel manualReview manualReviewNote
      enrollment { name college major school { name } project { name background } }
      photo {
        url previewUrl width height
        check { verdict issues { code severity message } measures { name value min max } }
      }
    }
    userErrors { code message }
  }
}`;

const REVIEW = `mutation($input: ReviewOrderInput!) {
  reviewOrder(input: $input) {
    order { id status statusLabel rejection { code message } }
    userErrors { code field message }
  }
}`;

/** The check's measures in Chinese (the API names them in English). */
const MEASURE_LABELS = {
  face_count: '人脸数量',
  face_score: '人脸置信度',
  face_width_ratio: '脸宽占比',
  face_clipped: '人脸被裁切',
  face_outside_frame: '人脸超出画面',
  face_luminance: '面部亮度',
  head_top_margin: '头顶留白',
  head_touches_side: '头部贴边',
  side_shortfall: '两侧留白不足',
  bottom_shortfall: '底部留白不足',
  render_scale: '缩放比例',
  pitch_deg: '俯仰角（度）',
  yaw_deg: '左右转头（度）',
  roll_deg: '头部倾斜（度）',
  eye_openness: '睁眼程度',
  eye_white_luma: '眼白亮度',
  mouth_openness: '张嘴程度',
  sharpness: '清晰度',
  white_level: '白电平',
  illumination_balance: '面部光照均衡',
  backdrop_share: '背景占比',
  backdrop_luma: '背景亮度',
  backdrop_light_balance: '背景明暗均衡',
  background_gradient: '背景渐变',
  overlay_share: '遮挡/水印占比',
  mesh_presence: '网纹',
};

const SEVERITY_LABELS = { ERROR: '错误', WARNING: '提示', INFO: '信息' };

async function claim() {
  const status = $('#claim-status');
  status.textContent = '领取中…';
  try {
    const count = Math.max(1, Math.min(20, Number($('#claim-count').value) || 1));
    const data = await gql(CLAIM, { input: { schoolCode: schoolCode(), count } });
    const problem = userErrors(data.claimReviewTasks);
    if (problem) throw new Error(problem);
    const orders = data.claimReviewTasks.orders;
    // Decided cards stay where they were until the next claim, so nothing moves under the pointer
    // while deciding; they go now, when the reviewer asked for more.
    for (const done of $$('.task.done')) done.remove();
    const shown = new Set($$('.task').map((t) => t.dataset.orderId));
    const until = Date.now() + CLAIM_SECONDS * 1000;
    for (const order of orders) {
      if (shown.has(order.id)) {
        const task = $(`.task[data-order-id="${order.id}"]`);
        if (task) task.dataset.claimedUntil = String(until);
      } else {
        $('#tasks').append(renderTask(order, until));
      }
    }
    tickCountdowns();
    status.textContent = orders.length ? `已领取 ${orders.length} 单（每单 ${CLAIM_SECONDS / 60} 分钟内完成）` : '暂无待审核订单';
  } catch (error) {
    status.textContent = error.message;
  }
}

/** Each claimed card shows how long its claim has left. */
function tickCountdowns() {
  const now = Date.now();
  for (const task of $$('.task:not(.done)')) {
    const left = Math.round((Number(task.dataset.claimedUntil) - now) / 1000);
    const countdown = $('.countdown', task);
    if (left <= 0) {
      countdown.textContent = '领取已过期，请重新领取';
      countdown.classList.add('expired');
    } else {
      countdown.textContent = `剩余 ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
      countdown.classList.toggle('urgent', left <= 60);
    }
  }
}
setInterval(tickCountdowns, 1000);

function formatNumber(value) {
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}

function renderTask(order, until) {
  const node = $('#task-template').content.firstElementChild.cloneNode(true);
  node.dataset.orderId = order.id;
  node.dataset.orderNumber = order.number;
  node.dataset.claimedUntil = String(until);
  const photo = order.photo;
  $('.photo', node).src = photo.previewUrl || photo.url;
  // The original with its real background, beside the standard render.
  $('.original-photo', node).src = photo.url;
  $('.original', node).href = photo.url;
  $('.number', node).textContent = order.number;
  $('.name', node).textContent = order.enrollment.name;
  $('.meta', node).textContent = [order.enrollment.school.name, order.enrollment.project.name, order.enrollment.college, order.enrollment.major, `${photo.width}×${photo.height}`]
    .filter(Boolean)
    .join(' · ');
  const verdict = $('.verdict', node);
  verdict.textContent = photo.check.verdict === 'PASSED' ? '初审合格' : '初审不合格';
  verdict.className = `verdict ${photo.check.verdict.toLowerCase()}`;
  // The student asked a person to overrule the automatic check: say so before anything else.
  if (order.manualReview) {
    verdict.textContent = `${order.manualReviewNote || ''}（学生申请人工审核）`;
    verdict.className = 'verdict manual-review';
  }
  for (const issue of photo.check.issues) {
    $('.issues', node).append(el('li', { textContent: `${SEVERITY_LABELS[issue.severity] || issue.severity}：${issue.message}`, title: issue.code }));
  }
  for (const m of photo.check.measures) {
    const tr = el('tr');
    const out = (m.min !== null && m.value < m.min) || (m.max !== null && m.value > m.max);
    if (out) tr.className = 'out';
    tr.append(el('td', { textContent: MEASURE_LABELS[m.name] || m.name, title: m.name }));
    for (const text of [formatNumber(m.value), m.min === null ? '' : formatNumber(m.min), m.max === null ? '' : formatNumber(m.max)]) {
      tr.append(el('td', { textContent: text }));
    }
    $('.measures tbody', node).append(tr);
  }
  const select = $('.reason', node);
  // No reason is chosen for the reviewer: a rejection needs one picked on purpose.
  select.append(el('option', { value: '', textContent: '请选择驳回原因…', selected: true }));
  for (const reason of reasons) {
    select.append(el('option', { value: reason.code, textContent: reason.title || reason.message, title: reason.message }));
  }
  $('.approve', node).addEventListener('click', () => decide(node, { decision: 'APPROVE' }));
  $('.reject', node).addEventListener('click', () => {
    if (!select.value) {
      $('.outcome', node).textContent = '请先选择驳回原因。';
      select.focus();
      return;
    }
    const note = $('.note', node).value.trim();
    decide(node, { decision: 'REJECT', reasonCode: select.value, message: note === '' ? null : note });
  });
  return node;
}

async function decide(node, decision) {
  const outcome = $('.outcome', node);
  const buttons = node.querySelectorAll('button');
  buttons.forEach((b) => {
    b.disabled = true;
  });
  outcome.textContent = '保存中…';
  try {
    const data = await gql(REVIEW, { input: { orderId: node.dataset.orderId, ...decision } });
    const problem = userErrors(data.reviewOrder);
    if (problem) throw new Error(problem);
    const order = data.reviewOrder.order;
    outcome.textContent = order.rejection ? `${order.statusLabel}：${order.rejection.message}` : order.statusLabel;
    // The card stays in place (greyed) so the next card does not move under the pointer.
    node.classList.add('done', order.status.toLowerCase());
    node.dataset.status = order.status;
    $('.countdown', node).textContent = '';
  } catch (error) {
    outcome.textContent = error.message;
    buttons.forEach((b) => {
      b.disabled = false;
    });
  }
}

// ---- production -----------------------------------------------------------------------------

const START_BATCH = `mutation($input: StartProductionBatchInput!) {
  startProductionBatch(input: $input) { batch { id total done failed finished } userErrors { code message } }
}`;

const PROGRESS = `subscription($batchId: ID!) {
  productionProgress(batchId: $batchId) { batch { id total done failed finished } }
}`;

function showBatch(batch) {
  $('#batch').hidden = false;
  const progress = $('#batch-progress');
  progress.max = Math.max(1, batch.total);
  progress.value = batch.done + batch.failed;
  // English words kept beside the Chinese for scripts that read the counts.
  $('#batch-counts').textContent = `已完成 ${batch.done}，失败 ${batch.failed}，共 ${batch.total}${batch.finished ? ' · 已结束' : ' · 进行中'} (${batch.done} done, ${batch.failed} failed${batch.finished ? ', finished' : ''})`;
}

function watchBatch(batchId) {
  if (stopBatch) stopBatch();
  $('#batch-id').value = batchId;
  $('#batch-status').textContent = '跟踪中…';
  stopBatch = socket.subscribe(PROGRESS, { batchId }, {
    onData(data) {
      showBatch(data.productionProgress.batch);
    },
    onError(errors) {
      $('#batch-status').textContent = describe(errors);
    },
    onComplete() {
      $('#batch-status').textContent = '批次已结束';
    },
  });
}

async function startBatch() {
  $('#batch-status').textContent = '启动中…';
  try {
    const data = await gql(START_BATCH, { input: { schoolCode: schoolCode() } });
    const problem = userErrors(data.startProductionBatch);
    if (problem) throw new Error(problem);
    showBatch(data.startProductionBatch.batch);
    watchBatch(data.startProductionBatch.batch.id);
  } catch (error) {
    $('#batch-status').textContent = error.message;
  }
}

// ---- registry exports (学信网上报) ---------------------------------------------------------------

async function exportRegistry() {
  const status = $('#registry-status');
  const code = requireSchool(status);
  if (!code) return;
  const payload = await mutate(
    status,
    `mutation($input: ExportToRegistryInput!) { exportToRegistry(input: $input) {
       export { id count purpose url createdAt } userErrors { code message } } }`,
    { input: { schoolCode: code } },
    'exportToRegistry',
  );
  if (!payload) return;
  const e = payload.export;
  status.textContent = `已导出 ${e.count} 张照片`;
  const link = el('a', { href: e.url, textContent: `下载 ${code} 上报文件（${e.count} 张）`, className: 'download' });
  link.setAttribute('download', '');
  $('#registry-list').prepend(el('li', {}, `${formatTime(e.createdAt)} · `, link));
}

// ---- print shipping (冲印发货) -------------------------------------------------------------------

const PRINT_ORDERS = `query($statuses: [PrintOrderStatus!], $schoolCode: String) {
  printOrders(statuses: $statuses, schoolCode: $schoolCode, first: 50) {
    totalCount
    nodes {
      id number status statusLabel quantity toSchool carrier trackingNumber shippedAt
      layout { name }
      address { name phone province city district detail }
      order { number enrollment { name school { name } } }
    }
  }
}`;

async function loadShipping() {
  const status = $('#ship-status');
  status.textContent = '加载中…';
  try {
    const data = await gql(PRINT_ORDERS, { statuses: [$('#ship-filter').value], schoolCode: schoolCode() });
    const body = $('#ship-table tbody');
    body.replaceChildren();
    for (const p of data.printOrders.nodes) body.append(shippingRow(p));
    status.textContent = `共 ${data.printOrders.totalCount} 单`;
  } catch (error) {
    status.textContent = error.message;
  }
}

function shippingRow(p) {
  const a = p.address;
  const where = p.toSchool ? '寄到学校' : a ? `${a.name} ${a.phone} ${a.province}${a.city}${a.district}${a.detail}` : '';
  const tr = el('tr');
  tr.dataset.printNumber = p.number;
  tr.dataset.status = p.status;
  tr.append(
    el('td', { textContent: p.number }),
    el('td', { textContent: `${p.order.enrollment.name} · ${p.order.number}` }),
    el('td', { textContent: `${p.layout.name} × ${p.quantity}` }),
    el('td', { textContent: where }),
    el('td', { textContent: p.statusLabel, className: 'status' }),
  );
  const cell = el('td');
  if (p.status === 'PAID') {
    const carrier = el('input', { className: 'carrier', placeholder: '快递公司', size: 8 });
    const tracking = el('input', { className: 'tracking', placeholder: '快递单号', size: 16 });
    const ship = el('button', { type: 'button', className: 'ship', textContent: '标记已发货' });
    const outcome = el('span', { className: 'hint' });
    ship.addEventListener('click', async () => {
      if (!carrier.value.trim() || !tracking.value.trim()) {
        outcome.textContent = '请填写快递公司和单号';
        return;
      }
      const payload = await mutate(
        outcome,
        `mutation($input: MarkPrintOrderShippedInput!) { markPrintOrderShipped(input: $input) {
           printOrder { id status statusLabel carrier trackingNumber } userErrors { code message } } }`,
        { input: { printOrderId: p.id, carrier: carrier.value.trim(), trackingNumber: tracking.value.trim() } },
        'markPrintOrderShipped',
        '已发货',
      );
      if (payload) {
        const shipped = payload.printOrder;
        tr.dataset.status = shipped.status;
        $('.status', tr).textContent = shipped.statusLabel;
        cell.replaceChildren(`${shipped.carrier || ''} ${shipped.trackingNumber || ''}`, outcome);
      }
    });
    cell.append(carrier, tracking, ship, outcome);
  } else {
    cell.textContent = [p.carrier, p.trackingNumber].filter(Boolean).join(' ');
  }
  tr.append(cell);
  return tr;
}

// ---- support tickets (客服工单) ------------------------------------------------------------------

const TICKETS = `query($includeClosed: Boolean) {
  supportTickets(includeClosed: $includeClosed, first: 50) {
    totalCount
    nodes { id subject open createdAt updatedAt order { number } messages { authorRole text at pictureUrl } }
  }
}`;

async function loadSupport() {
  const status = $('#support-status');
  status.textContent = '加载中…';
  try {
    const data = await gql(TICKETS, { includeClosed: $('#support-closed').checked });
    $('#support-list').replaceChildren(...data.supportTickets.nodes.map(ticketCard));
    status.textContent = `共 ${data.supportTickets.totalCount} 个工单`;
  } catch (error) {
    status.textContent = error.message;
  }
}

function ticketCard(ticket) {
  const card = el('article', { className: `card ticket${ticket.open ? '' : ' closed'}` });
  card.dataset.ticketId = ticket.id;
  card.append(el('h3', { textContent: `${ticket.subject}${ticket.order ? ` · 订单 ${ticket.order.number}` : ''}${ticket.open ? '' : '（已关闭）'}` }));
  const list = el('ul', { className: 'messages' });
  for (const m of ticket.messages) {
    const who = m.authorRole === 'STUDENT' ? '学生' : `客服（${ROLE_LABELS[m.authorRole] || m.authorRole}）`;
    const li = el('li', { className: m.authorRole === 'STUDENT' ? 'from-student' : 'from-staff' }, el('small', { textContent: `${who} ${formatTime(m.at)}` }), el('p', { textContent: m.text }));
    if (m.pictureUrl) li.append(el('a', { href: m.pictureUrl, textContent: '查看图片', target: '_blank', rel: 'noopener' }));
    list.append(li);
  }
  card.append(list);
  if (ticket.open) {
    const text = el('textarea', { className: 'reply', rows: 2, placeholder: '回复学生…' });
    const outcome = el('span', { className: 'hint' });
    const send = async (close) => {
      const reply = text.value.trim() || (close ? '问题已处理，工单关闭。' : '');
      if (!reply) {
        outcome.textContent = '请填写回复内容';
        return;
      }
      const payload = await mutate(
        outcome,
        `mutation($input: AnswerSupportTicketInput!) { answerSupportTicket(input: $input) {
           ticket { id subject open createdAt updatedAt order { number } messages { authorRole text at pictureUrl } }
           userErrors { code message } } }`,
        { input: { ticketId: ticket.id, text: reply, close } },
        'answerSupportTicket',
      );
      if (payload) card.replaceWith(ticketCard(payload.ticket));
    };
    const reply = el('button', { type: 'button', className: 'send', textContent: '回复' });
    reply.addEventListener('click', () => send(false));
    const close = el('button', { type: 'button', className: 'close secondary', textContent: '回复并关闭' });
    close.addEventListener('click', () => send(true));
    card.append(text, el('div', { className: 'bar' }, reply, close, outcome));
  }
  return card;
}

// ---- refunds (退款) -----------------------------------------------------------------------------

const ORDER_FIELDS = 'id number status statusLabel refundPending refundedAt amount { formatted } enrollment { name school { name } }';

async function findRefundOrder(event) {
  event.preventDefault();
  const status = $('#refund-status');
  status.textContent = '查询中…';
  try {
    const data = await gql(`query($n: String) { orders(filter: { number: $n }, first: 1) { nodes { ${ORDER_FIELDS} } } }`, { n: $('#refund-number').value.trim() });
    const order = data.orders.nodes[0];
    const box = $('#refund-order');
    box.replaceChildren();
    if (!order) {
      status.textContent = '找不到该订单';
      return;
    }
    status.textContent = '';
    const reason = el('input', { className: 'refund-reason', placeholder: '原因（必填，记入订单记录）', size: 30 });
    const outcome = el('span', { className: 'hint' });
    const button = el('button', { type: 'button', className: 'refund danger', textContent: order.status === 'PENDING_PAYMENT' ? '取消订单' : '取消并退款' });
    button.addEventListener('click', async () => {
      if (!reason.value.trim()) {
        outcome.textContent = '请填写原因';
        return;
      }
      const payload = await mutate(
        outcome,
        `mutation($input: CancelAndRefundOrderInput!) { cancelAndRefundOrder(input: $input) { order { ${ORDER_FIELDS} } userErrors { code message } } }`,
        { input: { orderId: order.id, reason: reason.value.trim() } },
        'cancelAndRefundOrder',
      );
      if (payload) {
        const o = payload.order;
        outcome.textContent = `${o.statusLabel}${o.refundPending ? '（退款处理中）' : ''}`;
        button.disabled = true;
        loadRefunds();
      }
    });
    box.append(el('div', { className: 'card' },
      el('p', { textContent: `${order.number} · ${order.enrollment.name} · ${order.enrollment.school.name} · ${order.amount.formatted} · ${order.statusLabel}${order.refundPending ? '（退款处理中）' : ''}` }),
      el('div', { className: 'bar' }, reason, button, outcome)));
  } catch (error) {
    status.textContent = error.message;
  }
}

async function loadRefunds() {
  try {
    const data = await gql(`query($s: String) {
      refunded: orders(filter: { statuses: [REFUNDED], schoolCode: $s }, first: 50) { nodes { ${ORDER_FIELDS} } }
      open: orders(filter: { statuses: [PAID, PENDING_REVIEW, REJECTED, PENDING_PRODUCTION], schoolCode: $s }, first: 100) { nodes { ${ORDER_FIELDS} } }
    }`, { s: schoolCode() });
    const rows = [...data.open.nodes.filter((o) => o.refundPending), ...data.refunded.nodes];
    $('#refund-table tbody').replaceChildren(...rows.map((o) => el('tr', {},
      el('td', { textContent: o.number }),
      el('td', { textContent: o.enrollment.name }),
      el('td', { textContent: o.amount.formatted }),
      el('td', { textContent: o.refundPending ? '退款处理中' : o.statusLabel }),
      el('td', { textContent: formatTime(o.refundedAt) }))));
  } catch (error) {
    $('#refund-status').textContent = error.message;
  }
}

// ---- search (查找学生) ---------------------------------------------------------------------------

const SEARCH = `query($q: String!, $s: String, $after: String) {
  searchStudents(query: $q, schoolCode: $s, first: 20, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id name idNumber contactPhone studentNumber autoChecksRemaining
            school { name } project { name } orders { id number statusLabel } }
  }
}`;

let searchCursor = null;

async function search(more) {
  const status = $('#search-status');
  const q = $('#search-query').value.trim();
  if (!q) return;
  status.textContent = '查找中…';
  try {
    const data = await gql(SEARCH, { q, s: schoolCode(), after: more ? searchCursor : null });
    const result = data.searchStudents;
    const body = $('#search-table tbody');
    if (!more) body.replaceChildren();
    for (const e of result.nodes) body.append(searchRow(e));
    searchCursor = result.pageInfo.endCursor;
    $('#search-more').hidden = !result.pageInfo.hasNextPage;
    status.textContent = result.totalCount ? `找到 ${result.totalCount} 名学生` : '没有找到';
  } catch (error) {
    status.textContent = error.message;
  }
}

function searchRow(e) {
  const tr = el('tr', { className: 'student' });
  tr.dataset.enrollmentId = e.id;
  const orders = el('td');
  for (const o of e.orders) orders.append(el('div', { textContent: `${o.number} ${o.statusLabel}`, className: 'order' }));
  const actions = el('td');
  if (['ADMIN', 'SCHOOL_ADMIN'].includes(viewer.role)) {
    const outcome = el('span', { className: 'hint', textContent: `剩余自动检测 ${e.autoChecksRemaining} 次` });
    const grant = el('button', { type: 'button', className: 'grant secondary', textContent: '+3 次自动检测' });
    grant.addEventListener('click', async () => {
      const payload = await mutate(
        outcome,
        `mutation($input: GrantAutoChecksInput!) { grantAutoChecks(input: $input) { enrollment { autoChecksRemaining } userErrors { code message } } }`,
        { input: { enrollmentId: e.id, count: 3 } },
        'grantAutoChecks',
      );
      if (payload) outcome.textContent = `剩余自动检测 ${payload.enrollment.autoChecksRemaining} 次`;
    });
    actions.append(grant, outcome);
  }
  tr.append(
    el('td', { textContent: e.name, className: 'name' }),
    el('td', { textContent: e.idNumber }),
    el('td', { textContent: e.contactPhone || '' , className: 'phone' }),
    el('td', { textContent: `${e.school.name} · ${e.project.name}` }),
    el('td', { textContent: e.studentNumber || '' }),
    orders,
    actions,
  );
  return tr;
}

// ---- school progress (学校进度) ------------------------------------------------------------------

async function loadProgressProjects() {
  const code = schoolCode();
  if (!code) return;
  try {
    const data = await gql('query($s: String) { projects(schoolCode: $s, first: 50) { nodes { id name } } }', { s: code });
    const select = $('#progress-project');
    const current = select.value;
    select.replaceChildren(el('option', { value: '', textContent: '全部项目' }), ...data.projects.nodes.map((p) => el('option', { value: p.id, textContent: p.name })));
    select.value = current;
  } catch {
    // The list is a convenience; the counts still load for every project.
  }
}

// The progress page's status line is shared by loading the counts and by reminding: a load that
// answers after a later action began (opening the page loads once, 查看 again) must not write over
// that action's outcome.
let progressStatusTicket = 0;

function takeProgressStatus() {
  progressStatusTicket += 1;
  return progressStatusTicket;
}

async function loadProgress() {
  const status = $('#progress-status');
  const code = requireSchool(status);
  if (!code) return;
  loadProgressProjects();
  const ticket = takeProgressStatus();
  const say = (text) => {
    if (ticket === progressStatusTicket) status.textContent = text;
  };
  say('加载中…');
  try {
    const data = await gql('query($s: String!, $p: ID) { schoolProgress(schoolCode: $s, projectId: $p) { school { name } counts { stage label count } } }', { s: code, p: $('#progress-project').value || null });
    const progress = data.schoolProgress;
    $('#progress-counts tbody').replaceChildren(...progress.counts.map((c) => {
      const tr = el('tr');
      tr.dataset.stage = c.stage;
      const show = el('button', { type: 'button', className: 'secondary show', textContent: '名单' });
      show.addEventListener('click', () => loadStage(c));
      const csv = el('button', { type: 'button', className: 'secondary csv', textContent: '导出 CSV' });
      csv.addEventListener('click', () => exportStage(c, tr));
      tr.append(el('td', { textContent: c.label }), el('td', { textContent: String(c.count), className: 'count' }), el('td', {}, show, csv));
      return tr;
    }));
    say(progress.school.name);
  } catch (error) {
    say(error.message);
  }
}

async function loadStage(stage) {
  $('#progress-stage-title').textContent = `${stage.label}（${stage.count}）`;
  try {
    const data = await gql(`query($s: String!, $p: ID, $stage: ProgressStage!) { schoolProgress(schoolCode: $s, projectId: $p) {
      students(stage: $stage, first: 100) { nodes { name idNumber studentNumber contactPhone } } } }`, { s: schoolCode(), p: $('#progress-project').value || null, stage: stage.stage });
    $('#progress-students tbody').replaceChildren(...data.schoolProgress.students.nodes.map((e) => el('tr', {},
      el('td', { textContent: e.name }), el('td', { textContent: e.idNumber }), el('td', { textContent: e.studentNumber || '' }), el('td', { textContent: e.contactPhone || '' }))));
  } catch (error) {
    $('#progress-status').textContent = error.message;
  }
}

async function exportStage(stage, tr) {
  const status = $('#progress-status');
  const payload = await mutate(
    status,
    `mutation($input: ExportSchoolProgressInput!) { exportSchoolProgress(input: $input) { url rows userErrors { code message } } }`,
    { input: { schoolCode: schoolCode(), projectId: $('#progress-project').value || null, stage: stage.stage } },
    'exportSchoolProgress',
  );
  if (!payload) return;
  status.textContent = `${stage.label}：${payload.rows} 行`;
  const old = $('a.download', tr);
  if (old) old.remove();
  const link = el('a', { href: payload.url, textContent: '下载', className: 'download' });
  link.setAttribute('download', `${schoolCode()}-${stage.stage}.csv`);
  tr.lastElementChild.append(link);
  link.click();
}

async function remind() {
  const status = $('#progress-status');
  const code = requireSchool(status);
  if (!code) return;
  takeProgressStatus();
  const payload = await mutate(
    status,
    `mutation($input: SchoolProgressInput!) { remindUnfinishedStudents(input: $input) { sent alreadyReminded withoutConsent userErrors { code message } } }`,
    { input: { schoolCode: code, projectId: $('#progress-project').value || null } },
    'remindUnfinishedStudents',
  );
  if (payload) status.textContent = `已提醒 ${payload.sent} 人；今天已提醒过 ${payload.alreadyReminded} 人；未授权消息 ${payload.withoutConsent} 人`;
}

// ---- projects (项目管理) -------------------------------------------------------------------------

const PROJECT_FIELDS = `id name featureCode modeLabel opensAt closesAt closedAt allowAlbumUpload maxAutoChecks background
  price { amountFen formatted } school { code name }`;

const projectsById = new Map();

async function loadProjects() {
  const status = $('#projects-status');
  status.textContent = '加载中…';
  try {
    const data = await gql(`query($s: String) { projects(schoolCode: $s, first: 100) { totalCount nodes { ${PROJECT_FIELDS} } } }`, { s: schoolCode() });
    projectsById.clear();
    $('#projects-table tbody').replaceChildren(...data.projects.nodes.map(projectRow));
    status.textContent = `共 ${data.projects.totalCount} 个项目`;
  } catch (error) {
    status.textContent = error.message;
  }
}

function projectRow(p) {
  projectsById.set(p.id, p);
  const tr = el('tr');
  tr.dataset.projectId = p.id;
  tr.dataset.closed = p.closedAt ? 'true' : 'false';
  const edit = el('button', { type: 'button', className: 'edit secondary', textContent: '编辑' });
  edit.addEventListener('click', () => editProject(p));
  // Closing or reopening asks for a second click instead of a dialog.
  const toggle = el('button', { type: 'button', className: p.closedAt ? 'reopen' : 'close-project danger', textContent: p.closedAt ? '重新开放' : '关闭项目' });
  const outcome = el('span', { className: 'hint' });
  toggle.addEventListener('click', async () => {
    if (!toggle.dataset.confirm) {
      toggle.dataset.confirm = '1';
      toggle.textContent = p.closedAt ? '确认重新开放？' : '确认关闭？学生将无法再提交';
      return;
    }
    const field = p.closedAt ? 'reopenProject' : 'closeProject';
    const payload = await mutate(
      outcome,
      `mutation($input: ProjectIdInput!) { ${field}(input: $input) { project { ${PROJECT_FIELDS} } userErrors { code message } } }`,
      { input: { projectId: p.id } },
      field,
    );
    if (payload) tr.replaceWith(projectRow(payload.project));
    else delete toggle.dataset.confirm;
  });
  const span = [formatTime(p.opensAt), formatTime(p.closesAt)].filter(Boolean).join(' 至 ');
  tr.append(
    el('td', { textContent: `${p.name}（${p.modeLabel}）` }),
    el('td', { textContent: p.school.name }),
    el('td', { textContent: p.featureCode || '' }),
    el('td', { textContent: p.price.formatted }),
    el('td', { textContent: span }),
    el('td', { textContent: p.closedAt ? `已关闭 ${formatTime(p.closedAt)}` : '开放中', className: 'state' }),
    el('td', {}, edit, toggle, outcome),
  );
  return tr;
}

function editProject(p) {
  $('#project-form').hidden = false;
  $('#project-form-name').textContent = p.name;
  $('#pf-id').value = p.id;
  $('#pf-name').value = p.name;
  $('#pf-price').value = (p.price.amountFen / 100).toFixed(2);
  $('#pf-feature').value = p.featureCode || '';
  $('#pf-opens').value = toLocalInput(p.opensAt);
  $('#pf-closes').value = toLocalInput(p.closesAt);
  $('#pf-album').checked = p.allowAlbumUpload;
  $('#pf-checks').value = p.maxAutoChecks;
  $('#pf-background').value = p.background;
  $('#pf-extend').value = '';
  $('#project-form-status').textContent = '';
}

async function saveProject(event) {
  event.preventDefault();
  const p = projectsById.get($('#pf-id').value);
  if (!p) return;
  const input = { projectId: p.id };
  const name = $('#pf-name').value.trim();
  if (name !== p.name) input.name = name;
  const fen = Math.round(Number($('#pf-price').value) * 100);
  if (fen !== p.price.amountFen) input.priceFen = fen;
  const feature = $('#pf-feature').value.trim();
  if (feature !== (p.featureCode || '')) input.featureCode = feature;
  const opens = fromLocalInput($('#pf-opens').value);
  if ($('#pf-opens').value !== toLocalInput(p.opensAt) && opens) input.opensAt = opens;
  const closes = fromLocalInput($('#pf-closes').value);
  if ($('#pf-closes').value !== toLocalInput(p.closesAt) && closes) input.closesAt = closes;
  if ($('#pf-album').checked !== p.allowAlbumUpload) input.allowAlbumUpload = $('#pf-album').checked;
  const checks = Number($('#pf-checks').value);
  if (checks !== p.maxAutoChecks) input.maxAutoChecks = checks;
  if ($('#pf-background').value !== p.background) input.background = $('#pf-background').value;
  const payload = await mutate(
    $('#project-form-status'),
    `mutation($input: UpdateProjectInput!) { updateProject(input: $input) { project { ${PROJECT_FIELDS} } userErrors { code message } } }`,
    { input },
    'updateProject',
    '已保存',
  );
  if (payload) {
    const row = $(`#projects-table tr[data-project-id="${p.id}"]`);
    if (row) row.replaceWith(projectRow(payload.project));
    editProject(payload.project);
    $('#project-form-status').textContent = '已保存';
  }
}

async function extendProject() {
  const id = $('#pf-id').value;
  const closesAt = fromLocalInput($('#pf-extend').value);
  if (!closesAt) {
    $('#project-form-status').textContent = '请选择新的截止时间';
    return;
  }
  const payload = await mutate(
    $('#project-form-status'),
    `mutation($input: ExtendProjectInput!) { extendProject(input: $input) { project { ${PROJECT_FIELDS} } userErrors { code message } } }`,
    { input: { projectId: id, closesAt } },
    'extendProject',
  );
  if (payload) {
    const row = $(`#projects-table tr[data-project-id="${id}"]`);
    if (row) row.replaceWith(projectRow(payload.project));
    editProject(payload.project);
    $('#project-form-status').textContent = `已延期至 ${formatTime(payload.project.closesAt)}`;
  }
}

// ---- staff (人员管理) ----------------------------------------------------------------------------

const ACCOUNT_FIELDS = 'id username role disabled disabledAt mustChangePassword createdAt school { code name }';
/** The accounts listed on the staff page, by id. */
const knownStaff = new Map();

function showStaff(account) {
  knownStaff.set(account.id, account);
  const row = staffRow(account);
  const old = $(`#staff-table tr[data-account-id="${account.id}"]`);
  if (old) old.replaceWith(row);
  else $('#staff-table tbody').append(row);
}

function staffRow(a) {
  const tr = el('tr');
  tr.dataset.accountId = a.id;
  tr.dataset.username = a.username || '';
  tr.dataset.disabled = String(a.disabled);
  const outcome = el('span', { className: 'hint' });
  const run = async (field, query, input, done) => {
    const payload = await mutate(outcome, query, { input }, field, done);
    if (payload && payload.account) {
      showStaff(payload.account);
      const fresh = $(`#staff-table tr[data-account-id="${a.id}"] .hint`);
      if (fresh) fresh.textContent = done;
    }
  };
  const cell = el('td');
  if (viewer && a.id !== viewer.id) {
    const toggle = el('button', { type: 'button', className: a.disabled ? 'enable' : 'disable danger', textContent: a.disabled ? '启用' : '停用' });
    toggle.addEventListener('click', () => {
      const field = a.disabled ? 'enableStaffAccount' : 'disableStaffAccount';
      run(field, `mutation($input: StaffAccountIdInput!) { ${field}(input: $input) { account { ${ACCOUNT_FIELDS} } userErrors { code message } } }`, { accountId: a.id }, a.disabled ? '已启用' : '已停用，登录已失效');
    });
    const temp = el('input', { className: 'temp-password', placeholder: '临时密码', size: 12 });
    const reset = el('button', { type: 'button', className: 'reset secondary', textContent: '重置密码' });
    reset.addEventListener('click', () => {
      if (!temp.value) {
        outcome.textContent = '请填写临时密码';
        return;
      }
      run('resetStaffPassword', `mutation($input: ResetStaffPasswordInput!) { resetStaffPassword(input: $input) { account { ${ACCOUNT_FIELDS} } userErrors { code message } } }`, { accountId: a.id, temporaryPassword: temp.value }, '已重置，下次登录须修改密码');
    });
    const roles = viewer.role === 'ADMIN' ? ['REVIEWER', 'PRODUCER', 'SCHOOL_ADMIN', 'ADMIN'] : ['REVIEWER', 'PRODUCER', 'SCHOOL_ADMIN'];
    const role = el('select', { className: 'role' }, ...roles.map((r) => el('option', { value: r, textContent: ROLE_LABELS[r], selected: r === a.role })));
    const school = el('input', { className: 'school', size: 6, value: a.school ? a.school.code : '', placeholder: '学校代码', disabled: viewer.role !== 'ADMIN' });
    const save = el('button', { type: 'button', className: 'save-role secondary', textContent: '修改角色/学校' });
    save.addEventListener('click', () => {
      const input = { accountId: a.id, role: role.value };
      if (viewer.role === 'ADMIN' && school.value.trim()) input.schoolCode = school.value.trim();
      run('updateStaffAccount', `mutation($input: UpdateStaffAccountInput!) { updateStaffAccount(input: $input) { account { ${ACCOUNT_FIELDS} } userErrors { code message } } }`, input, '已修改');
    });
    cell.append(toggle, temp, reset, role, school, save);
  } else {
    cell.append('（本人）');
  }
  cell.append(outcome);
  tr.append(
    el('td', { textContent: a.username || '' }),
    el('td', { textContent: ROLE_LABELS[a.role] || a.role }),
    el('td', { textContent: a.school ? `${a.school.name}（${a.school.code}）` : '全部学校' }),
    el('td', { textContent: `${a.disabled ? `已停用 ${formatTime(a.disabledAt)}` : '正常'}${a.mustChangePassword ? ' · 待改密码' : ''}`, className: 'state' }),
    cell,
  );
  return tr;
}

/** The staff accounts of the viewer's scope (of the school above, when one is given). */
async function loadStaff() {
  const status = $('#staff-status');
  status.textContent = '加载中…';
  try {
    const data = await gql(`query($s: String) { staffAccounts(schoolCode: $s, first: 100) { totalCount nodes { ${ACCOUNT_FIELDS} } } }`, { s: schoolCode() });
    knownStaff.clear();
    $('#staff-table tbody').replaceChildren();
    for (const account of data.staffAccounts.nodes) showStaff(account);
    filterStaff();
    status.textContent = `共 ${data.staffAccounts.totalCount} 个账号`;
  } catch (error) {
    status.textContent = error.message;
  }
}

function filterStaff() {
  const text = $('#staff-filter').value.trim().toLowerCase();
  const onlyDisabled = $('#staff-disabled').checked;
  for (const row of $$('#staff-table tbody tr')) {
    row.hidden = (text !== '' && !row.dataset.username.toLowerCase().includes(text)) || (onlyDisabled && row.dataset.disabled !== 'true');
  }
}

async function createStaff(event) {
  event.preventDefault();
  const input = { username: $('#sc-username').value.trim(), password: $('#sc-password').value, role: $('#sc-role').value };
  if ($('#sc-school').value.trim()) input.schoolCode = $('#sc-school').value.trim();
  const payload = await mutate(
    $('#staff-status'),
    `mutation($input: CreateStaffAccountInput!) { createStaffAccount(input: $input) { account { ${ACCOUNT_FIELDS} } userErrors { code message } } }`,
    { input },
    'createStaffAccount',
    '已创建',
  );
  if (payload) showStaff(payload.account);
}

async function loadStaffPage() {
  await loadStaff();
  if (viewer.role === 'ADMIN') await loadAudit();
}

const ACTION_LABELS = {
  PROJECT_CREATED: '创建项目',
  PROJECT_UPDATED: '修改项目',
  PROJECT_CLOSED: '关闭项目',
  PROJECT_REOPENED: '重新开放项目',
  PROJECT_EXTENDED: '项目延期',
  STAFF_CREATED: '创建账号',
  STAFF_DISABLED: '停用账号',
  STAFF_ENABLED: '启用账号',
  STAFF_PASSWORD_RESET: '重置密码',
  STAFF_PASSWORD_CHANGED: '修改密码',
  STAFF_UPDATED: '修改角色/学校',
  AUTO_CHECKS_GRANTED: '增加自动检测次数',
  MANUAL_REVIEW_ALLOWED: '允许人工审核',
  ENROLLMENT_UNBOUND: '解除绑定',
};

const TARGET_LABELS = { PROJECT: '项目', ACCOUNT: '账号', STAFF_ACCOUNT: '账号', ENROLLMENT: '报名信息', PHOTO: '照片', ORDER: '订单' };

async function loadAudit() {
  const status = $('#audit-status');
  try {
    const data = await gql(`{ auditRecords(first: 50) { totalCount nodes { action targetType targetId before after createdAt actor { username } } } }`);
    const records = data.auditRecords.nodes;
    $('#audit-table tbody').replaceChildren(...records.map((r) => el('tr', {},
      el('td', { textContent: formatTime(r.createdAt) }),
      el('td', { textContent: r.actor ? r.actor.username || r.actor.id : '' }),
      el('td', {}, ACTION_LABELS[r.action] || r.action, el('br'), el('small', { textContent: r.action })),
      el('td', { textContent: TARGET_LABELS[r.targetType] || r.targetType, title: r.targetId || '' }),
      el('td', {}, el('code', { textContent: r.before || '' })),
      el('td', {}, el('code', { textContent: r.after || '' })))));
    status.textContent = `共 ${data.auditRecords.totalCount} 条`;
  } catch (error) {
    status.textContent = error.message;
  }
}

// ---- reviewer quality (审核质量) -----------------------------------------------------------------

const charts = {};

function drawChart(id, config) {
  if (charts[id]) charts[id].destroy();
  charts[id] = new window.Chart($(`#${id}`), config);
}

async function loadQuality() {
  const status = $('#quality-status');
  status.textContent = '加载中…';
  try {
    const days = Math.max(1, Math.min(31, Number($('#quality-days').value) || 7));
    const data = await gql(`query($s: String, $d: Int) { reviewQuality(schoolCode: $s, days: $d) {
      since waiting oldestWaitingSince oldestWaitingSeconds
      reviewers { reviewer { username } approved rejected days { date approved rejected } rejectionReasons { code title count } } } }`, { s: schoolCode(), d: days });
    const q = data.reviewQuality;
    const wait = q.oldestWaitingSeconds;
    $('#quality-wait').textContent = q.waiting
      ? `待审核 ${q.waiting} 单，等待最久的已等 ${Math.floor(wait / 3600)} 小时 ${Math.floor((wait % 3600) / 60)} 分（自 ${formatTime(q.oldestWaitingSince)}）`
      : '没有等待审核的订单';
    $('#quality-wait').classList.toggle('urgent', Boolean(wait && wait > 24 * 3600));
    $('#quality-table tbody').replaceChildren(...q.reviewers.map((r) => el('tr', {},
      el('td', { textContent: r.reviewer ? r.reviewer.username : '（已删除）' }),
      el('td', { textContent: String(r.approved) }),
      el('td', { textContent: String(r.rejected) }),
      el('td', { textContent: r.rejectionReasons.map((x) => `${x.title} ${x.count}`).join('，') }))));
    status.textContent = `自 ${formatTime(q.since)}`;
    if (!window.Chart) {
      status.textContent += '（图表库未打包，仅显示表格）';
      return;
    }
    const dates = [...new Set(q.reviewers.flatMap((r) => r.days.map((d) => d.date)))].sort();
    drawChart('chart-days', {
      type: 'bar',
      data: {
        labels: dates,
        datasets: q.reviewers.map((r) => ({
          label: r.reviewer ? r.reviewer.username : '—',
          data: dates.map((date) => {
            const day = r.days.find((d) => d.date === date);
            return day ? day.approved + day.rejected : 0;
          }),
        })),
      },
      options: { animation: false, responsive: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
    });
    const byReason = new Map();
    for (const r of q.reviewers) for (const x of r.rejectionReasons) byReason.set(x.title, (byReason.get(x.title) || 0) + x.count);
    drawChart('chart-reasons', {
      type: 'bar',
      data: { labels: [...byReason.keys()], datasets: [{ label: '驳回次数', data: [...byReason.values()] }] },
      options: { animation: false, responsive: false, indexAxis: 'y', scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  } catch (error) {
    status.textContent = error.message;
  }
}

// ---- wiring -------------------------------------------------------------------------------------

Object.assign(LOADERS, {
  shipping: loadShipping,
  support: loadSupport,
  refunds: loadRefunds,
  progress: loadProgress,
  projects: loadProjects,
  staff: loadStaffPage,
  quality: loadQuality,
});

document.addEventListener('DOMContentLoaded', () => {
  $('#signin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('#signin-error').textContent = '';
    try {
      await signIn($('#username').value.trim(), $('#password').value);
    } catch (error) {
      $('#signin-error').textContent = error.message;
      return;
    }
    try {
      await start();
    } catch (error) {
      // FORBIDDEN ("请先修改密码") until a reset password is replaced.
      if (error.code === 'FORBIDDEN' && error.message.includes('changePassword')) askForNewPassword($('#password').value);
      else $('#signin-error').textContent = error.message;
    }
  });
  $('#password-form').addEventListener('submit', changePassword);
  $('#sign-out').addEventListener('click', () => signOut());
  for (const button of $$('#nav button')) button.addEventListener('click', () => showPage(button.dataset.page));
  $('#claim').addEventListener('click', claim);
  $('#start-batch').addEventListener('click', startBatch);
  $('#watch-batch').addEventListener('click', () => {
    const id = $('#batch-id').value.trim();
    if (id) watchBatch(id);
  });
  $('#registry-export').addEventListener('click', exportRegistry);
  $('#ship-load').addEventListener('click', loadShipping);
  $('#ship-filter').addEventListener('change', loadShipping);
  $('#support-load').addEventListener('click', loadSupport);
  $('#support-closed').addEventListener('change', loadSupport);
  $('#refund-form').addEventListener('submit', findRefundOrder);
  $('#refund-load').addEventListener('click', loadRefunds);
  $('#search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    search(false);
  });
  $('#search-more').addEventListener('click', () => search(true));
  $('#progress-load').addEventListener('click', loadProgress);
  $('#progress-remind').addEventListener('click', remind);
  $('#projects-load').addEventListener('click', loadProjects);
  $('#project-form').addEventListener('submit', saveProject);
  $('#pf-cancel').addEventListener('click', () => {
    $('#project-form').hidden = true;
  });
  $('#pf-extend-button').addEventListener('click', extendProject);
  $('#staff-load').addEventListener('click', loadStaff);
  $('#staff-filter').addEventListener('input', filterStaff);
  $('#staff-disabled').addEventListener('change', filterStaff);
  $('#staff-create').addEventListener('submit', createStaff);
  $('#audit-load').addEventListener('click', loadAudit);
  $('#quality-load').addEventListener('click', loadQuality);
  $('#school').addEventListener('change', () => {
    if (socket) watchStats();
    const current = $('#nav button.current');
    if (current) showPage(current.dataset.page);
  });
  if (token) {
    start().catch((error) => {
      if (error.code === 'FORBIDDEN' && error.message.includes('changePassword')) askForNewPassword('');
      else signOut(error.code === 'UNAUTHENTICATED' ? SESSION_ENDED : error.message);
    });
  }
});
